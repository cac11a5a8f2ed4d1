/**
 * The contract between the constructs in `src/` and the rotation handlers in `lambda/`.
 *
 * Both sides import this file, so a renamed variable or a changed secret shape fails the compile on both sides.
 * It must stay free of imports: the handlers bundle it and the jsii surface compiles it.
 */

/** Bundled function ids; each is `lambda/handlers/<id>.ts`, bundled to `assets/<id>/index.js`. */
export const FUNCTION_IDS = {
  POSTGRES_SINGLE_USER: 'postgres-single-user',
  POSTGRES_MULTI_USER: 'postgres-multi-user',
  MYSQL_SINGLE_USER: 'mysql-single-user',
  MYSQL_MULTI_USER: 'mysql-multi-user',
  MARIADB_SINGLE_USER: 'mariadb-single-user',
  MARIADB_MULTI_USER: 'mariadb-multi-user',
  REDSHIFT_SINGLE_USER: 'redshift-single-user',
  REDSHIFT_MULTI_USER: 'redshift-multi-user',
  DOCUMENTDB_SINGLE_USER: 'documentdb-single-user',
  DOCUMENTDB_MULTI_USER: 'documentdb-multi-user',
} as const;

export type FunctionId = typeof FUNCTION_IDS[keyof typeof FUNCTION_IDS];

/**
 * Bundled OAuth 2.0 rotators; like the database ones each is `lambda/handlers/<id>.ts`, bundled to `assets/<id>/index.js`
 * (`RotationEngine.<KEY>`). They rotate OAuth secrets ({@link OAuthSecretContract}), not database secrets, so they have
 * no entry in {@link BUNDLED_ENGINES}.
 */
export const OAUTH_FUNCTION_IDS = {
  /** One refresh exchange per rotation, in createSecret, its result stored at once. */
  OAUTH_REFRESH_TOKEN: 'oauth-refresh-token',
  /** A new client secret registered at the identity provider; the previous one retired after an overlap. */
  OAUTH_CLIENT_SECRET: 'oauth-client-secret',
} as const;

export type OAuthFunctionId = typeof OAUTH_FUNCTION_IDS[keyof typeof OAUTH_FUNCTION_IDS];

/** Every bundled rotation function id: database engines and OAuth rotators. */
export type RotatorFunctionId = FunctionId | OAuthFunctionId;

/** Every bundled rotation function id, database engines first. */
export function rotatorFunctionIds(): RotatorFunctionId[] {
  return [...Object.values(FUNCTION_IDS), ...Object.values(OAUTH_FUNCTION_IDS)];
}

/** Environment variables the constructs set on a rotation function and the handlers read. */
export const ENV = {
  /** JSON of {@link PasswordPolicyContract}; drives GetRandomPassword for every rotation. */
  PASSWORD_POLICY: 'ROTATION_PASSWORD_POLICY',
  /** Path of a PEM bundle of trusted CAs for database TLS; unset means the runtime's trust store. */
  TLS_CA_BUNDLE: 'ROTATION_TLS_CA_BUNDLE',
  /** SQL run by testSecret with the pending credential; unset means `SELECT 1`. */
  PROBE_QUERY: 'ROTATION_PROBE_QUERY',
  /** Upper bound for one network call (connect, query, API call), in milliseconds. */
  CALL_TIMEOUT_MS: 'ROTATION_CALL_TIMEOUT_MS',
  /**
   * Longest user name the server accepts, for a server that allows another length than its engine and version imply
   * (e.g. a MySQL 5.6 fork beyond 16 characters); counted in the engine's unit. Unset means the engine's own limit.
   */
  USERNAME_LENGTH_LIMIT: 'ROTATION_USERNAME_LENGTH_LIMIT',
} as const;

/** Environment variables of the OAuth rotators (besides {@link ENV.CALL_TIMEOUT_MS} and {@link ENV.TLS_CA_BUNDLE}). */
export const OAUTH_ENV = {
  /**
   * Client secrets: seconds the previous client secret stays valid after finishSecret made the new one current (0: it is
   * retired at once). Shorter than the rotation period, so a secret is retired before the next rotation starts.
   */
  OVERLAP_SECONDS: 'ROTATION_OAUTH_OVERLAP_SECONDS',
  /** Client secrets: JSON of {@link ClientSecretAdapterContract}, how the identity provider registers and retires secrets. */
  CLIENT_SECRET_ADAPTER: 'ROTATION_OAUTH_CLIENT_SECRET_ADAPTER',
  /**
   * Refresh tokens: an https URL testSecret sends a GET to with the new access token as a Bearer token (any 2xx proves
   * it). Unset: the OpenID Connect `userinfo_endpoint` from discovery when the secret names an `issuer`.
   */
  PROBE_URL: 'ROTATION_OAUTH_PROBE_URL',
  /** `true` lets the handler reach `http://` endpoints on a loopback address (tests only); anything else means https only. */
  ALLOW_LOOPBACK_HTTP: 'ROTATION_OAUTH_ALLOW_LOOPBACK_HTTP',
} as const;

