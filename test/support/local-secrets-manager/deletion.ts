import type { DeleteSecretRequest } from '@aws-sdk/client-secrets-manager';
import { ServiceError } from './errors';
import { SecretRecord } from './types';

export const DEFAULT_RECOVERY_WINDOW_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

/** The recovery window DeleteSecret asks for: 7 to 30 days (default 30), or 0 for ForceDeleteWithoutRecovery. */
export function recoveryWindowDays(input: DeleteSecretRequest): number {
  const window = input.RecoveryWindowInDays;
  if (input.ForceDeleteWithoutRecovery && window !== undefined && window !== null) {
    throw new ServiceError('InvalidParameterException',
      'You can\'t use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.');
  }
  if (input.ForceDeleteWithoutRecovery) {
    return 0;
  }
  const days = window ?? DEFAULT_RECOVERY_WINDOW_DAYS;
  if (!Number.isInteger(days) || days < 7 || days > 30) {
    throw new ServiceError('InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
  }
  return days;
}

export function scheduleDeletion(secret: SecretRecord, days: number, now: Date): void {
  secret.deletedDate = now;
  secret.deletionDate = new Date(now.getTime() + days * DAY_MS);
}

export function isScheduledForDeletion(secret: SecretRecord): boolean {
  return secret.deletedDate !== undefined;
}

/** Whether the recovery window has ended: from then on the secret no longer exists. */
export function isPastRecoveryWindow(secret: SecretRecord, now: Date): boolean {
  return secret.deletionDate !== undefined && secret.deletionDate.getTime() <= now.getTime();
}

/** Most operations refuse a secret in its recovery window; DescribeSecret and listing still see it. */
export function assertNotScheduledForDeletion(secret: SecretRecord): void {
  if (isScheduledForDeletion(secret)) {
    throw new ServiceError('InvalidRequestException',
      'You can\'t perform this operation on the secret because it was marked for deletion.');
  }
}
