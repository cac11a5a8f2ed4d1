import type { RotationRulesType } from '@aws-sdk/client-secrets-manager';
import { ServiceError } from './errors';

export function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ServiceError('InvalidParameterException', `${name} is required and must be a non-empty string.`);
  }
  return value;
}

export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new ServiceError('InvalidParameterException', `${name} must be a string.`);
  }
  return value;
}

/** VersionIds (ClientRequestToken) are 32 to 64 characters long in the real service. */
export function validToken(token: unknown): string {
  const value = requireString(token, 'ClientRequestToken');
  if (value.length < 32 || value.length > 64) {
    throw new ServiceError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters long.');
  }
  return value;
}

export function validStages(stages: unknown): string[] {
  if (!Array.isArray(stages) || stages.length < 1 || stages.length > 20) {
    throw new ServiceError('InvalidParameterException', 'VersionStages must list 1 to 20 staging labels.');
  }
  return [...new Set(stages.map(s => requireString(s, 'VersionStages')))];
}

export function validRotationRules(rules: RotationRulesType | undefined): RotationRulesType | undefined {
  if (rules === undefined) {
    return undefined;
  }
  const days = rules.AutomaticallyAfterDays;
  const expression = rules.ScheduleExpression;
  if (days !== undefined && expression !== undefined) {
    throw new ServiceError('InvalidParameterException', 'You can\'t specify both AutomaticallyAfterDays and ScheduleExpression.');
  }
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 1000)) {
    throw new ServiceError('InvalidParameterException', 'AutomaticallyAfterDays must be between 1 and 1000.');
  }
  if (expression !== undefined) {
    validScheduleExpression(expression);
  }
  if (rules.Duration !== undefined && !/^([1-9]|1[0-9]|2[0-4])h$/.test(rules.Duration)) {
    throw new ServiceError('InvalidParameterException', 'Duration must be between 1h and 24h.');
  }
  return { ...rules };
}

export function validScheduleExpression(expression: string): void {
  const hours = rateHours(expression);
  if (hours !== undefined) {
    if (hours < 4 || hours > 1000 * 24) {
      throw new ServiceError('InvalidParameterException', 'A rate() schedule must be between 4 hours and 1000 days.');
    }
    return;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  const fields = cron ? cron[1].trim().split(/\s+/) : [];
  if (fields.length !== 6 || fields[0] !== '0' || fields[5] !== '*') {
    throw new ServiceError('InvalidParameterException',
      'ScheduleExpression must be rate(N hours|days) or cron(0 H DoM Mon DoW *) (minutes 0, year *).');
  }
}

export function rateHours(expression: string): number | undefined {
  const match = /^rate\((\d+) (hours?|days?)\)$/.exec(expression);
  if (!match) {
    return undefined;
  }
  const n = Number(match[1]);
  return match[2].startsWith('hour') ? n : n * 24;
}