/**
 * The tag an OAuth rotator writes on the secret before an exchange it cannot repeat (a refresh-token exchange, a client
 * secret the identity provider issues): `<rotation token> <nonce> <epoch ms>`. A retry that finds its rotation token here
 * but no stored pending value knows the exchange happened and its result was lost.
 */
export const OAUTH_EXCHANGE_TAG = 'secrets-platform:oauth-exchange';

/**
 * How the client-secret rotator reaches the identity provider (serialized into {@link OAUTH_ENV.CLIENT_SECRET_ADAPTER}).
 *
 * - `rfc7592`: OAuth 2.0 Dynamic Client Registration Management. The admin secret holds `registration_client_uri` and
 *   `registration_access_token`; the provider issues the new secret in its answer to a PUT of the client's metadata and
 *   replaces the old one at once (no overlap: the protocol knows one secret per client).
 * - `http`: a provider API that adds a secret the handler generated beside the current one and retires a secret at a
 *   given time. URLs and JSON bodies are templates (see {@link HttpAdapterRequestContract}).
 */
export type ClientSecretAdapterContract =
  | { readonly type: 'rfc7592' }
  | {
    readonly type: 'http';
    /** Adds `{client_secret}` to the client; the current secret stays valid. Must succeed again for a secret already added. */
    readonly add: HttpAdapterRequestContract;
    /** Makes `{client_secret}` stop working at `{not_after}` (RFC 3339) or `{not_after_epoch}`; a secret already gone is success. */
    readonly retire: HttpAdapterRequestContract;
    /**
     * How the admin credential authenticates: `bearer` sends the admin secret's `token`, `basic` its `username` and
     * `password` (each form-urlencoded, then Base64).
     */
    readonly auth: 'bearer' | 'basic';
  };

/**
 * One request of the `http` client-secret adapter. In `url` and in every string of `body`, `{client_id}`, `{client_secret}`,
 * `{not_after}` and `{not_after_epoch}` are replaced (percent-encoded in the URL, as JSON strings in the body).
 */
export interface HttpAdapterRequestContract {
  readonly method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** An https URL template. */
  readonly url: string;
  /** A JSON object template; absent: no body. */
  readonly body?: Record<string, string>;
}

/**
 * What {@link ENV.PROBE_QUERY} may be on MySQL, Aurora MySQL and MariaDB, which commit DDL, account statements and
 * `SET GLOBAL` implicitly even inside a read-only transaction: a query (SELECT, WITH, SHOW, DESCRIBE or EXPLAIN) with no
 * comment (MySQL runs the text of a `/*! ... *\/` comment), no `;` and no `INTO OUTFILE` / `DUMPFILE`. Checked at
 * synth by `RotationFunction` and again by the handlers before the probe runs.
 */
export function isQueryOnlyProbe(sql: string): boolean {
  return /^\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN)\b/i.test(sql) && !/\/\*|#|--|;|\b(OUTFILE|DUMPFILE)\b/i.test(sql);
}

/** The engine families whose probe must be a query ({@link isQueryOnlyProbe}). */
export const QUERY_ONLY_PROBE_FAMILIES: readonly string[] = ['mysql', 'mariadb'];

/**
 * What {@link ENV.PROBE_QUERY} may be on DocumentDB, where the probe is not a query but the name of one read-only
 * command, run with the pending credential on the authentication database (`ping` when unset). Checked at synth by
 * `RotationFunction` and again by the handler before the probe runs (surrounding spaces are ignored).
 */
export const DOCUMENTDB_PROBE_COMMANDS: readonly string[] = ['ping', 'connectionStatus', 'listCollections', 'dbStats', 'buildInfo'];

/** The password policy, serialized into {@link ENV.PASSWORD_POLICY}. Field names follow GetRandomPassword. */
export interface PasswordPolicyContract {
  readonly passwordLength: number;
  readonly excludeCharacters: string;
  readonly excludePunctuation: boolean;
  readonly excludeUppercase: boolean;
  readonly excludeLowercase: boolean;
  readonly excludeNumbers: boolean;
  readonly includeSpace: boolean;
  readonly requireEachIncludedType: boolean;
}

