import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { bundleRotator, ROTATOR_SOURCE } from '../../examples/api-key-rotator/bundle';
import { ApiKeyService, Slot } from '../../examples/api-key-rotator/service';
import { startAll, stopAll } from '../support/lifecycle';
import { LocalSecretsManager, RotationEvent, RotationOutcome } from '../support/local-secrets-manager';
import { localSecretsManagerEnvironment } from '../support/local-secrets-manager/testing';
import { BundledHandler, OutputCapture, SimulatedCrash, lambdaContext, setFaultHook, withEnv } from '../support/rotation-harness';

/**
 * The example custom rotator (examples/api-key-rotator/rotator.ts), bundled as the example app bundles it, rotates an
 * API key against the local Secrets Manager and the example service: the slots alternate, the current key works at
 * every instant (checked after every write the rotation makes, and before and after every step), duplicates and
 * replays change nothing, a crash after any write converges on a retry, and no key reaches any output.
 */
const ACCOUNT = '123456789012';
const ROTATOR_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:api-key`;
/** Invocations always fail: RotateSecret with it leaves a value-less AWSPENDING version for the test to drive by hand. */
const MANUAL_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:manual`;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const ADMIN_TOKEN = canary('ADMIN');
const capture = new OutputCapture();
/** Every key and token the test made or saw; none may appear in any output. */
const material = new Set<string>([ADMIN_TOKEN]);
/** Secrets whose AWSCURRENT key must work at every instant. */
const watched = new Set<string>();
/** Where that did not hold. */
const violations: string[] = [];
/** Fault points where the next crash is planned (each crashes once). */
const crashAt = new Set<string>();

let sm: LocalSecretsManager;
let service: ApiKeyService;
let handler: BundledHandler;
let adminArn: string;
let restoreEnv: () => void;

function canary(prefix: string): string {
  return `${prefix}CANARY${randomBytes(12).toString('hex')}`;
}

beforeAll(async () => {
  // the shipped shape: one CommonJS file whose only requires are Node.js built-ins and the AWS SDK
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require(path.join(bundleRotator(), 'index.js')).handler;
  [sm, service] = await startAll<[LocalSecretsManager, ApiKeyService]>([
    LocalSecretsManager.start({ maxRotationAttempts: 3 }),
    ApiKeyService.start({ adminToken: ADMIN_TOKEN }),
  ]);
  restoreEnv = withEnv({
    ...localSecretsManagerEnvironment(sm),
    ROTATION_CALL_TIMEOUT_MS: '5000',
    ROTATION_PASSWORD_POLICY: undefined,
    // the SDK's notice about its releases after January 2027 is noise here
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  sm.registerFunction(ROTATOR_ARN, (event) => invoke(event));
  sm.registerFunction(MANUAL_ARN, async () => {
    throw new Error('driven by hand');
  });
  capture.start();
  setFaultHook(async (point) => {
    await checkCurrentKeys(`after ${point}`);
    if (crashAt.delete(point)) throw new SimulatedCrash(point);
  });
  adminArn = await createSecret(JSON.stringify({ url: service.url, token: ADMIN_TOKEN }));
}, 60_000);

afterAll(async () => {
  setFaultHook(undefined);
  capture.stop();
  restoreEnv?.();
  await stopAll([sm, service].filter((s) => s !== undefined));
});

/** The bundled handler as the rotation function, with the invariant checked before and after each step. */
async function invoke(event: RotationEvent): Promise<void> {
  await checkCurrentKeys(`before ${event.Step}`);
  try {
    await handler(event, lambdaContext());
  } catch (err) {
    capture.addError(err);
    throw err;
  } finally {
    await checkCurrentKeys(`after ${event.Step}`);
  }
}

async function checkCurrentKeys(when: string): Promise<void> {
  for (const arn of watched) {
    const current = await value(arn);
    if (service.slotOf(current.api_key) !== current.slot) violations.push(`${when}: the AWSCURRENT key of ${arn} is not accepted in its slot`);
  }
}

async function createSecret(secretString: string): Promise<string> {
  const out = await sm.client().send(new CreateSecretCommand({ Name: `secret-${randomBytes(4).toString('hex')}`, SecretString: secretString }));
  return out.ARN!;
}

/** An API key secret whose key the service holds in slot A, with members rotation must carry over as written. */
async function apiKeySecret(admin: string = adminArn): Promise<string> {
  const key = canary('KEY');
  material.add(key);
  // the service has one pair of slots: each test's secret takes them over
  watched.clear();
  await setSlot('A', key);
  const arn = await createSecret(`{"url": "${service.url}", "slot":"A", "api_key":"${key}", "adminarn":"${admin}",`
    + ' "owner": {"team": "payments", "n": 12345678901234567890}, "ratio": 1.10}');
  watched.add(arn);
  return arn;
}

async function setSlot(slot: Slot, key: string): Promise<void> {
  const res = await fetch(`${service.url}/admin/keys/${slot}`, {
    method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ key }),
  });
  expect(res.status).toBe(204);
}

