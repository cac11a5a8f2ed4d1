/**
 * Named rotation errors. Each has a stable `code` (what alarms and log queries match on) and a `cause` that is
 * already redacted: only the original error's class name and its machine code (SQLSTATE, SDK error name, errno),
 * never its message, which may embed connection strings or values.
 */

import { ERROR_CODES, ErrorCode } from '../../src/private/contract';

export { ERROR_CODES };
export type { ErrorCode };

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