/** Engine values accepted in a database secret's `engine` field, per rotation engine family. */
export const SECRET_ENGINES = {
  postgres: ['postgres', 'aurora-postgresql'],
  mysql: ['mysql', 'aurora-mysql'],
  mariadb: ['mariadb'],
  redshift: ['redshift'],
  documentdb: ['mongo', 'docdb'],
} as const;

/** A database engine family: a key of {@link SECRET_ENGINES}. */
export type DatabaseEngineFamily = keyof typeof SECRET_ENGINES;

/** How a length limit of a database identifier is counted. */
export type IdentifierLengthUnit = 'bytes' | 'characters';

/** What a database secret of an engine family defaults to and what its fields may hold. */
export interface DatabaseEngineDefaults {
  /** TCP port used when the secret has none. */
  readonly port: number;
  /** Database used when the secret has none (undefined: the engine needs none). */
  readonly dbname?: string;
  /** Longest user name the engine accepts, in {@link usernameLengthUnit}. */
  readonly maxUsernameLength: number;
  readonly usernameLengthUnit: IdentifierLengthUnit;
  /** Longest database name the engine accepts, in {@link dbnameLengthUnit}. */
  readonly maxDbnameLength: number;
  readonly dbnameLengthUnit: IdentifierLengthUnit;
  /** Characters generated passwords must never contain for this engine. */
  readonly excludeCharacters: string;
  /** Longest password the engine accepts. */
  readonly maxPasswordLength: number;
}

/** TLS modes a database secret may carry in `tls`. Anything other than `disabled` verifies certificate and host name. */
export const TLS_MODES = {
  VERIFY_FULL: 'verify-full',
  DISABLED: 'disabled',
} as const;

export type TlsMode = typeof TLS_MODES[keyof typeof TLS_MODES];

/** The JSON of a database secret (the shape RDS and Secrets Manager's own rotation functions use). */
export interface DatabaseSecretContract {
  readonly engine: string;
  readonly host: string;
  readonly port?: number;
  readonly username: string;
  readonly password: string;
  readonly dbname?: string;
  /** ARN of the secret holding the credential used to manage the alternate user (multi-user only). */
  readonly masterarn?: string;
  /** `verify-full` (default) or `disabled`; plaintext is only ever used on this explicit opt-in. */
  readonly tls?: TlsMode;
}

/** What alternating-user schemes append to a user name to name its alternate (`app` <-> `app_clone`). */
export const CLONE_SUFFIX = '_clone';

/** Characters excluded from generated passwords by default: they break connection strings or shells. */
export const DEFAULT_EXCLUDE_CHARACTERS = {
  common: '/@"\'\\',
  postgres: '/@"\'\\:',
  redshift: '/@"\'\\:',
} as const;

/**
 * Defaults and limits per engine family (the `engine` values of each family are in {@link SECRET_ENGINES}).
 *
 * User name limits: PostgreSQL 63 bytes (NAMEDATALEN - 1); MySQL 5.7+ 32 characters; MariaDB 80 characters;
 * Redshift identifiers 127 bytes; DocumentDB user names 63 characters.
 */
export const DATABASE_ENGINE_DEFAULTS: { readonly [family in DatabaseEngineFamily]: DatabaseEngineDefaults } = {
  postgres: {
    port: 5432,
    dbname: 'postgres',
    maxUsernameLength: 63,
    usernameLengthUnit: 'bytes',
    maxDbnameLength: 63,
    dbnameLengthUnit: 'bytes',
    excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.postgres,
    maxPasswordLength: 4096,
  },
  mysql: {
    port: 3306,
    maxUsernameLength: 32,
    usernameLengthUnit: 'characters',
    maxDbnameLength: 64,
    dbnameLengthUnit: 'characters',
    excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.common,
    maxPasswordLength: 4096,
  },
  mariadb: {
    port: 3306,
    maxUsernameLength: 80,
    usernameLengthUnit: 'characters',
    maxDbnameLength: 64,
    dbnameLengthUnit: 'characters',
    excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.common,
    maxPasswordLength: 4096,
  },
  redshift: {
    port: 5439,
    dbname: 'dev',
    maxUsernameLength: 127,
    usernameLengthUnit: 'bytes',
    maxDbnameLength: 127,
    dbnameLengthUnit: 'bytes',
    excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.redshift,
    maxPasswordLength: 64,
  },
  documentdb: {
    port: 27017,
    dbname: 'admin',
    maxUsernameLength: 63,
    usernameLengthUnit: 'characters',
    maxDbnameLength: 63,
    dbnameLengthUnit: 'characters',
    excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.common,
    maxPasswordLength: 4096,
  },
};

