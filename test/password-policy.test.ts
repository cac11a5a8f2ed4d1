import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { PasswordPolicy, PasswordPolicyProps, RotationEngine } from '../src';
import { testStack } from './rotation/fixtures';
import { postgres } from '../lambda/engines/postgres';
import {
  BUNDLED_ENGINES, DATABASE_ENGINE_DEFAULTS, DEFAULT_EXCLUDE_CHARACTERS, FUNCTION_IDS, bundledEngineSpec,
} from '../src/private/contract';

describe('PasswordPolicy', () => {
  test('defaults: length 32, common exclusions, every type required', () => {
    const policy = new PasswordPolicy();
    expect(policy._toContract()).toEqual({
      passwordLength: 32,
      excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.common,
      excludePunctuation: false,
      excludeUppercase: false,
      excludeLowercase: false,
      excludeNumbers: false,
      includeSpace: false,
      requireEachIncludedType: true,
    });
    for (const c of ['/', '@', '"', "'", '\\']) {
      expect(policy.excludeCharacters).toContain(c);
    }
  });

  test('PostgreSQL excludes / @ " \' \\ and :', () => {
    const policy = PasswordPolicy.postgres();
    expect(policy.excludeCharacters).toBe(DEFAULT_EXCLUDE_CHARACTERS.postgres);
    for (const c of ['/', '@', '"', "'", '\\', ':']) {
      expect(policy.excludeCharacters).toContain(c);
    }
    expect(policy.length).toBe(32);
  });

  const bundled = Object.entries(FUNCTION_IDS).map(([name, id]) => [name, (RotationEngine as any)[name] as RotationEngine, id] as const);

  test.each(bundled)('%s: passwordPolicy(overrides) keeps the family\'s exclusions and adds the overrides', (_name, engine, id) => {
    const required = DATABASE_ENGINE_DEFAULTS[BUNDLED_ENGINES[id].family].excludeCharacters;
    const policy = engine.passwordPolicy({ excludeCharacters: '%&:/', length: 40, excludePunctuation: true });
    expect(policy.length).toBe(40);
    expect(policy.excludePunctuation).toBe(true);
    // each character once, the required ones first
    expect(policy.excludeCharacters).toBe(Array.from(new Set(`${required}%&:/`)).join(''));
    expect(engine.passwordPolicy({ excludeCharacters: '' }).excludeCharacters).toBe(required);
    expect(engine.passwordPolicy()._toContract()).toEqual(engine.defaultPasswordPolicy._toContract());
    expect(engine.passwordPolicy()).not.toBe(engine.defaultPasswordPolicy);
  });

  test('MySQL and MariaDB exclude / @ " \' \\ but allow :, PostgreSQL also excludes :', () => {
    expect(RotationEngine.MYSQL_SINGLE_USER.passwordPolicy().excludeCharacters).toBe('/@"\'\\');
    expect(RotationEngine.MARIADB_MULTI_USER.passwordPolicy().excludeCharacters).toBe('/@"\'\\');
    expect(RotationEngine.POSTGRES_MULTI_USER.passwordPolicy().excludeCharacters).toBe('/@"\'\\:');
  });

  test('a custom engine\'s passwordPolicy(overrides) starts from its own policy, whose exclusions stay', () => {
    const engine = RotationEngine.custom({
      id: 'x', code: lambda.Code.fromInline('x'), passwordPolicy: new PasswordPolicy({ length: 64, excludeCharacters: '#' }),
    });
    const policy = engine.passwordPolicy({ excludeCharacters: '!' });
    expect(policy.length).toBe(64);
    expect(policy.excludeCharacters).toBe('#!');
  });

  test('deprecated PasswordPolicy.postgres(overrides) is the PostgreSQL engines\' passwordPolicy(overrides)', () => {
    const overrides: PasswordPolicyProps = { excludeCharacters: '%&:', length: 40 };
    expect(PasswordPolicy.postgres(overrides)._toContract()).toEqual(RotationEngine.POSTGRES_SINGLE_USER.passwordPolicy(overrides)._toContract());
    expect(PasswordPolicy.postgres()._toContract()).toEqual(RotationEngine.POSTGRES_MULTI_USER.defaultPasswordPolicy._toContract());
    expect(PasswordPolicy.postgres({ excludeCharacters: '' }).excludeCharacters).toBe(DEFAULT_EXCLUDE_CHARACTERS.postgres);
  });

  test('an explicit exclusion list replaces the default one for a plain policy, deduplicated', () => {
    expect(new PasswordPolicy({ excludeCharacters: 'aab' }).excludeCharacters).toBe('ab');
    expect(new PasswordPolicy({ excludeCharacters: '' }).excludeCharacters).toBe('');
  });

  test('toJson is the contract the handler reads', () => {
    const policy = new PasswordPolicy({ length: 20, excludePunctuation: true });
    expect(JSON.parse(policy.toJson())).toEqual(policy._toContract());
    expect(JSON.parse(policy.toJson()).passwordLength).toBe(20);
  });

  test('toSecretStringGenerator generates the first value with the same policy', () => {
    const stack = testStack();
    const policy = PasswordPolicy.postgres({ length: 40 });
    new secretsmanager.Secret(stack, 'Secret', {
      generateSecretString: policy.toSecretStringGenerator({
        secretStringTemplate: JSON.stringify({ username: 'app' }),
        generateStringKey: 'password',
      }),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        PasswordLength: 40,
        ExcludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.postgres,
        ExcludePunctuation: false,
        ExcludeUppercase: false,
        ExcludeLowercase: false,
        ExcludeNumbers: false,
        IncludeSpace: false,
        RequireEachIncludedType: true,
        SecretStringTemplate: '{"username":"app"}',
        GenerateStringKey: 'password',
      },
    });
  });

  test('toProps round-trips', () => {
    const policy = new PasswordPolicy({ length: 12, excludeNumbers: true, includeSpace: true, requireEachIncludedType: false });
    expect(new PasswordPolicy(policy.toProps())._toContract()).toEqual(policy._toContract());
  });

  const invalid: Array<[string, PasswordPolicyProps, RegExp]> = [
    ['length 0', { length: 0 }, /length must be an integer from 1 to 4096, got 0/],
    ['length 4097', { length: 4097 }, /length must be an integer from 1 to 4096, got 4097/],
    ['fractional length', { length: 12.5 }, /length must be an integer from 1 to 4096, got 12.5/],
    ['negative length', { length: -1 }, /length must be an integer from 1 to 4096/],
    ['too many excluded characters', { excludeCharacters: Array.from({ length: 5000 }, (_, i) => String.fromCharCode(0x100 + i)).join('') },
      /excludeCharacters must be at most 4096 characters, got 5000/],
    ['every character type excluded', { excludePunctuation: true, excludeUppercase: true, excludeLowercase: true, excludeNumbers: true },
      /at least one of them must be false \(1 to 4 character types must remain\)/],
    ['length shorter than the required types', { length: 3 }, /length must be from 4 to 4096 when requireEachIncludedType is true/],
    ['all digits excluded while digits are required', { excludeCharacters: '0123456789' },
      /excludeCharacters removes every character of numbers while excludeNumbers is false .* allow at least 1 of them or set excludeNumbers: true/],
    ['nothing left to generate from', {
      excludeUppercase: true, excludeLowercase: true, excludePunctuation: true, requireEachIncludedType: false, excludeCharacters: '0123456789',
    }, /at least 1 character must remain/],
  ];
  test.each(invalid)('rejects %s, naming the property and the allowed range', (_name, props, message) => {
    expect(() => new PasswordPolicy(props)).toThrow(message);
  });

  test('accepts the boundaries', () => {
    expect(new PasswordPolicy({ length: 4 }).length).toBe(4);
    expect(new PasswordPolicy({ length: 1, requireEachIncludedType: false }).length).toBe(1);
    expect(new PasswordPolicy({ length: 4096 }).length).toBe(4096);
    expect(new PasswordPolicy({ length: 1, excludeUppercase: true, excludeLowercase: true, excludePunctuation: true }).length).toBe(1);
  });
});

describe('no drift between the construct and the handler', () => {
  test.each(Object.values(FUNCTION_IDS))('%s: the engine\'s default policy is the registry\'s, which the handlers read', (id) => {
    const engine = Object.values(RotationEngine).find((e): e is RotationEngine => e instanceof RotationEngine && e.id === id)!;
    expect(engine.defaultPasswordPolicy._toContract()).toEqual(bundledEngineSpec(id).passwordPolicy);
  });

  test('the PostgreSQL engines\' default policy is the policy the bundled handler falls back to', () => {
    for (const engine of [RotationEngine.POSTGRES_SINGLE_USER, RotationEngine.POSTGRES_MULTI_USER]) {
      expect(engine.defaultPasswordPolicy._toContract()).toEqual(postgres.defaultPasswordPolicy);
    }
  });
});
