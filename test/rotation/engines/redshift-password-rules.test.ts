import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PasswordPolicy, PasswordPolicyProps, RotationEngine, RotationFunction, SecretTemplate } from '../../../src';
import { DEFAULT_EXCLUDE_CHARACTERS } from '../../../src/private/contract';
import { testStack } from '../fixtures';

const SINGLE = RotationEngine.REDSHIFT_SINGLE_USER;
const MULTI = RotationEngine.REDSHIFT_MULTI_USER;
const RULES = 'Amazon Redshift\'s password rules \\(8 to 64 characters with an upper-case letter, a lower-case letter and a digit, '
  + 'and none of \' " \\\\ / @ or space\\)';

/** A policy with Redshift's default exclusions and the given changes (excludeCharacters replaces them when given). */
function policy(props: PasswordPolicyProps): PasswordPolicy {
  return new PasswordPolicy({ excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.redshift, ...props });
}

/** Each rule a policy can break, the policy that breaks it, and what the message says about it. */
const BROKEN: Array<[string, PasswordPolicyProps, string]> = [
  ['7 characters', { length: 7 }, 'length must be 8 to 64, got 7'],
  ['65 characters', { length: 65 }, 'length must be 8 to 64, got 65'],
  ['no upper case', { excludeUppercase: true }, 'excludeUppercase must be false: every password needs an upper-case letter'],
  ['no lower case', { excludeLowercase: true }, 'excludeLowercase must be false: every password needs a lower-case letter'],
  ['no digits', { excludeNumbers: true }, 'excludeNumbers must be false: every password needs a digit'],
  ['types not required', { requireEachIncludedType: false },
    'requireEachIncludedType must be true: otherwise a password may lack an upper-case letter, a lower-case letter or a digit'],
  ['quote and at sign allowed', { excludeCharacters: '/"\\:' }, 'excludeCharacters must include "\'@", which Redshift refuses in passwords'],
  ['nothing excluded', { excludeCharacters: '' }, 'excludeCharacters must include "\'\\"\\\\/@", which Redshift refuses in passwords'],
  ['spaces', { includeSpace: true }, 'includeSpace must be false: Redshift refuses spaces in passwords'],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('Redshift password rules at synth', () => {
  test.each(BROKEN)('RotationFunction refuses a policy with %s, naming passwordPolicy and the rule', (_name, props, problem) => {
    for (const engine of [SINGLE, MULTI]) {
      expect(() => new RotationFunction(testStack(), 'Rotation', { engine, passwordPolicy: policy(props) }))
        .toThrow(new RegExp(`^RotationFunction: passwordPolicy cannot guarantee ${RULES}: ${escape(problem)}$`));
    }
  });

  test.each(BROKEN)('SecretTemplate refuses a Redshift template whose policy has %s', (_name, props, problem) => {
    const options = { host: 'cluster.example.internal', username: 'app', passwordPolicy: policy(props) };
    const owner = 'SecretTemplate.database';
    // the registry's longest password is checked first, with its own message
    const expected = props.length === 65
      ? /passwordPolicy.length must be at most 64 for redshift secrets, got 65/
      : props.excludeCharacters !== undefined
        ? /passwordPolicy.excludeCharacters must include .* for redshift secrets/
        : new RegExp(`^${owner}: passwordPolicy cannot guarantee ${RULES}: ${escape(problem)}$`);
    expect(() => SecretTemplate.database({ ...options, engine: 'redshift' })).toThrow(expected);
    expect(() => SecretTemplate.database({ ...options, rotationEngine: SINGLE })).toThrow(expected);
  });

  test('every broken rule is named at once', () => {
    expect(() => new RotationFunction(testStack(), 'Rotation', {
      engine: SINGLE,
      passwordPolicy: new PasswordPolicy({ length: 6, excludeNumbers: true, includeSpace: true, excludeCharacters: '' }),
    })).toThrow(/: length must be 8 to 64, got 6; excludeNumbers must be false: .*; excludeCharacters must include .*; includeSpace must be false: /);
  });

  test('the family\'s default policy and policies derived from it are accepted', () => {
    for (const engine of [SINGLE, MULTI]) {
      expect(() => new RotationFunction(testStack(), 'Rotation', { engine })).not.toThrow();
      expect(() => RotationFunction.shared(testStack(), engine, { passwordPolicy: engine.passwordPolicy({ length: 64 }) })).not.toThrow();
      expect(() => RotationFunction.shared(testStack(), engine, { passwordPolicy: engine.passwordPolicy({ length: 8, excludePunctuation: true }) }))
        .not.toThrow();
    }
    expect(() => SecretTemplate.database({ engine: 'redshift', host: 'h', username: 'app' })).not.toThrow();
    expect(SecretTemplate.database({ engine: 'redshift', host: 'h', username: 'app' }).passwordPolicy!.toJson())
      .toBe(SINGLE.defaultPasswordPolicy.toJson());
  });

  test('derived policies are refused when an override breaks a rule', () => {
    expect(() => RotationFunction.shared(testStack(), MULTI, { passwordPolicy: MULTI.passwordPolicy({ excludeLowercase: true }) }))
      .toThrow(/passwordPolicy cannot guarantee .*: excludeLowercase must be false/);
  });

  test('the rules are Redshift\'s: other families and custom engines with Redshift secrets are not held to them', () => {
    const noDigits = { excludeNumbers: true, length: 100 };
    expect(() => new RotationFunction(testStack(), 'Rotation', {
      engine: RotationEngine.POSTGRES_SINGLE_USER, passwordPolicy: RotationEngine.POSTGRES_SINGLE_USER.passwordPolicy(noDigits),
    })).not.toThrow();
    expect(() => new RotationFunction(testStack(), 'Rotation', {
      engine: RotationEngine.DOCUMENTDB_SINGLE_USER, passwordPolicy: RotationEngine.DOCUMENTDB_SINGLE_USER.passwordPolicy(noDigits),
    })).not.toThrow();
    const custom = RotationEngine.custom({ id: 'rs-custom', code: lambda.Code.fromInline('x'), secretEngines: ['redshift'] });
    expect(() => new RotationFunction(testStack(), 'Rotation', { engine: custom, passwordPolicy: policy({ excludeNumbers: true }) })).not.toThrow();
  });
});
