import { randomInt, randomUUID } from 'node:crypto';
import type {
  CancelRotateSecretRequest,
  CancelRotateSecretResponse,
  CreateSecretRequest,
  CreateSecretResponse,
  DescribeSecretRequest,
  DescribeSecretResponse,
  Filter,
  GetSecretValueRequest,
  GetSecretValueResponse,
  ListSecretsRequest,
  ListSecretsResponse,
  ListSecretVersionIdsRequest,
  ListSecretVersionIdsResponse,
  PutSecretValueRequest,
  PutSecretValueResponse,
  RotateSecretRequest,
  RotateSecretResponse,
  RotationRulesType,
  SecretListEntry,
  Tag,
  UpdateSecretVersionStageRequest,
  UpdateSecretVersionStageResponse,
} from '@aws-sdk/client-secrets-manager';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
export type RotationEventType = 'RotationStarted' | 'RotationSucceeded' | 'RotationFailed' | 'RotationAbandoned';

/** What the service would publish to EventBridge about a rotation. */
export interface RotationEventRecord {
  readonly type: RotationEventType;
  readonly secretArn: string;
  readonly token: string;
  readonly step?: string;
  readonly errorCode?: string;
}

/** An error the real service answers with: `code` is the `__type` on the wire. */
export class ServiceError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = code;
  }
}

export interface SecretVersion {
  readonly versionId: string;
  readonly createdDate: Date;
  secretString?: string;
  secretBinary?: Buffer;
  /** The RotationToken the last PutSecretValue for this version carried (recorded, not validated). */
  rotationToken?: string;
}

/** running: the driver should go on; abandoned: a PutSecretValue replaced it; cancelled: CancelRotateSecret (or shutdown). */
export type RotationState = 'running' | 'abandoned' | 'cancelled';

export interface RotationInProgress {
  /** `rotation`: the four steps; `validation`: testSecret only (RotateImmediately false). */
  readonly kind: 'rotation' | 'validation';
  readonly token: string;
  readonly lambdaArn: string;
  state: RotationState;
}

export interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  readonly createdDate: Date;
  readonly versions: Map<string, SecretVersion>;
  /** Staging label -> VersionId: a label is on at most one version by construction. */
  readonly labels: Map<string, string>;
  readonly tags: Tag[];
  description?: string;
  kmsKeyId?: string;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  /** undefined until rotation is first configured; false after CancelRotateSecret. */
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRulesType;
  lastRotatedDate?: Date;
  rotation?: RotationInProgress;
}

/** The rotation (or validation) a RotateSecret call started; the caller drives it. */
export interface StartedRotation {
  readonly kind: 'rotation' | 'validation';
  readonly secretArn: string;
  readonly token: string;
  readonly lambdaArn: string;
}

export interface RotateSecretResult {
  readonly response: RotateSecretResponse;
  /** Absent when nothing has to be invoked (an idempotent repeat, or no current version to validate). */
  readonly started?: StartedRotation;
}

export interface SecretStoreOptions {
  readonly region?: string;
  readonly accountId?: string;
  /** Clock, for deterministic dates in tests. */
  readonly now?: () => Date;
}

interface SecretValue {
  readonly secretString?: string;
  readonly secretBinary?: Buffer;
}

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

// ---- labels ----

function stagesOf(secret: SecretRecord, versionId: string): string[] {
  return [...secret.labels].filter(([, id]) => id === versionId).map(([label]) => label);
}

/**
 * Moves a label to a version (or removes it when `to` is undefined).
 * Moving AWSCURRENT puts AWSPREVIOUS on the version that had AWSCURRENT.
 */
