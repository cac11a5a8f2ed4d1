import * as fs from 'fs';
import * as path from 'path';
import {
  CancelRotateSecretCommand, CreateSecretCommand, DescribeSecretCommand, RotateSecretCommand, RotationRulesType,
} from '@aws-sdk/client-secrets-manager';
import { ERROR_CODES, MONITORING_FUNCTION_IDS, OVERDUE_ENV, ROTATION_METRICS } from '../../src/private/contract';
import { endpointPerTest } from '../support/local-secrets-manager/testing';
import { ASSETS_DIR, OutputCapture, withEnv } from '../support/rotation-harness';

/**
 * The shipped overdue check (`assets/rotation-overdue-check/index.js`) against the local Secrets Manager endpoint:
 * real HTTP, the real SDK, reached through AWS_ENDPOINT_URL_SECRETS_MANAGER. Secrets get their dates the way the service
 * gives them: the endpoint's clock is moved back, the secret is created and rotated (by a stand-in rotation function,
 * through RotateSecret), and the clock comes back to the present, where the check runs.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const FN = 'arn:aws:lambda:us-east-1:123456789012:function';
const PG_FN = `${FN}:platform-postgres-rotator`;
const MY_FN = `${FN}:platform-mysql-rotator`;
const OTHER_FN = `${FN}:someone-elses-rotator`;
const GRACE_SECONDS = 86_400;
const ENGINE_MAP = JSON.stringify({ [PG_FN]: 'postgres-single-user', [MY_FN]: 'mysql-single-user' });
const VALUE_CANARY = 'CANARY-overdue-value';

type Handler = (event: unknown) => Promise<unknown>;

function loadHandler(): Handler {
  const file = path.join(ASSETS_DIR, MONITORING_FUNCTION_IDS.OVERDUE_CHECK, 'index.js');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npx projen bundle\` first`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file).handler as Handler;
}

/** How far the endpoint's clock is behind the real one. */
let clockBehindMs = 0;
const local = endpointPerTest({ now: () => new Date(Date.now() - clockBehindMs) });
let restoreEnv: () => void;
let capture: OutputCapture;
const handler = loadHandler();

beforeAll(() => {
  restoreEnv = withEnv({
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret-key',
    AWS_SESSION_TOKEN: undefined,
    AWS_ENDPOINT_URL: undefined,
    [OVERDUE_ENV.GRACE_PERIOD_SECONDS]: String(GRACE_SECONDS),
    [OVERDUE_ENV.ENGINE_BY_FUNCTION]: ENGINE_MAP,
  });
});

afterAll(() => restoreEnv());

beforeEach(() => {
  clockBehindMs = 0;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = local.sm.endpoint;
  // a stand-in rotation function: stores a pending value and promotes it, as the protocol asks
  for (const arn of [PG_FN, `${MY_FN}:live`, OTHER_FN]) {
    local.sm.registerFunction(arn, async (event) => {
      const store = local.sm.store;
      if (event.Step === 'createSecret') {
        store.putSecretValue({ SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: `${VALUE_CANARY}-${event.ClientRequestToken}`, VersionStages: ['AWSPENDING'] });
      } else if (event.Step === 'finishSecret') {
        const current = Object.entries(store.versionStages(event.SecretId)).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
        if (current !== event.ClientRequestToken) {
          store.updateSecretVersionStage({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, RemoveFromVersionId: current });
        }
      }
    });
  }
  capture = new OutputCapture();
});

afterEach(() => {
  capture.stop();
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
});

/** Runs the steps with the endpoint's clock `daysAgo` days behind. */
async function at<T>(daysAgo: number, steps: () => Promise<T>): Promise<T> {
  clockBehindMs = daysAgo * DAY;
  try {
    return await steps();
  } finally {
    clockBehindMs = 0;
  }
}

async function create(name: string): Promise<string> {
  const out = await local.client.send(new CreateSecretCommand({ Name: name, SecretString: `${VALUE_CANARY}-${name}` }));
  return out.ARN!;
}

/** RotateSecret and wait for the service's run of the function; `immediately: false` only validates (testSecret). */
async function rotate(name: string, lambdaArn: string, rules: RotationRulesType | undefined, immediately = true): Promise<void> {
  await local.client.send(new RotateSecretCommand({
    SecretId: name, RotationLambdaARN: lambdaArn, RotationRules: rules, RotateImmediately: immediately,
  }));
  const outcome = await local.sm.rotationSettled(name);
  expect(outcome.status).toBe('succeeded');
}

