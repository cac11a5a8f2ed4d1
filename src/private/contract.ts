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
} as const;

export type FunctionId = typeof FUNCTION_IDS[keyof typeof FUNCTION_IDS];

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
} as const;

/** How an OAuth client authenticates at the token endpoint (`auth_method`; RFC 6749 section 2.3, OIDC Core 9). */
export const OAUTH_AUTH_METHODS = {
  CLIENT_SECRET_BASIC: 'client_secret_basic',
  CLIENT_SECRET_POST: 'client_secret_post',
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
}

/** The largest secret value Secrets Manager stores (SecretString or SecretBinary), in bytes. */
export const MAX_SECRET_VALUE_BYTES = 65_536;