async function raw(arn: string, stage = 'AWSCURRENT'): Promise<string> {
  const out = await sm.client().send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
  return out.SecretString!;
}

async function value(arn: string, stage = 'AWSCURRENT'): Promise<Record<string, any>> {
  const parsed = JSON.parse(await raw(arn, stage));
  if (typeof parsed.api_key === 'string') material.add(parsed.api_key);
  return parsed;
}

/** A real request with a key: the slot that accepted it, or the status. */
async function whoami(key: string): Promise<string> {
  const res = await fetch(`${service.url}/v1/whoami`, { headers: { 'x-api-key': key } });
  return res.ok ? ((await res.json()) as { slot: string }).slot : `HTTP ${res.status}`;
}

async function rotate(arn: string, lambdaArn = ROTATOR_ARN): Promise<RotationOutcome> {
  await sm.client().send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambdaArn, RotationRules: { ScheduleExpression: 'rate(4 hours)' } }));
  return sm.rotationSettled(arn);
}

/** Current and previous keys each work in their own slot, with a real request. */
async function expectBothKeysWork(arn: string): Promise<void> {
  const current = await value(arn);
  const previous = await value(arn, 'AWSPREVIOUS');
  expect(current.slot).not.toBe(previous.slot);
  expect(await whoami(current.api_key)).toBe(current.slot);
  expect(await whoami(previous.api_key)).toBe(previous.slot);
}

/** What rotation must leave exactly as written. */
function expectCarriedOver(text: string): void {
  expect(text).toContain(`"url":"${service.url}"`);
  expect(text).toContain('"owner":{"team": "payments", "n": 12345678901234567890}');
  expect(text).toContain('"ratio":1.10');
}

test('the user rotator file is at most about 40 lines of code', () => {
  const lines = fs.readFileSync(ROTATOR_SOURCE, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('//'));
  expect(lines.length).toBeLessThanOrEqual(45);
  // it imports the published kit only
  const imports = fs.readFileSync(ROTATOR_SOURCE, 'utf8').match(/from '[^']+'/g);
  expect(imports).toEqual(["from 'cdk-secrets-platform/kit'"]);
});

test('the README shows the rotator exactly as the example file has it', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Custom rotators'));
  const copy = /```typescript\n([\s\S]*?)```/.exec(section)?.[1];
  expect(copy).toBe(fs.readFileSync(ROTATOR_SOURCE, 'utf8'));
});

test('four rotations in a row alternate the slots with new keys; after each, the current and the previous key work', async () => {
  const arn = await apiKeySecret();
  const keys = [(await value(arn)).api_key];
  for (let i = 0; i < 4; i++) {
    const before = await value(arn);
    const outcome = await rotate(arn);
    expect(outcome).toMatchObject({ status: 'succeeded', attempts: 1 });
    const after = await value(arn);
    expect(after.slot).toBe(before.slot === 'A' ? 'B' : 'A');
    // 40 characters, no punctuation: the rotator's policy
    expect(after.api_key).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(keys).not.toContain(after.api_key);
    keys.push(after.api_key);
    expectCarriedOver(await raw(arn));
    await expectBothKeysWork(arn);
  }
  const lines = capture.stepLines.filter((l) => l.secretArn === arn);
  expect(lines).toHaveLength(16);
  expect(lines.every((l) => l.engine === 'api-key' && l.outcome === 'succeeded')).toBe(true);
  expect(lines.filter((l) => l.step === 'finishSecret').map((l) => l.action)).toEqual(['promoted', 'promoted', 'promoted', 'promoted']);
  expect(violations).toEqual([]);
});

