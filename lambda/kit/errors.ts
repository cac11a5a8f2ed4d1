/**
 * Named rotation errors. Each has a stable `code` (what alarms and log queries match on) and a `cause` that is
 * already redacted: only the original error's class name and its machine code (SQLSTATE, SDK error name, errno),
 * never its message, which may embed connection strings or values.
 */

/** Stable error codes, one per failure a platform team may need to tell apart. */
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
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES];

/** What survives of an underlying error: its class name and machine code. */
export class RedactedCause extends Error {
  public readonly code?: string;
  constructor(original: unknown) {
    const name = errorName(original);
    const code = errorCode(original);
    super(code ? `${name} (${code})` : name);
    this.name = 'RedactedCause';
    this.code = code;
  }
}

/** Base class of every error a rotation handler throws. Messages are fixed text plus non-secret identifiers. */
export class RotationError extends Error {
  public readonly code: ErrorCode;
  public readonly cause?: RedactedCause;

  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(message);
    this.name = 'RotationError';
    this.code = code;
    if (cause !== undefined) this.cause = cause instanceof RedactedCause ? cause : new RedactedCause(cause);
  }
}

export class InvalidSecretValueError extends RotationError {
  constructor(which: string, problem: string) {
    super(ERROR_CODES.INVALID_SECRET_VALUE, `The ${which} secret value is invalid: ${problem}`);
    this.name = 'InvalidSecretValueError';
  }
}

export class ConfusedDeputyError extends RotationError {
  constructor(problem: string) {
    super(ERROR_CODES.CONFUSED_DEPUTY, `Refusing to rotate: ${problem}`);
    this.name = 'ConfusedDeputyError';
  }
}

export class LoginFailedError extends RotationError {
  constructor(message: string, cause?: unknown, code: ErrorCode = ERROR_CODES.LOGIN_FAILED) {
    super(code, message, cause);
    this.name = 'LoginFailedError';
  }
}

export class TimeoutError extends RotationError {
  constructor(what: string, ms: number) {
    super(ERROR_CODES.TIMEOUT, `${what} did not complete within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Class name of any thrown value, without reading its message. */
export function errorName(err: unknown): string {
  if (err instanceof Error) return err.name || err.constructor?.name || 'Error';
  return typeof err;
}

/** A machine-readable code of an error (SQLSTATE, errno code, SDK error name), never its message. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
  return undefined;
}

/** Turns anything thrown into a RotationError with a redacted cause. */
export function toRotationError(err: unknown): RotationError {
  if (err instanceof RotationError) return err;
  return new RotationError(ERROR_CODES.INTERNAL, 'Unexpected failure', err);
}
