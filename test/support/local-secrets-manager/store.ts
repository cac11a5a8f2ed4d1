import { randomInt, randomUUID } from 'node:crypto';
import type {
  CancelRotateSecretRequest,
  CancelRotateSecretResponse,
  CreateSecretRequest,
  CreateSecretResponse,
  DeleteResourcePolicyRequest,
  DeleteResourcePolicyResponse,
  DeleteSecretRequest,
  DeleteSecretResponse,
  DescribeSecretRequest,
  DescribeSecretResponse,
  GetResourcePolicyRequest,
  GetResourcePolicyResponse,
  GetSecretValueRequest,
  GetSecretValueResponse,
  ListSecretsRequest,
  ListSecretsResponse,
  ListSecretVersionIdsRequest,
  ListSecretVersionIdsResponse,
  PutResourcePolicyRequest,
  PutResourcePolicyResponse,
  PutSecretValueRequest,
  PutSecretValueResponse,
  RestoreSecretRequest,
  RestoreSecretResponse,
  RotateSecretRequest,
  SecretListEntry,
  TagResourceRequest,
  UntagResourceRequest,
  UpdateSecretRequest,
  UpdateSecretResponse,
  UpdateSecretVersionStageRequest,
  UpdateSecretVersionStageResponse,
} from '@aws-sdk/client-secrets-manager';
import {
  assertNotScheduledForDeletion,
  isPastRecoveryWindow,
  isScheduledForDeletion,
  recoveryWindowDays,
  scheduleDeletion,
} from './deletion';
import { ServiceError } from './errors';
import { applyStages, checkKeepsCurrent, checkRemoveFrom, moveLabel, selectVersion, stagesOf } from './labels';
import { matchesFilters, pageOf } from './listing';
import { validResourcePolicy } from './resource-policy';
import {
  abandonRotation,
  assertNoRotationInProgress,
  beginRotation,
  beginValidation,
  cancelRotation,
  endValidation,
  finishRotation,
  forgetRotation,
  runningRotation,
} from './rotation-state';
import {
  AWSCURRENT,
  RotateSecretResult,
  RotationEventRecord,
  RotationState,
  RotationStep,
  SecretRecord,
  SecretStoreOptions,
  SecretValue,
  SecretVersion,
} from './types';
import {
  checkLength,
  optionalStage,
  optionalString,
  rateHours,
  requireString,
  validMaxResults,
  validName,
  validRotationRules,
  validStage,
  validStages,
  validTagKeys,
  validTags,
  validToken,
} from './validation';
import { hasValue, optionalValue, requiredValue, sameValue } from './values';
import { addVersion, checkRoomForVersion } from './versions';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DAY_MS = 24 * 3600 * 1000;

export interface RotateSecretOptions {
  /** Whether the service can invoke this rotation function; the server knows which are registered. Default: any. */
  readonly canInvoke?: (lambdaArn: string) => boolean;
}

/**
 * In-memory model of Secrets Manager secrets, versions and staging labels.
 * Every method is synchronous, so each operation is atomic.
 * Inputs and outputs use the SDK's request/response shapes (dates as Date, binary as Buffer).
 */
export class SecretStore {
  readonly region: string;
  readonly accountId: string;
  readonly events: RotationEventRecord[] = [];
  private readonly secrets = new Map<string, SecretRecord>();
  private readonly now: () => Date;