test('duplicated and replayed events change nothing', async () => {
  const arn = await apiKeySecret();
  await rotate(arn, MANUAL_ARN); // a value-less AWSPENDING version, driven by hand below
  const token = Object.entries(sm.versionStages(arn)).find(([, s]) => s.includes('AWSPENDING'))![0];
  const event = (Step: string) => ({ Step, SecretId: arn, ClientRequestToken: token } as RotationEvent);
  for (const step of STEPS) {
    // a duplicate running at the same time, and a late one after it
    await Promise.all([invoke(event(step)), invoke(event(step))]);
    await invoke(event(step));
  }
  await expectBothKeysWork(arn);
  const stages = sm.versionStages(arn);
  const current = await raw(arn);
  const adminCalls = service.requests.filter((r) => r.method === 'PUT').length;
  const writes = sm.calls.filter((c) => ['PutSecretValue', 'UpdateSecretVersionStage'].includes(c.operation)).length;
  // replays of the finished rotation, in order and out of order
  for (const step of [...STEPS, ...[...STEPS].reverse()]) await invoke(event(step));
  expect(sm.versionStages(arn)).toEqual(stages);
  expect(await raw(arn)).toBe(current);
  expect(service.requests.filter((r) => r.method === 'PUT').length).toBe(adminCalls);
  expect(sm.calls.filter((c) => ['PutSecretValue', 'UpdateSecretVersionStage'].includes(c.operation)).length).toBe(writes);
  await expectBothKeysWork(arn);
  const replays = capture.stepLines.filter((l) => l.secretArn === arn).slice(-8);
  expect(replays.map((l) => l.action)).toEqual(Array(8).fill('already-current'));
  expect(violations).toEqual([]);
});

test.each(['PutSecretValue', 'api-key:setPending', 'UpdateSecretVersionStage'])('a crash right after %s converges on the retry', async (point) => {
  const arn = await apiKeySecret();
  const before = await value(arn);
  crashAt.add(point);
  const outcome = await rotate(arn);
  expect(crashAt.has(point)).toBe(false); // it did crash
  expect(outcome.status).toBe('succeeded');
  const after = await value(arn);
  expect(after.slot).toBe('B');
  expect(after.api_key).not.toBe(before.api_key);
  expect(capture.stepLines.filter((l) => l.secretArn === arn && l.outcome === 'failed').map((l) => l.errorCode)).toEqual(['INTERNAL']);
  await expectBothKeysWork(arn);
  expect(violations).toEqual([]);
});

test('an admin credential the service refuses fails setSecret with MASTER_LOGIN_FAILED; the current key keeps working', async () => {
  const wrongToken = canary('WRONG');
  material.add(wrongToken);
  const arn = await apiKeySecret(await createSecret(JSON.stringify({ url: service.url, token: wrongToken })));
  const before = await raw(arn);
  const outcome = await rotate(arn);
  expect(outcome.status).toBe('failed');
  const failed = capture.stepLines.filter((l) => l.secretArn === arn && l.outcome === 'failed');
  expect(failed.length).toBe(3);
  expect(failed.every((l) => l.step === 'setSecret' && l.errorCode === 'MASTER_LOGIN_FAILED')).toBe(true);
  expect(await raw(arn)).toBe(before);
  expect(await whoami(JSON.parse(before).api_key)).toBe('A');
  expect(violations).toEqual([]);
});

test('an admin secret of another service is refused before its token is sent (CONFUSED_DEPUTY)', async () => {
  const elsewhere = await createSecret(JSON.stringify({ url: 'https://elsewhere.example.com', token: ADMIN_TOKEN }));
  const arn = await apiKeySecret(elsewhere);
  const puts = service.requests.filter((r) => r.method === 'PUT').length;
  expect((await rotate(arn)).status).toBe('failed');
  expect(capture.stepLines.filter((l) => l.secretArn === arn && l.outcome === 'failed').map((l) => l.errorCode))
    .toEqual(['CONFUSED_DEPUTY', 'CONFUSED_DEPUTY', 'CONFUSED_DEPUTY']);
  expect(service.requests.filter((r) => r.method === 'PUT').length).toBe(puts);
});

test('no key, admin token or rotation token appears in any output line or error', () => {
  for (const invocation of sm.invocations) if (invocation.event.RotationToken) material.add(invocation.event.RotationToken);
  for (const call of sm.calls) {
    if (typeof call.input?.SecretString === 'string') {
      const parsed = JSON.parse(call.input.SecretString);
      for (const key of ['api_key', 'token']) if (typeof parsed[key] === 'string') material.add(parsed[key]);
    }
  }
  expect(material.size).toBeGreaterThan(20);
  expect(capture.stepLines.length).toBeGreaterThan(40);
  expect(capture.leaked(material)).toEqual([]);
});
