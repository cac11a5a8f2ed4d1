import { Duration } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { assertLiteral, describeHours, wholeHours } from '../private/validation';

/** Secrets Manager rotates at most every 4 hours. */
const MIN_INTERVAL_HOURS = 4;
/** `rate()` schedules can be at most 1000 days. */
const MAX_RATE_HOURS = 1000 * 24;
/** The rotation window is 1 to 24 hours. */
const MAX_WINDOW_HOURS = 24;

/**
 * Options shared by rate and cron rotation schedules.
 */
export interface RotationScheduleOptions {
  /**
   * The rotation window: Secrets Manager starts the rotation at any time within it (rendered as `Duration: 'Nh'`).
   *
   * Whole hours from 1 to 24. For `rate()` schedules it must be shorter than the interval; for `cron()` schedules it must
   * not run into the next rotation or into the next UTC day.
   *
   * @default - Secrets Manager's default: one hour for schedules in hours, the rest of the UTC day for schedules in days
   */
  readonly window?: Duration;
}

/**
 * The fields of a Secrets Manager `cron()` rotation schedule (UTC): `cron(0 hour day month weekDay *)`.
 *
 * Give `day` or `weekDay`, not both; the other is rendered as `?`.
 */
export interface RotationCronOptions {
  /**
   * Minutes. Secrets Manager rotation windows start on the hour, so only `0` is accepted.
   *
   * @default '0'
   */
  readonly minute?: string;

  /**
   * Hours, 0-23 (UTC), for example `'3'`, `'0,12'`, `'2-22/8'`. Firings must be at least 4 hours apart.
   */
  readonly hour: string;

  /**
   * Day of month, 1-31, with `,` `-` `*` `/` `L` `W`, for example `'1'`, `'1,15'`, `'L'`.
   *
   * @default - every day (`*`) unless `weekDay` is given, then `?`
   */
  readonly day?: string;

  /**
   * Month, 1-12 or JAN-DEC, with `,` `-` `*` `/`.
   *
   * @default '*'
   */
  readonly month?: string;

  /**
   * Day of week, 1-7 or SUN-SAT, with `,` `-` `*` `L` `#`, for example `'MON'`, `'MON-FRI'`, `'2#1'`.
   *
   * @default - `?` (any day of week; `day` decides)
   */
  readonly weekDay?: string;

  /**
   * Year. Secrets Manager rotation schedules repeat every year, so only `*` is accepted.
   *
   * @default '*'
   */
  readonly year?: string;
}

interface FieldSpec {
  readonly property: string;
  readonly min: number;
  readonly max: number;
  readonly range: string;
  readonly names?: Record<string, number>;
  /** Special items this field accepts besides numbers, ranges, steps and lists. */
  readonly special?: RegExp;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const HOUR_FIELD: FieldSpec = { property: 'hour', min: 0, max: 23, range: '0-23' };
const DAY_FIELD: FieldSpec = { property: 'day', min: 1, max: 31, range: '1-31', special: /^(L|LW|L-\d{1,2}|\d{1,2}W)$/ };
const MONTH_FIELD: FieldSpec = {
  property: 'month',
  min: 1,
  max: 12,
  range: '1-12 or JAN-DEC',
  names: Object.fromEntries(MONTH_NAMES.map((n, i) => [n, i + 1])),
};
const WEEKDAY_FIELD: FieldSpec = {
  property: 'weekDay',
  min: 1,
  max: 7,
  range: '1-7 or SUN-SAT',
  names: Object.fromEntries(DAY_NAMES.map((n, i) => [n, i + 1])),
  special: /^(L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5])$/i,
};

/**
 * When a secret is rotated: `RotationSchedule.rate(Duration.days(30))` or `RotationSchedule.cron({ hour: '3', weekDay: 'SUN' })`,
 * each with an optional rotation window. Validated when created; rendered into `AWS::SecretsManager::RotationSchedule`
 * `RotationRules` as `ScheduleExpression` and `Duration`.
 */
