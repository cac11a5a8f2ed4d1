/**
 * The contract between the constructs in `src/` and the rotation handlers in `lambda/`.
 *
 * Both sides import this file, so a renamed variable or a changed secret shape fails the compile on both sides.
 * It must stay free of imports: the handlers bundle it and the jsii surface compiles it.
 */

/** Bundled function ids; each is `lambda/<id>.ts`, bundled to `assets/<id>/index.js`. */
export const FUNCTION_IDS = {
  POSTGRES_SINGLE_USER: 'postgres-single-user',
  POSTGRES_MULTI_USER: 'postgres-multi-user',
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
} as const;

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
} as const;

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

/** Defaults the handler applies when the secret omits a field. */
export const POSTGRES_DEFAULTS = {
  port: 5432,
  dbname: 'postgres',
  /** PostgreSQL identifiers are truncated at 63 bytes (NAMEDATALEN - 1). */
  maxUsernameBytes: 63,
  cloneSuffix: '_clone',
} as const;

/** Characters excluded from generated passwords by default: they break connection strings or shells. */
export const DEFAULT_EXCLUDE_CHARACTERS = {
  common: '/@"\'\\',
  postgres: '/@"\'\\:',
} as const;

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
