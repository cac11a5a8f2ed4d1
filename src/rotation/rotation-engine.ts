import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { ClientSecretAdapter } from './client-secret-adapter';
import { ENGINE_FAMILIES } from './engines';
import { PasswordPolicy, PasswordPolicyProps } from '../password-policy';
import { EngineStatement } from './engines/engine-family';
import { writeExchangeTagStatement } from './engines/oauth';
import {
  FUNCTION_IDS, FunctionId, OAUTH_ENV, OAUTH_FUNCTION_IDS, OAuthFunctionId, ROTATION_SCHEMES, SECRET_ENGINES, bundledEngineSpec,
  engineFamilyOf, rotatorFunctionIds,
} from '../private/contract';
import { checkOAuthUrl } from '../private/oauth-url';
import { assertLiteral } from '../private/validation';

/**
 * What a secret holds: what a {@link SecretTemplate} describes and what a {@link RotationEngine} rotates
 * (`RotationEngine.secretKind`). `SecretRotation` refuses an engine whose kind is not the template's.
 */
export enum SecretTemplateKind {
  /** Database credentials with a generated `password`. */
  DATABASE = 'database',
  /** OAuth 2.0 client credentials (`client_id`, `client_secret`). */
  OAUTH_CLIENT = 'oauth-client',
  /** An OAuth 2.0 refresh token. */
  OAUTH_REFRESH_TOKEN = 'oauth-refresh-token',
}

/** How messages name a kind of secret. */
const KIND_NAMES: Record<SecretTemplateKind, string> = {
  [SecretTemplateKind.DATABASE]: 'database',
  [SecretTemplateKind.OAUTH_CLIENT]: 'OAuth client',
  [SecretTemplateKind.OAUTH_REFRESH_TOKEN]: 'OAuth refresh token',
};

/**
 * Properties of a custom rotation engine: your own handler code run by a hardened {@link RotationFunction}.
 */
export interface CustomRotationEngineProps {
  /**
   * A short id: lower-case letters, digits and hyphens, 1 to 30 characters, not one of the bundled engine ids.
   * It names the shared function (`RotationFunction.shared`) and must be unique per handler.
   */
  readonly id: string;

  /** The handler code, for example `lambda.Code.fromAsset(...)`. */
  readonly code: lambda.Code;

  /**
   * The handler, as `file.export`.
   *
   * @default 'index.handler'
   */
  readonly handler?: string;

  /**
   * Whether the engine uses alternating users and needs a master secret for every secret it rotates.
   *
   * @default false
   */
  readonly multiUser?: boolean;

  /**
   * What kind of secret the handler rotates. When declared, `SecretRotation` (and `Secret.addRotation`) refuse a
   * secret whose `SecretTemplate` is of another kind at synth, as they do for the bundled engines.
   *
   * @default - `SecretTemplateKind.DATABASE` when `secretEngines` is given; otherwise none: the engine declares nothing
   * and templates are not checked against it (the handler alone decides what it accepts)
   */
  readonly secretKind?: SecretTemplateKind;

  /**
   * Values of the database secret's `engine` field the handler accepts (1 or more non-empty strings), for example
   * `['mysql', 'aurora-mysql']`. Declares a database engine: `SecretRotation` refuses a `SecretTemplate` whose `engine`
   * is not one of them at synth. Only for `secretKind` `DATABASE`.
   *
   * @default - none declared: any database secret (with `secretKind` `DATABASE`) or no check at all
   */
  readonly secretEngines?: string[];

  /**
   * The password policy used when none is given to the function.
   *
   * @default - `new PasswordPolicy()`: length 32, excludes `/ @ " ' \`
   */
  readonly passwordPolicy?: PasswordPolicy;

  /**
   * TCP port of the service the handler connects to; a function in a VPC opens egress to it within the VPC.
   *
   * @default - no egress rule besides HTTPS; add one with `rotationFunction.connections`
   */
  readonly defaultPort?: number;

  /**
   * IAM statements the handler needs beyond the standard rotation permissions. They are copied into the
   * function's one customer-managed policy. Use `Aws.PARTITION`, `Aws.REGION` and `Aws.ACCOUNT_ID` in ARNs.
   *
   * @default - none
   */
  readonly policyStatements?: iam.PolicyStatement[];
}

