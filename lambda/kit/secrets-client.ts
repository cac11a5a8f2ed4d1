import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetRandomPasswordCommandInput,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { Deadline } from './deadline';
import { ERROR_CODES, RotationError, errorName } from './errors';
import { faultPoint } from './fault-points';
import type { PasswordPolicyContract } from '../../src/private/contract';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

/** What the preamble needs from DescribeSecret. */
export interface SecretMetadata {
  readonly arn: string;
  readonly rotationEnabled?: boolean;
  readonly versionStages: Record<string, string[]>;
  readonly tags: Record<string, string>;
  /** DeleteSecret was called and the recovery window has not ended. */
  readonly deleted: boolean;
  /** When a rotation last finished (AWSCURRENT last moved by rotation); undefined when never. */
  readonly lastRotatedDate?: Date;
}

const DENIED = new Set(['AccessDeniedException', 'DecryptionFailure', 'EncryptionFailure', 'KMSAccessDeniedException']);

/** A failed Secrets Manager call; `awsErrorName` is the service's error type (never its message). */
export class SecretsManagerCallError extends RotationError {
  constructor(public readonly operation: string, public readonly awsErrorName: string, cause: unknown) {
    super(
      DENIED.has(awsErrorName) ? ERROR_CODES.ACCESS_DENIED : ERROR_CODES.SECRETS_MANAGER_ERROR,
      `Secrets Manager ${operation} failed: ${awsErrorName}`,
      cause,
    );
    this.name = 'SecretsManagerCallError';
  }
}

/**
 * The Secrets Manager calls a rotation makes, each bounded by the deadline and mapped to named errors.
 * The endpoint comes from the SDK's standard configuration (AWS_ENDPOINT_URL_SECRETS_MANAGER, VPC endpoint DNS).
 */
export class SecretsClient {
  constructor(private readonly client: SecretsManagerClient, private readonly deadline: Deadline) {}

  public async describe(secretId: string): Promise<SecretMetadata> {
    const out = await this.call('DescribeSecret', (abortSignal) =>
      this.client.send(new DescribeSecretCommand({ SecretId: secretId }), { abortSignal }));
    const tags: Record<string, string> = {};
    for (const tag of out.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
    return {
      arn: out.ARN ?? secretId,
      rotationEnabled: out.RotationEnabled,
      versionStages: out.VersionIdsToStages ?? {},
      tags,
      deleted: out.DeletedDate !== undefined,
      lastRotatedDate: out.LastRotatedDate,
    };
  }

  /** The string value of a version, or undefined when that version or stage has no value. */
  public async getValue(secretId: string, select: { versionId?: string; stage?: string }): Promise<string | undefined> {
    try {
      const out = await this.call('GetSecretValue', (abortSignal) => this.client.send(new GetSecretValueCommand({
        SecretId: secretId,
        VersionId: select.versionId,
        VersionStage: select.stage,
      }), { abortSignal }));
      if (out.SecretString === undefined) {
        throw new RotationError(ERROR_CODES.INVALID_SECRET_VALUE, 'The secret version holds binary data; rotation needs a JSON string');
      }
      return out.SecretString;
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
      throw err;
    }
  }

  /** Stores the pending value under the token. `exists` when a concurrent attempt stored a value first. */
  public async putPending(secretId: string, token: string, value: string, rotationToken?: string): Promise<'stored' | 'exists'> {
    try {
      await this.call('PutSecretValue', (abortSignal) => this.client.send(new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: value,
        VersionStages: [AWSPENDING],
        RotationToken: rotationToken,
      }), { abortSignal }));
      await faultPoint('PutSecretValue');
      return 'stored';
    } catch (err) {
      if (isAwsError(err, 'ResourceExistsException')) return 'exists';
      throw err;
    }
  }

  /** Moves AWSCURRENT to the token's version; the service moves AWSPREVIOUS itself. */
  public async promote(secretId: string, token: string, fromVersionId: string | undefined): Promise<void> {
    await this.call('UpdateSecretVersionStage', (abortSignal) => this.client.send(new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: AWSCURRENT,
      MoveToVersionId: token,
      RemoveFromVersionId: fromVersionId,
    }), { abortSignal }));
    await faultPoint('UpdateSecretVersionStage');
  }

  /** Sets one tag on the secret (TagResource), replacing its value if the key exists. */
  public async tag(secretId: string, key: string, value: string): Promise<void> {
    await this.call('TagResource', (abortSignal) => this.client.send(new TagResourceCommand({
      SecretId: secretId,
      Tags: [{ Key: key, Value: value }],
    }), { abortSignal }));
    await faultPoint('TagResource');
  }

  public async randomPassword(policy: PasswordPolicyContract): Promise<string> {
    const out = await this.call('GetRandomPassword', (abortSignal) =>
      this.client.send(new GetRandomPasswordCommand(randomPasswordRequest(policy)), { abortSignal }));
    if (!out.RandomPassword) throw new RotationError(ERROR_CODES.SECRETS_MANAGER_ERROR, 'GetRandomPassword returned no password');
    return out.RandomPassword;
  }

  private async call<T>(operation: string, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.deadline.run(`Secrets Manager ${operation}`, (signal) => send(signal));
    } catch (err) {
      if (err instanceof RotationError) throw err;
      throw new SecretsManagerCallError(operation, errorName(err), err);
    }
  }
}

export function isAwsError(err: unknown, awsErrorName: string): boolean {
  return err instanceof SecretsManagerCallError && err.awsErrorName === awsErrorName;
}

/** One SDK client per endpoint configuration, reused across warm invocations. */
let cached: { key: string; client: SecretsManagerClient } | undefined;

export function sdkClient(): SecretsManagerClient {
  const key = `${process.env.AWS_REGION}|${process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER}|${process.env.AWS_ENDPOINT_URL}`;
  if (!cached || cached.key !== key) cached = { key, client: new SecretsManagerClient({ maxAttempts: 3 }) };
  return cached.client;
}

/** The GetRandomPassword request of a password policy: what every rotation sends, and what tests draw passwords with. */
export function randomPasswordRequest(policy: PasswordPolicyContract): GetRandomPasswordCommandInput {
  return {
    PasswordLength: policy.passwordLength,
    ExcludeCharacters: policy.excludeCharacters || undefined,
    ExcludePunctuation: policy.excludePunctuation,
    ExcludeUppercase: policy.excludeUppercase,
    ExcludeLowercase: policy.excludeLowercase,
    ExcludeNumbers: policy.excludeNumbers,
    IncludeSpace: policy.includeSpace,
    RequireEachIncludedType: policy.requireEachIncludedType,
  };
}