  constructor(options: SecretStoreOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Finds a secret by name, full ARN, or ARN without the random suffix, including one in its recovery window.
   * A secret whose recovery window has ended is gone.
   */
  resolve(secretId: unknown): SecretRecord {
    const id = requireSecretId(secretId);
    for (const secret of this.secrets.values()) {
      if (secret.name === id || secret.arn === id || secret.arn.slice(0, -7) === id) {
        return this.unlessExpired(secret);
      }
    }
    throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }

  /** VersionId -> staging labels, for every version that has at least one label. */
  versionStages(secretId: string): Record<string, string[]> {
    const secret = this.resolve(secretId);
    const result: Record<string, string[]> = {};
    for (const [label, versionId] of secret.labels) {
      (result[versionId] ??= []).push(label);
    }
    return result;
  }

  createSecret(input: CreateSecretRequest): CreateSecretResponse {
    const name = validName(input.Name);
    const existing = [...this.secrets.values()].find(s => s.name === name && !isPastRecoveryWindow(s, this.now()));
    if (existing !== undefined) {
      return repeatCreate(existing, input);
    }
    const value = optionalValue(input);
    const token = validToken(input.ClientRequestToken ?? randomUUID());
    const now = this.now();
    const secret: SecretRecord = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomSuffix()}`,
      name,
      createdDate: now,
      lastChangedDate: now,
      versions: new Map(),
      labels: new Map(),
      tags: validTags(input.Tags),
      description: optionalString(input.Description, 'description'),
      kmsKeyId: optionalString(input.KmsKeyId, 'kmsKeyId'),
    };
    if (value !== undefined) {
      Object.assign(addVersion(secret, token, now), value);
      moveLabel(secret, AWSCURRENT, token);
    }
    this.secrets.set(secret.arn, secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: value === undefined ? undefined : token };
  }

  describeSecret(input: DescribeSecretRequest): DescribeSecretResponse {
    const secret = this.resolve(input.SecretId);
    const { SecretVersionsToStages, ...summary } = this.summary(secret);
    return { ...summary, VersionIdsToStages: SecretVersionsToStages };
  }

  getSecretValue(input: GetSecretValueRequest): GetSecretValueResponse {
    const secret = this.resolveActive(input.SecretId);
    const versionId = optionalString(input.VersionId, 'versionId');
    const version = selectVersion(secret, versionId, optionalStage(input.VersionStage, 'versionStage'));
    if (!hasValue(version)) {
      throw new ServiceError('ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${version.versionId}`);
    }
    secret.lastAccessedDate = startOfDay(this.now());
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      SecretString: version.secretString,
      SecretBinary: version.secretBinary,
      VersionStages: stagesOf(secret, version.versionId),
      CreatedDate: version.createdDate,
    };
  }

  putSecretValue(input: PutSecretValueRequest): PutSecretValueResponse {
    const secret = this.resolveActive(input.SecretId);
    const value = requiredValue(input);
    const token = validToken(input.ClientRequestToken ?? randomUUID());
    const requested = validStages(input.VersionStages ?? [AWSCURRENT]);
    const rotationToken = optionalString(input.RotationToken, 'rotationToken');
    const existing = secret.versions.get(token);
    if (existing && hasValue(existing)) {
      return repeatPut(secret, existing, value);
    }
    // the first version of a secret gets AWSCURRENT whatever was asked for: a secret with versions always has one
    const stages = secret.versions.size === 0 && !requested.includes(AWSCURRENT) ? [...requested, AWSCURRENT] : requested;
    this.storeVersion(secret, token, value, stages).rotationToken = rotationToken;
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: stagesOf(secret, token) };
  }

  /** Description and KMS key changes; with a value, a new AWSCURRENT version (as PutSecretValue with default stages). */
  updateSecret(input: UpdateSecretRequest): UpdateSecretResponse {
    const secret = this.resolveActive(input.SecretId);
    const value = optionalValue(input);
    const token = validToken(input.ClientRequestToken ?? randomUUID());
    const description = optionalString(input.Description, 'description');
    const kmsKeyId = optionalString(input.KmsKeyId, 'kmsKeyId');
    const existing = secret.versions.get(token);
    if (value !== undefined && existing && hasValue(existing)) {
      repeatPut(secret, existing, value);
    } else if (value !== undefined) {
      this.storeVersion(secret, token, value, [AWSCURRENT]);
    }
    secret.description = description ?? secret.description;
    secret.kmsKeyId = kmsKeyId ?? secret.kmsKeyId;
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name, VersionId: value === undefined ? undefined : token };
  }

  updateSecretVersionStage(input: UpdateSecretVersionStageRequest): UpdateSecretVersionStageResponse {
    const secret = this.resolveActive(input.SecretId);
    const stage = validStage(input.VersionStage, 'versionStage');
    const moveTo = optionalString(input.MoveToVersionId, 'moveToVersionId');
    const removeFrom = optionalString(input.RemoveFromVersionId, 'removeFromVersionId');
    if (moveTo === undefined && removeFrom === undefined) {
      throw new ServiceError('InvalidParameterException', 'You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    }
    if (moveTo !== undefined && !secret.versions.has(moveTo)) {
      throw new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${moveTo}`);
    }
    checkRemoveFrom(stage, secret.labels.get(stage), removeFrom);
    checkKeepsCurrent(stage, moveTo, removeFrom);
    moveLabel(secret, stage, moveTo);
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  listSecrets(input: ListSecretsRequest): ListSecretsResponse {
    const max = validMaxResults(input.MaxResults);
    let matching = [...this.secrets.values()]
      .filter(s => !isPastRecoveryWindow(s, this.now()))
      .filter(s => input.IncludePlannedDeletion || !isScheduledForDeletion(s))
      .filter(s => matchesFilters(s, input.Filters ?? []));
    if (input.SortOrder === 'desc') {
      matching = matching.reverse();
    }
    const page = pageOf(matching, max, input.NextToken);
    return { SecretList: page.items.map(s => this.summary(s)), NextToken: page.nextToken };
  }

  /** Oldest first; unlabelled (deprecated) versions only with IncludeDeprecated, and without VersionStages. */
  listSecretVersionIds(input: ListSecretVersionIdsRequest): ListSecretVersionIdsResponse {
    const secret = this.resolve(input.SecretId);
    const max = validMaxResults(input.MaxResults);
    const versions = [...secret.versions.values()]
      .map(v => ({ VersionId: v.versionId, VersionStages: labelsOrNothing(stagesOf(secret, v.versionId)), CreatedDate: v.createdDate }))
      .filter(v => input.IncludeDeprecated || v.VersionStages !== undefined);
    const page = pageOf(versions, max, input.NextToken);
    return { ARN: secret.arn, Name: secret.name, Versions: page.items, NextToken: page.nextToken };
  }

  /**
   * Configures rotation and starts a rotation (RotateImmediately true) or a validation (false); the caller drives
   * the steps. A function the service cannot invoke is refused before anything changes.
   */
  rotateSecret(input: RotateSecretRequest, options: RotateSecretOptions = {}): RotateSecretResult {
    const secret = this.resolveActive(input.SecretId);
    const token = validToken(input.ClientRequestToken ?? randomUUID());
    const lambdaArn = optionalString(input.RotationLambdaARN, 'rotationLambdaARN') ?? secret.rotationLambdaArn;
    if (lambdaArn === undefined) {
      throw new ServiceError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    }
    const rules = validRotationRules(input.RotationRules);
    if (!(options.canInvoke?.(lambdaArn) ?? true)) {
      throw new ServiceError('AccessDeniedException', 'Secrets Manager cannot invoke the specified Lambda function. '
        + 'Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.');
    }
    const kind = input.RotateImmediately ?? true ? 'rotation' : 'validation';
    const running = runningRotation(secret);
    if (running?.kind === kind && running.token === token) {
      return { response: { ARN: secret.arn, Name: secret.name, VersionId: token } };
    }
    assertNoRotationInProgress(secret);
    if (secret.versions.has(token)) {
      throw new ServiceError('ResourceExistsException', `A version with VersionId ${token} already exists.`);
    }
    const now = this.now();
    checkRoomForVersion(secret, now);
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = lambdaArn;
    secret.rotationRules = rules ?? secret.rotationRules;
    secret.lastChangedDate = now;
    const started = kind === 'rotation' ? beginRotation(secret, token, lambdaArn, now) : beginValidation(secret, token, lambdaArn, now);
    if (started?.kind === 'rotation') {
      this.events.push({ type: 'RotationStarted', secretArn: secret.arn, token });
    }
    return { response: { ARN: secret.arn, Name: secret.name, VersionId: started?.token }, started };
  }

  cancelRotateSecret(input: CancelRotateSecretRequest): CancelRotateSecretResponse {
    const secret = this.resolveActive(input.SecretId);
    secret.rotationEnabled = false;
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name, VersionId: cancelRotation(secret) };
  }

  /** The state of the rotation with this token, or undefined if it is no longer the secret's rotation. */
  rotationState(secretArn: string, token: string): RotationState | undefined {
    const rotation = this.secrets.get(secretArn)?.rotation;
    return rotation?.token === token ? rotation.state : undefined;
  }

  /**
   * Called after finishSecret succeeded. The rotation succeeded only if AWSCURRENT is on the token's version;
   * then AWSPENDING is removed, LastRotatedDate set and RotationSucceeded recorded.
   */
  completeRotation(secretArn: string, token: string): boolean {
    const secret = this.secrets.get(secretArn);
    if (secret === undefined || !finishRotation(secret, token, this.now())) {
      return false;
    }
    this.events.push({ type: 'RotationSucceeded', secretArn, token });
    return true;
  }

  /** Gives up: records RotationFailed and leaves AWSPENDING where it is. */
  failRotation(secretArn: string, token: string, step: RotationStep, errorCode: string): void {
    this.events.push({ type: 'RotationFailed', secretArn, token, step, errorCode });
    this.endRotation(secretArn, token);
  }

  /** Forgets the rotation with this token (if it is still the secret's rotation); the secret may be gone. */
  endRotation(secretArn: string, token: string): void {
    const secret = this.secrets.get(secretArn);
    if (secret !== undefined) {
      forgetRotation(secret, token);
    }
  }

  /** After a validation's testSecret, whatever its outcome: its temporary AWSPENDING version goes. */
  endValidation(secretArn: string, token: string): void {
    const secret = this.secrets.get(secretArn);
    if (secret !== undefined) {
      endValidation(secret, token);
    }
  }

  /** With a recovery window, marks the secret for deletion; with ForceDeleteWithoutRecovery, removes it now. */
  deleteSecret(input: DeleteSecretRequest): DeleteSecretResponse {
    const days = recoveryWindowDays(input);
    const now = this.now();
    if (days === 0) {
      const secret = this.resolve(input.SecretId);
      cancelRotation(secret);
      this.secrets.delete(secret.arn);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
    }
    const secret = this.resolveActive(input.SecretId);
    scheduleDeletion(secret, days, now);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: secret.deletionDate };
  }

  restoreSecret(input: RestoreSecretRequest): RestoreSecretResponse {
    const secret = this.resolve(input.SecretId);
    secret.deletedDate = undefined;
    secret.deletionDate = undefined;
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  /** Adds tags; a key that exists gets the new value. */
  tagResource(input: TagResourceRequest): Record<string, never> {
    const secret = this.resolveActive(input.SecretId);
    const tags = validTags(input.Tags);
    const keys = new Set(tags.map(t => t.Key));
    secret.tags = [...secret.tags.filter(t => !keys.has(t.Key)), ...tags];
    secret.lastChangedDate = this.now();
    return {};
  }

  untagResource(input: UntagResourceRequest): Record<string, never> {
    const secret = this.resolveActive(input.SecretId);
    const keys = new Set(validTagKeys(input.TagKeys));
    secret.tags = secret.tags.filter(t => !keys.has(t.Key ?? ''));
    secret.lastChangedDate = this.now();
    return {};
  }

  getResourcePolicy(input: GetResourcePolicyRequest): GetResourcePolicyResponse {
    const secret = this.resolve(input.SecretId);
    return { ARN: secret.arn, Name: secret.name, ResourcePolicy: secret.resourcePolicy };
  }

  putResourcePolicy(input: PutResourcePolicyRequest): PutResourcePolicyResponse {
    const secret = this.resolveActive(input.SecretId);
    secret.resourcePolicy = validResourcePolicy(input.ResourcePolicy, input.BlockPublicPolicy ?? false);
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  deleteResourcePolicy(input: DeleteResourcePolicyRequest): DeleteResourcePolicyResponse {
    const secret = this.resolveActive(input.SecretId);
    secret.resourcePolicy = undefined;
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  /** A secret that is not in its recovery window: what most operations require. */
  private resolveActive(secretId: unknown): SecretRecord {
    const secret = this.resolve(secretId);
    assertNotScheduledForDeletion(secret);
    return secret;
  }

  private unlessExpired(secret: SecretRecord): SecretRecord {
    if (isPastRecoveryWindow(secret, this.now())) {
      this.secrets.delete(secret.arn);
      throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return secret;
  }

  /** Stores a value under the token with these stages; moving AWSCURRENT abandons a rotation with another token. */
  private storeVersion(secret: SecretRecord, token: string, value: SecretValue, stages: string[]): SecretVersion {
    const now = this.now();
    const version = secret.versions.get(token) ?? addVersion(secret, token, now);
    version.secretString = value.secretString;
    version.secretBinary = value.secretBinary;
    const movesCurrent = stages.includes(AWSCURRENT) && secret.labels.get(AWSCURRENT) !== token;
    applyStages(secret, token, stages);
    const abandoned = movesCurrent ? abandonRotation(secret, token) : undefined;
    if (abandoned !== undefined) {
      this.events.push(abandoned);
    }
    secret.lastChangedDate = now;
    return version;
  }

  private summary(secret: SecretRecord): SecretListEntry {
    const stages = this.versionStages(secret.arn);
    return {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      KmsKeyId: secret.kmsKeyId,
      RotationEnabled: secret.rotationEnabled,
      RotationLambdaARN: secret.rotationLambdaArn,
      RotationRules: secret.rotationRules,
      LastRotatedDate: secret.lastRotatedDate,
      LastChangedDate: secret.lastChangedDate,
      LastAccessedDate: secret.lastAccessedDate,
      DeletedDate: secret.deletedDate,
      NextRotationDate: nextRotationDate(secret, this.now()),
      CreatedDate: secret.createdDate,
      Tags: secret.tags.length > 0 ? secret.tags.map(t => ({ ...t })) : undefined,
      SecretVersionsToStages: Object.keys(stages).length > 0 ? stages : undefined,
    };
  }
}

/**
 * CreateSecret for a name that exists: a retry with the same ClientRequestToken and value succeeds with the
 * original answer; anything else is refused.
 */
function repeatCreate(secret: SecretRecord, input: CreateSecretRequest): CreateSecretResponse {
  if (isScheduledForDeletion(secret)) {
    throw new ServiceError('InvalidRequestException',
      'You can\'t create this secret because a secret with this name is already scheduled for deletion.');
  }
  const token = optionalString(input.ClientRequestToken, 'clientRequestToken');
  const version = token === undefined ? undefined : secret.versions.get(token);
  if (version === undefined) {
    throw new ServiceError('ResourceExistsException', `The operation failed because the secret ${secret.name} already exists.`);
  }
  const value = optionalValue(input);
  if (value === undefined || !hasValue(version) || !sameValue(version, value)) {
    throw new ServiceError('ResourceExistsException',
      `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${secret.arn}.`);
  }
  return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId };
}

/** PutSecretValue with a token whose version has a value: an idempotent success if the value is the same. */
function repeatPut(secret: SecretRecord, existing: SecretVersion, value: SecretValue): PutSecretValueResponse {
  if (!sameValue(existing, value)) {
    throw new ServiceError('ResourceExistsException',
      `A version with VersionId ${existing.versionId} already exists with a different value. You can't modify an existing version.`);
  }
  return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: stagesOf(secret, existing.versionId) };
}

/** SecretId: 1 to 2,048 characters. */
function requireSecretId(secretId: unknown): string {
  const id = requireString(secretId, 'secretId');
  checkLength('secretId', id.length, 1, 2048, id);
  return id;
}

/** The service omits VersionStages for a version without labels. */
function labelsOrNothing(stages: string[]): string[] | undefined {
  return stages.length > 0 ? stages : undefined;
}

function nextRotationDate(secret: SecretRecord, now: Date): Date | undefined {
  const rules = secret.rotationRules;
  if (!secret.rotationEnabled || rules === undefined) {
    return undefined;
  }
  const base = secret.lastRotatedDate ?? now;
  const hours = rules.AutomaticallyAfterDays !== undefined
    ? rules.AutomaticallyAfterDays * 24
    : rateHours(rules.ScheduleExpression ?? '') ?? 24;
  return new Date(base.getTime() + hours * 3600 * 1000);
}

function startOfDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
}

function randomSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) {
    suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  }
  return suffix;
}