function moveLabel(secret: SecretRecord, label: string, to: string | undefined): void {
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

/** PutSecretValue: every stage moves to this version; an explicit AWSPREVIOUS wins over the automatic one. */
function applyStages(secret: SecretRecord, versionId: string, stages: string[]): void {
  const ordered = [...stages].sort((a, b) => Number(b === AWSCURRENT) - Number(a === AWSCURRENT));
  for (const stage of ordered) {
    moveLabel(secret, stage, versionId);
  }
}

function checkRemoveFrom(stage: string, holder: string | undefined, removeFrom: string | undefined): void {
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

function selectVersion(secret: SecretRecord, versionId: string | undefined, stage: string | undefined): SecretVersion {
  if (versionId !== undefined) {
    const version = secret.versions.get(versionId);
    if (version === undefined || (stage !== undefined && secret.labels.get(stage) !== versionId)) {
      throw new ServiceError('ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${versionId}${stage ? ` and staging label: ${stage}` : ''}`);
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

function assertNoRotationInProgress(secret: SecretRecord, running: RotationInProgress | undefined): void {
  const pending = secret.labels.get(AWSPENDING);
  if (running !== undefined || (pending !== undefined && pending !== secret.labels.get(AWSCURRENT))) {
    throw new ServiceError('InvalidRequestException', "A previous rotation isn't complete. That rotation will be reattempted.");
  }
}

// ---- values ----

function hasValue(version: SecretVersion): boolean {
  return version.secretString !== undefined || version.secretBinary !== undefined;
}

function sameValue(version: SecretVersion, value: SecretValue): boolean {
  const sameBinary = version.secretBinary === undefined || value.secretBinary === undefined
    ? version.secretBinary === value.secretBinary
    : version.secretBinary.equals(value.secretBinary);
  return version.secretString === value.secretString && sameBinary;
}

function optionalValue(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue | undefined {
  const secretString = optionalString(input.SecretString, 'SecretString');
  const binary = input.SecretBinary;
  if (binary !== undefined && !(binary instanceof Uint8Array)) {
    throw new ServiceError('InvalidParameterException', 'SecretBinary must be binary data.');
  }
  if (secretString !== undefined && binary !== undefined) {
    throw new ServiceError('InvalidParameterException', 'You can\'t specify both SecretString and SecretBinary.');
  }
  if (secretString === undefined && binary === undefined) {
    return undefined;
  }
  return { secretString, secretBinary: binary === undefined ? undefined : Buffer.from(binary) };
}

function requiredValue(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue {
  const value = optionalValue(input);
  if (value === undefined) {
    throw new ServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
  }
  return value;
}

// ---- validation ----

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ServiceError('InvalidParameterException', `${name} is required and must be a non-empty string.`);
  }
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new ServiceError('InvalidParameterException', `${name} must be a string.`);
  }
  return value;
}

/** VersionIds (ClientRequestToken) are 32 to 64 characters long in the real service. */
function validToken(token: unknown): string {
  const value = requireString(token, 'ClientRequestToken');
  if (value.length < 32 || value.length > 64) {
    throw new ServiceError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters long.');
  }
  return value;
}

function validStages(stages: unknown): string[] {
  if (!Array.isArray(stages) || stages.length < 1 || stages.length > 20) {
    throw new ServiceError('InvalidParameterException', 'VersionStages must list 1 to 20 staging labels.');
  }
  return [...new Set(stages.map(s => requireString(s, 'VersionStages')))];
}

function validRotationRules(rules: RotationRulesType | undefined): RotationRulesType | undefined {
  if (rules === undefined) {
    return undefined;
  }
  const days = rules.AutomaticallyAfterDays;
  const expression = rules.ScheduleExpression;
  if (days !== undefined && expression !== undefined) {
    throw new ServiceError('InvalidParameterException', 'You can\'t specify both AutomaticallyAfterDays and ScheduleExpression.');
  }
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 1000)) {
    throw new ServiceError('InvalidParameterException', 'AutomaticallyAfterDays must be between 1 and 1000.');
  }
  if (expression !== undefined) {
    validScheduleExpression(expression);
  }
  if (rules.Duration !== undefined && !/^([1-9]|1[0-9]|2[0-4])h$/.test(rules.Duration)) {
    throw new ServiceError('InvalidParameterException', 'Duration must be between 1h and 24h.');
  }
  return { ...rules };
}

function validScheduleExpression(expression: string): void {
  const hours = rateHours(expression);
  if (hours !== undefined) {
    if (hours < 4 || hours > 1000 * 24) {
      throw new ServiceError('InvalidParameterException', 'A rate() schedule must be between 4 hours and 1000 days.');
    }
    return;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  const fields = cron ? cron[1].trim().split(/\s+/) : [];
  if (fields.length !== 6 || fields[0] !== '0' || fields[5] !== '*') {
    throw new ServiceError('InvalidParameterException',
      'ScheduleExpression must be rate(N hours|days) or cron(0 H DoM Mon DoW *) (minutes 0, year *).');
  }
}

function rateHours(expression: string): number | undefined {
  const match = /^rate\((\d+) (hours?|days?)\)$/.exec(expression);
  if (!match) {
    return undefined;
  }
  const n = Number(match[1]);
  return match[2].startsWith('hour') ? n : n * 24;
}

// ---- listing ----

function matchesFilters(secret: SecretRecord, filters: Filter[]): boolean {
  return filters.every(filter => matchesFilter(secret, filter));
}

function matchesFilter(secret: SecretRecord, filter: Filter): boolean {
  const candidates = filterCandidates(secret, filter.Key);
  return (filter.Values ?? []).every(raw => {
    const negated = raw.startsWith('!');
    const prefix = (negated ? raw.slice(1) : raw).toLowerCase();
    const found = candidates.some(c => c.toLowerCase().startsWith(prefix));
    return negated ? !found : found;
  });
}

function filterCandidates(secret: SecretRecord, key: string | undefined): string[] {
  const tagKeys = secret.tags.map(t => t.Key ?? '');
  const tagValues = secret.tags.map(t => t.Value ?? '');
  switch (key) {
    case 'name': return [secret.name];
    case 'description': return [secret.description ?? ''];
    case 'tag-key': return tagKeys;
    case 'tag-value': return tagValues;
    case 'all': return [secret.name, secret.description ?? '', ...tagKeys, ...tagValues];
    default: throw new ServiceError('InvalidParameterException', `Unsupported filter key: ${key}`);
  }
}

function encodeNextToken(index: number): string {
  return Buffer.from(JSON.stringify({ index })).toString('base64');
}

function decodeNextToken(token: string | undefined): number {
  if (token === undefined) {
    return 0;
  }
  try {
    const index = JSON.parse(Buffer.from(token, 'base64').toString('utf8')).index;
    if (Number.isInteger(index) && index >= 0) {
      return index;
    }
  } catch {
    // fall through
  }
  throw new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
}

// ---- dates and names ----

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
