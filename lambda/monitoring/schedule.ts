/**
 * When a secret is due for rotation, from its `RotationRules` as ListSecrets returns them.
 *
 * What Secrets Manager documents (API reference RotationRulesType; user guide "Rotation schedules" and "Schedule
 * expressions"), and what this module implements:
 * - Schedules are in UTC (so there is no daylight saving time to handle) and rotation windows open on the hour.
 * - `rate(N hours|days)`: a schedule in hours or in days. For a rate in days the window starts at midnight.
 * - `cron(Minutes Hours Day-of-month Month Day-of-week Year)`: minutes must be 0 and year must be `*`; hours 0-23
 *   (`, - * /`); day of month 1-31 (`, - * ? / L W`); month 1-12 or JAN-DEC (`, - * /`); day of week 1-7 or SUN-SAT,
 *   1 being Sunday (`, - * ? / L #`). `L` is the last day of the month (day of month) or of the week (day of week);
 *   `SUNL` the last Sunday of the month; `TUE#3` the third Tuesday; `15W` the weekday nearest the 15th.
 * - `AutomaticallyAfterDays` (1 to 1000): the older form of a schedule in days. ListSecrets also reports it, computed,
 *   next to a `ScheduleExpression`; the expression is then what the service follows, so it wins here.
 * - `Duration` (`1h` to `24h`) is the window's length. Without it, the window of a schedule in hours closes after one
 *   hour and the window of a schedule in days at the end of the UTC day.
 *
 * Anything else (a field form the guide does not document, an expression the service would refuse, a schedule with
 * no window in the years searched) is an explicit unknown schedule, never a guessed due time. Where the documentation
 * leaves a choice, the later deadline is taken, so a late answer can only miss an alarm by a window, never raise a
 * false one.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The rotation rules as ListSecrets returns them (the SDK's RotationRulesType). */
export interface RotationRules {
  readonly AutomaticallyAfterDays?: number;
  readonly Duration?: string;
  readonly ScheduleExpression?: string;
}

/** A schedule whose windows can be computed. */
export interface KnownSchedule {
  readonly kind: 'known';
  /** `hours`: the default window is one hour; `days`: the default window ends with the UTC day. */
  readonly unit: 'hours' | 'days';
  /** The first window that opens strictly after `after`, or undefined when there is none within the search limit. */
  readonly firstWindowStartAfter: (after: Date) => Date | undefined;
  /** The window length from `Duration`, in hours; undefined for the default. */
  readonly durationHours?: number;
}

/** A schedule this module cannot evaluate, with a reason from a fixed vocabulary (never the expression itself). */
export interface UnknownSchedule {
  readonly kind: 'unknown';
  readonly reason: string;
}

export type Schedule = KnownSchedule | UnknownSchedule;

/** A rotation window: the service may rotate at any time from `start` until `end`. */
export interface RotationWindow {
  readonly start: Date;
  readonly end: Date;
}

/** How a secret stands against its own schedule at one instant. */
export type DueStatus =
  | {
    readonly status: 'on-time' | 'past-due' | 'overdue';
    /** The first window after the base time (last rotation, or creation). */
    readonly window: RotationWindow;
    /** Seconds since the window closed (0 while it has not). */
    readonly pastDueSeconds: number;
  }
  | { readonly status: 'unknown'; readonly reason: string };

/**
 * How far ahead a cron schedule is searched for its next window. A schedule that fires only on 29 February can
 * wait eight years around 2100; nine years covers it, and anything later is no schedule the service runs.
 */
const CRON_SEARCH_DAYS = 9 * 366;

function unknown(reason: string): UnknownSchedule {
  return { kind: 'unknown', reason };
}

