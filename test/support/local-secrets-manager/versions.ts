import { ServiceError } from './errors';
import { AWSPENDING, SecretRecord, SecretVersion } from './types';

/** The "versions per secret" quota. */
export const MAX_VERSIONS_PER_SECRET = 100;
/** The service never removes a version created less than 24 hours ago, labelled or not. */
export const MIN_AGE_BEFORE_REMOVAL_MS = 24 * 3600 * 1000;

/**
 * Unlabelled (deprecated) versions the service may remove to stay within the quota: those at least 24 hours
 * old, oldest first.
 */
function removableVersions(secret: SecretRecord, now: Date): SecretVersion[] {
  const labelled = new Set(secret.labels.values());
  return [...secret.versions.values()]
    .filter(v => !labelled.has(v.versionId) && now.getTime() - v.createdDate.getTime() >= MIN_AGE_BEFORE_REMOVAL_MS)
    .sort((a, b) => a.createdDate.getTime() - b.createdDate.getTime());
}

/** Refuses, changing nothing, when one more version would exceed the quota even after removing what may go. */
export function checkRoomForVersion(secret: SecretRecord, now: Date): void {
  const excess = secret.versions.size + 1 - MAX_VERSIONS_PER_SECRET;
  if (excess > 0 && removableVersions(secret, now).length < excess) {
    throw new ServiceError('LimitExceededException',
      `You can't create more than ${MAX_VERSIONS_PER_SECRET} versions of secret ${secret.arn}. `
      + 'Versions without staging labels are removed only when they are more than 24 hours old.');
  }
}

/** Adds an empty version, first removing as many old deprecated versions as the quota needs (and no more). */
export function addVersion(secret: SecretRecord, versionId: string, now: Date): SecretVersion {
  checkRoomForVersion(secret, now);
  const excess = secret.versions.size + 1 - MAX_VERSIONS_PER_SECRET;
  for (const old of removableVersions(secret, now).slice(0, Math.max(0, excess))) {
    secret.versions.delete(old.versionId);
  }
  const version: SecretVersion = { versionId, createdDate: now };
  secret.versions.set(versionId, version);
  return version;
}

/**
 * Removes the temporary AWSPENDING version of a RotateImmediately=false validation. If someone attached another
 * label to it meanwhile, only AWSPENDING goes: a labelled version is never deleted.
 */
export function discardPendingVersion(secret: SecretRecord, versionId: string): void {
  if (secret.labels.get(AWSPENDING) === versionId) {
    secret.labels.delete(AWSPENDING);
  }
  if (![...secret.labels.values()].includes(versionId)) {
    secret.versions.delete(versionId);
  }
}