/** The engine family of a secret's `engine` value, or undefined when no family accepts it. */
export function engineFamilyOf(engine: string): DatabaseEngineFamily | undefined {
  const families = Object.keys(SECRET_ENGINES) as DatabaseEngineFamily[];
  return families.find((family) => (SECRET_ENGINES[family] as readonly string[]).includes(engine));
}

/** Default generated password length. */
export const DEFAULT_PASSWORD_LENGTH = 32;

/** The default policy with an engine's excluded characters: what handlers use when no policy is configured. */
export function defaultPasswordPolicy(excludeCharacters: string): PasswordPolicyContract {
  return {
    passwordLength: DEFAULT_PASSWORD_LENGTH,
    excludeCharacters,
    excludePunctuation: false,
    excludeUppercase: false,
    excludeLowercase: false,
    excludeNumbers: false,
    includeSpace: false,
    requireEachIncludedType: true,
  };
}

/** How a bundled function rotates a secret. */
export const ROTATION_SCHEMES = {
  /** The user in the secret changes its own password. */
  SINGLE_USER: 'single-user',
  /** A master secret (`masterarn`) alternates two users: the original and its clone (name + {@link CLONE_SUFFIX}). */
  MULTI_USER: 'multi-user',
} as const;

export type RotationScheme = typeof ROTATION_SCHEMES[keyof typeof ROTATION_SCHEMES];

/** What the registry states about a bundled engine; everything else follows from its family. */
export interface BundledEngineRegistration {
  readonly family: DatabaseEngineFamily;
  readonly scheme: RotationScheme;
}

/**
 * The registry of bundled rotation engines, one entry per function id (= bundle id: `lambda/handlers/<id>.ts`,
 * `assets/<id>/index.js`, `RotationEngine.<KEY of FUNCTION_IDS>`). Typed over {@link FunctionId}, so a function id
 * without an entry fails the compile. Facts of a family (port, database, limits, password defaults) are stated once in
 * {@link DATABASE_ENGINE_DEFAULTS} and reached through `family`.
 */
export const BUNDLED_ENGINES = {
  [FUNCTION_IDS.POSTGRES_SINGLE_USER]: { family: 'postgres', scheme: ROTATION_SCHEMES.SINGLE_USER },
  [FUNCTION_IDS.POSTGRES_MULTI_USER]: { family: 'postgres', scheme: ROTATION_SCHEMES.MULTI_USER },
  [FUNCTION_IDS.MYSQL_SINGLE_USER]: { family: 'mysql', scheme: ROTATION_SCHEMES.SINGLE_USER },
  [FUNCTION_IDS.MYSQL_MULTI_USER]: { family: 'mysql', scheme: ROTATION_SCHEMES.MULTI_USER },
  [FUNCTION_IDS.MARIADB_SINGLE_USER]: { family: 'mariadb', scheme: ROTATION_SCHEMES.SINGLE_USER },
  [FUNCTION_IDS.MARIADB_MULTI_USER]: { family: 'mariadb', scheme: ROTATION_SCHEMES.MULTI_USER },
  [FUNCTION_IDS.REDSHIFT_SINGLE_USER]: { family: 'redshift', scheme: ROTATION_SCHEMES.SINGLE_USER },
  [FUNCTION_IDS.REDSHIFT_MULTI_USER]: { family: 'redshift', scheme: ROTATION_SCHEMES.MULTI_USER },
  [FUNCTION_IDS.DOCUMENTDB_SINGLE_USER]: { family: 'documentdb', scheme: ROTATION_SCHEMES.SINGLE_USER },
  [FUNCTION_IDS.DOCUMENTDB_MULTI_USER]: { family: 'documentdb', scheme: ROTATION_SCHEMES.MULTI_USER },
} as const satisfies { readonly [id in FunctionId]: BundledEngineRegistration };

/** The engine families that have a bundled engine (each needs its construct-side family file). */
export type BundledEngineFamily = typeof BUNDLED_ENGINES[FunctionId]['family'];

