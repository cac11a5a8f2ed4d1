import type { RotateSecretResponse, RotationRulesType, Tag } from '@aws-sdk/client-secrets-manager';

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
  tags: Tag[];
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
  /** Set by DeleteSecret with a recovery window: when it was asked for. */
  deletedDate?: Date;
  /** When the recovery window ends; the secret is gone from then on. */
  deletionDate?: Date;
  /** The resource policy JSON, as put. */
  resourcePolicy?: string;
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

/** A secret value as stored: exactly one of the two is set. */
export interface SecretValue {
  readonly secretString?: string;
  readonly secretBinary?: Buffer;
}