async function lastRotated(name: string): Promise<Date> {
  const out = await local.client.send(new DescribeSecretCommand({ SecretId: name }));
  return out.LastRotatedDate!;
}

/** Runs the shipped handler, returning the JSON lines it wrote and the real time around the run. */
async function runCheck(): Promise<{ lines: Array<Record<string, any>>; before: number; after: number; result: unknown }> {
  capture.start();
  const before = Date.now();
  try {
    const result = await handler({ 'version': '0', 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'detail': {} });
    return { lines: jsonLines(), before, after: Date.now(), result };
  } finally {
    capture.stop();
  }
}

function jsonLines(): Array<Record<string, any>> {
  return capture.text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

const isMetricRecord = (line: Record<string, any>) => line._aws !== undefined;

/** The first window start of `cron(0 6 ? * MON *)` strictly after `after`: the next Monday 06:00 UTC. */
function nextMonday0600(after: Date): Date {
  let t = Math.floor(after.getTime() / HOUR) * HOUR + HOUR;
  while (!(new Date(t).getUTCDay() === 1 && new Date(t).getUTCHours() === 6)) t += HOUR;
  return new Date(t);
}

const startOfUtcDay = (d: Date) => Math.floor(d.getTime() / DAY) * DAY;

test('a mixed account: on time, overdue by rate and by cron, disabled, never rotated, unknown schedule; EMF record by record', async () => {
  const onTime = await at(2, async () => {
    const arn = await create('on-time');
    await rotate('on-time', PG_FN, { ScheduleExpression: 'rate(30 days)' });
    return arn;
  });
  const lateRate = await at(20, async () => {
    const arn = await create('late-rate');
    await rotate('late-rate', PG_FN, { ScheduleExpression: 'rate(7 days)' });
    return arn;
  });
  const lateCron = await at(20, async () => {
    const arn = await create('late-cron');
    // rotated by a version of the function: the qualified ARN still names the engine
    await rotate('late-cron', `${MY_FN}:live`, { ScheduleExpression: 'cron(0 6 ? * MON *)', Duration: '3h' });
    return arn;
  });
  await at(100, async () => {
    await create('disabled');
    await rotate('disabled', PG_FN, { ScheduleExpression: 'rate(1 day)' });
  });
  await local.client.send(new CancelRotateSecretCommand({ SecretId: 'disabled' }));
  const neverOld = await at(40, async () => {
    const arn = await create('never-rotated-old');
    await rotate('never-rotated-old', PG_FN, { ScheduleExpression: 'rate(30 days)' }, false);
    return arn;
  });
  const neverYoung = await at(5, async () => {
    const arn = await create('never-rotated-young');
    await rotate('never-rotated-young', PG_FN, { ScheduleExpression: 'rate(30 days)' }, false);
    return arn;
  });
  const noRules = await at(3, async () => {
    const arn = await create('no-rules');
    await rotate('no-rules', OTHER_FN, undefined);
    return arn;
  });
  await create('never-configured');

  const lateRateRotated = await lastRotated('late-rate');
  const lateCronRotated = await lastRotated('late-cron');
  const neverOldCreated = (await local.client.send(new DescribeSecretCommand({ SecretId: 'never-rotated-old' }))).CreatedDate!;
  expect((await local.client.send(new DescribeSecretCommand({ SecretId: 'never-rotated-old' }))).LastRotatedDate).toBeUndefined();

  const callsBefore = local.sm.calls.length;
  const { lines, before, after, result } = await runCheck();

  // every line is JSON, in order: engine records (sorted), the total record, overdue secrets, unknown schedules, summary
  expect(capture.text.split('\n').filter((l) => l.trim() !== '').every((l) => l.startsWith('{'))).toBe(true);
  const records = lines.filter(isMetricRecord);
  expect(lines.slice(0, 4)).toEqual(records);
  for (const record of records) {
    expect(record._aws.Timestamp).toBeGreaterThanOrEqual(before);
    expect(record._aws.Timestamp).toBeLessThanOrEqual(after);
  }
  const countsDirective = (dimensions: string[][], extra: Array<{ Name: string; Unit: string }> = []) => ({
    Timestamp: expect.any(Number),
    CloudWatchMetrics: [{
      Namespace: ROTATION_METRICS.NAMESPACE,
      Dimensions: dimensions,
      Metrics: [
        { Name: ROTATION_METRICS.OVERDUE_SECRETS, Unit: 'Count' },
        { Name: ROTATION_METRICS.ROTATION_ENABLED_SECRETS, Unit: 'Count' },
        { Name: ROTATION_METRICS.UNKNOWN_SCHEDULE_SECRETS, Unit: 'Count' },
        ...extra,
      ],
    }],
  });
  expect(records[0]).toEqual({
    _aws: countsDirective([['Engine']]), Engine: 'mysql-single-user', OverdueSecrets: 1, RotationEnabledSecrets: 1, UnknownScheduleSecrets: 0,
  });
  expect(records[1]).toEqual({
    _aws: countsDirective([['Engine']]), Engine: 'postgres-single-user', OverdueSecrets: 2, RotationEnabledSecrets: 4, UnknownScheduleSecrets: 0,
  });
  expect(records[2]).toEqual({
    _aws: countsDirective([['Engine']]), Engine: ROTATION_METRICS.UNKNOWN_ENGINE, OverdueSecrets: 0, RotationEnabledSecrets: 1, UnknownScheduleSecrets: 1,
  });
  // the oldest is the secret never rotated in 40 days; the disabled one (100 days) does not count
  const total = records[3];
  expect(total).toEqual({
    _aws: countsDirective([[]], [{ Name: ROTATION_METRICS.OLDEST_ROTATION_AGE, Unit: 'Seconds' }]),
    OverdueSecrets: 3,
    RotationEnabledSecrets: 6,
    UnknownScheduleSecrets: 1,
    OldestRotationAge: expect.any(Number),
  });
  expect(total.OldestRotationAge).toBeGreaterThanOrEqual(Math.floor((before - neverOldCreated.getTime()) / 1000));
  expect(total.OldestRotationAge).toBeLessThanOrEqual(Math.ceil((after - neverOldCreated.getTime()) / 1000));

  // one line per overdue secret, in listing order, with the missed window and how long ago it closed
  const overdue = lines.filter((l) => l.message === 'rotation overdue');
  expect(overdue.map((l) => l.secretName)).toEqual(['late-rate', 'late-cron', 'never-rotated-old']);
  const expectWindow = (line: Record<string, any>, arn: string, engine: string, start: number, end: number) => {
    expect(line).toEqual({
      level: 'WARN',
      message: 'rotation overdue',
      secretArn: arn,
      secretName: line.secretName,
      engine,
      dueAt: new Date(start).toISOString(),
      windowEnd: new Date(end).toISOString(),
      overdueBySeconds: expect.any(Number),
    });
    expect(line.overdueBySeconds).toBeGreaterThanOrEqual(Math.floor((before - end) / 1000));
    expect(line.overdueBySeconds).toBeLessThanOrEqual(Math.ceil((after - end) / 1000));
    expect(line.overdueBySeconds).toBeGreaterThan(GRACE_SECONDS);
  };
  // rate(7 days): the whole UTC day 7 days after the day of the last rotation
  const rateStart = startOfUtcDay(lateRateRotated) + 7 * DAY;
  expectWindow(overdue[0], lateRate, 'postgres-single-user', rateStart, rateStart + DAY);
  // cron, Mondays 06:00 with a 3-hour window
  const cronStart = nextMonday0600(lateCronRotated).getTime();
  expectWindow(overdue[1], lateCron, 'mysql-single-user', cronStart, cronStart + 3 * HOUR);
  // never rotated: from creation, one interval (30 days) on, its day's window
  const neverStart = startOfUtcDay(neverOldCreated) + 30 * DAY;
  expectWindow(overdue[2], neverOld, 'postgres-single-user', neverStart, neverStart + DAY);

  expect(lines.filter((l) => l.message === 'rotation schedule unknown')).toEqual([{
    level: 'WARN', message: 'rotation schedule unknown', secretArn: noRules, secretName: 'no-rules', engine: ROTATION_METRICS.UNKNOWN_ENGINE, reason: 'no rotation rules',
  }]);
  const summary = lines[lines.length - 1];
  expect(summary).toEqual({
    level: 'INFO',
    message: 'overdue check finished',
    rotationEnabled: 6,
    overdue: 3,
    unknownSchedule: 1,
    overdueNotListed: 0,
    unknownScheduleNotListed: 0,
    oldestRotationAgeSeconds: total.OldestRotationAge,
    pages: 1,
    durationMs: expect.any(Number),
  });
  // the invocation's result is the summary
  const { level: _level, message: _message, ...summaryFields } = summary;
  expect(result).toEqual(summaryFields);
  // nobody listed as on time is in the overdue lines
  expect(capture.text).not.toContain(onTime);
  expect(capture.text).not.toContain(neverYoung);
  // metadata only: one ListSecrets call, no secret value read or written
  expect(capture.text).not.toContain(VALUE_CANARY);
  expect(local.sm.calls.slice(callsBefore).map((c) => c.operation)).toEqual(['ListSecrets']);
});

test('with no secrets the total record is still written (zeros), and each configured engine has its record', async () => {
  const { lines } = await runCheck();
  const records = lines.filter(isMetricRecord);
  expect(records.map((r) => [r.Engine, r.OverdueSecrets, r.RotationEnabledSecrets, r.UnknownScheduleSecrets, r.OldestRotationAge])).toEqual([
    ['mysql-single-user', 0, 0, 0, undefined],
    ['postgres-single-user', 0, 0, 0, undefined],
    [undefined, 0, 0, 0, 0],
  ]);
  expect(records[2]._aws.CloudWatchMetrics[0].Dimensions).toEqual([[]]);
});

test('without an engine map only the total record is written', async () => {
  const restore = withEnv({ [OVERDUE_ENV.ENGINE_BY_FUNCTION]: undefined });
  try {
    const { lines } = await runCheck();
    expect(lines.filter(isMetricRecord).map((r) => r._aws.CloudWatchMetrics[0].Dimensions)).toEqual([[[]]]);
  } finally {
    restore();
  }
});

test('250 secrets take three ListSecrets pages of up to 100, and every rotation-enabled one is counted', async () => {
  const names = Array.from({ length: 250 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map(async (name) => {
      await create(name);
      await local.client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: PG_FN, RotationRules: { ScheduleExpression: 'rate(30 days)' }, RotateImmediately: false }));
      await local.sm.rotationSettled(name);
    }));
  }
  // secrets without rotation are listed but not counted
  for (const name of ['plain-1', 'plain-2']) await create(name);
  const { lines } = await runCheck();
  const listCalls = local.sm.calls.filter((c) => c.operation === 'ListSecrets');
  expect(listCalls.map((c) => c.input.MaxResults)).toEqual([100, 100, 100]);
  expect(listCalls.map((c) => c.input.NextToken === undefined)).toEqual([true, false, false]);
  const total = lines.find((l) => isMetricRecord(l) && l.Engine === undefined)!;
  expect([total.RotationEnabledSecrets, total.OverdueSecrets, total.UnknownScheduleSecrets]).toEqual([250, 0, 0]);
  expect(lines.find((l) => l.Engine === 'postgres-single-user')!.RotationEnabledSecrets).toBe(250);
  expect(lines[lines.length - 1]).toMatchObject({ message: 'overdue check finished', pages: 3, rotationEnabled: 250 });
}, 120_000);

