import { dueStatus, parseSchedule, RotationRules, windowAfter } from '../../../lambda/monitoring/schedule';

/** The first window after `after`, as ISO strings; undefined for an unknown schedule or no window. */
function windowOf(rules: RotationRules, after: string): { start: string; end: string } | undefined {
  const schedule = parseSchedule(rules);
  if (schedule.kind === 'unknown') return undefined;
  const window = windowAfter(schedule, new Date(after));
  return window && { start: window.start.toISOString(), end: window.end.toISOString() };
}

const cron = (expression: string, duration?: string): RotationRules => ({ ScheduleExpression: `cron(${expression})`, Duration: duration });
const rate = (expression: string, duration?: string): RotationRules => ({ ScheduleExpression: `rate(${expression})`, Duration: duration });

/** The start of the first window after `after`. */
function nextStart(rules: RotationRules, after: string): string | undefined {
  return windowOf(rules, after)?.start;
}

function reasonOf(rules: RotationRules | undefined): string | undefined {
  const schedule = parseSchedule(rules);
  return schedule.kind === 'unknown' ? schedule.reason : undefined;
}

describe('rate() in days', () => {
  test('the window opens at midnight UTC N days after the day of the last rotation and closes with that day', () => {
    expect(windowOf(rate('10 days'), '2026-03-05T15:30:00Z')).toEqual({ start: '2026-03-15T00:00:00.000Z', end: '2026-03-16T00:00:00.000Z' });
  });

  test('a rotation late in its day is next due N days later, not earlier', () => {
    expect(nextStart(rate('1 day'), '2026-01-31T23:59:59Z')).toBe('2026-02-01T00:00:00.000Z');
  });

  test('month ends and leap years come from the calendar', () => {
    expect(nextStart(rate('1 day'), '2028-02-28T10:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(nextStart(rate('1 day'), '2026-02-28T10:00:00Z')).toBe('2026-03-01T00:00:00.000Z');
    expect(nextStart(rate('365 days'), '2027-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(nextStart(rate('365 days'), '2026-03-01T00:00:00Z')).toBe('2027-03-01T00:00:00.000Z');
  });

  test('Duration shortens the window from midnight', () => {
    expect(windowOf(rate('7 days', '3h'), '2026-03-05T12:00:00Z')).toEqual({ start: '2026-03-12T00:00:00.000Z', end: '2026-03-12T03:00:00.000Z' });
  });

  test('AutomaticallyAfterDays is a rate in days', () => {
    expect(windowOf({ AutomaticallyAfterDays: 30 }, '2026-03-05T15:30:00Z')).toEqual(windowOf(rate('30 days'), '2026-03-05T15:30:00Z'));
    expect(nextStart({ AutomaticallyAfterDays: 30 }, '2026-03-05T15:30:00Z')).toBe('2026-04-04T00:00:00.000Z');
  });

  test('a ScheduleExpression wins over the AutomaticallyAfterDays ListSecrets computes beside it', () => {
    expect(nextStart({ AutomaticallyAfterDays: 30, ScheduleExpression: 'rate(2 days)' }, '2026-03-05T15:30:00Z')).toBe('2026-03-07T00:00:00.000Z');
  });
});

describe('rate() in hours', () => {
  test('the window opens on the first full hour at or after last rotation + N hours and closes an hour later', () => {
    expect(windowOf(rate('12 hours'), '2026-03-05T10:30:00Z')).toEqual({ start: '2026-03-05T23:00:00.000Z', end: '2026-03-06T00:00:00.000Z' });
    expect(nextStart(rate('4 hours'), '2026-03-05T10:00:00Z')).toBe('2026-03-05T14:00:00.000Z');
  });

  test('Duration sets the window length', () => {
    expect(windowOf(rate('6 hours', '2h'), '2026-03-05T22:15:00Z')).toEqual({ start: '2026-03-06T05:00:00.000Z', end: '2026-03-06T07:00:00.000Z' });
  });

  test('singular units are accepted', () => {
    expect(nextStart(rate('1 hour'), '2026-03-05T10:00:00Z')).toBe('2026-03-05T11:00:00.000Z');
  });
});

describe('cron() schedules in days', () => {
  test('the next window opens at the hour given, strictly after the rotation, and closes at the end of its UTC day', () => {
    expect(windowOf(cron('0 10 * * ? *'), '2026-03-05T09:59:00Z')).toEqual({ start: '2026-03-05T10:00:00.000Z', end: '2026-03-06T00:00:00.000Z' });
    // a rotation at the very start of a window ran in that window: the next one is due
    expect(nextStart(cron('0 10 * * ? *'), '2026-03-05T10:00:00Z')).toBe('2026-03-06T10:00:00.000Z');
    expect(nextStart(cron('0 10 * * ? *'), '2026-03-05T10:20:00Z')).toBe('2026-03-06T10:00:00.000Z');
  });

  test('Duration sets the window length', () => {
    expect(windowOf(cron('0 10 * * ? *', '4h'), '2026-03-05T11:00:00Z')).toEqual({ start: '2026-03-06T10:00:00.000Z', end: '2026-03-06T14:00:00.000Z' });
  });

  test('the year rolls over', () => {
    expect(nextStart(cron('0 8 1 * ? *'), '2026-12-15T00:00:00Z')).toBe('2027-01-01T08:00:00.000Z');
  });

  test('day-of-month lists and steps; a step skips the days a month does not have', () => {
    expect(nextStart(cron('0 16 1,15 * ? *'), '2026-03-02T00:00:00Z')).toBe('2026-03-15T16:00:00.000Z');
    // 1/10: 1, 11, 21, 31
    expect(nextStart(cron('0 8 1/10 * ? *'), '2026-01-21T09:00:00Z')).toBe('2026-01-31T08:00:00.000Z');
    expect(nextStart(cron('0 8 1/10 * ? *'), '2026-02-21T09:00:00Z')).toBe('2026-03-01T08:00:00.000Z');
    expect(nextStart(cron('0 8 5-7 * ? *'), '2026-03-06T09:00:00Z')).toBe('2026-03-07T08:00:00.000Z');
    expect(nextStart(cron('0 8 10-20/5 * ? *'), '2026-03-11T00:00:00Z')).toBe('2026-03-15T08:00:00.000Z');
  });

  test('day 31 skips the months without one', () => {
    expect(nextStart(cron('0 0 31 * ? *'), '2026-03-31T01:00:00Z')).toBe('2026-05-31T00:00:00.000Z');
  });

  test('L in day of month is the last day of each month, leap years included', () => {
    expect(nextStart(cron('0 17 L * ? *'), '2026-01-31T18:00:00Z')).toBe('2026-02-28T17:00:00.000Z');
    expect(nextStart(cron('0 17 L * ? *'), '2028-01-31T18:00:00Z')).toBe('2028-02-29T17:00:00.000Z');
    expect(nextStart(cron('0 17 L * ? *'), '2026-04-01T00:00:00Z')).toBe('2026-04-30T17:00:00.000Z');
  });

  test('29 February waits for the next leap year; 2100 is not one', () => {
    expect(nextStart(cron('0 0 29 2 ? *'), '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(nextStart(cron('0 0 29 FEB ? *'), '2096-03-01T00:00:00Z')).toBe('2104-02-29T00:00:00.000Z');
  });

  test('a date that never comes is an unknown schedule, not a due time', () => {
    expect(windowOf(cron('0 0 30 2 ? *'), '2026-03-01T00:00:00Z')).toBeUndefined();
    expect(dueStatus(cron('0 0 30 2 ? *'), new Date('2026-03-01T00:00:00Z'), new Date('2030-01-01T00:00:00Z'), 0))
      .toEqual({ status: 'unknown', reason: 'no rotation window within nine years' });
  });

  test('W is the weekday nearest the day, within the month', () => {
    // 15 August 2026 is a Saturday: Friday the 14th
    expect(nextStart(cron('0 9 15W * ? *'), '2026-08-01T00:00:00Z')).toBe('2026-08-14T09:00:00.000Z');
    // 15 March 2026 is a Sunday: Monday the 16th
    expect(nextStart(cron('0 9 15W * ? *'), '2026-03-01T00:00:00Z')).toBe('2026-03-16T09:00:00.000Z');
    // 1 August 2026 is a Saturday: Monday the 3rd, not Friday 31 July
    expect(nextStart(cron('0 9 1W * ? *'), '2026-07-20T00:00:00Z')).toBe('2026-08-03T09:00:00.000Z');
    // 31 May 2026 is a Sunday and the month's last day: Friday the 29th
    expect(nextStart(cron('0 9 31W * ? *'), '2026-05-01T00:00:00Z')).toBe('2026-05-29T09:00:00.000Z');
    // April has no 31st
    expect(nextStart(cron('0 9 31W * ? *'), '2026-04-01T00:00:00Z')).toBe('2026-05-29T09:00:00.000Z');
    // a weekday stays where it is
    expect(nextStart(cron('0 9 15W * ? *'), '2026-06-01T00:00:00Z')).toBe('2026-06-15T09:00:00.000Z');
  });

  test('day of week: names, numbers (1 is Sunday) and ranges', () => {
    // Friday 6 March 2026, 09:00 -> Monday the 9th
    expect(nextStart(cron('0 8 ? * MON-FRI *'), '2026-03-06T09:00:00Z')).toBe('2026-03-09T08:00:00.000Z');
    expect(nextStart(cron('0 8 ? * 2-6 *'), '2026-03-06T09:00:00Z')).toBe('2026-03-09T08:00:00.000Z');
    expect(nextStart(cron('0 18 ? * SAT *'), '2026-03-02T00:00:00Z')).toBe('2026-03-07T18:00:00.000Z');
    expect(nextStart(cron('0 18 ? * 7 *'), '2026-03-02T00:00:00Z')).toBe('2026-03-07T18:00:00.000Z');
    expect(nextStart(cron('0 18 ? * 1 *'), '2026-03-02T00:00:00Z')).toBe('2026-03-08T18:00:00.000Z');
    expect(nextStart(cron('0 18 ? * mon,wed *'), '2026-03-02T19:00:00Z')).toBe('2026-03-04T18:00:00.000Z');
  });

  test('# is the nth weekday of the month', () => {
    expect(nextStart(cron('0 0 ? * SUN#1 *'), '2026-03-02T00:00:00Z')).toBe('2026-04-05T00:00:00.000Z');
    expect(nextStart(cron('0 0 ? * TUE#3 *'), '2026-03-01T00:00:00Z')).toBe('2026-03-17T00:00:00.000Z');
    expect(nextStart(cron('0 0 ? * 3#3 *'), '2026-03-01T00:00:00Z')).toBe('2026-03-17T00:00:00.000Z');
    // a fifth Monday: March 2026 has one, April and May do not, June does
    expect(nextStart(cron('0 0 ? * MON#5 *'), '2026-03-01T00:00:00Z')).toBe('2026-03-30T00:00:00.000Z');
    expect(nextStart(cron('0 0 ? * MON#5 *'), '2026-03-31T00:00:00Z')).toBe('2026-06-29T00:00:00.000Z');
  });

  test('L in day of week: alone the last day of the week (Saturday), after a day the last such day of the month', () => {
    expect(nextStart(cron('0 0 ? * L *'), '2026-03-23T00:00:00Z')).toBe('2026-03-28T00:00:00.000Z');
    expect(nextStart(cron('0 0 ? * FRIL *'), '2026-03-01T00:00:00Z')).toBe('2026-03-27T00:00:00.000Z');
    expect(nextStart(cron('0 0 ? * 6L *'), '2026-03-01T00:00:00Z')).toBe('2026-03-27T00:00:00.000Z');
    expect(nextStart(cron('0 0 ? * SUNL *'), '2026-05-01T00:00:00Z')).toBe('2026-05-31T00:00:00.000Z');
  });

  test('the guide\'s example with * in day of month and a day of week: Sundays of every third month', () => {
    expect(nextStart(cron('0 1 * 1/3 SUN *'), '2026-02-01T02:00:00Z')).toBe('2026-04-05T01:00:00.000Z');
  });

  test('months: names, lists and steps', () => {
    expect(nextStart(cron('0 0 1 JAN,APR,JUL,OCT ? *'), '2026-04-02T00:00:00Z')).toBe('2026-07-01T00:00:00.000Z');
    expect(nextStart(cron('0 0 1 */6 ? *'), '2026-01-02T00:00:00Z')).toBe('2026-07-01T00:00:00.000Z');
    expect(nextStart(cron('0 0 1 NOV-DEC ? *'), '2026-01-02T00:00:00Z')).toBe('2026-11-01T00:00:00.000Z');
  });

  test('UTC has no daylight saving time: windows stay 24 hours apart across the US and EU clock changes', () => {
    for (const day of ['2026-03-07', '2026-03-28', '2026-10-24', '2026-10-31']) {
      const first = nextStart(cron('0 2 * * ? *'), `${day}T00:00:00Z`)!;
      const second = nextStart(cron('0 2 * * ? *'), first)!;
      const third = nextStart(cron('0 2 * * ? *'), second)!;
      expect(Date.parse(second) - Date.parse(first)).toBe(24 * 3600_000);
      expect(Date.parse(third) - Date.parse(second)).toBe(24 * 3600_000);
      expect(first).toBe(`${day}T02:00:00.000Z`);
    }
  });
});

describe('cron() schedules in hours', () => {
  test('increments of hours restart each day, with a one-hour window by default', () => {
    expect(windowOf(cron('0 4/12 * * ? *'), '2026-03-05T05:00:00Z')).toEqual({ start: '2026-03-05T16:00:00.000Z', end: '2026-03-05T17:00:00.000Z' });
    expect(nextStart(cron('0 4/12 * * ? *'), '2026-03-05T16:30:00Z')).toBe('2026-03-06T04:00:00.000Z');
  });

  test('hour lists and ranges', () => {
    expect(nextStart(cron('0 1,3-5 * * ? *'), '2026-03-05T01:00:00Z')).toBe('2026-03-05T03:00:00.000Z');
    expect(nextStart(cron('0 1,3-5 * * ? *'), '2026-03-05T05:00:00Z')).toBe('2026-03-06T01:00:00.000Z');
    expect(nextStart(cron('0 */8 * * ? *'), '2026-03-05T08:00:00Z')).toBe('2026-03-05T16:00:00.000Z');
  });

  test('Duration sets the window length', () => {
    expect(windowOf(cron('0 0/6 * * ? *', '2h'), '2026-03-05T01:00:00Z')).toEqual({ start: '2026-03-05T06:00:00.000Z', end: '2026-03-05T08:00:00.000Z' });
  });
});

describe('what cannot be evaluated is an unknown schedule', () => {
  test.each([
    ['no rules', undefined, 'no rotation rules'],
    ['empty rules', {}, 'no schedule in the rotation rules'],
    ['neither rate nor cron', { ScheduleExpression: 'every day' }, 'ScheduleExpression is neither rate() nor cron()'],
    ['rate of weeks', rate('2 weeks'), 'invalid rate() expression'],
    ['rate of zero', rate('0 days'), 'invalid rate() expression'],
    ['fractional rate', rate('1.5 days'), 'invalid rate() expression'],
    ['rate without a value', rate('days'), 'invalid rate() expression'],
    ['Duration 0h', rate('1 day', '0h'), 'invalid Duration'],
    ['Duration 25h', rate('1 day', '25h'), 'invalid Duration'],
    ['Duration in minutes', rate('1 day', '90m'), 'invalid Duration'],
    ['Duration without a unit', rate('1 day', '3'), 'invalid Duration'],
    ['AutomaticallyAfterDays 0', { AutomaticallyAfterDays: 0 }, 'invalid AutomaticallyAfterDays'],
    ['AutomaticallyAfterDays 1001', { AutomaticallyAfterDays: 1001 }, 'invalid AutomaticallyAfterDays'],
    ['fractional AutomaticallyAfterDays', { AutomaticallyAfterDays: 1.5 }, 'invalid AutomaticallyAfterDays'],
    ['five fields', cron('0 10 * * ?'), 'cron() needs six fields'],
    ['seven fields', cron('0 0 10 * * ? *'), 'cron() needs six fields'],
    ['unclosed cron', { ScheduleExpression: 'cron(0 10 * * ? *' }, 'cron() needs six fields'],
    ['minutes other than 0', cron('30 10 * * ? *'), 'cron() minutes must be 0'],
    ['a year', cron('0 10 * * ? 2027'), 'cron() year must be *'],
    ['a year range', cron('0 10 * * ? 2026-2030'), 'cron() year must be *'],
    ['both day fields ?', cron('0 10 ? * ? *'), 'cron() day of month and day of week are both ?'],
    ['both day fields set', cron('0 10 1 * MON *'), 'cron() sets both day of month and day of week'],
    ['hour 24', cron('0 24 * * ? *'), 'cron() value out of range'],
    ['day 32', cron('0 10 32 * ? *'), 'cron() value out of range'],
    ['day 0', cron('0 10 0 * ? *'), 'cron() value out of range'],
    ['month 13', cron('0 10 1 13 ? *'), 'cron() value out of range'],
    ['day of week 8', cron('0 10 ? * 8 *'), 'cron() value out of range'],
    ['day of week 0', cron('0 10 ? * 0 *'), 'cron() value out of range'],
    ['a wrap-around range', cron('0 10 ? * FRI-MON *'), 'cron() range runs backwards'],
    ['a step of 0', cron('0 */0 * * ? *'), 'cron() step must be at least 1'],
    ['L with an offset', cron('0 10 L-3 * ? *'), 'cron() value out of range'],
    ['LW', cron('0 10 LW * ? *'), 'cron() value out of range'],
    ['L in a list', cron('0 10 1,L * ? *'), 'cron() value out of range'],
    ['the sixth Monday', cron('0 10 ? * MON#6 *'), 'cron() # takes 1 to 5'],
    ['# in day of month', cron('0 10 1#2 * ? *'), 'cron() field item not supported'],
    ['W in day of week', cron('0 10 ? * 2W *'), 'cron() value out of range'],
    ['a name in the hours', cron('0 MON * * ? *'), 'cron() value out of range'],
    ['an empty list item', cron('0 1,,2 * * ? *'), 'cron() field item not supported'],
  ])('%s', (_name, rules, reason) => {
    expect(reasonOf(rules as RotationRules | undefined)).toBe(reason);
  });

  test('the reason never repeats the expression', () => {
    const reason = reasonOf({ ScheduleExpression: 'cron(0 10 ? * NOT-A-DAY-CANARY *)' });
    expect(reason).toBeDefined();
    expect(reason).not.toContain('CANARY');
  });
});

describe('due status', () => {
  // rate(1 day) after a rotation on 5 March: window 6 March 00:00 to 7 March 00:00
  const rules = rate('1 day');
  const base = new Date('2026-03-05T12:00:00Z');
  const at = (iso: string, grace = 3600) => dueStatus(rules, base, new Date(iso), grace);

  test('on time until the window closes, the window included', () => {
    expect(at('2026-03-05T13:00:00Z')).toEqual({
      status: 'on-time',
      window: { start: new Date('2026-03-06T00:00:00Z'), end: new Date('2026-03-07T00:00:00Z') },
      pastDueSeconds: 0,
    });
    expect(at('2026-03-06T23:59:59Z').status).toBe('on-time');
    expect(at('2026-03-07T00:00:00Z').status).toBe('on-time');
  });

  test('past due after the window, overdue after the grace period too', () => {
    expect(at('2026-03-07T00:00:01Z')).toMatchObject({ status: 'past-due', pastDueSeconds: 1 });
    expect(at('2026-03-07T01:00:00Z')).toMatchObject({ status: 'past-due', pastDueSeconds: 3600 });
    expect(at('2026-03-07T01:00:01Z')).toMatchObject({ status: 'overdue', pastDueSeconds: 3601 });
    expect(at('2026-03-17T00:00:00Z')).toMatchObject({ status: 'overdue', pastDueSeconds: 10 * 86400 });
  });

  test('with no grace period, past due is overdue', () => {
    expect(at('2026-03-07T00:00:01Z', 0).status).toBe('overdue');
  });

  test('an unknown schedule stays unknown, whatever the time', () => {
    expect(dueStatus(undefined, base, new Date('2030-01-01T00:00:00Z'), 0)).toEqual({ status: 'unknown', reason: 'no rotation rules' });
  });
});
