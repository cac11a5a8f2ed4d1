import type { Deadline } from './deadline';
import type { SecretsClient } from './secrets-client';
import type { IdentifierLengthUnit, PasswordPolicyContract, TlsMode } from '../../src/private/contract';

/** Types the kit's modules share; kept apart from code so no module imports another only for a type. */

/** Which version a value came from; engines name it in validation errors. */
export type SecretRole = 'current' | 'pending' | 'previous' | 'master';

/** The steps that log in; each checks its target before it does (steps can be invoked out of order). */
export type LoginStep = 'setSecret' | 'testSecret' | 'finishSecret';

/**
 * A secret's JSON object as written: each top-level member keeps its exact source text, so a rotation that changes
 * only `password` (and `username`) carries every other member over byte for byte. A JSON.parse/JSON.stringify round
 * trip would not: `12345678901234567890` becomes `12345678901234567000` and `1.10` becomes `1.1`.
 */
export interface SecretObject {
  /** The parsed members (for reading fields). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Member name to its value's exact source text, in source order. */
  readonly sources: ReadonlyMap<string, string>;
}

/** What every step of one invocation shares. */
export interface StepContext {
  readonly secretArn: string;
  readonly token: string;
  readonly deadline: Deadline;
  readonly secrets: SecretsClient;
  readonly env: NodeJS.ProcessEnv;
}

export interface SetPendingArgs<T> {
  readonly current: T;
  readonly pending: T;
  /** Loads AWSPREVIOUS on demand (single-user engines fall back to it when current no longer logs in). */
  readonly previous: () => Promise<T | undefined>;
  readonly ctx: StepContext;
}

/**
 * What an engine supplies; the protocol (preamble, idempotency, label moves, errors, logging) is the kit's.
 * `T` is the engine's parsed credential.
 */
export interface CredentialEngine<T> {
  /** Shown in logs, e.g. `postgres-single-user`. */
  readonly name: string;
  /** The policy used when the function has no ROTATION_PASSWORD_POLICY. */
  readonly defaultPasswordPolicy: PasswordPolicyContract;
  /** Parses and validates a secret value; throws InvalidSecretValueError naming the field, never echoing values. */
  parse(value: string, role: SecretRole): T;
  /**
   * The JSON of the pending version, built from the current value and a new password (generated with the function's
   * policy). An engine has either this or {@link exchangePending}.
   */
  nextValue?(current: T, password: string, ctx: StepContext): string | Promise<string>;
  /**
   * For engines whose pending value comes from an exchange with another party that cannot be repeated (an OAuth refresh,
   * a client secret the provider issues): does what is safe to repeat (discovery, reading an admin secret) and returns
   * the one call that is not, which makes the whole pending JSON. The kit runs that call at most once per rotation token
   * (`lambda/kit/exchange.ts`): it marks the secret before, stores the result at once, and fails a retry that finds the
   * mark but no stored value with OAUTH_EXCHANGE_INTERRUPTED instead of exchanging again.
   */
  exchangePending?(current: T, ctx: StepContext): Promise<() => Promise<string>>;
  /** For an engine with both ways, whether this function's configuration makes the value by exchange. @default true */
  usesExchange?(ctx: StepContext): boolean;
  /**
   * Refuses (CONFUSED_DEPUTY) unless pending names what current allows: the same server, database and transport,
   * and the user (or alternate user) the scheme expects. The kit runs it before every step that logs in, because a
   * step can be invoked directly and out of order.
   */
  checkTarget(current: T, pending: T, step: LoginStep): void;
  /** setSecret: make the pending credential valid; returns a word for the log. */
  setPending(args: SetPendingArgs<T>): Promise<string>;
  /**
   * testSecret (and finishSecret before it promotes): prove the pending credential works; throws otherwise. `current` is
   * the AWSCURRENT value the step has already read and checked against pending.
   */
  testPending(pending: T, ctx: StepContext, current?: T): Promise<void>;
  /**
   * finishSecret, right after AWSCURRENT moved to the token (by this call or a duplicate): work that must follow the
   * promotion, such as retiring the previous client secret after its overlap. Never run for a late retry that finds the
   * token already current before the step (the kit cannot tell whether it ran), so it must be safe to leave undone.
   */
  afterPromote?(previous: T, promoted: T, ctx: StepContext): Promise<void>;
}

