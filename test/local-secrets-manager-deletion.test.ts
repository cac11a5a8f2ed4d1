import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { endpointPerTest } from './support/local-secrets-manager/testing';
import { rejection } from './support/rejection';

const DAY_MS = 24 * 3600 * 1000;
const START = Date.UTC(2030, 0, 1);
const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate';
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [] });

/** The service's clock: tests move it to the end of a recovery window. */
let now = START;
const local = endpointPerTest({ now: () => new Date(now) });
let firstVersion: string;

beforeEach(async () => {
  now = START;
  local.sm.registerFunction(LAMBDA_ARN, async () => undefined);
  firstVersion = (await local.client.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'v1' }))).VersionId!;
});

function markForDeletion(): Promise<unknown> {
  return local.client.send(new DeleteSecretCommand({ SecretId: 'doomed' }));
}

describe('DeleteSecret', () => {
  test('without a window it schedules deletion 30 days out; DescribeSecret shows DeletedDate', async () => {
    const out = await local.client.send(new DeleteSecretCommand({ SecretId: 'doomed' }));
    expect(out.DeletionDate).toEqual(new Date(START + 30 * DAY_MS));
    const described = await local.client.send(new DescribeSecretCommand({ SecretId: 'doomed' }));
    expect(described.DeletedDate).toEqual(new Date(START));
  });

  test('RecoveryWindowInDays sets the window', async () => {
    const out = await local.client.send(new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: 7 }));
    expect(out.DeletionDate).toEqual(new Date(START + 7 * DAY_MS));
  });

  test.each([6, 31])('RecoveryWindowInDays %i is an InvalidParameterException', async days => {
    const error = await rejection(local.client.send(new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: days })));
    expect(error.name).toBe('InvalidParameterException');
    expect((await local.client.send(new DescribeSecretCommand({ SecretId: 'doomed' }))).DeletedDate).toBeUndefined();
  });

  test('RecoveryWindowInDays with ForceDeleteWithoutRecovery is an InvalidParameterException', async () => {
    const error = await rejection(local.client.send(new DeleteSecretCommand({
      SecretId: 'doomed', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true,
    })));
    expect(error.name).toBe('InvalidParameterException');
  });

  test('ForceDeleteWithoutRecovery removes the secret at once, even one already marked for deletion', async () => {
    await markForDeletion();
    await local.client.send(new DeleteSecretCommand({ SecretId: 'doomed', ForceDeleteWithoutRecovery: true }));
    const error = await rejection(local.client.send(new DescribeSecretCommand({ SecretId: 'doomed' })));
    expect(error.name).toBe('ResourceNotFoundException');
  });

  test('the secret is gone once its recovery window has ended', async () => {
    await local.client.send(new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: 7 }));
    now = START + 7 * DAY_MS - 1;
    await local.client.send(new DescribeSecretCommand({ SecretId: 'doomed' }));
    now = START + 7 * DAY_MS;
    expect((await rejection(local.client.send(new DescribeSecretCommand({ SecretId: 'doomed' })))).name).toBe('ResourceNotFoundException');
    await local.client.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'reborn' }));
  });
});

describe('a secret marked for deletion', () => {
  const refused: Array<[string, () => unknown]> = [
    ['GetSecretValue', () => new GetSecretValueCommand({ SecretId: 'doomed' })],
    ['PutSecretValue', () => new PutSecretValueCommand({ SecretId: 'doomed', SecretString: 'v2' })],
    ['UpdateSecret', () => new UpdateSecretCommand({ SecretId: 'doomed', Description: 'd' })],
    ['UpdateSecretVersionStage', () => new UpdateSecretVersionStageCommand({ SecretId: 'doomed', VersionStage: 'X', MoveToVersionId: firstVersion })],
    ['RotateSecret', () => new RotateSecretCommand({ SecretId: 'doomed', RotationLambdaARN: LAMBDA_ARN })],
    ['CancelRotateSecret', () => new CancelRotateSecretCommand({ SecretId: 'doomed' })],
    ['TagResource', () => new TagResourceCommand({ SecretId: 'doomed', Tags: [{ Key: 'k', Value: 'v' }] })],
    ['UntagResource', () => new UntagResourceCommand({ SecretId: 'doomed', TagKeys: ['k'] })],
    ['PutResourcePolicy', () => new PutResourcePolicyCommand({ SecretId: 'doomed', ResourcePolicy: POLICY })],
    ['DeleteResourcePolicy', () => new DeleteResourcePolicyCommand({ SecretId: 'doomed' })],
    ['DeleteSecret (again, with a window)', () => new DeleteSecretCommand({ SecretId: 'doomed' })],
  ];

  test.each(refused)('%s is an InvalidRequestException', async (_operation, command) => {
    await markForDeletion();
    const error = await rejection(local.client.send(command() as GetSecretValueCommand));
    expect(error).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(error.message).toBe('You can\'t perform this operation on the secret because it was marked for deletion.');
  });

  test('DescribeSecret, ListSecretVersionIds and GetResourcePolicy still answer', async () => {
    await markForDeletion();
    expect((await local.client.send(new DescribeSecretCommand({ SecretId: 'doomed' }))).VersionIdsToStages).toEqual({ [firstVersion]: ['AWSCURRENT'] });
    const versions = await local.client.send(new ListSecretVersionIdsCommand({ SecretId: 'doomed' }));
    expect(versions.Versions!.map(v => v.VersionId)).toEqual([firstVersion]);
    expect((await local.client.send(new GetResourcePolicyCommand({ SecretId: 'doomed' }))).Name).toBe('doomed');
  });

  test('ListSecrets shows it only with IncludePlannedDeletion', async () => {
    await markForDeletion();
    expect((await local.client.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    const planned = await local.client.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    expect(planned.SecretList!.map(s => [s.Name, s.DeletedDate])).toEqual([['doomed', new Date(START)]]);
  });

  test('CreateSecret with its name is an InvalidRequestException', async () => {
    await markForDeletion();
    const error = await rejection(local.client.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'v', ClientRequestToken: randomUUID() })));
    expect(error.name).toBe('InvalidRequestException');
  });

  test('RestoreSecret makes it usable again', async () => {
    await markForDeletion();
    const out = await local.client.send(new RestoreSecretCommand({ SecretId: 'doomed' }));
    expect(out.Name).toBe('doomed');
    expect((await local.client.send(new DescribeSecretCommand({ SecretId: 'doomed' }))).DeletedDate).toBeUndefined();
    expect((await local.client.send(new GetSecretValueCommand({ SecretId: 'doomed' }))).SecretString).toBe('v1');
  });
});
