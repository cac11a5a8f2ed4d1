import {
  checkOverdue, ListingTooLongError, MAX_LISTED_SECRETS, MAX_PAGES, OverdueConfig, OverdueConfigError, PageReader, readOverdueConfig, SecretListing,
  unqualifiedFunctionArn,
} from '../../../lambda/monitoring/overdue';
import { ERROR_CODES, OVERDUE_ENV, ROTATION_METRICS } from '../../../src/private/contract';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function';
const PG = `${FN}:pg-rotator`;
const MY = `${FN}:mysql-rotator`;
const NOW = new Date('2026-06-15T12:00:00Z');
const DAY = 86_400_000;

function config(grace = 0): OverdueConfig {
  return readOverdueConfig({
    [OVERDUE_ENV.GRACE_PERIOD_SECONDS]: String(grace),
    [OVERDUE_ENV.ENGINE_BY_FUNCTION]: JSON.stringify({ [PG]: 'postgres-single-user', [MY]: 'mysql-single-user' }),
  });
}

function secret(name: string, fields: Partial<SecretListing> = {}): SecretListing {
  return {
    ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
    Name: name,
    RotationEnabled: true,
    RotationLambdaARN: PG,
    RotationRules: { ScheduleExpression: 'rate(30 days)' },
    CreatedDate: new Date(NOW.getTime() - 400 * DAY),
    LastRotatedDate: new Date(NOW.getTime() - 2 * DAY),
    ...fields,
  };
}

/** Serves the secrets in pages of `size`, recording the tokens it was called with. */
function pagesOf(secrets: SecretListing[], size = 100): PageReader & { tokens: Array<string | undefined> } {
  const tokens: Array<string | undefined> = [];
  const reader = async (token: string | undefined) => {
    tokens.push(token);
    const start = token === undefined ? 0 : Number(token.slice('page-'.length));
    const end = start + size;
    return { secrets: secrets.slice(start, end), nextToken: end < secrets.length ? `page-${end}` : undefined };
  };
  return Object.assign(reader, { tokens });
}

function configError(env: Record<string, string>): OverdueConfigError {
  try {
    readOverdueConfig(env);
  } catch (err) {
    if (err instanceof OverdueConfigError) return err;
    throw err;
  }
  throw new Error('expected an OverdueConfigError');
}

describe('configuration', () => {
  test('unset means no grace period and no known functions', () => {
    expect(readOverdueConfig({})).toEqual({ graceSeconds: 0, engineByFunction: new Map() });
  });

  test('a qualified function ARN in the map is stored without its qualifier', () => {
    const parsed = readOverdueConfig({ [OVERDUE_ENV.ENGINE_BY_FUNCTION]: JSON.stringify({ [`${PG}:live`]: 'postgres-single-user' }) });
    expect([...parsed.engineByFunction]).toEqual([[PG, 'postgres-single-user']]);
  });

  test.each([
    ['not a number', 'soon'],
    ['negative', '-1'],
    ['fractional', '1.5'],
    ['over a year', String(366 * 24 * 3600 + 1)],
    ['with spaces', ' 60'],
  ])('a grace period that is %s is refused with a stable code', (_name, value) => {
    const err = configError({ [OVERDUE_ENV.GRACE_PERIOD_SECONDS]: value });
    expect(err.code).toBe(ERROR_CODES.INVALID_CONFIGURATION);
    expect(err.message).toContain(OVERDUE_ENV.GRACE_PERIOD_SECONDS);
  });

  test.each([
    ['not JSON', `{"${PG}": "postgres", "password": "CANARY-pw-1"`],
    ['an array', '["CANARY-pw-1"]'],
    ['a key that is not a function ARN', JSON.stringify({ 'CANARY-pw-1': 'postgres' })],
    ['an engine name with a space', JSON.stringify({ [PG]: 'CANARY pw 1' })],
    ['an engine name that is not a string', JSON.stringify({ [PG]: 42 })],
    ['null', 'null'],
  ])('an engine map that is %s is refused without repeating its content', (_name, value) => {
    const err = configError({ [OVERDUE_ENV.ENGINE_BY_FUNCTION]: value });
    expect(err.code).toBe(ERROR_CODES.INVALID_CONFIGURATION);
    expect(err.message).toContain(OVERDUE_ENV.ENGINE_BY_FUNCTION);
    expect(`${err.message} ${err.stack} ${JSON.stringify(err)} ${err.cause?.message}`).not.toContain('CANARY');
  });

  test('the JSON parse failure is kept as a redacted cause', () => {
    const err = configError({ [OVERDUE_ENV.ENGINE_BY_FUNCTION]: '{"CANARY-pw-1"' });
    expect(err.cause?.message).toBe('SyntaxError');
  });
});

