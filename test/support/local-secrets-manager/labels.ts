import { ServiceError } from './errors';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretRecord, SecretVersion } from './types';

export function stagesOf(secret: SecretRecord, versionId: string): string[] {
  return [...secret.labels].filter(([, id]) => id === versionId).map(([label]) => label);
}

/**
 * Moves a label to a version (or removes it when `to` is undefined).
 * Moving AWSCURRENT puts AWSPREVIOUS on the version that had AWSCURRENT.
 */
export function moveLabel(secret: SecretRecord, label: string, to: string | undefined): void {
  const from = secret.labels.get(label);
  if (to === undefined) {
    secret.labels.delete(label);
    return;
  }
  secret.labels.set(label, to);
  if (label === AWSCURRENT && from !== undefined && from !== to) {
    secret.labels.set(AWSPREVIOUS, from);
  }
}

/**
 * PutSecretValue: every stage moves to this version; an explicit AWSPREVIOUS wins over the automatic one.
 * When AWSCURRENT leaves a version that also held AWSPENDING (a finished rotation's version), AWSPENDING leaves
 * with it: the old version keeps only AWSPREVIOUS, so no stale AWSPENDING blocks the next rotation.
 */
export function applyStages(secret: SecretRecord, versionId: string, stages: string[]): void {
  const oldCurrent = secret.labels.get(AWSCURRENT);
  const ordered = [...stages].sort((a, b) => Number(b === AWSCURRENT) - Number(a === AWSCURRENT));
  for (const stage of ordered) {
    moveLabel(secret, stage, versionId);
  }
  const currentMoved = oldCurrent !== undefined && oldCurrent !== versionId && stages.includes(AWSCURRENT);
  if (currentMoved && secret.labels.get(AWSPENDING) === oldCurrent) {
    secret.labels.delete(AWSPENDING);
  }
}

export function checkRemoveFrom(stage: string, holder: string | undefined, removeFrom: string | undefined): void {
  if (holder !== undefined && removeFrom === undefined) {
    throw new ServiceError('InvalidParameterException',
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, `
      + 'so you must explicitly reference that version in RemoveFromVersionId.');
  }
  if (holder !== undefined && removeFrom !== holder) {
    throw new ServiceError('InvalidParameterException',
      `Staging label ${stage} is currently attached to version ${holder}, not to version ${removeFrom}. `
      + 'RemoveFromVersionId must be the version that currently has the staging label.');
  }
  if (holder === undefined && removeFrom !== undefined) {
    throw new ServiceError('InvalidParameterException', `Staging label ${stage} isn't attached to version ${removeFrom}.`);
  }
}

/** UpdateSecretVersionStage may move AWSCURRENT but never take it off the secret. */
export function checkKeepsCurrent(stage: string, moveTo: string | undefined, removeFrom: string | undefined): void {
  if (stage === AWSCURRENT && moveTo === undefined) {
    throw new ServiceError('InvalidParameterException',
      `You can't remove the staging label AWSCURRENT from version ${removeFrom} without attaching it to another version. `
      + 'Specify the version that gets it in MoveToVersionId.');
  }
}

/**
 * GetSecretValue's version selection. An unknown VersionId is ResourceNotFoundException; a VersionId and a
 * VersionStage that name different versions are InvalidRequestException (the request contradicts itself).
 */
export function selectVersion(secret: SecretRecord, versionId: string | undefined, stage: string | undefined): SecretVersion {
  if (versionId !== undefined) {
    const version = secret.versions.get(versionId);
    if (version === undefined) {
      throw new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    }
    if (stage !== undefined && secret.labels.get(stage) !== versionId) {
      throw new ServiceError('InvalidRequestException', 'You provided a VersionStage that is not associated to the provided VersionId.');
    }
    return version;
  }
  const label = stage ?? AWSCURRENT;
  const holder = secret.labels.get(label);
  if (holder === undefined) {
    throw new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${label}`);
  }
  return secret.versions.get(holder)!;
}
