import { isIP } from 'net';
import { Document, MongoClient, MongoClientOptions } from 'mongodb';
import { DATABASE_ENGINE_DEFAULTS, DOCUMENTDB_PROBE_COMMANDS, TLS_MODES } from '../../src/private/contract';
import { caBundle } from '../kit/ca-bundle';
import { registryDialectFields } from '../kit/dialect-defaults';
import { ConfusedDeputyError, ERROR_CODES, InvalidSecretValueError, LoginFailedError, RedactedCause, RotationError } from '../kit/errors';
import { faultPoint } from '../kit/fault-points';
import { TLS_ERROR_CODE } from '../kit/tls-errors';
import type { DatabaseDialect, DatabaseLogin, DatabaseSession, SessionKind, StepContext } from '../kit/types';

/**
 * Amazon DocumentDB (engine `mongo`, also `docdb`) over the MongoDB wire protocol, with the `mongodb` driver.
 *
 * Connection. TLS verifies the chain (ROTATION_TLS_CA_BUNDLE, else the runtime's trust store) and the host name unless
 * the secret says `tls: disabled`; a TLS failure is never retried in plaintext. `replicaSet=rs0` and
 * `retryWrites=false`, as DocumentDB wants (https://docs.aws.amazon.com/documentdb/latest/developerguide/connect_programmatically.html).
 * `directConnection` only when the secret says `"directConnection": true` (e.g. through a tunnel, where the cluster's
 * advertised member names are not reachable). The credentials go in the `auth` option, never in the connection string.
 * The authentication database is the secret's `dbname` (default `admin`, where DocumentDB keeps every user), as AWS's own
 * MongoDB rotation functions authenticate against `dbname`. Server selection, connect, socket and each command are
 * bounded by the step's deadline, and the client is always closed.
 *
 * Users and roles. A user changes its own password with `updateUser` (pwd only, which needs no role). For alternating
 * users the master reads the original with `usersInfo` and creates `<user>_clone` with the original's roles in one
 * `createUser`, or, when the clone exists, grants it the original's roles again (`grantRolesToUser`) before it sets the
 * new password (`updateUser`), so the new password never works without the roles. Nothing is revoked.
 *
 * An alternate is an alternate: an existing `<x>_clone` holding a role `<x>` lacks is not the handler's clone; it is
 * refused (CONFUSED_DEPUTY) before any change, as is an original that does not exist.
 */

const DEFAULTS = DATABASE_ENGINE_DEFAULTS.documentdb;
const REPLICA_SET = 'rs0';
/** Where DocumentDB keeps every user. */
const DEFAULT_AUTH_DB = DEFAULTS.dbname ?? 'admin';

/** MongoDB error codes (src/mongo/base/error_codes.yml). */
const AUTHENTICATION_FAILED = 18;
/** A mechanism the server does not offer: what a SCRAM-SHA-1-only server answers for a user it does not know. */
const MECHANISM_UNAVAILABLE = 334;
const UNAUTHORIZED = 13;

/**
 * Node TLS error codes and OpenSSL words in a nested driver error: never a reason to retry in plaintext. A server without
 * TLS closes the connection on the ClientHello (MongoDB does), which Node reports as a reset "before secure TLS
 * connection was established": that too is TLS failing, not a slow server.
 */
const TLS_ERROR = new RegExp(`${TLS_ERROR_CODE.source}|altnames|certificate|before secure TLS connection was established`);
/** A certificate the runtime refused (chain or host name), as opposed to a connection reset during the handshake. */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME|altnames|certificate/;
/** Driver classes that mean a time bound ran out. */
const TIMEOUT_CLASSES = new Set(['MongoServerSelectionError', 'MongoNetworkTimeoutError', 'MongoOperationTimeoutError', 'MongoWaitQueueTimeoutError']);

/** Read-only commands a probe may name (the probe is a command name, not a query). */
export const PROBE_COMMANDS = DOCUMENTDB_PROBE_COMMANDS;

/** A host name or an IP address: nothing that could add a host, credentials or options to a connection string. */
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export const documentdb: DatabaseDialect = {
  ...registryDialectFields('documentdb'),
  defaultProbe: 'ping',
  // a user may read only its own entry with usersInfo; the original's roles are the master's to read
  alternateCheckedBy: 'master',
  managedMasters: ['rds'],
  connect,
};

