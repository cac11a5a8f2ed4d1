import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { endpointPerTest } from './support/local-secrets-manager/testing';
import { rejection } from './support/rejection';

const ACCOUNT_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
});
const PUBLIC = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
});

const local = endpointPerTest();
let firstVersion: string;

beforeEach(async () => {
  const out = await local.client.send(new CreateSecretCommand({
    Name: 'meta', SecretString: 'v1', Description: 'first', Tags: [{ Key: 'team', Value: 'platform' }],
  }));
  firstVersion = out.VersionId!;
});

describe('UpdateSecret', () => {
  test('with a value it makes a new AWSCURRENT version and moves AWSPREVIOUS', async () => {
    const out = await local.client.send(new UpdateSecretCommand({ SecretId: 'meta', SecretString: 'v2' }));
    expect(local.sm.versionStages('meta')).toEqual({ [out.VersionId!]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
    expect((await local.client.send(new GetSecretValueCommand({ SecretId: 'meta' }))).SecretString).toBe('v2');
  });

  test('without a value it changes the description and makes no version', async () => {
    const out = await local.client.send(new UpdateSecretCommand({ SecretId: 'meta', Description: 'second' }));
    expect(out.VersionId).toBeUndefined();
    expect(local.sm.versionStages('meta')).toEqual({ [firstVersion]: ['AWSCURRENT'] });
    expect((await local.client.send(new DescribeSecretCommand({ SecretId: 'meta' }))).Description).toBe('second');
  });
});

describe('tags', () => {
  test('TagResource adds tags and overwrites the value of a key that exists', async () => {
    await local.client.send(new TagResourceCommand({ SecretId: 'meta', Tags: [{ Key: 'team', Value: 'data' }, { Key: 'env', Value: 'prod' }] }));
    const tags = (await local.client.send(new DescribeSecretCommand({ SecretId: 'meta' }))).Tags;
    expect(tags).toEqual([{ Key: 'team', Value: 'data' }, { Key: 'env', Value: 'prod' }]);
  });

  test('UntagResource removes the named keys', async () => {
    await local.client.send(new TagResourceCommand({ SecretId: 'meta', Tags: [{ Key: 'env', Value: 'prod' }] }));
    await local.client.send(new UntagResourceCommand({ SecretId: 'meta', TagKeys: ['team'] }));
    expect((await local.client.send(new DescribeSecretCommand({ SecretId: 'meta' }))).Tags).toEqual([{ Key: 'env', Value: 'prod' }]);
  });

  test('a tag key of 129 characters is a ValidationException', async () => {
    const error = await rejection(local.client.send(new TagResourceCommand({ SecretId: 'meta', Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] })));
    expect(error.name).toBe('ValidationException');
  });
});

describe('resource policies', () => {
  test('PutResourcePolicy stores the document GetResourcePolicy returns; DeleteResourcePolicy removes it', async () => {
    await local.client.send(new PutResourcePolicyCommand({ SecretId: 'meta', ResourcePolicy: ACCOUNT_ONLY }));
    expect((await local.client.send(new GetResourcePolicyCommand({ SecretId: 'meta' }))).ResourcePolicy).toBe(ACCOUNT_ONLY);
    await local.client.send(new DeleteResourcePolicyCommand({ SecretId: 'meta' }));
    expect((await local.client.send(new GetResourcePolicyCommand({ SecretId: 'meta' }))).ResourcePolicy).toBeUndefined();
  });

  test('a document that is not JSON is a MalformedPolicyDocumentException', async () => {
    const error = await rejection(local.client.send(new PutResourcePolicyCommand({ SecretId: 'meta', ResourcePolicy: '{"Statement":' })));
    expect(error.name).toBe('MalformedPolicyDocumentException');
  });

  test('BlockPublicPolicy refuses a policy that allows any principal without a condition', async () => {
    const error = await rejection(local.client.send(new PutResourcePolicyCommand({ SecretId: 'meta', ResourcePolicy: PUBLIC, BlockPublicPolicy: true })));
    expect(error.name).toBe('PublicPolicyException');
    expect((await local.client.send(new GetResourcePolicyCommand({ SecretId: 'meta' }))).ResourcePolicy).toBeUndefined();
  });
});