/** Where and as whom to log in. */
export interface DatabaseLogin {
  readonly host: string;
  readonly port: number;
  /** Absent only for engines that need no database to log in (MySQL, MariaDB). */
  readonly dbname?: string;
  readonly username: string;
  readonly password: string;
  readonly tls: TlsMode;
  /**
   * The secret JSON the login came from (the application's or the master's), for connection options only one engine
   * knows (DocumentDB's `directConnection`); absent for a login built without a secret.
   */
  readonly source?: SecretObject;
}

/** A parsed database secret: the login plus the rest of the JSON, which rotation carries over exactly as written. */
export interface DatabaseCredential extends DatabaseLogin {
  readonly engine: string;
  readonly masterarn?: string;
  readonly source: SecretObject;
}

/**
 * Whose credential opens a session. A `master` session runs statements chosen by the handler with the master's
 * privileges, so the engine must make sure nothing the application user owns can be resolved in it.
 */
export type SessionKind = 'application' | 'master';

/** An open, authenticated connection. Every method bounds its calls by the step's deadline. */
export interface DatabaseSession {
  /** Changes the logged-in user's own password. */
  setOwnPassword(username: string, password: string): Promise<void>;
  /**
   * As the master: throws CONFUSED_DEPUTY unless `alternate` really is the alternate of `original` (what that means
   * is the engine's: its file says), so a user merely named like a clone cannot have `original`'s password changed.
   */
  assertAlternateOf(alternate: string, original: string): Promise<void>;
  /** As the master: creates `target` (a member of `original` with its privileges) or updates its password, atomically. */
  upsertAlternate(target: string, original: string, password: string): Promise<'created' | 'updated'>;
  /**
   * Throws PRIVILEGES_OUT_OF_SYNC unless `alternate` holds `original`'s privileges. Runs in the session the dialect's
   * {@link DatabaseDialect.alternateCheckedBy} names: the pending user's own, or the master's where only the master can
   * read another account's grants.
   */
  checkAlternate(original: string, alternate: string): Promise<void>;
  /** Runs the probe as one statement in a read-only transaction; a probe over its time bound fails with TIMEOUT. */
  probe(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Who manages a master secret that holds only `{username, password}`: the service whose API gives its host and port. */
export type ManagedMasterKind = 'rds' | 'redshift';

/** What an engine family supplies to the database schemes. */
export interface DatabaseDialect {
  /** e.g. `postgres` */
  readonly family: string;
  /** Accepted values of the secret's `engine` field. */
  readonly engines: readonly string[];
  readonly defaultPort: number;
  /** The database a secret without `dbname` names; undefined when the engine logs in without one. */
  readonly defaultDbname?: string;
  /** Longest user name the engine accepts, counted in {@link usernameLengthUnit}. */
  readonly maxUsernameLength: number;
  readonly usernameLengthUnit: IdentifierLengthUnit;
  readonly cloneSuffix: string;
  readonly defaultPasswordPolicy: PasswordPolicyContract;
  readonly defaultProbe: string;
  /**
   * Whose session testSecret compares the alternate's privileges in: `pending` (the default) when a user can prove it
   * holds another's privileges itself, `master` when only the master can read another account's grants.
   */
  readonly alternateCheckedBy?: 'pending' | 'master';
  /**
   * The service-managed master secrets (`{username, password}` only, found by their tags) the engine accepts as
   * `masterarn`: `rds` (RDS, Aurora and DocumentDB), `redshift` (provisioned Redshift and Redshift Serverless). A
   * managed master of another kind is refused before any API call; a full database secret is always accepted.
   */
  readonly managedMasters: readonly ManagedMasterKind[];
  /** Opens a session; throws LoginFailedError when the server rejects the credential, other errors otherwise. */
  connect(login: DatabaseLogin, ctx: StepContext, kind?: SessionKind): Promise<DatabaseSession>;
}