/**
 * `directConnection` of the secret the login came from (the application's or the master's): absent is false; anything
 * but a boolean is refused.
 */
export function directConnectionOf(login: DatabaseLogin): boolean {
  const value = login.source?.fields.directConnection;
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidSecretValueError('database', 'directConnection must be true or false');
  return value;
}

/**
 * A user name the driver can authenticate. SCRAM sends the name as `n=<name>,` with `,` written `=2C` and `=` written
 * `=3D`; the `mongodb` driver escapes only the first of each, and for SCRAM-SHA-1 (DocumentDB 4.0's only mechanism) it
 * digests the password with the escaped name where the server digested the name itself. A name with a `,` or a `=`
 * therefore never logs in; it is refused before any connection, with its reason, instead of failing like a wrong password.
 */
export function checkUsername(username: string): void {
  if (/[,=]/.test(username)) {
    throw new InvalidSecretValueError('database', 'username must not contain "," or "=" (the mongodb driver cannot authenticate such a user)');
  }
}

/** The connection string: the host and port only, after they were checked. */
export function connectionString(login: DatabaseLogin): string {
  const family = isIP(login.host);
  if (family === 0 && !HOST_NAME.test(login.host)) throw new InvalidSecretValueError('database', 'host must be a host name or an IP address');
  const host = family === 6 ? `[${login.host}]` : login.host;
  return `mongodb://${host}:${login.port}/`;
}

/** The driver's options: TLS verified unless disabled on purpose, credentials here, every time bound the budget. */
export function clientOptions(login: DatabaseLogin, ctx: StepContext, budgetMs: number): MongoClientOptions {
  const tls = login.tls !== TLS_MODES.DISABLED;
  const ca = tls ? caBundle(ctx.env) : undefined;
  return {
    auth: { username: login.username, password: login.password },
    authSource: login.dbname ?? DEFAULT_AUTH_DB,
    tls,
    ...(ca === undefined ? {} : { ca }),
    tlsAllowInvalidCertificates: false,
    tlsAllowInvalidHostnames: false,
    replicaSet: REPLICA_SET,
    retryWrites: false,
    retryReads: false,
    directConnection: directConnectionOf(login),
    serverSelectionTimeoutMS: budgetMs,
    connectTimeoutMS: budgetMs,
    socketTimeoutMS: budgetMs,
    waitQueueTimeoutMS: budgetMs,
    maxPoolSize: 1,
    minPoolSize: 0,
    appName: 'cdk-secrets-platform-rotation',
    // the driver's own logging stays off whatever MONGODB_LOG_* says: it would write hosts, users and replies
    mongodbLogComponentSeverities: { default: 'off', command: 'off', topology: 'off', serverSelection: 'off', connection: 'off', client: 'off' },
  };
}

async function connect(login: DatabaseLogin, ctx: StepContext, kind: SessionKind = 'application'): Promise<DatabaseSession> {
  // the driver's own bounds end a little before the deadline's guard, so its error (which tells a TLS failure from a
  // silent server) arrives first; the guard still ends the call should the driver not
  const budget = Math.max(50, Math.floor(ctx.deadline.budget('DocumentDB connect') * 0.9));
  checkUsername(login.username);
  const client = new MongoClient(connectionString(login), clientOptions(login, ctx, budget));
  // a monitor's socket error must not become an unhandled event; the next command reports it
  client.on('error', () => undefined);
  // the driver retries a server until its selection bound runs out, but a certificate it rejected once it rejects
  // every time: the first such failure ends the attempt at once, with the TLS error as its reason
  let certificateFailure: unknown;
  const onHeartbeatFailed = (event: { failure?: unknown }) => {
    if (certificateFailure !== undefined || !isCertificateFailure(event.failure)) return;
    certificateFailure = event.failure;
    client.close(true).catch(() => undefined);
  };
  client.on('serverHeartbeatFailed', onHeartbeatFailed);
  try {
    await ctx.deadline.run('DocumentDB connect', () => client.connect());
  } catch (err) {
    await closeBounded(client);
    throw classify(certificateFailure ?? err, 'connect', kind);
  } finally {
    client.off('serverHeartbeatFailed', onHeartbeatFailed);
  }
  return new DocumentDbSession(client, login.dbname ?? DEFAULT_AUTH_DB, ctx, kind);
}