/** Everything about one bundled engine: its registration resolved against its family. */
export interface BundledEngineSpec {
  /** The function id, which is also the bundle id. */
  readonly id: FunctionId;
  readonly family: BundledEngineFamily;
  readonly scheme: RotationScheme;
  /** Values of the secret's `engine` field the function rotates. */
  readonly secretEngines: readonly string[];
  readonly defaultPort: number;
  /** Database used when the secret has none (undefined: the engine needs none). */
  readonly defaultDbname?: string;
  readonly maxUsernameLength: number;
  readonly usernameLengthUnit: IdentifierLengthUnit;
  /** What the clone's name appends to the user name (alternating users only). */
  readonly cloneSuffix?: string;
  /** The password policy used when the function's environment names none. */
  readonly passwordPolicy: PasswordPolicyContract;
  readonly maxPasswordLength: number;
}

/** The registry entry of a bundled engine, resolved against its family. */
export function bundledEngineSpec(id: FunctionId): BundledEngineSpec {
  const { family, scheme } = BUNDLED_ENGINES[id];
  const defaults = DATABASE_ENGINE_DEFAULTS[family];
  return {
    id,
    family,
    scheme,
    secretEngines: SECRET_ENGINES[family],
    defaultPort: defaults.port,
    defaultDbname: defaults.dbname,
    maxUsernameLength: defaults.maxUsernameLength,
    usernameLengthUnit: defaults.usernameLengthUnit,
    cloneSuffix: scheme === ROTATION_SCHEMES.MULTI_USER ? CLONE_SUFFIX : undefined,
    passwordPolicy: defaultPasswordPolicy(defaults.excludeCharacters),
    maxPasswordLength: defaults.maxPasswordLength,
  };
}

/**
 * The JSON field names of an OAuth 2.0 secret (client credentials or refresh token), shared by the secret templates
 * and the OAuth rotation handlers.
 */
export const OAUTH_SECRET_FIELDS = {
  CLIENT_ID: 'client_id',
  CLIENT_SECRET: 'client_secret',
  TOKEN_ENDPOINT: 'token_endpoint',
  ISSUER: 'issuer',
  AUTH_METHOD: 'auth_method',
  SCOPE: 'scope',
  AUDIENCE: 'audience',
  REFRESH_TOKEN: 'refresh_token',
  ACCESS_TOKEN: 'access_token',
  EXPIRES_AT: 'expires_at',
  ADMIN_SECRET_ARN: 'adminsecretarn',
  /** `private_key_jwt`: the client's private key, PKCS #8 PEM (RSA: RS256; EC P-256: ES256). */
  PRIVATE_KEY: 'private_key',
  /** `private_key_jwt`: the `kid` of the key registered at the provider; absent: no `kid` header. */
  KEY_ID: 'key_id',
  /** RFC 7592 providers that rotate the registration access token: the newest one, kept with the client secret. */
  REGISTRATION_ACCESS_TOKEN: 'registration_access_token',
} as const;

/** How an OAuth client authenticates at the token endpoint (`auth_method`; RFC 6749 section 2.3, OIDC Core 9). */
export const OAUTH_AUTH_METHODS = {
  CLIENT_SECRET_BASIC: 'client_secret_basic',
  CLIENT_SECRET_POST: 'client_secret_post',
  /** A JWT signed with the secret's `private_key` (RFC 7523, OIDC Core 9). */
  PRIVATE_KEY_JWT: 'private_key_jwt',
  NONE: 'none',
} as const;

export type OAuthAuthMethod = typeof OAUTH_AUTH_METHODS[keyof typeof OAUTH_AUTH_METHODS];

/** The JSON of an OAuth secret. Exactly one of `token_endpoint` and `issuer` (OIDC discovery) is present. */
export interface OAuthSecretContract {
  readonly client_id: string;
  /** Confidential clients; absent for public clients that only hold a refresh token. */
  readonly client_secret?: string;
  readonly token_endpoint?: string;
  readonly issuer?: string;
  readonly auth_method?: OAuthAuthMethod;
  /** Space-separated scopes requested with every token request. */
  readonly scope?: string;
  readonly audience?: string;
  /** Refresh-token secrets: the current refresh token, and what the last exchange returned. */
  readonly refresh_token?: string;
  readonly access_token?: string;
  /** Seconds since the epoch when `access_token` expires. */
  readonly expires_at?: number;
  /** ARN of a secret with an admin credential the identity provider needs to register a new client secret. */
  readonly adminsecretarn?: string;
  /** `private_key_jwt` only: the client's PKCS #8 PEM private key and the `kid` it is registered under. */
  readonly private_key?: string;
  readonly key_id?: string;
}

/** The largest secret value Secrets Manager stores (SecretString or SecretBinary), in bytes. */
export const MAX_SECRET_VALUE_BYTES = 65_536;

