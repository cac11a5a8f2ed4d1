import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { LocalSecretsManager, RotationEvent, RotationInvoker, RotationStep } from './support/local-secrets-manager';
import { rejection } from './support/rejection';

const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate';

type Hooks = Partial<Record<RotationStep, (event: RotationEvent) => Promise<void> | void>>;

/**
 * A tiny single-value rotation function that follows the protocol in docs/rotation.md through the SDK.
 * Hooks run first in their step, to fail or block it.
 */
function rotationFunction(sm: LocalSecretsManager, hooks: Hooks = {}): RotationInvoker {
  const client = sm.client();
  return async event => {
    await hooks[event.Step]?.(event);
    const described = await client.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
    if (described.RotationEnabled === false) {
      throw new Error('rotation is disabled');
    }
    const stages = described.VersionIdsToStages?.[event.ClientRequestToken];
    if (stages === undefined) {
      throw new Error('unknown token');
    }
    if (stages.includes('AWSCURRENT')) {
      return;
    }
    if (!stages.includes('AWSPENDING')) {
      throw new Error('token is not pending');
    }
    if (event.Step === 'createSecret') {
      await createSecret(client, event);
    } else if (event.Step === 'testSecret') {
      await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }));
    } else if (event.Step === 'finishSecret') {
      const current = Object.entries(described.VersionIdsToStages!).find(([, s]) => s.includes('AWSCURRENT'))![0];
      await client.send(new UpdateSecretVersionStageCommand({
        SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, RemoveFromVersionId: current,
      }));
    }
    return;
  };
}

async function createSecret(client: SecretsManagerClient, event: RotationEvent): Promise<void> {
  await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT' }));
  try {
    await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }));
    return;
  } catch (e) {
    if ((e as Error).name !== 'ResourceNotFoundException') {
      throw e;
    }
  }
  const { RandomPassword } = await client.send(new GetRandomPasswordCommand({ PasswordLength: 24 }));
  await client.send(new PutSecretValueCommand({
    SecretId: event.SecretId,
    ClientRequestToken: event.ClientRequestToken,
    SecretString: RandomPassword,
    VersionStages: ['AWSPENDING'],
    RotationToken: event.RotationToken,
  }));
}

/** A promise the test opens, and a promise that says the step reached the gate. */
function gate(): { reached: Promise<void>; open: () => void; hook: () => Promise<void> } {
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>(resolve => (open = resolve));
  const reached = new Promise<void>(resolve => (arrive = resolve));
  return {
    reached,
    open,
    hook: async () => {
      arrive();
      await opened;
    },
  };
}

let sm: LocalSecretsManager;
let client: SecretsManagerClient;
let arn: string;
let firstVersion: string;

beforeEach(async () => {
  sm = await LocalSecretsManager.start();
  client = sm.client();
  const out = await client.send(new CreateSecretCommand({ Name: 'rotated', SecretString: 'initial' }));
  arn = out.ARN!;
  firstVersion = out.VersionId!;
});

afterEach(async () => {
  await sm.stop();
});

function rotate(extra: { token?: string; lambda?: string | null; immediately?: boolean } = {}): Promise<unknown> {
  return client.send(new RotateSecretCommand({
    SecretId: 'rotated',
    ClientRequestToken: extra.token,
    RotationLambdaARN: extra.lambda === null ? undefined : extra.lambda ?? LAMBDA_ARN,
    RotationRules: { AutomaticallyAfterDays: 30 },
    RotateImmediately: extra.immediately,
  }));
}