export class RotationSchedule {
  /**
   * Rotate every `interval`: whole hours from 4 hours to 1000 days, rendered as `rate(N hours)`, or `rate(N days)`
   * when the interval is a whole number of days. The window starts at midnight UTC.
   *
   * @param interval time between rotations
   * @param options the rotation window
   */
  public static rate(interval: Duration, options: RotationScheduleOptions = {}): RotationSchedule {
    const owner = 'RotationSchedule.rate';
    assertLiteral(owner, 'interval', interval);
    const hours = wholeHours(interval);
    const allowed = `a whole number of hours from ${describeHours(MIN_INTERVAL_HOURS)} to 1000 days`;
    if (hours === undefined) {
      throw new Error(`${owner}: interval must be ${allowed}, got ${interval.toHumanString()}`);
    }
    if (hours < MIN_INTERVAL_HOURS || hours > MAX_RATE_HOURS) {
      throw new Error(`${owner}: interval must be ${allowed}, got ${describeHours(hours)}`);
    }
    let expression: string;
    if (hours % 24 === 0) {
      const days = hours / 24;
      expression = `rate(${days} ${days === 1 ? 'day' : 'days'})`;
    } else {
      expression = `rate(${hours} hours)`;
    }
    const window = validateWindow(owner, options.window, Math.min(hours - 1, MAX_WINDOW_HOURS),
      `shorter than the interval of ${describeHours(hours)}`);
    // Secrets Manager's default window: one hour for a schedule in hours, the rest of the UTC day (all of it: rate windows
    // start at midnight) for a schedule in days
    const windowHours = window !== undefined ? wholeHours(window)! : (hours % 24 === 0 ? 24 : 1);
    return new RotationSchedule(expression, window, { periodHours: hours, windowHours, exact: true });
  }

  /**
   * Rotate on a cron schedule (UTC): `cron(0 hour day month weekDay *)`.
   *
   * Minutes must be 0 and the year `*`; `day` and `weekDay` cannot both be given; firings must be at least 4 hours apart.
   *
   * @param cron the cron fields
   * @param options the rotation window
   */
  public static cron(cron: RotationCronOptions, options: RotationScheduleOptions = {}): RotationSchedule {
    const owner = 'RotationSchedule.cron';
    for (const [property, value] of Object.entries(cron)) {
      if (value !== undefined) {
        assertLiteral(owner, property, value);
      }
    }
    const minute = (cron.minute ?? '0').trim();
    if (minute !== '0') {
      throw new Error(`${owner}: minute must be '0' (rotation windows start on the hour), got '${minute}'`);
    }
    const year = (cron.year ?? '*').trim();
    if (year !== '*') {
      throw new Error(`${owner}: year must be '*' (rotation schedules repeat every year), got '${year}'`);
    }
    if (cron.hour === undefined || cron.hour.trim() === '') {
      throw new Error(`${owner}: hour is required: hours ${HOUR_FIELD.range} (UTC), for example '3' or '0,12'`);
    }
    const hour = cron.hour.trim();
    const hours = parseField(owner, HOUR_FIELD, hour)!;

    const dayGiven = cron.day !== undefined && cron.day.trim() !== '?';
    const weekDayGiven = cron.weekDay !== undefined && cron.weekDay.trim() !== '?';
    if (dayGiven && weekDayGiven) {
      throw new Error(`${owner}: day and weekDay cannot both be specified; give one of them (day 1-31 or weekDay 1-7/SUN-SAT) `
        + `and leave the other unset, it is rendered as '?' (got day '${cron.day}', weekDay '${cron.weekDay}')`);
    }
    const day = dayGiven ? cron.day!.trim() : (weekDayGiven ? '?' : '*');
    const weekDay = weekDayGiven ? cron.weekDay!.trim() : '?';
    const days = dayGiven ? parseField(owner, DAY_FIELD, day) : undefined;
    const weekDays = weekDayGiven ? parseField(owner, WEEKDAY_FIELD, weekDay) : undefined;
    const month = (cron.month ?? '*').trim();
    parseField(owner, MONTH_FIELD, month);

    // Gaps between firings within a day, and across midnight when the schedule can fire on two consecutive days.
    const sorted = [...hours].sort((a, b) => a - b);
    const gaps: number[] = [];
    for (let i = 1; i < sorted.length; i++) {
      gaps.push(sorted[i] - sorted[i - 1]);
    }
    const consecutiveDays = canFireOnConsecutiveDays(dayGiven ? days : undefined, dayGiven, weekDayGiven ? weekDays : undefined, weekDayGiven);
    if (consecutiveDays) {
      gaps.push(24 - sorted[sorted.length - 1] + sorted[0]);
    }
    const smallestInterval = Math.min(24, ...gaps);
    if (smallestInterval < MIN_INTERVAL_HOURS) {
      throw new Error(`${owner}: hour '${hour}' fires ${describeHours(smallestInterval)} apart; rotations must be at least `
        + `${describeHours(MIN_INTERVAL_HOURS)} apart (hours ${HOUR_FIELD.range}, at least 4 hours between firings`
        + `${consecutiveDays ? ', including across midnight' : ''})`);
    }

    const lastHour = sorted[sorted.length - 1];
    const untilMidnight = 24 - lastHour;
    const maxWindow = Math.min(smallestInterval, untilMidnight, MAX_WINDOW_HOURS);
    const reason = untilMidnight < smallestInterval
      ? `ending by midnight UTC after the rotation starting at hour ${lastHour}`
      : `no longer than the ${describeHours(smallestInterval)} between rotations`;
    const window = validateWindow(owner, options.window, maxWindow, reason);
    // at most a day: days of month and of week can be counted in weeks or months, but a day is a bound that always holds
    // without a window, the longest one the schedule admits: which default applies to a cron expression is not documented
    const windowHours = window !== undefined ? wholeHours(window)! : maxWindow;
    return new RotationSchedule(`cron(0 ${hour} ${day} ${month} ${weekDay} *)`, window,
      { periodHours: smallestInterval, windowHours, exact: false });
  }