test('function ARNs lose a version or alias qualifier, nothing else', () => {
  expect(unqualifiedFunctionArn(`${PG}:7`)).toBe(PG);
  expect(unqualifiedFunctionArn(`${PG}:$LATEST`)).toBe(PG);
  expect(unqualifiedFunctionArn(`${PG}:live`)).toBe(PG);
  expect(unqualifiedFunctionArn(PG)).toBe(PG);
  expect(unqualifiedFunctionArn('not-an-arn')).toBe('not-an-arn');
});

describe('the check', () => {
  test('reads every page, passing each NextToken on, until there is none', async () => {
    const secrets = Array.from({ length: 250 }, (_, i) => secret(`s${i}`));
    const reader = pagesOf(secrets);
    const report = await checkOverdue(reader, config(), NOW);
    expect(reader.tokens).toEqual([undefined, 'page-100', 'page-200']);
    expect(report.pages).toBe(3);
    expect(report.total.rotationEnabled).toBe(250);
  });

  test('only secrets with rotation enabled count', async () => {
    const report = await checkOverdue(pagesOf([
      secret('on'),
      secret('off', { RotationEnabled: false }),
      secret('never-configured', { RotationEnabled: undefined, RotationRules: undefined, RotationLambdaARN: undefined }),
    ]), config(), NOW);
    expect(report.total).toEqual({ rotationEnabled: 1, overdue: 0, unknownSchedule: 0, oldestRotationAgeSeconds: 2 * 86400 });
  });

  test('each secret is counted under the engine of its rotation function, qualified ARNs included; unknown functions under "unknown"', async () => {
    const report = await checkOverdue(pagesOf([
      secret('pg'),
      secret('pg-alias', { RotationLambdaARN: `${PG}:live` }),
      secret('pg-version', { RotationLambdaARN: `${PG}:3` }),
      secret('my', { RotationLambdaARN: MY }),
      secret('other', { RotationLambdaARN: `${FN}:someone-elses` }),
      secret('none', { RotationLambdaARN: undefined }),
    ]), config(), NOW);
    expect(report.engines).toEqual([
      { engine: 'mysql-single-user', counts: { rotationEnabled: 1, overdue: 0, unknownSchedule: 0 } },
      { engine: 'postgres-single-user', counts: { rotationEnabled: 3, overdue: 0, unknownSchedule: 0 } },
      { engine: ROTATION_METRICS.UNKNOWN_ENGINE, counts: { rotationEnabled: 2, overdue: 0, unknownSchedule: 0 } },
    ]);
  });

  test('every configured engine is reported, with zeros when it rotates nothing', async () => {
    const report = await checkOverdue(pagesOf([]), config(), NOW);
    expect(report.engines.map((e) => e.engine)).toEqual(['mysql-single-user', 'postgres-single-user']);
    expect(report.total).toEqual({ rotationEnabled: 0, overdue: 0, unknownSchedule: 0, oldestRotationAgeSeconds: 0 });
  });

  test('overdue secrets are listed with their window and how long ago it closed', async () => {
    // rate(30 days) after 2026-05-01T08:00: window 2026-05-31 (whole day); 15 days 12 hours past by NOW
    const late = secret('late', { LastRotatedDate: new Date('2026-05-01T08:00:00Z') });
    const report = await checkOverdue(pagesOf([late, secret('fine')]), config(3600), NOW);
    expect(report.overdue).toEqual([{
      arn: late.ARN,
      name: 'late',
      engine: 'postgres-single-user',
      dueAt: new Date('2026-05-31T00:00:00Z'),
      windowEnd: new Date('2026-06-01T00:00:00Z'),
      overdueBySeconds: 14 * 86400 + 12 * 3600,
    }]);
    expect(report.total.overdue).toBe(1);
    expect(report.engines.find((e) => e.engine === 'postgres-single-user')?.counts.overdue).toBe(1);
  });

  test('a secret past due but within the grace period is not overdue', async () => {
    // window closed 2026-06-15T00:00, 12 hours before NOW
    const justLate = secret('just-late', { LastRotatedDate: new Date('2026-05-15T20:00:00Z') });
    expect((await checkOverdue(pagesOf([justLate]), config(13 * 3600), NOW)).total.overdue).toBe(0);
    expect((await checkOverdue(pagesOf([justLate]), config(11 * 3600), NOW)).total.overdue).toBe(1);
  });

  test('a secret never rotated is measured from its creation', async () => {
    const young = secret('young', { LastRotatedDate: undefined, CreatedDate: new Date(NOW.getTime() - 10 * DAY) });
    const old = secret('old', { LastRotatedDate: undefined, CreatedDate: new Date(NOW.getTime() - 40 * DAY) });
    const report = await checkOverdue(pagesOf([young, old]), config(), NOW);
    expect(report.overdue.map((s) => s.name)).toEqual(['old']);
    expect(report.total.oldestRotationAgeSeconds).toBe(40 * 86400);
  });

  test('a schedule that cannot be evaluated is counted as unknown, never as on time, and still ages', async () => {
    const report = await checkOverdue(pagesOf([
      secret('no-rules', { RotationRules: undefined, LastRotatedDate: new Date(NOW.getTime() - 500 * DAY) }),
      secret('odd-cron', { RotationRules: { ScheduleExpression: 'cron(0 10 L-2 * ? *)' } }),
      secret('no-dates', { LastRotatedDate: undefined, CreatedDate: undefined }),
    ]), config(), NOW);
    expect(report.total).toEqual({ rotationEnabled: 3, overdue: 0, unknownSchedule: 3, oldestRotationAgeSeconds: 500 * 86400 });
    expect(report.unknownSchedule.map((s) => [s.name, s.reason])).toEqual([
      ['no-rules', 'no rotation rules'],
      ['odd-cron', 'cron() value out of range'],
      ['no-dates', 'no last rotation or creation date'],
    ]);
    expect(report.engines.find((e) => e.engine === 'postgres-single-user')?.counts.unknownSchedule).toBe(3);
  });

  test('the oldest age is the longest time since a rotation (or creation) across all rotation-enabled secrets', async () => {
    const report = await checkOverdue(pagesOf([
      secret('a', { LastRotatedDate: new Date(NOW.getTime() - 3 * DAY) }),
      secret('b', { LastRotatedDate: new Date(NOW.getTime() - 7 * DAY - 1500) }),
      secret('off', { RotationEnabled: false, LastRotatedDate: new Date(NOW.getTime() - 900 * DAY) }),
      secret('future', { LastRotatedDate: new Date(NOW.getTime() + DAY) }),
    ]), config(), NOW);
    expect(report.total.oldestRotationAgeSeconds).toBe(7 * 86400 + 1);
  });

  test('at most MAX_LISTED_SECRETS overdue and unknown-schedule secrets are kept for the log; every one is still counted', async () => {
    const many = MAX_LISTED_SECRETS + 250;
    const late = new Date(NOW.getTime() - 60 * DAY);
    const secrets: SecretListing[] = [];
    for (let i = 0; i < many; i++) {
      secrets.push(secret(`late-${i}`, { LastRotatedDate: late }));
      secrets.push(secret(`odd-${i}`, { RotationRules: undefined }));
    }
    const report = await checkOverdue(pagesOf(secrets), config(), NOW);
    expect(report.total).toMatchObject({ rotationEnabled: 2 * many, overdue: many, unknownSchedule: many });
    expect(report.overdue).toHaveLength(MAX_LISTED_SECRETS);
    expect(report.unknownSchedule).toHaveLength(MAX_LISTED_SECRETS);
    // the first ones in listing order are kept
    expect(report.overdue[0].name).toBe('late-0');
    expect(report.overdue[MAX_LISTED_SECRETS - 1].name).toBe(`late-${MAX_LISTED_SECRETS - 1}`);
    expect(report.overdueNotListed).toBe(250);
    expect(report.unknownScheduleNotListed).toBe(250);
  });

  test('below the limit nothing is left unlisted', async () => {
    const report = await checkOverdue(pagesOf([secret('late', { LastRotatedDate: new Date(NOW.getTime() - 60 * DAY) })]), config(), NOW);
    expect(report.overdue).toHaveLength(1);
    expect([report.overdueNotListed, report.unknownScheduleNotListed]).toEqual([0, 0]);
  });

  test('a listing that never ends is stopped with a named error', async () => {
    let calls = 0;
    const endless: PageReader = async () => {
      calls++;
      return { secrets: [], nextToken: 'again' };
    };
    await expect(checkOverdue(endless, config(), NOW)).rejects.toBeInstanceOf(ListingTooLongError);
    expect(calls).toBe(MAX_PAGES);
  });

  test('a failing page reader fails the check', async () => {
    const failing: PageReader = async () => {
      throw new Error('boom');
    };
    await expect(checkOverdue(failing, config(), NOW)).rejects.toThrow('boom');
  });
});
