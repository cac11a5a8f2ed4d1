/**
 * The overdue check: every rotation-enabled secret of the account and region, measured against its own schedule.
 *
 * Pure apart from the page reader it is given, so the rules are tested without a network; the handler supplies the
 * ListSecrets call. Only metadata is read (ListSecrets never returns a secret value).
 */
import { dueStatus, RotationRules } from './schedule';
import { ERROR_CODES, OVERDUE_ENV, ROTATION_METRICS } from '../../src/private/contract';
import { RotationError } from '../kit/errors';

/** What the check reads of one ListSecrets entry (the SDK's SecretListEntry). */
export interface SecretListing {
  readonly ARN?: string;
  readonly Name?: string;
  readonly RotationEnabled?: boolean;
  readonly RotationLambdaARN?: string;
  readonly RotationRules?: RotationRules;
  readonly LastRotatedDate?: Date;
  readonly CreatedDate?: Date;
}

export interface SecretPage {
  readonly secrets: readonly SecretListing[];
  readonly nextToken?: string;
}

/** Reads one page of ListSecrets (MaxResults 100) starting at `nextToken`. */
export type PageReader = (nextToken: string | undefined) => Promise<SecretPage>;

export interface OverdueConfig {
  /** Seconds a secret may be past the end of its window before it counts as overdue. */
  readonly graceSeconds: number;
  /** Unqualified rotation function ARN -> engine name. */
  readonly engineByFunction: ReadonlyMap<string, string>;
}

/** The environment of the overdue check is wrong; the message names the variable and the problem, never a value. */
export class OverdueConfigError extends RotationError {
  constructor(variable: string, problem: string, cause?: unknown) {
    super(ERROR_CODES.INVALID_CONFIGURATION, `${variable} ${problem}`, cause);
    this.name = 'OverdueConfigError';
  }
}

/** ListSecrets kept answering with more pages than any account holds: stop instead of looping for ever. */
export class ListingTooLongError extends RotationError {
  constructor(pages: number) {
    super(ERROR_CODES.SECRETS_MANAGER_ERROR, `ListSecrets returned more than ${pages} pages`);
    this.name = 'ListingTooLongError';
  }
}

/** 500,000 secrets per account and region is the service quota; 100 per page. */
export const MAX_PAGES = 5_000;
/**
 * How many overdue and how many unknown-schedule secrets one run keeps to name in its log. An account may hold
 * 500,000 secrets, and one broken rotation function can make thousands overdue at once; holding and logging every
 * one would grow the function's memory and log volume with the account, exactly when the check matters most. Every
 * secret is still counted in the metrics; the summary says how many were left unnamed.
 */
export const MAX_LISTED_SECRETS = 1_000;
/** The grace period may not exceed a year: a longer one would silence the check. */
export const MAX_GRACE_SECONDS = 366 * 24 * 3600;
/** What an Engine dimension value may be: the EMF writer's own rule (printable ASCII without spaces). */
const ENGINE_NAME = /^[\x21-\x7e]{1,250}$/;

/**
 * Reads the two variables. Unset grace means 0 (past due is overdue); unset engine map means every secret's engine
 * is {@link ROTATION_METRICS.UNKNOWN_ENGINE}. Anything malformed throws: a check that guesses its own configuration
 * would publish numbers nobody can trust.
 */
export function readOverdueConfig(env: Readonly<Record<string, string | undefined>>): OverdueConfig {
  const grace = env[OVERDUE_ENV.GRACE_PERIOD_SECONDS];
  let graceSeconds = 0;
  if (grace !== undefined && grace !== '') {
    if (!/^\d{1,9}$/.test(grace) || Number(grace) > MAX_GRACE_SECONDS) {
      throw new OverdueConfigError(OVERDUE_ENV.GRACE_PERIOD_SECONDS, `must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS}`);
    }
    graceSeconds = Number(grace);
  }
  const engineByFunction = new Map<string, string>();
  const raw = env[OVERDUE_ENV.ENGINE_BY_FUNCTION];
  if (raw !== undefined && raw !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new OverdueConfigError(OVERDUE_ENV.ENGINE_BY_FUNCTION, 'is not valid JSON', err);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new OverdueConfigError(OVERDUE_ENV.ENGINE_BY_FUNCTION, 'must be a JSON object of function ARN to engine name');
    }
    for (const [arn, engine] of Object.entries(parsed)) {
      if (!isFunctionArn(arn)) {
        throw new OverdueConfigError(OVERDUE_ENV.ENGINE_BY_FUNCTION, 'has a key that is not a Lambda function ARN');
      }
      if (typeof engine !== 'string' || !ENGINE_NAME.test(engine)) {
        throw new OverdueConfigError(OVERDUE_ENV.ENGINE_BY_FUNCTION, 'has an engine name that is not 1 to 250 printable ASCII characters without spaces');
      }
      engineByFunction.set(unqualifiedFunctionArn(arn), engine);
    }
  }
  return { graceSeconds, engineByFunction };
}

/** `arn:<partition>:lambda:<region>:<account>:function:<name>`, optionally with `:<version or alias>`. */
function isFunctionArn(arn: string): boolean {
  return /^arn:[a-z0-9-]+:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/.test(arn);
}

