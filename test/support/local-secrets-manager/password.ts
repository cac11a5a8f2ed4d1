import { randomInt } from 'node:crypto';

/** The punctuation set GetRandomPassword draws from (the real service's set). */
export const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
export const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
export const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';

export const DEFAULT_PASSWORD_LENGTH = 32;
export const MAX_PASSWORD_LENGTH = 4096;

/** The GetRandomPassword request, as it arrives on the wire. */
export interface PasswordPolicy {
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludePunctuation?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeLowercase?: boolean;
  readonly IncludeSpace?: boolean;
  readonly RequireEachIncludedType?: boolean;
}

/** Thrown for a policy the real service rejects; `code` is the service's error type. */
export class PasswordPolicyError extends Error {
  readonly code = 'InvalidParameterException';
}

interface CharacterClasses {
  /** Classes of which at least one character is required (when RequireEachIncludedType). */
  readonly required: string[];
  /** Every character that may appear. */
  readonly all: string;
}

/** Generates a password following the GetRandomPassword rules, with a CSPRNG. */
export function generatePassword(policy: PasswordPolicy = {}): string {
  const length = passwordLength(policy);
  const classes = characterClasses(policy);
  const requireEach = policy.RequireEachIncludedType ?? true;
  if (requireEach && classes.required.length > length) {
    throw new PasswordPolicyError(
      `PasswordLength ${length} is too short to include a character of each of the ${classes.required.length} required types.`);
  }
  const chars = requireEach ? classes.required.map(pick) : [];
  while (chars.length < length) {
    chars.push(pick(classes.all));
  }
  return shuffle(chars).join('');
}

function passwordLength(policy: PasswordPolicy): number {
  const length = policy.PasswordLength ?? DEFAULT_PASSWORD_LENGTH;
  if (!Number.isInteger(length) || length < 1 || length > MAX_PASSWORD_LENGTH) {
    throw new PasswordPolicyError(`PasswordLength must be an integer between 1 and ${MAX_PASSWORD_LENGTH}.`);
  }
  return length;
}

function characterClasses(policy: PasswordPolicy): CharacterClasses {
  const excluded = new Set(policy.ExcludeCharacters ?? '');
  const keep = (chars: string): string => [...chars].filter(c => !excluded.has(c)).join('');
  const candidates = [
    policy.ExcludeLowercase ? '' : keep(LOWERCASE),
    policy.ExcludeUppercase ? '' : keep(UPPERCASE),
    policy.ExcludeNumbers ? '' : keep(DIGITS),
    policy.ExcludePunctuation ? '' : keep(PUNCTUATION),
  ];
  const required = candidates.filter(chars => chars.length > 0);
  const space = policy.IncludeSpace && !excluded.has(' ') ? ' ' : '';
  const all = required.join('') + space;
  if (required.length === 0) {
    throw new PasswordPolicyError('The password policy excludes every character type.');
  }
  return { required, all };
}

function pick(chars: string): string {
  return chars[randomInt(chars.length)];
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