/**
 * Properties of {@link RotationEngine.oauthRefreshToken}.
 */
export interface OAuthRefreshTokenEngineProps {
  /**
   * An `https://` URL that `testSecret` sends a GET to with the new access token as a Bearer token; any 2xx answer proves
   * the token (`ROTATION_OAUTH_PROBE_URL`).
   *
   * @default - the OpenID Connect `userinfo_endpoint` from discovery, for secrets that name an `issuer`
   */
  readonly probeUrl?: string;

  /**
   * Let the handler reach `http://` endpoints on `localhost`, `127.0.0.1` and `[::1]` (tests against a local identity
   * provider only; `ROTATION_OAUTH_ALLOW_LOOPBACK_HTTP`). Templates with such endpoints need `allowLoopbackHttp` too.
   *
   * @default false
   */
  readonly allowLoopbackHttp?: boolean;
}

/**
 * Properties of {@link RotationEngine.oauthClientSecret}.
 */
export interface OAuthClientSecretEngineProps {
  /** How the identity provider registers the new client secret and retires the previous one. */
  readonly adapter: ClientSecretAdapter;

  /**
   * How long the previous client secret keeps working after the new one became current, in whole seconds; it must be
   * shorter than the least time between two rotations, the schedule's period minus its rotation window (checked by
   * `SecretRotation`: `RotationSchedule.rate(Duration.days(30))` with the default window of a day admits up to 29 days),
   * and zero with `ClientSecretAdapter.rfc7592()` (the provider holds one secret per client).
   *
   * @default Duration.seconds(0): the previous secret is retired as soon as the new one is current
   */
  readonly overlap?: Duration;

  /**
   * How the handler generates new client secrets (`ClientSecretAdapter.http` only; under RFC 7592 the provider issues
   * them).
   *
   * @default - 64 letters and digits (about 380 bits), safe in JSON, form bodies and Basic authentication
   */
  readonly passwordPolicy?: PasswordPolicy;

  /**
   * Let the handler reach `http://` endpoints on `localhost`, `127.0.0.1` and `[::1]` (tests against a local identity
   * provider only; `ROTATION_OAUTH_ALLOW_LOOPBACK_HTTP`).
   *
   * @default - the adapter's `allowLoopbackHttp` (false for `rfc7592()`)
   */
  readonly allowLoopbackHttp?: boolean;
}

/** What an OAuth engine adds to its function: environment, permissions and what it needs per secret. */
interface OAuthEngineConfig {
  readonly adapter?: ClientSecretAdapter;
  readonly overlapSeconds?: number;
  readonly probeUrl?: string;
  readonly allowLoopbackHttp: boolean;
  /** Whether the handler tags the secret before an exchange it cannot repeat. */
  readonly writesExchangeTag: boolean;
}

/** What a bundled OAuth engine states beside its id. */
interface BundledOAuthSpec {
  readonly secretKind: SecretTemplateKind;
  readonly displayName: string;
  readonly passwordPolicy: PasswordPolicy;
  readonly generatesPasswords: boolean;
  readonly requiresAdminSecret: boolean;
  readonly oauth: OAuthEngineConfig;
}

/** Longest overlap: the longest rate schedule (1000 days); SecretRotation checks it against the actual schedule. */
const MAX_OVERLAP_SECONDS = 1000 * 24 * 3600;

/** The default policy of generated client secrets: letters and digits only, so no provider or transport mangles them. */
const CLIENT_SECRET_LENGTH = 64;

interface EngineSpec {
  readonly id: string;
  readonly displayName: string;
  readonly multiUser: boolean;
  readonly secretKind?: SecretTemplateKind;
  readonly secretEngines: string[];
  readonly passwordPolicy: PasswordPolicy;
  readonly defaultPort?: number;
  readonly handler: string;
  readonly code?: lambda.Code;
  readonly statements: () => EngineStatement[];
  readonly oauth?: OAuthEngineConfig;
  readonly generatesPasswords?: boolean;
  readonly requiresAdminSecret?: boolean;
}

