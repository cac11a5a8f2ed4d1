import { FALLBACK_POLICY, checkPassword, policyFromEnv } from '../../../lambda/kit/password';
import { ENV } from '../../../src/private/contract';

describe('password policy from the environment', () => {
  test('absent means the engine default', () => {
    expect(policyFromEnv({}, { ...FALLBACK_POLICY, passwordLength: 20 }).passwordLength).toBe(20);
  });

  test('the construct policy overrides the default field by field', () => {
    const env = { [ENV.PASSWORD_POLICY]: JSON.stringify({ passwordLength: 40, excludeCharacters: ':/' }) };
    expect(policyFromEnv(env)).toEqual({ ...FALLBACK_POLICY, passwordLength: 40, excludeCharacters: ':/' });
  });

  test.each([
    ['not JSON', '{', /is not valid JSON/],
    ['length 0', JSON.stringify({ passwordLength: 0 }), /passwordLength must be an integer from 1 to 4096/],
    ['length 5000', JSON.stringify({ passwordLength: 5000 }), /passwordLength must be an integer from 1 to 4096/],
    ['bad flag', JSON.stringify({ includeSpace: 'yes' }), /includeSpace must be a boolean/],
    ['bad exclude', JSON.stringify({ excludeCharacters: 3 }), /excludeCharacters must be a string/],
  ])('%s is refused naming the field', (_name, raw, message) => {
    expect(() => policyFromEnv({ [ENV.PASSWORD_POLICY]: raw })).toThrow(message);
  });

  // each of these once fell back to the default policy silently
  test.each(['null', '[]', '[32]', '32', '"strict"', 'true'])('%s is not an object: INVALID_CONFIGURATION, never the default', (raw) => {
    expect(() => policyFromEnv({ [ENV.PASSWORD_POLICY]: raw })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIGURATION', message: `${ENV.PASSWORD_POLICY} must be a JSON object` }));
  });

  test('an unknown field (a typo of a real one) is refused and named', () => {
    const raw = JSON.stringify({ passwordLength: 40, excludeCharacter: ':' });
    expect(() => policyFromEnv({ [ENV.PASSWORD_POLICY]: raw })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIGURATION', message: `${ENV.PASSWORD_POLICY} has unknown fields: excludeCharacter` }));
  });
});

describe('checkPassword', () => {
  const policy = { ...FALLBACK_POLICY, passwordLength: 8, excludeCharacters: ':@' };

  test('a conforming password passes', () => {
    expect(() => checkPassword('Ab3$efgh', policy)).not.toThrow();
  });

  test.each<[string, string, RegExp, Partial<typeof policy>]>([
    ['wrong length', 'Ab3$efg', /length/, {}],
    ['excluded character', 'Ab3:efgh', /excluded character/, {}],
    ['space', 'Ab3 efgh', /space/, {}],
    ['digit when numbers are excluded', 'Ab3$efgh', /digit/, { excludeNumbers: true }],
  ])('%s is refused without echoing the password', (_name, pw, message, extra) => {
    expect(() => checkPassword(pw, { ...policy, ...extra })).toThrow(message);
    try {
      checkPassword(pw, { ...policy, ...extra });
    } catch (err) {
      expect((err as Error).message).not.toContain(pw);
    }
  });
});
