import { ServiceError } from './errors';
import { moveLabel } from './labels';
import { AWSCURRENT, AWSPENDING, RotationEventRecord, RotationInProgress, SecretRecord, StartedRotation } from './types';
import { addVersion, discardPendingVersion } from './versions';

/** The rotation or validation the driver is still running for this secret, if any. */
export function runningRotation(secret: SecretRecord): RotationInProgress | undefined {
  return secret.rotation?.state === 'running' ? secret.rotation : undefined;
}

/** RotateSecret refuses while a rotation runs, or while AWSPENDING is on a version other than AWSCURRENT's. */
export function assertNoRotationInProgress(secret: SecretRecord): void {
  const pending = secret.labels.get(AWSPENDING);
  if (runningRotation(secret) !== undefined || (pending !== undefined && pending !== secret.labels.get(AWSCURRENT))) {
    throw new ServiceError('InvalidRequestException', "A previous rotation isn't complete. That rotation will be reattempted.");
  }
}

/** RotateImmediately true: the value-less AWSPENDING version the four steps fill and promote. */
export function beginRotation(secret: SecretRecord, token: string, lambdaArn: string, now: Date): StartedRotation {
  addVersion(secret, token, now);
  moveLabel(secret, AWSPENDING, token);
  secret.rotation = { kind: 'rotation', token, lambdaArn, state: 'running' };
  return { kind: 'rotation', secretArn: secret.arn, token, lambdaArn };
}

/**
 * RotateImmediately false: the service tests the configuration by running testSecret on a new AWSPENDING version
 * that holds a copy of the current value, and removes that version afterwards (see `endValidation`).
 * Undefined when there is no current value to copy.
 */
export function beginValidation(secret: SecretRecord, token: string, lambdaArn: string, now: Date): StartedRotation | undefined {
  const current = secret.versions.get(secret.labels.get(AWSCURRENT) ?? '');
  if (current === undefined) {
    return undefined;
  }
  const version = addVersion(secret, token, now);
  version.secretString = current.secretString;
  version.secretBinary = current.secretBinary;
  moveLabel(secret, AWSPENDING, token);
  secret.rotation = { kind: 'validation', token, lambdaArn, state: 'running' };
  return { kind: 'validation', secretArn: secret.arn, token, lambdaArn };
}

/** Removes the validation's temporary version, whatever testSecret did. */
export function endValidation(secret: SecretRecord, token: string): void {
  discardPendingVersion(secret, token);
  forgetRotation(secret, token);
}

/** A manual change of AWSCURRENT abandons a rotation running with another token; returns the event to record. */
export function abandonRotation(secret: SecretRecord, token: string): RotationEventRecord | undefined {
  const rotation = secret.rotation;
  if (rotation?.kind !== 'rotation' || rotation.state !== 'running' || rotation.token === token) {
    return undefined;
  }
  rotation.state = 'abandoned';
  if (secret.labels.get(AWSPENDING) === rotation.token) {
    secret.labels.delete(AWSPENDING);
  }
  return { type: 'RotationAbandoned', secretArn: secret.arn, token: rotation.token };
}

/**
 * After finishSecret: the rotation succeeded only if AWSCURRENT is on the token's version; then AWSPENDING is
 * removed from it and LastRotatedDate set.
 */
export function finishRotation(secret: SecretRecord, token: string, now: Date): boolean {
  if (secret.labels.get(AWSCURRENT) !== token) {
    return false;
  }
  if (secret.labels.get(AWSPENDING) === token) {
    secret.labels.delete(AWSPENDING);
  }
  secret.lastRotatedDate = now;
  forgetRotation(secret, token);
  return true;
}

/** Forgets the rotation with this token (if it is still the secret's rotation). */
export function forgetRotation(secret: SecretRecord, token: string): void {
  if (secret.rotation?.token === token) {
    secret.rotation = undefined;
  }
}

/** CancelRotateSecret: stops a running rotation; returns the VersionId of an incomplete AWSPENDING version. */
export function cancelRotation(secret: SecretRecord): string | undefined {
  const rotation = runningRotation(secret);
  if (rotation !== undefined) {
    rotation.state = 'cancelled';
  }
  const pending = secret.labels.get(AWSPENDING);
  return pending !== undefined && pending !== secret.labels.get(AWSCURRENT) ? pending : undefined;
}
