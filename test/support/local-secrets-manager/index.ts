export { FaultInjector, LocalSecretsManager } from './server';
export type {
  CallRecord,
  FaultRule,
  InvocationRecord,
  LocalSecretsManagerOptions,
  RotationEvent,
  RotationInvoker,
  RotationOutcome,
} from './server';
export { AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretStore, ServiceError } from './store';
export type { RotationEventRecord, RotationEventType, RotationStep, SecretStoreOptions } from './store';
export { generatePassword, PasswordPolicyError, PUNCTUATION } from './password';
export type { PasswordPolicy } from './password';