  /** The rendered schedule expression, for example `rate(30 days)` or `cron(0 3 ? * SUN *)`. */
  public readonly expressionString: string;

  /** The rotation window, if set. */
  public readonly window?: Duration;

  private readonly interval: ScheduleInterval;

  private constructor(expression: string, window: Duration | undefined, interval: ScheduleInterval) {
    this.expressionString = expression;
    this.window = window;
    this.interval = interval;
  }

  /**
   * The shortest time between the starts of two rotations the schedule guarantees, in hours: the period (a rate schedule's
   * interval; for a cron schedule the shortest gap between its hours within a day and across midnight, at most 24, so
   * `exact` is false: the real gap may be longer, for example weekly) minus the window, since each rotation starts
   * anywhere in its window (without one: Secrets Manager's default for rate schedules, the longest the schedule admits
   * for cron schedules).
   *
   * @internal
   */
  public _shortestInterval(): { readonly hours: number; readonly periodHours: number; readonly windowHours: number; readonly exact: boolean } {
    return { ...this.interval, hours: Math.max(0, this.interval.periodHours - this.interval.windowHours) };
  }

  /** The rendered window (`Duration` of `RotationRules`), for example `3h`, if set. */
  public get windowString(): string | undefined {
    return this.window ? `${wholeHours(this.window)}h` : undefined;
  }

  /** The `RotationRules` of an `AWS::SecretsManager::RotationSchedule`. */
  public toRotationRules(): secretsmanager.CfnRotationSchedule.RotationRulesProperty {
    return { scheduleExpression: this.expressionString, duration: this.windowString };
  }
}

/** The shortest time between two rotations of a schedule. */
interface ScheduleInterval {
  /** The time between the starts of two windows. */
  readonly periodHours: number;
  /** The window, given or the default. */
  readonly windowHours: number;
  /** True when the schedule has exactly this period (rate); false when it is a lower bound (cron). */
  readonly exact: boolean;
}

function validateWindow(owner: string, window: Duration | undefined, maxHours: number, reason: string): Duration | undefined {
  if (window === undefined) {
    return undefined;
  }
  assertLiteral(owner, 'window', window);
  const hours = wholeHours(window);
  const allowed = maxHours >= 1
    ? `a whole number of hours from 1 to ${maxHours} (${reason})`
    : `unset: no window of at least 1 hour fits (${reason})`;
  if (hours === undefined || hours < 1 || hours > MAX_WINDOW_HOURS || hours > maxHours) {
    throw new Error(`${owner}: window must be ${allowed}, got ${hours === undefined ? window.toHumanString() : describeHours(hours)}`);
  }
  return window;
}