/**
 * Stable error codes, one per failure a platform team may need to tell apart. The handlers throw them (`lambda/kit/errors.ts`),
 * their failure metrics carry them as the `ErrorCode` dimension, and the monitor alarms on them.
 */
export const ERROR_CODES = {
  INVALID_EVENT: 'INVALID_EVENT',
  INVALID_CONFIGURATION: 'INVALID_CONFIGURATION',
  ROTATION_DISABLED: 'ROTATION_DISABLED',
  SECRET_MARKED_FOR_DELETION: 'SECRET_MARKED_FOR_DELETION',
  UNKNOWN_VERSION: 'UNKNOWN_VERSION',
  NOT_PENDING: 'NOT_PENDING',
  NO_CURRENT_VALUE: 'NO_CURRENT_VALUE',
  INVALID_SECRET_VALUE: 'INVALID_SECRET_VALUE',
  CONFUSED_DEPUTY: 'CONFUSED_DEPUTY',
  LOGIN_FAILED: 'LOGIN_FAILED',
  MASTER_LOGIN_FAILED: 'MASTER_LOGIN_FAILED',
  MASTER_NOT_RESOLVED: 'MASTER_NOT_RESOLVED',
  MASTER_NOT_PERMITTED: 'MASTER_NOT_PERMITTED',
  PENDING_TEST_FAILED: 'PENDING_TEST_FAILED',
  PRIVILEGES_OUT_OF_SYNC: 'PRIVILEGES_OUT_OF_SYNC',
  /** A user name with several accounts (MySQL/MariaDB `user@host`): which one to rotate would be a guess. */
  AMBIGUOUS_ACCOUNT: 'AMBIGUOUS_ACCOUNT',
  /** An account whose password the handler cannot set (e.g. an authentication plugin without a password). */
  UNSUPPORTED_ACCOUNT: 'UNSUPPORTED_ACCOUNT',
  TLS_FAILED: 'TLS_FAILED',
  DATABASE_ERROR: 'DATABASE_ERROR',
  SECRETS_MANAGER_ERROR: 'SECRETS_MANAGER_ERROR',
  ACCESS_DENIED: 'ACCESS_DENIED',
  TIMEOUT: 'TIMEOUT',
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** OAuth: the provider refused the refresh token (`invalid_grant`): the chain is broken. */
  OAUTH_INVALID_GRANT: 'OAUTH_INVALID_GRANT',
  /** OAuth: an exchange that cannot be repeated ran, but its result was never stored. */
  OAUTH_EXCHANGE_INTERRUPTED: 'OAUTH_EXCHANGE_INTERRUPTED',
  /** OAuth: the token endpoint, discovery or the provider's admin API failed or answered something unusable. */
  OAUTH_PROVIDER_ERROR: 'OAUTH_PROVIDER_ERROR',
  /** OAuth: the previous client secret could not be retired after the new one became current. */
  OAUTH_SECRET_NOT_RETIRED: 'OAUTH_SECRET_NOT_RETIRED',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES];

/** What an operator reads when a code fires: what happened and what to do. Alarm descriptions and the README use it. */
export interface ErrorCodeGuide {
  readonly meaning: string;
  readonly action: string;
}