describe('a full rotation driven by RotateSecret', () => {
  test('runs the four steps in order with one RotationToken and promotes the new version', async () => {
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm));
    const token = randomUUID();
    const response = await client.send(new RotateSecretCommand({
      SecretId: 'rotated', ClientRequestToken: token, RotationLambdaARN: LAMBDA_ARN, RotationRules: { AutomaticallyAfterDays: 30 },
    }));
    expect(response).toMatchObject({ ARN: arn, Name: 'rotated', VersionId: token });

    const outcome = await sm.rotationSettled('rotated');
    expect(outcome).toMatchObject({ status: 'succeeded', kind: 'rotation', token, attempts: 1, secretArn: arn });
    expect(sm.invocations.map(i => i.event.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(sm.invocations.every(i => i.event.SecretId === arn && i.event.ClientRequestToken === token)).toBe(true);
    const rotationTokens = new Set(sm.invocations.map(i => i.event.RotationToken));
    expect(rotationTokens.size).toBe(1);
    expect([...rotationTokens][0]).toEqual(expect.any(String));

    expect(sm.versionStages('rotated')).toEqual({ [token]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'rotated' }));
    expect(current.VersionId).toBe(token);
    expect(current.SecretString).toHaveLength(24);

    const putCall = sm.calls.find(c => c.operation === 'PutSecretValue');
    expect(putCall?.input.RotationToken).toBe(sm.invocations[0].event.RotationToken);
    expect(sm.events.map(e => [e.type, e.token, e.secretArn])).toEqual([
      ['RotationStarted', token, arn],
      ['RotationSucceeded', token, arn],
    ]);

    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotated' }));
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: LAMBDA_ARN, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(described.LastRotatedDate).toBeInstanceOf(Date);
    expect(described.NextRotationDate!.getTime()).toBeGreaterThan(described.LastRotatedDate!.getTime() + 29 * 24 * 3600 * 1000);
  });

  test('the value-less AWSPENDING version exists before createSecret runs, and a second rotation can follow', async () => {
    const createGate = gate();
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm, { createSecret: createGate.hook }));
    const token = randomUUID();
    await rotate({ token });
    await createGate.reached;
    expect(sm.versionStages('rotated')[token]).toEqual(['AWSPENDING']);
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotated' }));
    expect(described.VersionIdsToStages![token]).toEqual(['AWSPENDING']);
    expect((await rejection(client.send(new GetSecretValueCommand({ SecretId: 'rotated', VersionStage: 'AWSPENDING' })))).name)
      .toBe('ResourceNotFoundException');
    expect((await rejection(rotate())).name).toBe('InvalidRequestException');
    createGate.open();
    expect((await sm.rotationSettled('rotated')).status).toBe('succeeded');

    const second = randomUUID();
    await rotate({ token: second, lambda: null });
    expect(await sm.rotationSettled(arn)).toMatchObject({ status: 'succeeded', token: second });
    expect(sm.versionStages('rotated')).toEqual({ [second]: ['AWSCURRENT'], [token]: ['AWSPREVIOUS'] });
  });

  test('retries the whole rotation after a failed step, with a new RotationToken per attempt', async () => {
    let failures = 1;
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm, {
      setSecret: () => {
        if (failures-- > 0) {
          throw new Error('database unreachable');
        }
      },
    }));
    await rotate();
    const outcome = await sm.rotationSettled('rotated');
    expect(outcome).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(sm.invocations.map(i => [i.attempt, i.event.Step, i.error])).toEqual([
      [1, 'createSecret', undefined],
      [1, 'setSecret', 'Error'],
      [2, 'createSecret', undefined],
      [2, 'setSecret', undefined],
      [2, 'testSecret', undefined],
      [2, 'finishSecret', undefined],
    ]);
    expect(sm.invocations[0].event.RotationToken).not.toBe(sm.invocations[2].event.RotationToken);
    expect(sm.calls.filter(c => c.operation === 'PutSecretValue')).toHaveLength(1);
  });

  test('gives up after maxRotationAttempts, records RotationFailed and leaves AWSPENDING in place', async () => {
    const failure = Object.assign(new Error('login failed'), { name: 'PendingLoginFailed' });
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm, { testSecret: () => Promise.reject(failure) }));
    const token = randomUUID();
    await rotate({ token });
    const outcome = await sm.rotationSettled('rotated');
    expect(outcome).toMatchObject({ status: 'failed', attempts: 3, step: 'testSecret', errorCode: 'PendingLoginFailed', error: failure });
    expect(sm.invocations).toHaveLength(9);
    expect(sm.invocations.filter(i => i.event.Step === 'finishSecret')).toHaveLength(0);
    expect(sm.events.map(e => e.type)).toEqual(['RotationStarted', 'RotationFailed']);
    expect(sm.events[1]).toMatchObject({ token, step: 'testSecret', errorCode: 'PendingLoginFailed' });
    expect(sm.versionStages('rotated')).toEqual({ [firstVersion]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    const error = await rejection(rotate());
    expect(error.name).toBe('InvalidRequestException');
    expect(error.message).toContain("A previous rotation isn't complete");
  });

  test('maxRotationAttempts is configurable', async () => {
    const single = await LocalSecretsManager.start({ maxRotationAttempts: 1 });
    try {
      await single.client().send(new CreateSecretCommand({ Name: 'once', SecretString: 'x' }));
      let calls = 0;
      single.registerFunction(LAMBDA_ARN, async () => {
        calls++;
        throw new Error('no');
      });
      await single.client().send(new RotateSecretCommand({ SecretId: 'once', RotationLambdaARN: LAMBDA_ARN }));
      expect(await single.rotationSettled('once')).toMatchObject({ status: 'failed', attempts: 1, step: 'createSecret' });
      expect(calls).toBe(1);
    } finally {
      await single.stop();
    }
  });

  test('a finishSecret that does not move AWSCURRENT does not count as success', async () => {
    const lazy = rotationFunction(sm);
    sm.registerFunction(LAMBDA_ARN, async event => (event.Step === 'finishSecret' ? undefined : lazy(event)));
    const token = randomUUID();
    await rotate({ token });
    const outcome = await sm.rotationSettled('rotated');
    expect(outcome).toMatchObject({ status: 'failed', step: 'finishSecret', attempts: 3 });
    expect(sm.events.map(e => e.type)).toEqual(['RotationStarted', 'RotationFailed']);
    expect(sm.versionStages('rotated')[firstVersion]).toEqual(['AWSCURRENT']);
  });

  test('a function the service cannot invoke is refused with AccessDeniedException before anything changes', async () => {
    sm.registerFunction(LAMBDA_ARN, async () => undefined);
    await rotate({ immediately: false });
    await sm.rotationSettled('rotated');
    const before = await client.send(new DescribeSecretCommand({ SecretId: 'rotated' }));
    const missing = 'arn:aws:lambda:us-east-1:123456789012:function:missing';
    const error = await rejection(client.send(new RotateSecretCommand({
      SecretId: 'rotated', RotationLambdaARN: missing, RotationRules: { ScheduleExpression: 'rate(10 days)' },
    })));
    expect(error).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(error.message).toContain('cannot invoke the specified Lambda function');
    const after = await client.send(new DescribeSecretCommand({ SecretId: 'rotated' }));
    expect(after).toMatchObject({ RotationLambdaARN: LAMBDA_ARN, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(after.LastChangedDate).toEqual(before.LastChangedDate);
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'rotated', IncludeDeprecated: true }));
    expect(versions.Versions!.map(v => v.VersionId)).toEqual([firstVersion]);
    expect(sm.invocations.map(i => i.lambdaArn)).toEqual([LAMBDA_ARN]);
  });

  test('a function that exists but always fails is invoked, and leaves a value-less AWSPENDING version', async () => {
    sm.registerFunction(LAMBDA_ARN, () => Promise.reject(new Error('driven by hand')));
    const token = randomUUID();
    await rotate({ token });
    expect(await sm.rotationSettled('rotated')).toMatchObject({ status: 'failed', token, step: 'createSecret' });
    expect(sm.versionStages('rotated')).toEqual({ [firstVersion]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: 'rotated', VersionId: token, VersionStage: 'AWSPENDING' })));
    expect(error.name).toBe('ResourceNotFoundException');
  });

  test('RotateSecret without a function ARN and none configured is an InvalidRequestException', async () => {
    const error = await rejection(rotate({ lambda: null }));
    expect(error.name).toBe('InvalidRequestException');
    expect(sm.versionStages('rotated')).toEqual({ [firstVersion]: ['AWSCURRENT'] });
  });

  test('a dangling AWSPENDING from elsewhere blocks RotateSecret', async () => {
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm));
    await client.send(new PutSecretValueCommand({ SecretId: 'rotated', SecretString: 'half', VersionStages: ['AWSPENDING'] }));
    expect((await rejection(rotate())).name).toBe('InvalidRequestException');
    expect(sm.invocations).toHaveLength(0);
  });

  test('AWSPENDING on the current version does not block RotateSecret', async () => {
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: 'rotated', VersionStage: 'AWSPENDING', MoveToVersionId: firstVersion }));
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm));
    const token = randomUUID();
    await rotate({ token });
    expect((await sm.rotationSettled('rotated')).status).toBe('succeeded');
    expect(sm.versionStages('rotated')).toEqual({ [token]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
  });
});