/**
 * Expands a cron field into its values, validating it. Returns undefined when the field uses special items
 * (`L`, `W`, `#`) whose days depend on the month.
 */
function parseField(owner: string, spec: FieldSpec, field: string): Set<number> | undefined {
  const fail = (detail: string): never => {
    throw new Error(`${owner}: ${spec.property} must be a cron field with values ${spec.range} (numbers, ranges a-b, steps /n, lists a,b`
      + `${spec.special ? ' and ' + specialHint(spec) : ''}), got '${field}': ${detail}`);
  };
  if (field === '') {
    fail('empty');
  }
  const values = new Set<number>();
  let exact = true;
  for (const item of field.split(',')) {
    if (item === '') {
      fail('empty list item');
    }
    if (spec.special?.test(item)) {
      validateSpecial(spec, item, fail);
      exact = false;
      continue;
    }
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) {
      fail(`'${item}' is not valid`);
    }
    const [, base, stepText] = match!;
    let start = spec.min;
    let end = spec.max;
    if (base !== '*') {
      const [a, b] = base.split('-');
      start = fieldValue(spec, a, fail);
      end = b === undefined ? (stepText === undefined ? start : spec.max) : fieldValue(spec, b, fail);
      if (end < start) {
        fail(`range '${base}' runs backwards`);
      }
    }
    let step = 1;
    if (stepText !== undefined) {
      step = Number(stepText);
      if (step < 1 || step > spec.max) {
        fail(`step must be from 1 to ${spec.max}`);
      }
    }
    for (let v = start; v <= end; v += step) {
      values.add(v);
    }
  }
  return exact ? values : undefined;
}

function fieldValue(spec: FieldSpec, text: string, fail: (detail: string) => never): number {
  const named = spec.names?.[text.toUpperCase()];
  if (named !== undefined) {
    return named;
  }
  if (!/^\d+$/.test(text)) {
    return fail(`'${text}' is not a number${spec.names ? ' or name' : ''}`);
  }
  const n = Number(text);
  if (n < spec.min || n > spec.max) {
    fail(`${n} is outside ${spec.min}-${spec.max}`);
  }
  return n;
}

function validateSpecial(spec: FieldSpec, item: string, fail: (detail: string) => never): void {
  if (spec.property !== 'day') {
    return;
  }
  const offset = /^L-(\d+)$/.exec(item);
  if (offset && Number(offset[1]) > 30) {
    fail(`'${item}': the offset from the last day must be from 0 to 30`);
  }
  const weekday = /^(\d+)W$/.exec(item);
  if (weekday && (Number(weekday[1]) < 1 || Number(weekday[1]) > 31)) {
    fail(`'${item}': ${weekday[1]} is outside 1-31`);
  }
}

function specialHint(spec: FieldSpec): string {
  return spec.property === 'day' ? "'L', 'LW', 'nW'" : "'L', 'nL', 'n#k'";
}

/**
 * Whether a schedule can fire on two consecutive days (then the gap across midnight counts).
 * Unknown sets (special items) are treated as "yes", which only makes the checks stricter.
 */
function canFireOnConsecutiveDays(days: Set<number> | undefined, dayGiven: boolean,
  weekDays: Set<number> | undefined, weekDayGiven: boolean): boolean {
  if (dayGiven) {
    if (!days) {
      return true;
    }
    for (const d of days) {
      if (days.has(d + 1)) {
        return true;
      }
    }
    // the last day of a month followed by the 1st of the next
    return days.has(1) && [28, 29, 30, 31].some((d) => days.has(d));
  }
  if (weekDayGiven) {
    if (!weekDays) {
      return true;
    }
    for (const d of weekDays) {
      if (weekDays.has(d === 7 ? 1 : d + 1)) {
        return true;
      }
    }
    return false;
  }
  return true;
}