/** The operator's guide to every error code (the README's operations table is checked against it). */
export const ERROR_CODE_GUIDE: { readonly [code in ErrorCode]: ErrorCodeGuide } = {
  INVALID_EVENT: {
    meaning: 'The function was invoked with something other than a Secrets Manager rotation event; nothing was read.',
    action: 'Find who invokes the function (its resource policy admits only Secrets Manager of this account) and stop them.',
  },
  INVALID_CONFIGURATION: {
    meaning: 'An environment variable of the rotation function is malformed; the message names it.',
    action: 'Fix the variable through the construct props (or your own function\'s environment) and redeploy.',
  },
  ROTATION_DISABLED: {
    meaning: 'The event is for a secret whose rotation is turned off; nothing was changed.',
    action: 'None if rotation was turned off on purpose; otherwise turn it on again (RotateSecret).',
  },
  SECRET_MARKED_FOR_DELETION: {
    meaning: 'DeleteSecret was called and the recovery window is running; nothing changed.',
    action: 'Restore the secret (RestoreSecret) if it is still in use, or let the deletion finish.',
  },
  UNKNOWN_VERSION: {
    meaning: 'The event names a version the secret does not have (an abandoned or foreign rotation); nothing changed.',
    action: 'None for a single event; if it repeats, cancel the rotation and rotate again (RotateSecret).',
  },
  NOT_PENDING: {
    meaning: 'The version of the event does not carry AWSPENDING (also when AWSPENDING moves during the step): another rotation or a PutSecretValue replaced it; nothing was changed.',
    action: 'None for a single event; if it repeats, check for writers racing the rotation and rotate again.',
  },
  NO_CURRENT_VALUE: {
    meaning: 'The secret has no AWSCURRENT value to rotate from.',
    action: 'Put a valid value (PutSecretValue) with the connection fields, then rotate.',
  },
  INVALID_SECRET_VALUE: {
    meaning: 'A secret value is not the JSON the engine needs; the message names the secret and the field.',
    action: 'Correct the named field in the AWSCURRENT value (or the master secret) and rotate again.',
  },
  CONFUSED_DEPUTY: {
    meaning: 'Pending, previous or master name another user, host, port, database or TLS setting; a current <x>_clone is not the alternate of <x>; or an existing clone holds privileges the handler never grants. Refused before any change, in every step that logs in.',
    action: 'Treat as a possible attack: find who wrote the value (CloudTrail PutSecretValue/UpdateSecret) before rotating again.',
  },
  LOGIN_FAILED: {
    meaning: 'Neither the current nor the previous credential logs in to the database.',
    action: 'Someone changed the password outside rotation: set the database password to the AWSCURRENT value (or put the working one), then rotate.',
  },
  MASTER_LOGIN_FAILED: {
    meaning: 'The master credential named in masterarn does not log in.',
    action: 'Check the master secret (rotated by RDS or by another function?) and the master user on the database, then rotate.',
  },
  MASTER_NOT_RESOLVED: {
    meaning: 'The master secret has no value or is not a JSON object with username and password, or (service-managed) its database cannot be found through its tag and the RDS, Redshift or Redshift Serverless API, or it is managed by a service the engine does not accept.',
    action: 'Check masterarn, the master secret\'s value and tags, and the function\'s access to it and to the owning service\'s API.',
  },
  MASTER_NOT_PERMITTED: {
    meaning: 'The master may not grant the user to the clone (PostgreSQL 16+ without ADMIN OPTION; MySQL/MariaDB: a privilege of the original it does not hold WITH GRANT OPTION, or CREATE USER); no clone was left with a working password and part of the privileges.',
    action: 'Grant the master what the README lists for its engine (ADMIN OPTION, WITH GRANT OPTION, CREATE USER), then rotate.',
  },
  PENDING_TEST_FAILED: {
    meaning: 'The new credential was set but does not work; AWSCURRENT stays on the old value.',
    action: 'Check the probe query and the user\'s grants, then rotate again; applications keep working on AWSCURRENT.',
  },
  PRIVILEGES_OUT_OF_SYNC: {
    meaning: 'The clone lacks privileges the original user holds; AWSCURRENT stays on the old value.',
    action: 'Grant the clone what the original holds (or revoke from both), then rotate again.',
  },
  AMBIGUOUS_ACCOUNT: {
    meaning: 'MySQL/MariaDB: the user name has accounts on several hosts (app@\'10.0.%\' and app@\'%\'), so which to rotate would be a guess; nothing was changed.',
    action: 'Drop the extra accounts or rotate each through its own secret with a distinct user name.',
  },
  UNSUPPORTED_ACCOUNT: {
    meaning: 'MySQL/MariaDB: the account authenticates with a plugin whose password the handler cannot set (for example unix_socket, or several plugins at once).',
    action: 'Switch the account to a password plugin (mysql_native_password, caching_sha2_password, ed25519) or stop rotating it.',
  },
  TLS_FAILED: {
    meaning: 'The database certificate or host name was not verified, or the server offers no TLS; never retried in plaintext.',
    action: 'Give the function the server\'s CA bundle (tlsCaBundle) or fix the host name in the secret; use tls: disabled only on purpose.',
  },
  DATABASE_ERROR: {
    meaning: 'The database refused a statement; the cause keeps only the error class and SQLSTATE or errno.',
    action: 'Look up the code in the cause in the database\'s manual; check the user\'s grants and the server\'s state.',
  },
  SECRETS_MANAGER_ERROR: {
    meaning: 'A Secrets Manager call failed; the cause keeps the SDK error name.',
    action: 'Check the service\'s health, the VPC endpoint and the function\'s network path, then rotate again.',
  },
  ACCESS_DENIED: {
    meaning: 'Secrets Manager or KMS refused the function\'s role.',
    action: 'Check the secret\'s resource policy, the KMS key policy and the function\'s policy (AllowRotationLambdaArn condition).',
  },
  TIMEOUT: {
    meaning: 'A network call or the probe query exceeded its bound.',
    action: 'Check the route to the database (security groups, endpoint, DNS) and the probe query\'s cost.',
  },
  DEADLINE_EXCEEDED: {
    meaning: 'The invocation ran out of time before the step finished.',
    action: 'Raise the function timeout or find the slow call; the next invocation resumes the step.',
  },
  OAUTH_INVALID_GRANT: {
    meaning: 'The identity provider refused the stored refresh token (invalid_grant): it expired, was revoked, or was used twice and the provider revoked the whole chain. AWSCURRENT is unchanged but no longer works.',
    action: 'Re-authorize the client (a new authorization-code grant), put the new refresh token as AWSCURRENT, then rotate; find who else used the token if it was replayed.',
  },
  OAUTH_EXCHANGE_INTERRUPTED: {
    meaning: 'An earlier attempt of this rotation made a refresh exchange (or had the provider issue a client secret) but died before storing the result; exchanging again would use a consumed token. Nothing was sent.',
    action: 'Re-authorize the client (or issue a new client secret at the provider), put the new value as AWSCURRENT (this cancels the rotation), then rotate.',
  },
  OAUTH_PROVIDER_ERROR: {
    meaning: 'The token endpoint, OpenID discovery or the provider\'s client administration API failed or answered something unusable; the cause keeps the HTTP status or OAuth error code only.',
    action: 'Check the provider\'s status, the endpoint URLs in the secret and the adapter settings, and the function\'s route to the provider.',
  },
  OAUTH_SECRET_NOT_RETIRED: {
    meaning: 'The new client secret is current, but the previous one could not be retired at the provider; it stays valid past its overlap.',
    action: 'Retire the previous client secret at the provider by hand (or fix the admin credential); the next rotation retries it.',
  },
  INTERNAL: {
    meaning: 'A failure the handler did not expect; the cause keeps only the error class.',
    action: 'Read the step log line and report it with the cause; nothing secret is in it.',
  },
};

