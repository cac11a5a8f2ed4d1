import { randomInt, randomUUID } from 'node:crypto';
import type {
  CancelRotateSecretRequest,
  CancelRotateSecretResponse,
  CreateSecretRequest,
  CreateSecretResponse,
  DescribeSecretRequest,
  DescribeSecretResponse,
  GetSecretValueRequest,
  GetSecretValueResponse,
  ListSecretsRequest,
  ListSecretsResponse,
  ListSecretVersionIdsRequest,
  ListSecretVersionIdsResponse,
  PutSecretValueRequest,
  PutSecretValueResponse,
  RotateSecretRequest,
  SecretListEntry,
  UpdateSecretVersionStageRequest,
  UpdateSecretVersionStageResponse,
} from '@aws-sdk/client-secrets-manager';
import { ServiceError } from './errors';
import { applyStages, assertNoRotationInProgress, checkRemoveFrom, moveLabel, selectVersion, stagesOf } from './labels';
import { decodeNextToken, encodeNextToken, matchesFilters } from './listing';
import {
  AWSCURRENT,
  AWSPENDING,
  RotateSecretResult,
  RotationEventRecord,
  RotationState,
  RotationStep,
  SecretRecord,
  SecretStoreOptions,
  SecretValue,
  SecretVersion,
} from './types';
import { optionalString, rateHours, requireString, validRotationRules, validStages, validToken } from './validation';
import { hasValue, optionalValue, requiredValue, sameValue } from './values';

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DAY_MS = 24 * 3600 * 1000;
const MAX_LIST_RESULTS = 100;

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

  /** Finds a secret by name, full ARN, or ARN without the random suffix. */
  resolve(secretId: unknown): SecretRecord {
    const id = requireString(secretId, 'SecretId');
    for (const secret of this.secrets.values()) {
      if (secret.name === id || secret.arn === id || secret.arn.slice(0, -7) === id) {
        return secret;
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
    const name = requireString(input.Name, 'Name');
    if (!NAME_PATTERN.test(name)) {
      throw new ServiceError('InvalidParameterException', 'Invalid name. Must be 1-512 characters from A-Z a-z 0-9 / _ + = . @ -');
    }
    if ([...this.secrets.values()].some(s => s.name === name)) {
      throw new ServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const value = optionalValue(input);
    const now = this.now();
    const secret: SecretRecord = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomSuffix()}`,
      name,
      createdDate: now,
      lastChangedDate: now,
      versions: new Map(),
      labels: new Map(),
      tags: (input.Tags ?? []).map(t => ({ Key: t.Key, Value: t.Value })),
      description: optionalString(input.Description, 'Description'),
      kmsKeyId: optionalString(input.KmsKeyId, 'KmsKeyId'),
    };
    const versionId = value ? this.addFirstVersion(secret, input.ClientRequestToken, value) : undefined;
    this.secrets.set(secret.arn, secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
  }

  describeSecret(input: DescribeSecretRequest): DescribeSecretResponse {
    const secret = this.resolve(input.SecretId);
    const { SecretVersionsToStages, ...summary } = this.summary(secret);
    return { ...summary, VersionIdsToStages: SecretVersionsToStages };
  }

  getSecretValue(input: GetSecretValueRequest): GetSecretValueResponse {
    const secret = this.resolve(input.SecretId);
    const version = selectVersion(secret, optionalString(input.VersionId, 'VersionId'), optionalString(input.VersionStage, 'VersionStage'));
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
    const secret = this.resolve(input.SecretId);
    const value = requiredValue(input);
    const token = validToken(input.ClientRequestToken ?? randomUUID());
    const stages = validStages(input.VersionStages ?? [AWSCURRENT]);
    const rotationToken = optionalString(input.RotationToken, 'RotationToken');
    const existing = secret.versions.get(token);
    if (existing && hasValue(existing)) {
      return this.repeatPut(secret, existing, value);
    }
    const version = existing ?? this.addVersion(secret, token);
    version.secretString = value.secretString;
    version.secretBinary = value.secretBinary;
    version.rotationToken = rotationToken;
    const movesCurrent = stages.includes(AWSCURRENT) && secret.labels.get(AWSCURRENT) !== token;
    applyStages(secret, token, stages);
    if (movesCurrent) {
      this.abandonOtherRotation(secret, token);
    }
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: stagesOf(secret, token) };
  }

  updateSecretVersionStage(input: UpdateSecretVersionStageRequest): UpdateSecretVersionStageResponse {
    const secret = this.resolve(input.SecretId);
    const stage = requireString(input.VersionStage, 'VersionStage');
    const moveTo = optionalString(input.MoveToVersionId, 'MoveToVersionId');
    const removeFrom = optionalString(input.RemoveFromVersionId, 'RemoveFromVersionId');
    if (moveTo === undefined && removeFrom === undefined) {
      throw new ServiceError('InvalidParameterException', 'You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    }
    if (moveTo !== undefined && !secret.versions.has(moveTo)) {
      throw new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${moveTo}`);
    }
    checkRemoveFrom(stage, secret.labels.get(stage), removeFrom);
    moveLabel(secret, stage, moveTo);
    secret.lastChangedDate = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  listSecrets(input: ListSecretsRequest): ListSecretsResponse {
    const max = input.MaxResults ?? MAX_LIST_RESULTS;
    if (!Number.isInteger(max) || max < 1 || max > MAX_LIST_RESULTS) {
      throw new ServiceError('InvalidParameterException', `MaxResults must be between 1 and ${MAX_LIST_RESULTS}.`);
    }
    let matching = [...this.secrets.values()].filter(s => matchesFilters(s, input.Filters ?? []));
    if (input.SortOrder === 'desc') {
      matching = matching.reverse();
    }
    const start = decodeNextToken(input.NextToken);
    const page = matching.slice(start, start + max);
    const next = start + max < matching.length ? encodeNextToken(start + max) : undefined;
    return { SecretList: page.map(s => this.summary(s)), NextToken: next };
  }

  listSecretVersionIds(input: ListSecretVersionIdsRequest): ListSecretVersionIdsResponse {
    const secret = this.resolve(input.SecretId);
    const versions = [...secret.versions.values()]
      .map(v => ({ VersionId: v.versionId, VersionStages: stagesOf(secret, v.versionId), CreatedDate: v.createdDate }))
      .filter(v => input.IncludeDeprecated || v.VersionStages.length > 0);
    return { ARN: secret.arn, Name: secret.name, Versions: versions };
  }

  /** Configures rotation and, if asked, creates the value-less AWSPENDING version. The caller drives the steps. */
  rotateSecret(input: RotateSecretRequest): RotateSecretResult {
    const secret = this.resolve(input.SecretId);
    const token = validToken(input.ClientRequestToken ?? randomUUID());
    const lambdaArn = optionalString(input.RotationLambdaARN, 'RotationLambdaARN') ?? secret.rotationLambdaArn;
    if (lambdaArn === undefined) {
      throw new ServiceError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    }
    const rules = validRotationRules(input.RotationRules);
    const immediately = input.RotateImmediately ?? true;
    const running = secret.rotation?.state === 'running' ? secret.rotation : undefined;
    if (immediately && running?.kind === 'rotation' && running.token === token) {
      return { response: { ARN: secret.arn, Name: secret.name, VersionId: token } };
    }
    assertNoRotationInProgress(secret, running);
    if (immediately && secret.versions.has(token)) {
      throw new ServiceError('ResourceExistsException', `A version with VersionId ${token} already exists.`);
    }
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = lambdaArn;
    secret.rotationRules = rules ?? secret.rotationRules;
    secret.lastChangedDate = this.now();
    return immediately ? this.startRotation(secret, token, lambdaArn) : this.startValidation(secret, lambdaArn);
  }

  cancelRotateSecret(input: CancelRotateSecretRequest): CancelRotateSecretResponse {
    const secret = this.resolve(input.SecretId);
    secret.rotationEnabled = false;
    secret.lastChangedDate = this.now();
    const rotation = secret.rotation;
    if (rotation?.state === 'running') {
      rotation.state = 'cancelled';
    }
    const pending = secret.labels.get(AWSPENDING);
    const versionId = pending !== undefined && pending !== secret.labels.get(AWSCURRENT) ? pending : undefined;
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
  }

  /** The state of the rotation with this token, or undefined if it is no longer the secret's rotation. */
  rotationState(secretArn: string, token: string): RotationState | undefined {
    const rotation = this.resolve(secretArn).rotation;
    return rotation?.token === token ? rotation.state : undefined;
  }

  /**
   * Called after finishSecret succeeded. The rotation succeeded only if AWSCURRENT is on the token's version;
   * then AWSPENDING is removed, LastRotatedDate set and RotationSucceeded recorded.
   */
  completeRotation(secretArn: string, token: string): boolean {
    const secret = this.resolve(secretArn);
    if (secret.labels.get(AWSCURRENT) !== token) {
      return false;
    }
    if (secret.labels.get(AWSPENDING) === token) {
      secret.labels.delete(AWSPENDING);
    }
    secret.lastRotatedDate = this.now();
    this.events.push({ type: 'RotationSucceeded', secretArn, token });
    this.endRotation(secretArn, token);
    return true;
  }

  /** Gives up: records RotationFailed and leaves AWSPENDING where it is. */
  failRotation(secretArn: string, token: string, step: RotationStep, errorCode: string): void {
    this.events.push({ type: 'RotationFailed', secretArn, token, step, errorCode });
    this.endRotation(secretArn, token);
  }

  /** Forgets the rotation with this token (if it is still the secret's rotation). */
  endRotation(secretArn: string, token: string): void {
    const secret = this.resolve(secretArn);
    if (secret.rotation?.token === token) {
      secret.rotation = undefined;
    }
  }

  private startRotation(secret: SecretRecord, token: string, lambdaArn: string): RotateSecretResult {
    this.addVersion(secret, token);
    moveLabel(secret, AWSPENDING, token);
    secret.rotation = { kind: 'rotation', token, lambdaArn, state: 'running' };
    this.events.push({ type: 'RotationStarted', secretArn: secret.arn, token });
    return {
      response: { ARN: secret.arn, Name: secret.name, VersionId: token },
      started: { kind: 'rotation', secretArn: secret.arn, token, lambdaArn },
    };
  }

  /** RotateImmediately false: the service only runs testSecret with the current version's id. */
  private startValidation(secret: SecretRecord, lambdaArn: string): RotateSecretResult {
    const response = { ARN: secret.arn, Name: secret.name };
    const current = secret.labels.get(AWSCURRENT);
    if (current === undefined) {
      return { response };
    }
    secret.rotation = { kind: 'validation', token: current, lambdaArn, state: 'running' };
    return { response, started: { kind: 'validation', secretArn: secret.arn, token: current, lambdaArn } };
  }

  private repeatPut(secret: SecretRecord, existing: SecretVersion, value: SecretValue): PutSecretValueResponse {
    if (!sameValue(existing, value)) {
      throw new ServiceError('ResourceExistsException',
        `A version with VersionId ${existing.versionId} already exists with a different value. You can't modify an existing version.`);
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: stagesOf(secret, existing.versionId) };
  }

  /** A PutSecretValue that moved AWSCURRENT abandons a rotation running with another token. */
  private abandonOtherRotation(secret: SecretRecord, token: string): void {
    const rotation = secret.rotation;
    if (rotation?.kind !== 'rotation' || rotation.state !== 'running' || rotation.token === token) {
      return;
    }
    rotation.state = 'abandoned';
    if (secret.labels.get(AWSPENDING) === rotation.token) {
      secret.labels.delete(AWSPENDING);
    }
    this.events.push({ type: 'RotationAbandoned', secretArn: secret.arn, token: rotation.token });
  }

  private addFirstVersion(secret: SecretRecord, clientRequestToken: string | undefined, value: SecretValue): string {
    const version = this.addVersion(secret, validToken(clientRequestToken ?? randomUUID()));
    version.secretString = value.secretString;
    version.secretBinary = value.secretBinary;
    moveLabel(secret, AWSCURRENT, version.versionId);
    return version.versionId;
  }

  private addVersion(secret: SecretRecord, versionId: string): SecretVersion {
    const version: SecretVersion = { versionId, createdDate: this.now() };
    secret.versions.set(versionId, version);
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
      NextRotationDate: nextRotationDate(secret, this.now()),
      CreatedDate: secret.createdDate,
      Tags: secret.tags.length > 0 ? secret.tags.map(t => ({ ...t })) : undefined,
      SecretVersionsToStages: Object.keys(stages).length > 0 ? stages : undefined,
    };
  }
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

