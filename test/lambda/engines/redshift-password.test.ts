import { MD5_PASSWORD_HASH, redshiftMd5Hash, redshiftPasswordProblem } from '../../../lambda/engines/redshift-password';
import { randomPasswordRequest } from '../../../lambda/kit/secrets-client';
import { DATABASE_ENGINE_DEFAULTS, DEFAULT_EXCLUDE_CHARACTERS, defaultPasswordPolicy } from '../../../src/private/contract';
import { generatePassword } from '../../support/local-secrets-manager/password';

/** Redshift's clear-text password rules (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html). */
describe('redshiftPasswordProblem', () => {
  test('10,000 passwords from GetRandomPassword with the Redshift default policy all pass', () => {
    const policy = defaultPasswordPolicy(DEFAULT_EXCLUDE_CHARACTERS.redshift);
    expect(policy.passwordLength).toBeLessThanOrEqual(DATABASE_ENGINE_DEFAULTS.redshift.maxPasswordLength);
    // the request every rotation sends for this policy
    const request = randomPasswordRequest(policy);
    const failures = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const problem = redshiftPasswordProblem(generatePassword(request));
      if (problem) failures.set(problem, (failures.get(problem) ?? 0) + 1);
    }
    expect(Object.fromEntries(failures)).toEqual({});
  });

  test.each([
    ['Ab1defg', 'it must be 8 to 64 characters long'],
    [`Ab1${'x'.repeat(62)}`, 'it must be 8 to 64 characters long'],
    ['Ab1 defgh', 'it may hold only printable ASCII characters other than space (codes 33 to 126)'],
    ['Ab1defgh\u00e9', 'it may hold only printable ASCII characters other than space (codes 33 to 126)'],
    ['Ab1defgh\t', 'it may hold only printable ASCII characters other than space (codes 33 to 126)'],
    ['Ab1def\'gh', 'it must not contain \', ", \\, / or @'],
    ['Ab1def"gh', 'it must not contain \', ", \\, / or @'],
    ['Ab1def\\gh', 'it must not contain \', ", \\, / or @'],
    ['Ab1def/gh', 'it must not contain \', ", \\, / or @'],
    ['Ab1def@gh', 'it must not contain \', ", \\, / or @'],
    ['ab1defghij', 'it must contain an upper-case letter'],
    ['AB1DEFGHIJ', 'it must contain a lower-case letter'],
    ['Abcdefghij', 'it must contain a digit'],
  ])('%j is refused: %s', (password, problem) => {
    expect(redshiftPasswordProblem(password)).toBe(problem);
  });

  test.each([
    'Ab1defgh', `Ab1${'x'.repeat(61)}`, 'Ab1!#$%&()*+,-.:;<=>?[]^_`{|}~',
  ])('%j passes (8 and 64 characters, every allowed punctuation mark)', (password) => {
    expect(redshiftPasswordProblem(password)).toBeUndefined();
  });

  test('the rule named never includes the password', () => {
    expect(redshiftPasswordProblem('CANARYxyz 1')).not.toContain('CANARY');
  });
});

describe('redshiftMd5Hash', () => {
  test('AWS\'s example: password ez, user user1 (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html)', () => {
    expect(redshiftMd5Hash('ez', 'user1')).toBe('md5153c434b4b77c89e6b94f12c5393af5b');
  });

  test('has the shape the statement inlines and never contains the password', () => {
    const hash = redshiftMd5Hash('CANARY-Pw1', 'app');
    expect(hash).toMatch(MD5_PASSWORD_HASH);
    expect(hash).not.toContain('CANARY');
  });

  test('is salted with the user name', () => {
    expect(redshiftMd5Hash('Pw1abcdef', 'app')).not.toBe(redshiftMd5Hash('Pw1abcdef', 'app_clone'));
  });
});