/** Parses the rules into a schedule, or an unknown schedule with the reason. */
export function parseSchedule(rules: RotationRules | undefined): Schedule {
  if (rules === undefined || rules === null) return unknown('no rotation rules');
  let durationHours: number | undefined;
  if (rules.Duration !== undefined && rules.Duration !== null) {
    const match = /^(\d{1,2})h$/.exec(rules.Duration);
    const hours = match ? Number(match[1]) : NaN;
    if (!(hours >= 1 && hours <= 24)) return unknown('invalid Duration');
    durationHours = hours;
  }
  const expression = rules.ScheduleExpression;
  if (typeof expression === 'string') {
    const trimmed = expression.trim();
    if (/^rate\(/i.test(trimmed)) return parseRate(trimmed, durationHours);
    if (/^cron\(/i.test(trimmed)) return parseCron(trimmed, durationHours);
    return unknown('ScheduleExpression is neither rate() nor cron()');
  }
  const days = rules.AutomaticallyAfterDays;
  if (days !== undefined && days !== null) {
    if (!Number.isInteger(days) || days < 1 || days > 1000) return unknown('invalid AutomaticallyAfterDays');
    return rateInDays(days, durationHours);
  }
  return unknown('no schedule in the rotation rules');
}

/**
 * `rate(N hours)` or `rate(N days)`. The service computes the next rotation from the previous one; how it aligns a
 * rate in hours to the hour is not documented, so the window is taken to open at the first full hour at or after
 * last rotation + N hours (the latest start the documented rules allow).
 */
function parseRate(expression: string, durationHours: number | undefined): Schedule {
  const match = /^rate\(\s*(\d{1,6})\s+(hours?|days?)\s*\)$/i.exec(expression);
  if (!match) return unknown('invalid rate() expression');
  const value = Number(match[1]);
  if (value < 1) return unknown('invalid rate() expression');
  if (match[2].toLowerCase().startsWith('day')) return rateInDays(value, durationHours);
  return {
    kind: 'known',
    unit: 'hours',
    durationHours,
    firstWindowStartAfter: (after) => new Date(ceilToHour(after.getTime() + value * HOUR_MS)),
  };
}

/**
 * A rate in days: the window opens at midnight UTC of the day N days after the day of the last rotation, wherever
 * in its day that rotation ran (a rotation late on day D is next due on day D+N, not earlier).
 */
function rateInDays(days: number, durationHours: number | undefined): KnownSchedule {
  return {
    kind: 'known',
    unit: 'days',
    durationHours,
    firstWindowStartAfter: (after) => new Date(startOfUtcDay(after.getTime()) + days * DAY_MS),
  };
}

/** The window that a schedule's first window after `after` spans. */
export function windowAfter(schedule: KnownSchedule, after: Date): RotationWindow | undefined {
  const start = schedule.firstWindowStartAfter(after);
  if (start === undefined) return undefined;
  let end: number;
  if (schedule.durationHours !== undefined) end = start.getTime() + schedule.durationHours * HOUR_MS;
  else if (schedule.unit === 'hours') end = start.getTime() + HOUR_MS;
  else end = startOfUtcDay(start.getTime()) + DAY_MS;
  return { start, end: new Date(end) };
}

/**
 * Where a secret stands: `base` is its last rotation (or its creation, if it was never rotated). Past due once `now`
 * is after the end of the first window after `base`; overdue once it is more than `graceSeconds` after that.
 */
export function dueStatus(rules: RotationRules | undefined, base: Date, now: Date, graceSeconds: number): DueStatus {
  const schedule = parseSchedule(rules);
  if (schedule.kind === 'unknown') return { status: 'unknown', reason: schedule.reason };
  const window = windowAfter(schedule, base);
  if (window === undefined) return { status: 'unknown', reason: 'no rotation window within nine years' };
  const pastMs = now.getTime() - window.end.getTime();
  const pastDueSeconds = pastMs > 0 ? Math.floor(pastMs / 1000) : 0;
  const status = pastMs > graceSeconds * 1000 ? 'overdue' : pastMs > 0 ? 'past-due' : 'on-time';
  return { status, window, pastDueSeconds };
}

// ---- cron ----

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Thrown inside the parser only; becomes an unknown schedule. */
class CronUnsupported extends Error {}

/** A day rule: whether a UTC calendar day is one the schedule fires on. */
type DayRule = (year: number, month: number, day: number) => boolean;

function parseCron(expression: string, durationHours: number | undefined): Schedule {
  const match = /^cron\((.*)\)$/i.exec(expression);
  const fields = match ? match[1].trim().split(/\s+/) : [];
  if (fields.length !== 6) return unknown('cron() needs six fields');
  const [minutes, hoursField, dayOfMonth, monthField, dayOfWeek, year] = fields.map((f) => f.toUpperCase());
  // the service refuses both; they cannot describe a schedule it runs
  if (minutes !== '0') return unknown('cron() minutes must be 0');
  if (year !== '*') return unknown('cron() year must be *');
  try {
    const hours = [...listField(hoursField, 0, 23, [])].sort((a, b) => a - b);
    const months = listField(monthField, 1, 12, MONTHS);
    const dayRule = dayRuleOf(dayOfMonth, dayOfWeek);
    return {
      kind: 'known',
      // several windows a day make a schedule in hours (one-hour default window); one a day, a schedule in days
      unit: hours.length > 1 ? 'hours' : 'days',
      durationHours,
      firstWindowStartAfter: (after) => {
        // strictly after: a window that opened at the very instant of the rotation is the one it ran in
        const earliest = Math.floor(after.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
        for (let d = 0, dayStart = startOfUtcDay(earliest); d <= CRON_SEARCH_DAYS; d++, dayStart += DAY_MS) {
          const date = new Date(dayStart);
          const y = date.getUTCFullYear();
          const m = date.getUTCMonth() + 1;
          if (!months.has(m) || !dayRule(y, m, date.getUTCDate())) continue;
          for (const h of hours) {
            const start = dayStart + h * HOUR_MS;
            if (start >= earliest) return new Date(start);
          }
        }
        return undefined;
      },
    };
  } catch (err) {
    if (err instanceof CronUnsupported) return unknown(err.message);
    throw err;
  }
}

/**
 * The day-of-month and day-of-week fields together. The guide asks for `?` in one of them; its own example
 * `cron(0 1 * 1/3 SUN *)` has `*` in day of month, so `*` next to a specific day of week means that day of week.
 * Two specific fields (any day matching either? both?) would be a guess: unknown.
 */
function dayRuleOf(dayOfMonth: string, dayOfWeek: string): DayRule {
  const anyMonthDay = dayOfMonth === '*' || dayOfMonth === '?';
  const anyWeekDay = dayOfWeek === '*' || dayOfWeek === '?';
  if (dayOfMonth === '?' && dayOfWeek === '?') throw new CronUnsupported('cron() day of month and day of week are both ?');
  if (anyMonthDay && anyWeekDay) return () => true;
  if (!anyMonthDay && !anyWeekDay) throw new CronUnsupported('cron() sets both day of month and day of week');
  return anyWeekDay ? dayOfMonthRule(dayOfMonth) : dayOfWeekRule(dayOfWeek);
}

function dayOfMonthRule(field: string): DayRule {
  if (field === 'L') return (y, m, d) => d === daysInMonth(y, m);
  const weekday = /^(\d{1,2})W$/.exec(field);
  if (weekday) {
    const target = Number(weekday[1]);
    if (target < 1 || target > 31) throw new CronUnsupported('cron() day of month out of range');
    return (y, m, d) => nearestWeekday(y, m, target) === d;
  }
  // anything else with L or W in it (`L-3`, `LW`, `1,L`) fails as a list value: not documented for Secrets Manager
  const days = listField(field, 1, 31, []);
  return (_y, _m, d) => days.has(d);
}

function dayOfWeekRule(field: string): DayRule {
  // L alone: the last day of the week, Saturday
  if (field === 'L') return (y, m, d) => weekdayOf(y, m, d) === 7;
  const last = /^([A-Z]{3}|\d)L$/.exec(field);
  if (last) {
    const target = singleValue(last[1], 1, 7, WEEKDAYS);
    return (y, m, d) => weekdayOf(y, m, d) === target && d + 7 > daysInMonth(y, m);
  }
  const nth = /^([A-Z]{3}|\d)#(\d)$/.exec(field);
  if (nth) {
    const target = singleValue(nth[1], 1, 7, WEEKDAYS);
    const n = Number(nth[2]);
    if (n < 1 || n > 5) throw new CronUnsupported('cron() # takes 1 to 5');
    return (y, m, d) => weekdayOf(y, m, d) === target && Math.ceil(d / 7) === n;
  }
  // other forms (`MON#1,FRI#1`, `2L-1`) fail as list values
  const days = listField(field, 1, 7, WEEKDAYS);
  return (y, m, d) => days.has(weekdayOf(y, m, d));
}

/**
 * A field of `,`-separated items, each `*`, `v`, `a-b`, or one of those with `/step` (`*` / `a` / `a-b` over the
 * field's range from its start). A range must run forwards: a wrap-around (`FRI-MON`) is not documented.
 */
function listField(field: string, min: number, max: number, names: readonly string[]): Set<number> {
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const stepped = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(item);
    if (!stepped) throw new CronUnsupported('cron() field item not supported');
    const step = stepped[2] === undefined ? 1 : Number(stepped[2]);
    if (step < 1) throw new CronUnsupported('cron() step must be at least 1');
    let from: number;
    let to: number;
    if (stepped[1] === '*') {
      from = min;
      to = max;
    } else {
      const range = /^([A-Z0-9]+)(?:-([A-Z0-9]+))?$/.exec(stepped[1]);
      if (!range) throw new CronUnsupported('cron() field item not supported');
      from = singleValue(range[1], min, max, names);
      // `a/step` runs from a to the end of the field, as `a-max/step`
      to = range[2] !== undefined ? singleValue(range[2], min, max, names) : stepped[2] !== undefined ? max : from;
      if (to < from) throw new CronUnsupported('cron() range runs backwards');
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function singleValue(token: string, min: number, max: number, names: readonly string[]): number {
  const named = names.indexOf(token);
  const value = named >= 0 ? named + 1 : /^\d{1,2}$/.test(token) ? Number(token) : NaN;
  if (!(value >= min && value <= max)) throw new CronUnsupported('cron() value out of range');
  return value;
}

/** Day of week, 1 (Sunday) to 7 (Saturday), as cron counts. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

/** 28 to 31; leap years come from the calendar (2000 is one, 2100 is not). */
function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * `nW`: the weekday (Monday to Friday) nearest day n, never leaving the month: a Saturday 1st moves to Monday 3rd,
 * a Sunday on the month's last day to Friday. A month shorter than n has no such day.
 */
function nearestWeekday(year: number, month: number, target: number): number | undefined {
  const last = daysInMonth(year, month);
  if (target > last) return undefined;
  const weekday = weekdayOf(year, month, target);
  if (weekday === 7) return target === 1 ? 3 : target - 1;
  if (weekday === 1) return target === last ? target - 2 : target + 1;
  return target;
}

function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function ceilToHour(ms: number): number {
  return Math.ceil(ms / HOUR_MS) * HOUR_MS;
}