describe('RotateImmediately false', () => {
  test('runs only testSecret, with the VersionId of a new AWSPENDING version, never the AWSCURRENT one', async () => {
    const seen: RotationEvent[] = [];
    sm.registerFunction(LAMBDA_ARN, async event => {
      seen.push(event);
    });
    const response = await client.send(new RotateSecretCommand({
      SecretId: 'rotated', RotationLambdaARN: LAMBDA_ARN, RotationRules: { ScheduleExpression: 'rate(10 days)' }, RotateImmediately: false,
    }));
    const outcome = await sm.rotationSettled('rotated');
    expect(outcome).toMatchObject({ status: 'succeeded', kind: 'validation', token: response.VersionId });
    expect(outcome.token).not.toBe(firstVersion);
    expect(seen).toEqual([{ Step: 'testSecret', SecretId: arn, ClientRequestToken: outcome.token, RotationToken: expect.any(String) }]);
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotated' }));
    expect(described).toMatchObject({ RotationEnabled: true, RotationRules: { ScheduleExpression: 'rate(10 days)' } });
    expect(described.LastRotatedDate).toBeUndefined();
    expect(sm.events).toEqual([]);
  });

  test('the version testSecret validates is labelled AWSPENDING and holds a copy of the AWSCURRENT value', async () => {
    const reader = sm.client();
    let seen: { stages?: string[]; value?: string } = {};
    sm.registerFunction(LAMBDA_ARN, async event => {
      const pending = await reader.send(new GetSecretValueCommand({
        SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING',
      }));
      seen = { stages: pending.VersionStages, value: pending.SecretString };
    });
    await rotate({ immediately: false });
    expect((await sm.rotationSettled('rotated')).status).toBe('succeeded');
    expect(seen).toEqual({ stages: ['AWSPENDING'], value: 'initial' });
  });

  test('the validation version is removed after testSecret succeeds', async () => {
    sm.registerFunction(LAMBDA_ARN, async () => undefined);
    await rotate({ immediately: false });
    const { token } = await sm.rotationSettled('rotated');
    expect(sm.versionStages('rotated')).toEqual({ [firstVersion]: ['AWSCURRENT'] });
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'rotated', IncludeDeprecated: true }));
    expect(versions.Versions!.map(v => v.VersionId)).toEqual([firstVersion]);
    expect(token).not.toBe(firstVersion);
  });

  test('the validation version is removed after testSecret fails too, so a rotation can follow', async () => {
    sm.registerFunction(LAMBDA_ARN, () => Promise.reject(new Error('bad config')));
    await rotate({ immediately: false });
    expect((await sm.rotationSettled('rotated')).status).toBe('failed');
    expect(sm.versionStages('rotated')).toEqual({ [firstVersion]: ['AWSCURRENT'] });
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm));
    await rotate();
    expect((await sm.rotationSettled('rotated')).status).toBe('succeeded');
  });

  test('a failing validation is reported once, without retries', async () => {
    sm.registerFunction(LAMBDA_ARN, () => Promise.reject(new Error('bad config')));
    await rotate({ immediately: false });
    expect(await sm.rotationSettled('rotated')).toMatchObject({ status: 'failed', kind: 'validation', step: 'testSecret' });
    expect(sm.invocations).toHaveLength(1);
    expect(sm.events.map(e => e.type)).toEqual(['RotationFailed']);
  });

  test('invalid schedules are rejected', async () => {
    sm.registerFunction(LAMBDA_ARN, async () => undefined);
    for (const rules of [
      { ScheduleExpression: 'rate(2 hours)' },
      { ScheduleExpression: 'cron(30 4 * * ? *)' },
      { ScheduleExpression: 'rate(1 day)', AutomaticallyAfterDays: 1 },
    ]) {
      const error = await rejection(client.send(new RotateSecretCommand({ SecretId: 'rotated', RotationLambdaARN: LAMBDA_ARN, RotationRules: rules })));
      expect(error.name).toBe('InvalidParameterException');
    }
    expect(sm.invocations).toHaveLength(0);
  });
});