/** Closes the client without waiting on a server that no longer answers. */
async function closeBounded(client: MongoClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2_000);
    timer.unref();
  });
  try {
    await Promise.race([client.close(true).catch(() => undefined), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The class name and numeric code of a driver error; its message (which may name hosts or users) is dropped. */
class DriverCause extends Error {
  public readonly code?: string;
  constructor(original: unknown) {
    super('');
    this.name = original instanceof Error ? original.name || 'Error' : typeof original;
    const code = (original as { code?: unknown } | null)?.code;
    if (typeof code === 'number' && Number.isInteger(code)) this.code = String(code);
    else if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) this.code = code;
  }
}

function redacted(err: unknown): RedactedCause {
  return new RedactedCause(new DriverCause(err));
}

/** Codes and messages of an error and the errors nested in it (cause, server selection reasons), for matching only. */
function nested(err: unknown, depth = 0): { codes: string[]; messages: string[] } {
  const out = { codes: [] as string[], messages: [] as string[] };
  if (typeof err !== 'object' || err === null || depth > 4) return out;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; reason?: { servers?: Map<string, { error?: unknown }> } };
  if (e.code !== undefined) out.codes.push(String(e.code));
  if (typeof e.message === 'string') out.messages.push(e.message);
  const inner: unknown[] = [e.cause];
  if (e.reason?.servers instanceof Map) for (const server of e.reason.servers.values()) inner.push(server.error);
  for (const i of inner) {
    const n = nested(i, depth + 1);
    out.codes.push(...n.codes);
    out.messages.push(...n.messages);
  }
  return out;
}

/** Whether an error (or one nested in it) is a refused server certificate: retrying cannot succeed. */
function isCertificateFailure(err: unknown): boolean {
  const inner = nested(err);
  return inner.codes.some((c) => CERTIFICATE_ERROR.test(c)) || inner.messages.some((m) => CERTIFICATE_ERROR.test(m));
}

/** Maps a driver or socket error to a named error; only the class name and code survive. */
export function classify(err: unknown, during: string, kind: SessionKind = 'application'): RotationError {
  if (err instanceof RotationError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === AUTHENTICATION_FAILED || code === MECHANISM_UNAVAILABLE) {
    return new LoginFailedError('DocumentDB rejected the credential', redacted(err));
  }
  if (code === UNAUTHORIZED && kind === 'master') {
    return new RotationError(ERROR_CODES.MASTER_NOT_PERMITTED,
      `DocumentDB refused ${during} to the master user: it needs the userAdminAnyDatabase role (or root)`, redacted(err));
  }
  const inner = nested(err);
  if (inner.codes.some((c) => TLS_ERROR.test(c)) || inner.messages.some((m) => TLS_ERROR.test(m))) {
    return new RotationError(ERROR_CODES.TLS_FAILED, `TLS to DocumentDB failed during ${during}`, redacted(err));
  }
  const name = err instanceof Error ? err.name : '';
  if (TIMEOUT_CLASSES.has(name) && !inner.codes.some((c) => /^E(CONNREFUSED|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(c))) {
    return new RotationError(ERROR_CODES.TIMEOUT, `DocumentDB ${during} did not complete within its time bound`, redacted(err));
  }
  return new RotationError(ERROR_CODES.DATABASE_ERROR, `DocumentDB ${during} failed`, redacted(err));
}

/** A role as MongoDB names it. */
export interface RoleRef {
  readonly role: string;
  readonly db: string;
}

function roleKey(r: RoleRef): string {
  return JSON.stringify([r.db, r.role]);
}

/** Roles of a usersInfo entry, checked for shape: a row that is not `{ role, db }` strings is a server fault. */
function rolesOf(user: Document): RoleRef[] {
  const roles: unknown = user.roles;
  if (!Array.isArray(roles)) throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'usersInfo returned a user without a roles list');
  return roles.map((r: unknown) => {
    const { role, db } = (r ?? {}) as { role?: unknown; db?: unknown };
    if (typeof role !== 'string' || typeof db !== 'string') throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'usersInfo returned a role of an unexpected shape');
    return { role, db };
  });
}

