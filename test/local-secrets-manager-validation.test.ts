import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { MAX_SECRET_VALUE_BYTES } from './support/local-secrets-manager';
import { endpointPerTest } from './support/local-secrets-manager/testing';
import { rejection } from './support/rejection';

const local = endpointPerTest();

function token(length: number): string {
  return randomUUID().replace(/-/g, '').padEnd(length, 'x').slice(0, length);
}

describe('secret names', () => {
  test.each([
    ['every allowed punctuation character', 'team/app_1+a=b.c@d-e!f'],
    ['512 characters', 'n'.repeat(512)],
    ['one character', 'x'],
  ])('%s is accepted', async (_what, name) => {
    const out = await local.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
    expect(out.Name).toBe(name);
  });

  test.each([
    ['a space', 'with space'],
    ['a semicolon', 'semi;colon'],
    ['a non-ASCII letter', 'caf\u00e9'],
    ['513 characters', 'n'.repeat(513)],
    ['an empty name', ''],
  ])('a name with %s is a ValidationException', async (_what, name) => {
    const error = await rejection(local.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v' })));
    expect(error).toMatchObject({ name: 'ValidationException', status: 400 });
  });
});

describe('ClientRequestToken', () => {
  test.each([32, 64])('%i characters are accepted', async length => {
    const out = await local.client.send(new CreateSecretCommand({ Name: 'ok', SecretString: 'v', ClientRequestToken: token(length) }));
    expect(out.VersionId).toHaveLength(length);
  });

  test.each([31, 65])('%i characters are a ValidationException', async length => {
    const error = await rejection(local.client.send(new CreateSecretCommand({ Name: 'bad', SecretString: 'v', ClientRequestToken: token(length) })));
    expect(error).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(error.message).toContain('clientRequestToken');
  });
});

describe('staging labels', () => {
  test('a label of 256 characters is accepted', async () => {
    await local.client.send(new CreateSecretCommand({ Name: 'labels', SecretString: 'v' }));
    const label = 'L'.repeat(256);
    const out = await local.client.send(new PutSecretValueCommand({ SecretId: 'labels', SecretString: 'w', VersionStages: [label] }));
    expect(out.VersionStages).toEqual([label]);
  });

  test.each([
    ['PutSecretValue VersionStages', (stage: string) => new PutSecretValueCommand({ SecretId: 'labels', SecretString: 'w', VersionStages: [stage] })],
    ['GetSecretValue VersionStage', (stage: string) => new GetSecretValueCommand({ SecretId: 'labels', VersionStage: stage })],
    ['UpdateSecretVersionStage VersionStage', (stage: string) => new UpdateSecretVersionStageCommand({
      SecretId: 'labels', VersionStage: stage, MoveToVersionId: randomUUID(),
    })],
  ])('in %s, 257 characters or an empty label are a ValidationException', async (_where, command) => {
    await local.client.send(new CreateSecretCommand({ Name: 'labels', SecretString: 'v' }));
    for (const stage of ['L'.repeat(257), '']) {
      const error = await rejection(local.client.send(command(stage) as PutSecretValueCommand));
      expect(error).toMatchObject({ name: 'ValidationException', status: 400 });
    }
  });

  test('more than 20 labels in one PutSecretValue are a ValidationException', async () => {
    await local.client.send(new CreateSecretCommand({ Name: 'many', SecretString: 'v' }));
    const stages = Array.from({ length: 21 }, (_, i) => `L${i}`);
    const error = await rejection(local.client.send(new PutSecretValueCommand({ SecretId: 'many', SecretString: 'w', VersionStages: stages })));
    expect(error.name).toBe('ValidationException');
  });
});

describe('secret values', () => {
  test('a SecretString of exactly 65,536 bytes is stored', async () => {
    const value = 'a'.repeat(MAX_SECRET_VALUE_BYTES);
    await local.client.send(new CreateSecretCommand({ Name: 'big', SecretString: value }));
    expect((await local.client.send(new GetSecretValueCommand({ SecretId: 'big' }))).SecretString).toBe(value);
  });

  test.each([
    ['an empty SecretString', { SecretString: '' }],
    ['a SecretString of 65,537 bytes', { SecretString: 'a'.repeat(MAX_SECRET_VALUE_BYTES + 1) }],
    ['a SecretString of fewer characters but more than 65,536 UTF-8 bytes', { SecretString: '\u00e9'.repeat(MAX_SECRET_VALUE_BYTES / 2 + 1) }],
    ['an empty SecretBinary', { SecretBinary: new Uint8Array(0) }],
    ['a SecretBinary of 65,537 bytes', { SecretBinary: new Uint8Array(MAX_SECRET_VALUE_BYTES + 1) }],
  ])('%s is a ValidationException, on CreateSecret and PutSecretValue', async (_what, value) => {
    const created = await rejection(local.client.send(new CreateSecretCommand({ Name: 'sized', ...value })));
    expect(created).toMatchObject({ name: 'ValidationException', status: 400 });
    await local.client.send(new CreateSecretCommand({ Name: 'sized', SecretString: 'v' }));
    const put = await rejection(local.client.send(new PutSecretValueCommand({ SecretId: 'sized', ...value })));
    expect(put).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  test('the error names the member but never echoes the value', async () => {
    const value = 'SECRET'.repeat(11_000);
    const error = await rejection(local.client.send(new CreateSecretCommand({ Name: 'quiet', SecretString: value })));
    expect(error.message).toContain('secretString');
    expect(error.message).not.toContain('SECRET');
  });
});