/**
 * Metrics the handlers write in CloudWatch Embedded Metric Format (one JSON line on stdout, which Lambda sends to
 * CloudWatch Logs, which extracts the metrics). Dimensions hold only the engine name and the error code: never a secret
 * ARN or a user name (cardinality and leakage).
 */
export const ROTATION_METRICS = {
  NAMESPACE: 'SecretsPlatform/Rotation',
  /** Count, 1 per failed step; dimension sets [Engine, ErrorCode], [Engine], [ErrorCode] and none. */
  STEP_FAILED: 'RotationStepFailed',
  /** Count, 1 per finishSecret that made the pending version current; dimension sets [Engine] and none. */
  ROTATION_FINISHED: 'RotationFinished',
  /** Overdue check: rotation-enabled secrets past due by more than the grace period; dimension sets [Engine] and none. */
  OVERDUE_SECRETS: 'OverdueSecrets',
  /** Overdue check: rotation-enabled secrets it looked at; dimension sets [Engine] and none. */
  ROTATION_ENABLED_SECRETS: 'RotationEnabledSecrets',
  /** Overdue check: seconds since the oldest last rotation (or creation, if never rotated); no dimension. */
  OLDEST_ROTATION_AGE: 'OldestRotationAge',
  DIMENSION_ENGINE: 'Engine',
  DIMENSION_ERROR_CODE: 'ErrorCode',
  /** The Engine value the overdue check uses for secrets rotated by a function it was not told about. */
  UNKNOWN_ENGINE: 'unknown',
  /**
   * Overdue check: rotation-enabled secrets whose schedule it cannot evaluate (no rules, or an expression form the
   * Secrets Manager guide does not document), so they are never counted as on time; dimension sets [Engine] and none.
   */
  UNKNOWN_SCHEDULE_SECRETS: 'UnknownScheduleSecrets',
} as const;

/** Bundled monitoring functions; like the rotators each is `lambda/handlers/<id>.ts`, bundled to `assets/<id>/index.js`. */
export const MONITORING_FUNCTION_IDS = {
  OVERDUE_CHECK: 'rotation-overdue-check',
} as const;

/** Environment variables the monitor sets on the overdue check. */
export const OVERDUE_ENV = {
  /** Seconds a secret may be past its due time (end of its rotation window) before it counts as overdue. */
  GRACE_PERIOD_SECONDS: 'OVERDUE_GRACE_PERIOD_SECONDS',
  /** JSON object: rotation function ARN (unqualified) to engine name, for the Engine dimension. */
  ENGINE_BY_FUNCTION: 'OVERDUE_ENGINE_BY_FUNCTION',
} as const;