/** Exported for tests. */
export class DocumentDbSession implements DatabaseSession {
  constructor(
    private readonly client: MongoClient, private readonly authDb: string, private readonly ctx: StepContext,
    private readonly kind: SessionKind = 'application',
  ) {}

  /** changeOwnPassword: `updateUser` with the password only, on the user's own database. */
  public async setOwnPassword(username: string, password: string): Promise<void> {
    await this.command('update-own-password', { updateUser: username, pwd: password });
  }

  public async assertAlternateOf(alternate: string, original: string): Promise<void> {
    const [clone, source] = [await this.user(alternate), await this.user(original)];
    if (!clone || !source) throw new ConfusedDeputyError('the current user is named like the clone of the pending user but is not its clone');
    if (extraRoles(clone, source).length > 0) {
      throw new ConfusedDeputyError('the current user is named like the clone of the pending user but holds roles the pending user does not');
    }
  }

  public async upsertAlternate(target: string, original: string, password: string): Promise<'created' | 'updated'> {
    const source = await this.user(original);
    if (!source) throw new ConfusedDeputyError('the original user does not exist on the server');
    if (target === original) {
      // the pair swinging back: the original keeps its roles as they are
      await this.command('update-password', { updateUser: target, pwd: password });
      return 'updated';
    }
    const roles = rolesOf(source);
    const existing = await this.user(target);
    if (!existing) {
      // one command: the clone never exists without its roles
      await this.command('create-user', { createUser: target, pwd: password, roles });
      return 'created';
    }
    if (extraRoles(existing, source).length > 0) {
      throw new ConfusedDeputyError('the alternate user exists with roles the original user does not hold; it is not a clone');
    }
    // the roles first, so the new password never logs in without them; re-applied on every rotation
    if (roles.length > 0) await this.command('grant-roles', { grantRolesToUser: target, roles });
    await this.command('update-password', { updateUser: target, pwd: password });
    return 'updated';
  }

  /** As the master: the clone holds every role of the original (it may hold more: nothing is revoked). */
  public async checkAlternate(original: string, alternate: string): Promise<void> {
    const source = await this.user(original);
    const clone = await this.user(alternate);
    const outOfSync = (why: string) => new RotationError(ERROR_CODES.PRIVILEGES_OUT_OF_SYNC, `The alternate user does not hold the original user's roles: ${why}`);
    if (!source || !clone) throw outOfSync('a user is missing');
    if (extraRoles(source, clone).length > 0) throw outOfSync('a role is missing');
  }

  /** The probe names one read-only command (PROBE_COMMANDS), run on the authentication database. */
  public async probe(command: string): Promise<void> {
    const name = command.trim();
    if (!PROBE_COMMANDS.includes(name)) {
      throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `The DocumentDB probe must be one of ${PROBE_COMMANDS.join(', ')}`);
    }
    await this.command('probe', { [name]: 1 });
  }

  public async close(): Promise<void> {
    await closeBounded(this.client);
  }

  /** usersInfo for one user on the authentication database; undefined when it does not exist. */
  private async user(name: string): Promise<Document | undefined> {
    const reply = await this.command('users-info', { usersInfo: { user: name, db: this.authDb } });
    const users: unknown = reply.users;
    if (!Array.isArray(users)) throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'usersInfo returned no users list');
    return users.find((u: Document) => u?.user === name && u?.db === this.authDb);
  }

  private async command(point: string, doc: Document): Promise<Document> {
    let reply: Document;
    try {
      reply = await this.ctx.deadline.run('DocumentDB command', () => this.client.db(this.authDb).command(doc));
    } catch (err) {
      throw classify(err, point, this.kind);
    }
    await faultPoint(`documentdb:${point}`);
    return reply;
  }
}

/** Roles `user` holds that `reference` does not. */
function extraRoles(user: Document, reference: Document): RoleRef[] {
  const held = new Set(rolesOf(reference).map(roleKey));
  return rolesOf(user).filter((r) => !held.has(roleKey(r)));
}