/** A function ARN without its version or alias: Secrets Manager may hold either form. */
export function unqualifiedFunctionArn(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 && parts[5] === 'function' ? parts.slice(0, 7).join(':') : arn;
}

export interface EngineCounts {
  rotationEnabled: number;
  overdue: number;
  unknownSchedule: number;
}

export interface OverdueSecret {
  readonly arn: string;
  readonly name: string;
  readonly engine: string;
  /** When the missed window opened. */
  readonly dueAt: Date;
  /** When it closed; overdue is measured from here. */
  readonly windowEnd: Date;
  readonly overdueBySeconds: number;
}

export interface UnknownScheduleSecret {
  readonly arn: string;
  readonly name: string;
  readonly engine: string;
  readonly reason: string;
}

export interface OverdueReport {
  /** Per engine name, sorted; every configured engine appears, with zeros when it rotates nothing. */
  readonly engines: ReadonlyArray<{ readonly engine: string; readonly counts: EngineCounts }>;
  readonly total: EngineCounts & { readonly oldestRotationAgeSeconds: number };
  readonly overdue: readonly OverdueSecret[];
  readonly unknownSchedule: readonly UnknownScheduleSecret[];
  /** Overdue secrets counted but not in {@link overdue} (beyond {@link MAX_LISTED_SECRETS}). */
  readonly overdueNotListed: number;
  /** Unknown-schedule secrets counted but not in {@link unknownSchedule} (beyond {@link MAX_LISTED_SECRETS}). */
  readonly unknownScheduleNotListed: number;
  /** ListSecrets calls made. */
  readonly pages: number;
}

/**
 * Reads every page and classifies each rotation-enabled secret. A secret that was never rotated is measured from
 * its creation: it is overdue once creation + one interval + window + grace has passed, because its value is then
 * older than its own schedule allows, whenever rotation was turned on.
 */
export async function checkOverdue(readPage: PageReader, config: OverdueConfig, now: Date): Promise<OverdueReport> {
  const engines = new Map<string, EngineCounts>();
  for (const engine of config.engineByFunction.values()) engines.set(engine, zero());
  const total = zero();
  let oldestMs = 0;
  const overdue: OverdueSecret[] = [];
  const unknownSchedule: UnknownScheduleSecret[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    if (pages >= MAX_PAGES) throw new ListingTooLongError(MAX_PAGES);
    const page = await readPage(nextToken);
    pages++;
    for (const secret of page.secrets) {
      if (secret.RotationEnabled !== true) continue;
      const engine = engineOf(secret.RotationLambdaARN, config);
      const counts = engines.get(engine) ?? engines.set(engine, zero()).get(engine)!;
      counts.rotationEnabled++;
      total.rotationEnabled++;
      const arn = secret.ARN ?? '';
      const name = secret.Name ?? '';
      const base = validDate(secret.LastRotatedDate) ?? validDate(secret.CreatedDate);
      if (base === undefined) {
        counts.unknownSchedule++;
        total.unknownSchedule++;
        if (unknownSchedule.length < MAX_LISTED_SECRETS) {
          unknownSchedule.push({ arn, name, engine, reason: 'no last rotation or creation date' });
        }
        continue;
      }
      oldestMs = Math.max(oldestMs, now.getTime() - base.getTime());
      const status = dueStatus(secret.RotationRules, base, now, config.graceSeconds);
      if (status.status === 'unknown') {
        counts.unknownSchedule++;
        total.unknownSchedule++;
        if (unknownSchedule.length < MAX_LISTED_SECRETS) unknownSchedule.push({ arn, name, engine, reason: status.reason });
      } else if (status.status === 'overdue') {
        counts.overdue++;
        total.overdue++;
        if (overdue.length < MAX_LISTED_SECRETS) {
          overdue.push({
            arn, name, engine, dueAt: status.window.start, windowEnd: status.window.end, overdueBySeconds: status.pastDueSeconds,
          });
        }
      }
    }
    nextToken = page.nextToken || undefined;
  } while (nextToken !== undefined);
  return {
    engines: [...engines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([engine, counts]) => ({ engine, counts })),
    total: { ...total, oldestRotationAgeSeconds: Math.floor(oldestMs / 1000) },
    overdue,
    unknownSchedule,
    overdueNotListed: total.overdue - overdue.length,
    unknownScheduleNotListed: total.unknownSchedule - unknownSchedule.length,
    pages,
  };
}

function engineOf(functionArn: string | undefined, config: OverdueConfig): string {
  if (!functionArn) return ROTATION_METRICS.UNKNOWN_ENGINE;
  return config.engineByFunction.get(unqualifiedFunctionArn(functionArn)) ?? ROTATION_METRICS.UNKNOWN_ENGINE;
}

function validDate(value: Date | undefined): Date | undefined {
  return value instanceof Date && Number.isFinite(value.getTime()) ? value : undefined;
}

function zero(): EngineCounts {
  return { rotationEnabled: 0, overdue: 0, unknownSchedule: 0 };
}
