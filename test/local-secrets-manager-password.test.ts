import { GetRandomPasswordCommand, GetRandomPasswordCommandInput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { generatePassword, LocalSecretsManager, PasswordPolicyError, PUNCTUATION } from './support/local-secrets-manager';

const LOWER = /[a-z]/;
const UPPER = /[A-Z]/;
const DIGIT = /[0-9]/;
const SAMPLES = 400;

function hasPunctuation(password: string): boolean {
  return [...password].some(c => PUNCTUATION.includes(c));
}

function samples(policy: Parameters<typeof generatePassword>[0], count = SAMPLES): string[] {
  return Array.from({ length: count }, () => generatePassword(policy));
}

describe('generatePassword', () => {
  test('the punctuation set is the service\'s 32 characters', () => {
    expect(PUNCTUATION).toBe('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
    expect(new Set(PUNCTUATION).size).toBe(32);
  });

  test('defaults: length 32, every type present, no space, every allowed character reachable', () => {
    const all = samples({});
    const seen = new Set(all.join(''));
    for (const password of all) {
      expect(password).toHaveLength(32);
      expect(password).toMatch(LOWER);
      expect(password).toMatch(UPPER);
      expect(password).toMatch(DIGIT);
      expect(hasPunctuation(password)).toBe(true);
      expect(password).not.toContain(' ');
    }
    expect(seen.size).toBe(26 + 26 + 10 + 32);
  });

  test('ExcludeCharacters never appear', () => {
    const excluded = '/@"\'\\:abc0';
    for (const password of samples({ ExcludeCharacters: excluded })) {
      expect([...password].filter(c => excluded.includes(c))).toEqual([]);
      expect(password).toMatch(LOWER);
      expect(password).toMatch(DIGIT);
    }
  });

  test.each([
    ['ExcludeNumbers', { ExcludeNumbers: true }, (p: string) => !DIGIT.test(p)],
    ['ExcludePunctuation', { ExcludePunctuation: true }, (p: string) => /^[A-Za-z0-9]+$/.test(p)],
    ['ExcludeUppercase', { ExcludeUppercase: true }, (p: string) => !UPPER.test(p)],
    ['ExcludeLowercase', { ExcludeLowercase: true }, (p: string) => !LOWER.test(p)],
  ])('%s removes that type', (_name, policy, ok) => {
    expect(samples(policy).every(ok)).toBe(true);
  });

  test('IncludeSpace allows spaces (and does not require one)', () => {
    const all = samples({ IncludeSpace: true, PasswordLength: 8, ExcludePunctuation: true });
    expect(all.some(p => p.includes(' '))).toBe(true);
    expect(all.some(p => !p.includes(' '))).toBe(true);
  });

  test('RequireEachIncludedType holds even for the shortest allowed length', () => {
    for (const password of samples({ PasswordLength: 4 }, 2000)) {
      expect(password).toMatch(LOWER);
      expect(password).toMatch(UPPER);
      expect(password).toMatch(DIGIT);
      expect(hasPunctuation(password)).toBe(true);
    }
  });

  test('RequireEachIncludedType false can omit types', () => {
    const all = samples({ PasswordLength: 4, RequireEachIncludedType: false }, 2000);
    expect(all.some(p => !DIGIT.test(p) || !hasPunctuation(p))).toBe(true);
  });

  test.each([
    ['length 0', { PasswordLength: 0 }],
    ['length 4097', { PasswordLength: 4097 }],
    ['a fractional length', { PasswordLength: 3.5 }],
    ['every type excluded', { ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true }],
    ['every type excluded but spaces', {
      ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true, IncludeSpace: true,
    }],
    ['too short for each required type', { PasswordLength: 3 }],
  ])('%s is rejected', (_name, policy) => {
    expect(() => generatePassword(policy)).toThrow(PasswordPolicyError);
  });

  test('lengths 1 and 4096 are accepted', () => {
    expect(generatePassword({ PasswordLength: 1, RequireEachIncludedType: false })).toHaveLength(1);
    expect(generatePassword({ PasswordLength: 4096 })).toHaveLength(4096);
  });
});

describe('GetRandomPassword over the wire', () => {
  let sm: LocalSecretsManager;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    sm = await LocalSecretsManager.start();
    client = sm.client();
  });

  afterAll(async () => {
    await sm.stop();
  });

  async function password(input: GetRandomPasswordCommandInput): Promise<string> {
    return (await client.send(new GetRandomPasswordCommand(input))).RandomPassword!;
  }

  test('an engine-style policy holds over many samples', async () => {
    const excluded = '/@"\'\\:';
    for (let i = 0; i < 100; i++) {
      const value = await password({ PasswordLength: 30, ExcludeCharacters: excluded });
      expect(value).toHaveLength(30);
      expect([...value].filter(c => excluded.includes(c))).toEqual([]);
      expect(value).toMatch(UPPER);
      expect(value).toMatch(LOWER);
      expect(value).toMatch(DIGIT);
    }
  });

  test('an impossible policy is an InvalidParameterException', async () => {
    await expect(password({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true }))
      .rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(password({ PasswordLength: 5000 })).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});
