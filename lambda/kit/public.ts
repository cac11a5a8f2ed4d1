/**
 * `cdk-secrets-platform/kit`: what a custom rotator imports. Built into `kit/index.js` (CommonJS, Node.js 20, the AWS
 * SDK external: the Lambda runtime provides it) and `kit/index.d.ts`. It requires nothing but Node.js built-ins and
 * `@aws-sdk/*`: no database driver comes with it.
 */

export { createCustomRotationHandler } from './custom-rotator';
export type { CustomRotatorDefinition, CustomSetPendingArgs, RotatorContext, SecretFields } from './custom-rotator';
export {
  ConfusedDeputyError, ERROR_CODES, InvalidSecretValueError, LoginFailedError, RedactedCause, RotationError, TimeoutError,
} from './errors';
export type { ErrorCode } from './errors';
export { hasControlCharacter, requireString } from './secret-fields';
export type { RotationContext, RotationEvent, Step } from './event';
export type { LogSink } from './logger';
export type { HandlerOptions, RotationHandler } from './protocol';
export type { SecretRole } from './types';
export type { PasswordPolicyContract } from '../../src/private/contract';