test('a malformed environment fails the invocation with INVALID_CONFIGURATION, before any call and without metrics', async () => {
  const restore = withEnv({ [OVERDUE_ENV.ENGINE_BY_FUNCTION]: `{"${PG_FN}": "postgres-single-user", "password": "CANARY-env-1"` });
  try {
    capture.start();
    const failure = await handler({}).then(() => undefined, (err: unknown) => err);
    capture.stop();
    expect(failure).toMatchObject({ code: ERROR_CODES.INVALID_CONFIGURATION });
    const lines = jsonLines();
    expect(lines).toEqual([expect.objectContaining({ level: 'ERROR', message: 'overdue check failed', errorCode: ERROR_CODES.INVALID_CONFIGURATION })]);
    expect(capture.text).not.toContain('CANARY');
    expect(local.sm.calls).toEqual([]);
  } finally {
    restore();
  }
});

test('a failing ListSecrets fails the invocation with the service\'s error name and writes no metrics (the alarm sees missing data)', async () => {
  await create('some-secret');
  local.sm.faults.add({ operation: 'ListSecrets', error: 'AccessDeniedException', message: 'not allowed' });
  capture.start();
  const failure = await handler({}).then(() => undefined, (err: unknown) => err);
  capture.stop();
  expect(failure).toMatchObject({ code: ERROR_CODES.ACCESS_DENIED, awsErrorName: 'AccessDeniedException' });
  const lines = jsonLines();
  expect(lines.filter(isMetricRecord)).toEqual([]);
  expect(lines).toEqual([expect.objectContaining({ level: 'ERROR', message: 'overdue check failed', errorCode: ERROR_CODES.ACCESS_DENIED })]);
});