describe('interrupting a rotation', () => {
  test('a manual PutSecretValue abandons the rotation: AWSPENDING removed, RotationAbandoned, driver stops', async () => {
    const setGate = gate();
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm, { setSecret: setGate.hook }));
    const token = randomUUID();
    await rotate({ token });
    await setGate.reached;
    expect(sm.versionStages('rotated')[token]).toEqual(['AWSPENDING']);
    const manual = await client.send(new PutSecretValueCommand({ SecretId: 'rotated', SecretString: 'set by hand' }));
    expect(sm.versionStages('rotated')).toEqual({ [manual.VersionId!]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] });
    expect(sm.events.map(e => [e.type, e.token])).toEqual([['RotationStarted', token], ['RotationAbandoned', token]]);
    setGate.open();
    const outcome = await sm.rotationSettled('rotated');
    expect(outcome).toMatchObject({ status: 'abandoned', token, attempts: 1 });
    expect(sm.invocations.map(i => i.event.Step)).toEqual(['createSecret', 'setSecret']);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'rotated' }))).SecretString).toBe('set by hand');
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm));
    await rotate();
    expect((await sm.rotationSettled('rotated')).status).toBe('succeeded');
  });

  test('a PutSecretValue that does not move AWSCURRENT does not abandon', async () => {
    const setGate = gate();
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm, { setSecret: setGate.hook }));
    await rotate();
    await setGate.reached;
    await client.send(new PutSecretValueCommand({ SecretId: 'rotated', SecretString: 'side', VersionStages: ['SIDE'] }));
    setGate.open();
    expect((await sm.rotationSettled('rotated')).status).toBe('succeeded');
    expect(sm.events.map(e => e.type)).toEqual(['RotationStarted', 'RotationSucceeded']);
  });

  test('CancelRotateSecret stops the driver and leaves the pending version as it is', async () => {
    const setGate = gate();
    sm.registerFunction(LAMBDA_ARN, rotationFunction(sm, { setSecret: setGate.hook }));
    const token = randomUUID();
    await rotate({ token });
    await setGate.reached;
    const cancelled = await client.send(new CancelRotateSecretCommand({ SecretId: 'rotated' }));
    expect(cancelled.VersionId).toBe(token);
    setGate.open();
    expect(await sm.rotationSettled('rotated')).toMatchObject({ status: 'cancelled', token });
    expect(sm.invocations.map(i => i.event.Step)).toEqual(['createSecret', 'setSecret']);
    expect(sm.versionStages('rotated')).toEqual({ [firstVersion]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'rotated' }))).RotationEnabled).toBe(false);
  });

  test('rotationSettled rejects for a secret that never rotated', async () => {
    await expect(sm.rotationSettled('rotated')).rejects.toThrow(/No rotation/);
  });
});
