import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LocalSecretsManager } from './support/local-secrets-manager';
import { rejection } from './support/rejection';

let sm: LocalSecretsManager;
let client: SecretsManagerClient;
let firstVersion: string;

beforeEach(async () => {
  sm = await LocalSecretsManager.start();
  client = sm.client();
  firstVersion = (await client.send(new CreateSecretCommand({ Name: 'faulty', SecretString: 'one' }))).VersionId!;
});

afterEach(async () => {
  await sm.stop();
});

function put(value: string, token = randomUUID()): Promise<unknown> {
  return client.send(new PutSecretValueCommand({ SecretId: 'faulty', SecretString: value, ClientRequestToken: token }));
}

test('phase before: the call fails with InternalServiceError (HTTP 500) and nothing is applied', async () => {
  sm.faults.add({ operation: 'PutSecretValue' });
  const error = await rejection(put('two'));
  expect(error).toMatchObject({ name: 'InternalServiceError', status: 500 });
  expect(sm.versionStages('faulty')).toEqual({ [firstVersion]: ['AWSCURRENT'] });
  expect(sm.calls.at(-1)).toMatchObject({ operation: 'PutSecretValue', error: 'InternalServiceError' });
  await put('two');
  expect((await client.send(new GetSecretValueCommand({ SecretId: 'faulty' }))).SecretString).toBe('two');
});

test('phase after: the change is applied but the response is lost; a retry with the same token is idempotent', async () => {
  const token = randomUUID();
  sm.faults.add({ operation: 'PutSecretValue', phase: 'after' });
  expect((await rejection(put('two', token))).name).toBe('InternalServiceError');
  expect(sm.versionStages('faulty')).toEqual({ [token]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
  await put('two', token);
  expect(sm.versionStages('faulty')).toEqual({ [token]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
});

test('custom error codes are HTTP 400 with the given message; times counts down', async () => {
  sm.faults.add({ operation: 'GetSecretValue', error: 'ThrottlingException', message: 'slow down', times: 2 });
  for (let i = 0; i < 2; i++) {
    expect(await rejection(client.send(new GetSecretValueCommand({ SecretId: 'faulty' }))))
      .toMatchObject({ name: 'ThrottlingException', message: 'slow down', status: 400 });
  }
  expect(sm.faults.pending).toBe(0);
  expect((await client.send(new GetSecretValueCommand({ SecretId: 'faulty' }))).SecretString).toBe('one');
});

test('when selects the requests a rule applies to', async () => {
  sm.faults.add({ operation: 'PutSecretValue', when: input => input.SecretString === 'bad', error: 'AccessDeniedException' });
  await put('good');
  expect((await rejection(put('bad'))).name).toBe('AccessDeniedException');
  await put('bad');
});

test('rules only match their operation; clear removes them', async () => {
  sm.faults.add({ operation: 'PutSecretValue', times: Infinity });
  expect((await client.send(new GetSecretValueCommand({ SecretId: 'faulty' }))).SecretString).toBe('one');
  expect((await rejection(put('two'))).name).toBe('InternalServiceError');
  expect((await rejection(put('two'))).name).toBe('InternalServiceError');
  sm.faults.clear();
  await put('two');
});

test('delay without error makes a call slow but successful', async () => {
  sm.faults.add({ operation: 'GetSecretValue', delay: 200 });
  const started = Date.now();
  const out = await client.send(new GetSecretValueCommand({ SecretId: 'faulty' }));
  expect(out.SecretString).toBe('one');
  expect(Date.now() - started).toBeGreaterThanOrEqual(190);
});

test('delay lets a client with a request timeout time out', async () => {
  sm.faults.add({ operation: 'GetSecretValue', delay: 2_000 });
  const impatient = sm.client({ requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } });
  const started = Date.now();
  const error = await rejection(impatient.send(new GetSecretValueCommand({ SecretId: 'faulty' })));
  expect(error.name).toBe('TimeoutError');
  expect(Date.now() - started).toBeLessThan(1_500);
});

test('a fault on a rotation function\'s call fails that step and the driver retries', async () => {
  const lambda = 'arn:aws:lambda:us-east-1:123456789012:function:reader';
  const reader = sm.client();
  sm.registerFunction(lambda, async event => {
    await reader.send(new GetSecretValueCommand({ SecretId: event.SecretId }));
    throw new Error('stop here');
  });
  sm.faults.add({ operation: 'GetSecretValue', error: 'InternalServiceError' });
  await client.send(new RotateSecretCommand({ SecretId: 'faulty', RotationLambdaARN: lambda }));
  await sm.rotationSettled('faulty');
  expect(sm.invocations.map(i => i.error)).toEqual(['InternalServiceError', 'Error', 'Error']);
});

describe('a response that took effect and is lost', () => {
  test('phase after with delay: the change is made at once, the answer comes too late for a shorter client timeout', async () => {
    const token = randomUUID();
    sm.faults.add({ operation: 'PutSecretValue', phase: 'after', delay: 2_000 });
    const impatient = sm.client({ requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } });
    const started = Date.now();
    const error = await rejection(impatient.send(new PutSecretValueCommand({ SecretId: 'faulty', SecretString: 'two', ClientRequestToken: token })));
    expect(error.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(sm.versionStages('faulty')).toEqual({ [token]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
  });

  test('phase after with delay and no error: a patient client gets the success late', async () => {
    sm.faults.add({ operation: 'GetSecretValue', phase: 'after', delay: 200 });
    const started = Date.now();
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'faulty' }))).SecretString).toBe('one');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test('phase after with disconnect: the change is made and the client gets no HTTP answer at all', async () => {
    const token = randomUUID();
    sm.faults.add({ operation: 'PutSecretValue', phase: 'after', disconnect: true });
    const error = await rejection(put('two', token));
    expect(error.status).toBeUndefined();
    expect(sm.versionStages('faulty')).toEqual({ [token]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
    expect(sm.calls.at(-1)).toMatchObject({ operation: 'PutSecretValue', error: 'ConnectionDropped' });
  });

  test('phase before with disconnect: the connection drops and nothing is applied', async () => {
    sm.faults.add({ operation: 'PutSecretValue', disconnect: true });
    const error = await rejection(put('two'));
    expect(error.status).toBeUndefined();
    expect(sm.versionStages('faulty')).toEqual({ [firstVersion]: ['AWSCURRENT'] });
  });
});
