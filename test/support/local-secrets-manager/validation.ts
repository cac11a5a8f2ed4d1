import type { RotationRulesType, Tag } from '@aws-sdk/client-secrets-manager';
import { ServiceError } from './errors';

/** SecretString and SecretBinary: 1 to 65,536 bytes (API reference length constraints; the "secret value size" quota). */
export const MAX_SECRET_VALUE_BYTES = 65_536;
/** ListSecrets and ListSecretVersionIds: MaxResults 1 to 100. */
export const MAX_LIST_RESULTS = 100;

/** Letters, digits and the punctuation the service names in its own error message. */
const NAME_CHARACTERS = /^[A-Za-z0-9/_+=.@!-]+$/;

/**
 * A member outside a constraint the API reference models (length, range, required). The service's request
 * validation answers these, before the operation runs, with ValidationException in this standard wording.
 * Sensitive members (secret values) are named without their value, as the service does.
 */
export function constraintViolation(member: string, constraint: string, value?: string | number | null): ServiceError {
  const shown = value === undefined ? '' : value === null ? ' null' : ` '${value}'`;
  return new ServiceError('ValidationException',
    `1 validation error detected: Value${shown} at '${member}' failed to satisfy constraint: Member must ${constraint}`);
}

/** A modeled length constraint (characters, bytes or list items) on `member`. */
export function checkLength(member: string, length: number, min: number, max: number, value?: string): void {
  if (length < min) {
    throw constraintViolation(member, `have length greater than or equal to ${min}`, value);
  }
  if (length > max) {
    throw constraintViolation(member, `have length less than or equal to ${max}`, value);
  }
}

/** A required string member: present (else "must not be null") and at least one character. */
export function requireString(value: unknown, member: string): string {
  if (value === undefined || value === null) {
    throw constraintViolation(member, 'not be null', null);
  }
  if (typeof value !== 'string') {
    throw new ServiceError('SerializationException', `${member} must be a string.`);
  }
  checkLength(member, value.length, 1, Number.MAX_SAFE_INTEGER, value);
  return value;
}

export function optionalString(value: unknown, member: string): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new ServiceError('SerializationException', `${member} must be a string.`);
  }
  return value;
}

/** Secret names: 1 to 512 characters from the service's set; the character rule has its own message. */
export function validName(value: unknown): string {
  const name = requireString(value, 'name');
  checkLength('name', name.length, 1, 512, name);
  if (!NAME_CHARACTERS.test(name)) {
    throw new ServiceError('ValidationException',
      'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
  }
  return name;
}

/** ClientRequestToken (which becomes the VersionId): 32 to 64 characters. */
export function validToken(token: unknown): string {
  const value = requireString(token, 'clientRequestToken');
  checkLength('clientRequestToken', value.length, 32, 64, value);
  return value;
}

/** A staging label: 1 to 256 characters. */
export function validStage(stage: unknown, member: string): string {
  const value = requireString(stage, member);
  checkLength(member, value.length, 1, 256, value);
  return value;
}

export function optionalStage(stage: unknown, member: string): string | undefined {
  return stage === undefined || stage === null ? undefined : validStage(stage, member);
}

/** VersionStages: 1 to 20 labels of 1 to 256 characters; duplicates collapse. */
export function validStages(stages: unknown): string[] {
  if (!Array.isArray(stages)) {
    throw new ServiceError('SerializationException', 'versionStages must be a list.');
  }
  checkLength('versionStages', stages.length, 1, 20);
  return [...new Set(stages.map(s => validStage(s, 'versionStages.member')))];
}

/** MaxResults: 1 to 100 when given. */
export function validMaxResults(value: unknown): number {
  if (value === undefined || value === null) {
    return MAX_LIST_RESULTS;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ServiceError('SerializationException', 'maxResults must be an integer.');
  }
  if (value < 1) {
    throw constraintViolation('maxResults', 'have value greater than or equal to 1', value);
  }
  if (value > MAX_LIST_RESULTS) {
    throw constraintViolation('maxResults', `have value less than or equal to ${MAX_LIST_RESULTS}`, value);
  }
  return value;
}

/** Tags: keys 1 to 128 characters, values 0 to 256. */
export function validTags(tags: unknown): Tag[] {
  if (tags === undefined || tags === null) {
    return [];
  }
  if (!Array.isArray(tags)) {
    throw new ServiceError('SerializationException', 'tags must be a list.');
  }
  return tags.map((tag: Tag) => {
    const key = requireString(tag?.Key, 'tags.member.key');
    checkLength('tags.member.key', key.length, 1, 128, key);
    const value = optionalString(tag?.Value, 'tags.member.value') ?? '';
    checkLength('tags.member.value', value.length, 0, 256, value);
    return { Key: key, Value: value };
  });
}

export function validTagKeys(keys: unknown): string[] {
  if (!Array.isArray(keys)) {
    throw constraintViolation('tagKeys', 'not be null', null);
  }
  return keys.map(key => {
    const value = requireString(key, 'tagKeys.member');
    checkLength('tagKeys.member', value.length, 1, 128, value);
    return value;
  });
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
