import { Document } from 'bson';

/** MongoDB's error codes (src/mongo/base/error_codes.yml) for the failures this server reports. */
export const ErrorCodes = {
  BadValue: 2,
  UserNotFound: 11,
  Unauthorized: 13,
  TypeMismatch: 14,
  ProtocolError: 17,
  AuthenticationFailed: 18,
  RoleNotFound: 31,
  CommandNotFound: 59,
  MechanismUnavailable: 334,
  /** createUser for a name that exists: MongoDB reports it under this numbered location code. */
  Location51003: 51003,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

/**
 * A command that fails with `{ ok: 0, errmsg, code, codeName }`, which the driver turns into a MongoServerError.
 * Messages never carry a password, a SCRAM payload or a command's arguments.
 */
export class CommandFailure extends Error {
  readonly code: number;
  constructor(readonly codeName: ErrorCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandFailure';
    this.code = ErrorCodes[codeName];
  }

  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName };
  }
}

/** MongoDB's message for every SCRAM failure, whatever the reason: a client must not learn which users exist. */
export function authenticationFailed(cause?: unknown): CommandFailure {
  return new CommandFailure('AuthenticationFailed', 'Authentication failed.', { cause });
}