const ENGINE_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/;
/** A database secret's `engine` value as custom engines may declare it. */
const SECRET_ENGINE_VALUE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * What a rotation function rotates and how: the handler, the kind of secret (and database engines) it rotates,
 * whether it alternates users, the password policy it uses by default and the extra IAM permissions it needs.
 *
 * Bundled: PostgreSQL (and Aurora PostgreSQL), MySQL (and Aurora MySQL), MariaDB, Amazon Redshift and Amazon
 * DocumentDB, each single user and alternating users; OAuth 2.0 refresh tokens (`OAUTH_REFRESH_TOKEN`,
 * `oauthRefreshToken(...)`) and OAuth 2.0 client secrets (`OAUTH_CLIENT_SECRET` for RFC 7592 providers,
 * `oauthClientSecret(...)` for provider APIs that hold two secrets at once). Anything else: `RotationEngine.custom(...)`
 * with your own handler.
 */
export class RotationEngine {
  /** PostgreSQL and Aurora PostgreSQL: the user in the secret changes its own password. */
  public static readonly POSTGRES_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.POSTGRES_SINGLE_USER);

  /**
   * PostgreSQL and Aurora PostgreSQL with alternating users: the master secret (`masterarn`) creates or updates
   * a clone user, so the current credential keeps working throughout the rotation.
   */
  public static readonly POSTGRES_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.POSTGRES_MULTI_USER);

  /** MySQL and Aurora MySQL (`mysql`, `aurora-mysql`): the user in the secret changes its own password. */
  public static readonly MYSQL_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.MYSQL_SINGLE_USER);

  /**
   * MySQL and Aurora MySQL (`mysql`, `aurora-mysql`) with alternating users: the master secret (`masterarn`) creates or
   * updates a clone user (same account host, the original's grants), so the current credential keeps working.
   */
  public static readonly MYSQL_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.MYSQL_MULTI_USER);

  /** MariaDB (`mariadb`): the user in the secret changes its own password. */
  public static readonly MARIADB_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.MARIADB_SINGLE_USER);

  /**
   * MariaDB (`mariadb`) with alternating users: the master secret (`masterarn`) creates or updates a clone user (same
   * account host, the original's grants), so the current credential keeps working.
   */
  public static readonly MARIADB_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.MARIADB_MULTI_USER);

  /**
   * Amazon Redshift (provisioned clusters and Redshift Serverless workgroups, `redshift`): the user in the secret changes
   * its own password, sent as Redshift's MD5 hash, never in clear.
   */
  public static readonly REDSHIFT_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.REDSHIFT_SINGLE_USER);

  /**
   * Amazon Redshift with alternating users: the master secret (`masterarn`, also a Redshift-managed admin secret)
   * creates or updates a clone user and copies the original's privileges to it on every rotation.
   */
  public static readonly REDSHIFT_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.REDSHIFT_MULTI_USER);

  /** Amazon DocumentDB (`mongo` or `docdb`): the user in the secret changes its own password (`updateUser`). */
  public static readonly DOCUMENTDB_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.DOCUMENTDB_SINGLE_USER);

  /**
   * Amazon DocumentDB (`mongo` or `docdb`) with alternating users: the master secret (`masterarn`, also a
   * DocumentDB-managed master secret) creates or updates a clone user with the original's roles on every rotation.
   */
  public static readonly DOCUMENTDB_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.DOCUMENTDB_MULTI_USER);

  /**
   * OAuth 2.0 refresh tokens (`SecretTemplate.oauthRefreshToken`): each rotation makes one refresh exchange and stores
   * the new refresh and access token at once; `testSecret` calls the OpenID Connect userinfo endpoint with the new access
   * token. Use `RotationEngine.oauthRefreshToken({ probeUrl })` for another probe.
   */
  public static readonly OAUTH_REFRESH_TOKEN = RotationEngine.oauthRefreshToken();

  /**
   * OAuth 2.0 client secrets (`SecretTemplate.oauthClient` with an `adminSecret`) at an RFC 7592 client configuration
   * endpoint: the provider issues the new secret and the previous one stops working at once (no overlap). Use
   * `RotationEngine.oauthClientSecret({ adapter: ClientSecretAdapter.http(...), overlap })` for a provider API that
   * keeps the previous secret working for a while.
   */
  public static readonly OAUTH_CLIENT_SECRET = RotationEngine.oauthClientSecret({ adapter: ClientSecretAdapter.rfc7592() });

  /**
   * The bundled OAuth refresh-token engine with a probe of your choice.
   *
   * @param props the probe and (tests) loopback http
   */
  public static oauthRefreshToken(props: OAuthRefreshTokenEngineProps = {}): RotationEngine {
    const owner = 'RotationEngine.oauthRefreshToken';
    const allowLoopbackHttp = props.allowLoopbackHttp ?? false;
    if (props.probeUrl !== undefined) {
      checkOAuthUrl(owner, 'probeUrl', props.probeUrl, { allowLoopbackHttp });
    }
    return RotationEngine.bundledOAuth(OAUTH_FUNCTION_IDS.OAUTH_REFRESH_TOKEN, {
      secretKind: SecretTemplateKind.OAUTH_REFRESH_TOKEN,
      displayName: 'OAuth refresh token',
      // the provider issues every value: nothing is generated
      passwordPolicy: new PasswordPolicy(),
      generatesPasswords: false,
      requiresAdminSecret: false,
      oauth: { probeUrl: props.probeUrl, allowLoopbackHttp, writesExchangeTag: true },
    });
  }

  /**
   * The bundled OAuth client-secret engine with an adapter for the identity provider and an overlap.
   *
   * @param props the adapter, the overlap and the policy of generated secrets
   */
  public static oauthClientSecret(props: OAuthClientSecretEngineProps): RotationEngine {
    const owner = 'RotationEngine.oauthClientSecret';
    if (!(props?.adapter instanceof ClientSecretAdapter)) {
      throw new Error(`${owner}: adapter is required: ClientSecretAdapter.rfc7592() or ClientSecretAdapter.http({...})`);
    }
    const adapter = props.adapter;
    const overlap = props.overlap ?? Duration.seconds(0);
    assertLiteral(owner, 'overlap', overlap);
    const ms = overlap.toMilliseconds();
    if (ms % 1000 !== 0 || ms < 0 || ms > MAX_OVERLAP_SECONDS * 1000) {
      throw new Error(`${owner}: overlap must be whole seconds from 0 to 1000 days, got ${overlap.toHumanString()}`);
    }
    const overlapSeconds = ms / 1000;
    if (adapter.holdsOneSecret && overlapSeconds > 0) {
      throw new Error(`${owner}: overlap must be 0 with the ${adapter.type} adapter, got ${overlap.toHumanString()}: the provider holds one `
        + 'secret per client and the previous one stops working when the new one is issued');
    }
    if (overlapSeconds > 0 && !adapter._retireNamesTime()) {
      throw new Error(`${owner}: overlap is ${overlap.toHumanString()}, but the adapter's retire request holds neither {not_after} nor `
        + '{not_after_epoch}, so the provider would retire the previous secret at once; name the time in retire, or use overlap 0');
    }
    if (adapter.holdsOneSecret && props.passwordPolicy !== undefined) {
      throw new Error(`${owner}: passwordPolicy does not apply to the ${adapter.type} adapter: the provider issues the client secret`);
    }
    if (props.allowLoopbackHttp === false && adapter.allowsLoopbackHttp) {
      throw new Error(`${owner}: allowLoopbackHttp is false, but the adapter allows http:// to loopback hosts; the handler would `
        + 'refuse its URLs');
    }
    const allowLoopbackHttp = props.allowLoopbackHttp ?? adapter.allowsLoopbackHttp;
    return RotationEngine.bundledOAuth(OAUTH_FUNCTION_IDS.OAUTH_CLIENT_SECRET, {
      secretKind: SecretTemplateKind.OAUTH_CLIENT,
      displayName: 'OAuth client secret',
      passwordPolicy: props.passwordPolicy ?? new PasswordPolicy({ length: CLIENT_SECRET_LENGTH, excludePunctuation: true }),
      // the policy's GetRandomPassword is what the http adapter registers; RFC 7592 providers issue the secret themselves
      generatesPasswords: true,
      requiresAdminSecret: true,
      // a provider-issued secret is an exchange that cannot be repeated, like a refresh
      oauth: { adapter, overlapSeconds, allowLoopbackHttp, writesExchangeTag: adapter.holdsOneSecret },
    });
  }

  /**
   * An engine with your own handler code, run by the same hardened function and IAM policy.
   *
   * @param props the handler code and what it needs
   */
  public static custom(props: CustomRotationEngineProps): RotationEngine {
    const bundled: string[] = rotatorFunctionIds();
    if (!ENGINE_ID_PATTERN.test(props.id)) {
      throw new Error(`RotationEngine.custom: id must be 1 to 30 lower-case letters, digits or hyphens (not at either end), got '${props.id}'`);
    }
    if (bundled.includes(props.id)) {
      throw new Error(`RotationEngine.custom: id '${props.id}' is a bundled engine id; choose an id other than ${bundled.join(', ')}`);
    }
    if (props.defaultPort !== undefined && (!Number.isInteger(props.defaultPort) || props.defaultPort < 1 || props.defaultPort > 65535)) {
      throw new Error(`RotationEngine.custom: defaultPort must be an integer from 1 to 65535, got ${props.defaultPort}`);
    }
    const secretEngines = props.secretEngines ?? [];
    if (props.secretEngines !== undefined) {
      if (secretEngines.length === 0) {
        throw new Error('RotationEngine.custom: secretEngines must hold 1 or more engine values (for example [\'mysql\', \'aurora-mysql\']), '
          + 'got an empty list; leave it out to declare none');
      }
      secretEngines.forEach((value, i) => {
        if (typeof value !== 'string' || Token.isUnresolved(value) || !SECRET_ENGINE_VALUE_PATTERN.test(value)) {
          throw new Error(`RotationEngine.custom: secretEngines[${i}] must be a literal engine value of 1 to 64 letters, digits, `
            + `hyphens, dots or underscores, got ${JSON.stringify(value)}`);
        }
      });
    }
    if (props.secretKind !== undefined && !Object.values(SecretTemplateKind).includes(props.secretKind)) {
      throw new Error(`RotationEngine.custom: secretKind must be one of ${Object.values(SecretTemplateKind).join(', ')}, got '${props.secretKind}'`);
    }
    if (secretEngines.length > 0 && props.secretKind !== undefined && props.secretKind !== SecretTemplateKind.DATABASE) {
      throw new Error(`RotationEngine.custom: secretEngines applies only to secretKind ${SecretTemplateKind.DATABASE} (the engine field of `
        + `database secrets), got secretKind '${props.secretKind}'`);
    }
    const statements = props.policyStatements ?? [];
    return new RotationEngine({
      id: props.id,
      displayName: `custom (${props.id})`,
      multiUser: props.multiUser ?? false,
      // declaring database engine values declares a database engine
      secretKind: props.secretKind ?? (secretEngines.length > 0 ? SecretTemplateKind.DATABASE : undefined),
      secretEngines: [...secretEngines],
      passwordPolicy: props.passwordPolicy ?? new PasswordPolicy(),
      defaultPort: props.defaultPort,
      handler: props.handler ?? 'index.handler',
      code: props.code,
      statements: () => statements.map((statement) => ({ statement: statement.copy() })),
    });
  }

  /**
   * Which engines rotate secrets of a template's kind and engine value, for messages: the bundled ones, or (when none is
   * bundled for them yet) how to declare a custom one. Never suggests an engine of another family.
   *
   * @param kind the template's kind
   * @param secretEngine the template's `engine` value (database templates)
   * @internal
   */
  public static _suggest(kind: SecretTemplateKind, secretEngine: string | undefined): string {
    const fitting = bundledEngines().filter(([, e]) => e.rotatesSecret(kind, secretEngine));
    const factory = OAUTH_FACTORY_HINTS[kind];
    if (fitting.length > 0) {
      return `use ${[...fitting.map(([name]) => `RotationEngine.${name}`), ...(factory ? [factory] : [])].join(' or ')}`;
    }
    if (kind === SecretTemplateKind.DATABASE) {
      const family = secretEngine !== undefined ? engineFamilyOf(secretEngine) : undefined;
      const values = family !== undefined ? [...SECRET_ENGINES[family]] : secretEngine !== undefined ? [secretEngine] : [];
      const what = family ?? secretEngine ?? 'these database';
      return `there is no bundled rotation engine for ${what} secrets yet; use RotationEngine.custom({ id, code, `
        + `secretEngines: [${values.map((v) => `'${v}'`).join(', ')}] }) with your own handler`;
    }
    return `there is no bundled rotation engine for ${KIND_NAMES[kind]} secrets yet; use RotationEngine.custom({ id, code, `
      + `secretKind: SecretTemplateKind.${enumName(kind)} }) with your own handler`;
  }

  /** A bundled engine: its registry entry in the contract plus what its family file adds. */
  private static bundled(id: FunctionId): RotationEngine {
    const spec = bundledEngineSpec(id);
    const family = ENGINE_FAMILIES[spec.family];
    const multiUser = spec.scheme === ROTATION_SCHEMES.MULTI_USER;
    return new RotationEngine({
      id,
      secretKind: SecretTemplateKind.DATABASE,
      displayName: `${family.displayName} ${multiUser ? 'alternating users' : 'single user'}`,
      multiUser,
      secretEngines: [...spec.secretEngines],
      passwordPolicy: family.passwordPolicy(),
      defaultPort: spec.defaultPort,
      handler: 'index.handler',
      statements: () => family.statements(spec.scheme),
    });
  }

  /** A bundled OAuth rotator: its function id is its bundle; what it needs comes with its configuration. */
  private static bundledOAuth(id: OAuthFunctionId, spec: BundledOAuthSpec): RotationEngine {
    return new RotationEngine({
      id,
      secretKind: spec.secretKind,
      displayName: spec.displayName,
      multiUser: false,
      secretEngines: [],
      passwordPolicy: spec.passwordPolicy,
      // HTTPS only: no database port to open in a VPC
      defaultPort: undefined,
      handler: 'index.handler',
      statements: () => [],
      oauth: spec.oauth,
      generatesPasswords: spec.generatesPasswords,
      requiresAdminSecret: spec.requiresAdminSecret,
    });
  }

  /** The engine id; for bundled engines also the bundle directory `assets/<id>`. */
  public readonly id: string;
  /** A human-readable name for descriptions and messages. */
  public readonly displayName: string;
  /** Whether the engine alternates users and so needs a master secret for every secret it rotates. */
  public readonly multiUser: boolean;
  /**
   * The kind of secret the engine rotates; undefined for a custom engine that declares none (then no template is
   * checked against it).
   */
  public readonly secretKind?: SecretTemplateKind;
  /** Values of the database secret's `engine` field the handler accepts (empty: not declared). */
  public readonly secretEngines: string[];
  /** The password policy used when none is given; `passwordPolicy(overrides)` derives others from it. */
  public readonly defaultPasswordPolicy: PasswordPolicy;
  /** The database port a function in a VPC opens egress to within the VPC, if known. */
  public readonly defaultPort?: number;
  /** The Lambda handler, as `file.export`. */
  public readonly handler: string;
  /** Whether the handler is bundled with this library (as opposed to `RotationEngine.custom`). */
  public readonly isBundled: boolean;
  /**
   * Whether every secret the engine rotates needs an admin secret (`adminsecretarn`): the credential of the identity
   * provider's client administration (OAuth client secrets).
   */
  public readonly requiresAdminSecret: boolean;
  /** Whether the handler generates values with `GetRandomPassword` (false for OAuth refresh tokens). */
  public readonly generatesPasswords: boolean;

  /** @internal */
  public readonly _code?: lambda.Code;

  private readonly statements: () => EngineStatement[];
  private readonly oauth?: OAuthEngineConfig;

  private constructor(spec: EngineSpec) {
    this.id = spec.id;
    this.displayName = spec.displayName;
    this.multiUser = spec.multiUser;
    this.secretKind = spec.secretKind;
    this.secretEngines = spec.secretEngines;
    this.defaultPasswordPolicy = spec.passwordPolicy;
    this.defaultPort = spec.defaultPort;
    this.handler = spec.handler;
    this.isBundled = spec.code === undefined;
    this._code = spec.code;
    this.statements = spec.statements;
    this.oauth = spec.oauth;
    this.generatesPasswords = spec.generatesPasswords ?? true;
    this.requiresAdminSecret = spec.requiresAdminSecret ?? false;
  }

  /**
   * How long the previous value keeps working after a rotation (OAuth client secrets); undefined for engines without one.
   */
  public get overlap(): Duration | undefined {
    return this.oauth?.overlapSeconds !== undefined ? Duration.seconds(this.oauth.overlapSeconds) : undefined;
  }

  /**
   * Whether the handler may reach `http://` endpoints on loopback hosts (tests only).
   *
   * @internal
   */
  public get _allowsLoopbackHttp(): boolean {
    return this.oauth?.allowLoopbackHttp ?? false;
  }

  /**
   * What selects a shared function besides the id, placement and policy: the OAuth configuration (adapter, overlap,
   * probe, loopback), so two configurations get two functions. Undefined for every other engine, whose shared functions
   * keep the ids they always had.
   *
   * @internal
   */
  public _sharedFunctionKey(): unknown {
    if (this.oauth === undefined) {
      return undefined;
    }
    return {
      adapter: this.oauth.adapter?._toContract(),
      overlapSeconds: this.oauth.overlapSeconds,
      probeUrl: this.oauth.probeUrl,
      allowLoopbackHttp: this.oauth.allowLoopbackHttp,
    };
  }

  /**
   * Whether a shared function made for `other` serves this engine too: the same object, or two bundled engines with the
   * same id and configuration.
   *
   * @internal
   */
  public _sameAs(other: RotationEngine, scope: IConstruct): boolean {
    if (other === this) {
      return true;
    }
    const stack = Stack.of(scope);
    return this.isBundled && other.isBundled && this.id === other.id
      && JSON.stringify(stack.resolve(this._sharedFunctionKey())) === JSON.stringify(stack.resolve(other._sharedFunctionKey()))
      && this.defaultPasswordPolicy.toJson() === other.defaultPasswordPolicy.toJson();
  }

  /**
   * The environment variables the engine's handler reads beyond the ones every rotation function gets.
   *
   * @internal
   */
  public _environment(scope: IConstruct): Record<string, string> {
    const env: Record<string, string> = {};
    const oauth = this.oauth;
    if (oauth === undefined) {
      return env;
    }
    if (oauth.adapter !== undefined) {
      env[OAUTH_ENV.CLIENT_SECRET_ADAPTER] = Stack.of(scope).toJsonString(oauth.adapter._toContract());
      env[OAUTH_ENV.OVERLAP_SECONDS] = String(oauth.overlapSeconds ?? 0);
    }
    if (oauth.probeUrl !== undefined) {
      env[OAUTH_ENV.PROBE_URL] = oauth.probeUrl;
    }
    if (oauth.allowLoopbackHttp) {
      env[OAUTH_ENV.ALLOW_LOOPBACK_HTTP] = 'true';
    }
    return env;
  }

  /**
   * The IAM statements this engine needs beyond the standard rotation permissions (new objects on every call).
   *
   * Alternating-user engines find host and port of a master secret managed by the database service, which holds only
   * user name and password: RDS instances and clusters (PostgreSQL, MySQL, MariaDB), Redshift clusters and Redshift
   * Serverless workgroups (Redshift), DocumentDB clusters (DocumentDB).
    *
   * OAuth engines that tag the secret before an exchange they cannot repeat (refresh tokens, RFC 7592 client secrets) also
   * need `secretsmanager:TagResource` for that one tag; that statement names the function, so `RotationFunction` adds it.
   */
  public policyStatements(): iam.PolicyStatement[] {
    return this.statements().map((s) => s.statement);
  }

  /**
   * The engine's default password policy with overrides. The engine's required exclusions (for example `/ @ " ' \ :`
   * for PostgreSQL) always stay excluded: `overrides.excludeCharacters` adds to them.
   *
   * @param overrides settings to change
   */
  public passwordPolicy(overrides: PasswordPolicyProps = {}): PasswordPolicy {
    return this.defaultPasswordPolicy._withOverrides(overrides);
  }

  /**
   * The IAM statements with the reasons for their wildcard resources (bundled engines), for the function's cdk-nag
   * suppressions; new objects on every call.
   *
   * @internal
   */
  public _policyStatementsWithReasons(functionArn: string): EngineStatement[] {
    return [...this.statements(), ...(this.oauth?.writesExchangeTag ? [writeExchangeTagStatement(functionArn)] : [])];
  }

  /** The engine id. */
  public toString(): string {
    return this.id;
  }

  /**
   * Why this engine cannot rotate a secret of a template's kind and engine value, with what to use instead; undefined
   * when it can (or when the engine declares nothing).
   *
   * @internal
   */
  public _mismatch(kind: SecretTemplateKind, secretEngine: string | undefined): string | undefined {
    if (this.rotatesSecret(kind, secretEngine)) {
      return undefined;
    }
    const what = kind !== this.secretKind
      ? `the secret's template is ${describeTemplate(kind, secretEngine)}`
      : `the secret's template has engine '${secretEngine}'`;
    return `engine '${this.id}' rotates ${this.describeSecrets()}, but ${what}; ${RotationEngine._suggest(kind, secretEngine)}`;
  }

  /**
   * What to write for an alternating-users engine in messages: the bundled alternating-users engine of the same
   * secrets, or a custom one.
   *
   * @internal
   */
  public _alternatingUsersAlternative(): string {
    const counterparts = bundledEngines().filter(([, e]) => e.multiUser && e.secretKind === this.secretKind
      && this.secretEngines.length > 0 && this.secretEngines.every((v) => e.secretEngines.includes(v)));
    return counterparts.length > 0
      ? `an alternating-users engine such as ${counterparts.map(([name]) => `RotationEngine.${name}`).join(' or ')}`
      : 'an alternating-users engine (RotationEngine.custom({ ..., multiUser: true }))';
  }

  /** Whether the engine rotates secrets of this kind and engine value (an engine that declares nothing: yes). */
  private rotatesSecret(kind: SecretTemplateKind, secretEngine: string | undefined): boolean {
    if (this.secretKind === undefined) {
      return true;
    }
    if (kind !== this.secretKind) {
      return false;
    }
    return secretEngine === undefined || this.secretEngines.length === 0 || this.secretEngines.includes(secretEngine);
  }

  private describeSecrets(): string {
    if (this.secretKind === SecretTemplateKind.DATABASE && this.secretEngines.length > 0) {
      return `database secrets with engine ${this.secretEngines.map((v) => `'${v}'`).join(' or ')}`;
    }
    return `${KIND_NAMES[this.secretKind!]} secrets`;
  }
}

/** The factories of the bundled OAuth engines, named beside their statics in suggestions. */
const OAUTH_FACTORY_HINTS: Partial<Record<SecretTemplateKind, string>> = {
  [SecretTemplateKind.OAUTH_CLIENT]: 'RotationEngine.oauthClientSecret({ adapter, overlap })',
  [SecretTemplateKind.OAUTH_REFRESH_TOKEN]: 'RotationEngine.oauthRefreshToken({ probeUrl })',
};

/** The bundled engines with their static property names (`POSTGRES_SINGLE_USER`), in declaration order. */
function bundledEngines(): Array<[string, RotationEngine]> {
  return Object.entries(RotationEngine)
    .filter((entry): entry is [string, RotationEngine] => entry[1] instanceof RotationEngine && entry[1].isBundled);
}

function describeTemplate(kind: SecretTemplateKind, secretEngine: string | undefined): string {
  if (kind === SecretTemplateKind.DATABASE) {
    return secretEngine !== undefined ? `a database secret with engine '${secretEngine}'` : 'a database secret';
  }
  return `an ${KIND_NAMES[kind]} secret`;
}

function enumName(kind: SecretTemplateKind): string {
  return Object.entries(SecretTemplateKind).find(([, v]) => v === kind)![0];
}
