import { Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  DATABASE_ENGINE_DEFAULTS, DEFAULT_EXCLUDE_CHARACTERS, DEFAULT_PASSWORD_LENGTH, PasswordPolicyContract, defaultPasswordPolicy,
} from './private/contract';

/** Punctuation characters Secrets Manager's GetRandomPassword may use. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const NUMBERS = '0123456789';

/** Longest password and longest exclusion list GetRandomPassword accepts. */
const MAX_LENGTH = 4096;

/**
 * Properties of a {@link PasswordPolicy}. Field meanings follow Secrets Manager's `GetRandomPassword`.
 */
export interface PasswordPolicyProps {
  /**
   * Length of generated passwords, from 1 to 4096.
   *
   * @default 32
   */
  readonly length?: number;

  /**
   * Characters never used in generated passwords (at most 4096).
   *
   * For engine policies (`engine.passwordPolicy(overrides)`) these characters are added to the engine's required
   * exclusions, which cannot be removed.
   *
   * @default - `/ @ " ' \` (characters that break connection strings and shells)
   */
  readonly excludeCharacters?: string;

  /**
   * Leave out punctuation characters.
   *
   * @default false
   */
  readonly excludePunctuation?: boolean;

  /**
   * Leave out upper-case letters.
   *
   * @default false
   */
  readonly excludeUppercase?: boolean;

  /**
   * Leave out lower-case letters.
   *
   * @default false
   */
  readonly excludeLowercase?: boolean;

  /**
   * Leave out digits.
   *
   * @default false
   */
  readonly excludeNumbers?: boolean;

  /**
   * Allow the space character.
   *
   * @default false
   */
  readonly includeSpace?: boolean;

  /**
   * Require at least one character of every included type (upper case, lower case, digit, punctuation).
   *
   * @default true
   */
  readonly requireEachIncludedType?: boolean;
}

/**
 * Options for {@link PasswordPolicy.toSecretStringGenerator}.
 */
export interface SecretStringTemplateOptions {
  /**
   * A JSON object, as a string, that the generated password is added to.
   *
   * @default - the secret value is the bare generated password
   */
  readonly secretStringTemplate?: string;

  /**
   * The JSON key the generated password is stored under. Required with `secretStringTemplate`.
   *
   * @default - no key (only valid without `secretStringTemplate`)
   */
  readonly generateStringKey?: string;
}

/**
 * How passwords are generated: one object drives both a secret's first value
 * ({@link PasswordPolicy.toSecretStringGenerator}) and every rotation (the rotation function's environment),
 * so the excluded characters can never drift apart.
 */
export class PasswordPolicy {
  /**
   * The policy for PostgreSQL and Aurora PostgreSQL: excludes `/ @ " ' \ :` in addition to `overrides.excludeCharacters`.
   *
   * @param overrides settings to change; `excludeCharacters` is added to the PostgreSQL exclusions
   * @deprecated use `RotationEngine.POSTGRES_SINGLE_USER.passwordPolicy(overrides)`, which returns the same policy
   * (every engine states its password defaults once, in the engine registry)
   */
  public static postgres(overrides: PasswordPolicyProps = {}): PasswordPolicy {
    // the registry's PostgreSQL password defaults; RotationEngine is not imported here (it builds on this class)
    return PasswordPolicy._fromContract(defaultPasswordPolicy(DATABASE_ENGINE_DEFAULTS.postgres.excludeCharacters))._withOverrides(overrides);
  }

  /**
   * A policy in the shape the handlers read, as a PasswordPolicy.
   *
   * @internal
   */
  public static _fromContract(contract: PasswordPolicyContract): PasswordPolicy {
    const { passwordLength, ...rest } = contract;
    return new PasswordPolicy({ length: passwordLength, ...rest });
  }

  /** Length of generated passwords. */
  public readonly length: number;
  /** Characters never used, each once, in first-seen order. */
  public readonly excludeCharacters: string;
  /** Whether punctuation is left out. */
  public readonly excludePunctuation: boolean;
  /** Whether upper-case letters are left out. */
  public readonly excludeUppercase: boolean;
  /** Whether lower-case letters are left out. */
  public readonly excludeLowercase: boolean;
  /** Whether digits are left out. */
  public readonly excludeNumbers: boolean;
  /** Whether the space character may be used. */
  public readonly includeSpace: boolean;
  /** Whether every included character type must appear. */
  public readonly requireEachIncludedType: boolean;

  constructor(props: PasswordPolicyProps = {}) {
    this.length = props.length ?? DEFAULT_PASSWORD_LENGTH;
    this.excludeCharacters = dedupe(props.excludeCharacters ?? DEFAULT_EXCLUDE_CHARACTERS.common);
    this.excludePunctuation = props.excludePunctuation ?? false;
    this.excludeUppercase = props.excludeUppercase ?? false;
    this.excludeLowercase = props.excludeLowercase ?? false;
    this.excludeNumbers = props.excludeNumbers ?? false;
    this.includeSpace = props.includeSpace ?? false;
    this.requireEachIncludedType = props.requireEachIncludedType ?? true;
    this.validate();
  }

  /**
   * This policy with overrides, where this policy's excluded characters stay excluded: `overrides.excludeCharacters`
   * adds to them. What `RotationEngine.passwordPolicy(overrides)` returns for the engine's default policy.
   *
   * @internal
   */
  public _withOverrides(overrides: PasswordPolicyProps = {}): PasswordPolicy {
    return new PasswordPolicy({
      ...this.toProps(),
      ...overrides,
      excludeCharacters: this.excludeCharacters + (overrides.excludeCharacters ?? ''),
    });
  }

  /**
   * A `SecretStringGenerator` that generates a secret's first value with this policy.
   *
   * @param options where the generated password goes in the secret's JSON
   */
  public toSecretStringGenerator(options: SecretStringTemplateOptions = {}): secretsmanager.SecretStringGenerator {
    // the same fields the rotation function uses, so the first value and every rotation follow one policy
    return {
      ...this._toContract(),
      secretStringTemplate: options.secretStringTemplate,
      generateStringKey: options.generateStringKey,
    };
  }

  /** The settings of this policy as props, for example to derive a changed copy. */
  public toProps(): PasswordPolicyProps {
    const { passwordLength, ...rest } = this._toContract();
    return { length: passwordLength, ...rest };
  }

  /** The JSON the rotation function reads from its environment (`ENV.PASSWORD_POLICY`). */
  public toJson(): string {
    return JSON.stringify(this._toContract());
  }

  /**
   * The policy in the shape the handlers read.
   *
   * @internal
   */
  public _toContract(): PasswordPolicyContract {
    return {
      passwordLength: this.length,
      excludeCharacters: this.excludeCharacters,
      excludePunctuation: this.excludePunctuation,
      excludeUppercase: this.excludeUppercase,
      excludeLowercase: this.excludeLowercase,
      excludeNumbers: this.excludeNumbers,
      includeSpace: this.includeSpace,
      requireEachIncludedType: this.requireEachIncludedType,
    };
  }

  private validate(): void {
    const owner = 'PasswordPolicy';
    if (Token.isUnresolved(this.length) || Token.isUnresolved(this.excludeCharacters)) {
      throw new Error(`${owner}: length and excludeCharacters must be literal values, not tokens, so they can be validated at synth`);
    }
    if (!Number.isInteger(this.length) || this.length < 1 || this.length > MAX_LENGTH) {
      throw new Error(`${owner}: length must be an integer from 1 to ${MAX_LENGTH}, got ${this.length}`);
    }
    if (this.excludeCharacters.length > MAX_LENGTH) {
      throw new Error(`${owner}: excludeCharacters must be at most ${MAX_LENGTH} characters, got ${this.excludeCharacters.length}`);
    }
    const types = [
      { name: 'uppercase letters', flag: 'excludeUppercase', excluded: this.excludeUppercase, chars: UPPERCASE },
      { name: 'lowercase letters', flag: 'excludeLowercase', excluded: this.excludeLowercase, chars: LOWERCASE },
      { name: 'numbers', flag: 'excludeNumbers', excluded: this.excludeNumbers, chars: NUMBERS },
      { name: 'punctuation', flag: 'excludePunctuation', excluded: this.excludePunctuation, chars: PUNCTUATION },
    ];
    const included = types.filter((t) => !t.excluded);
    if (included.length === 0) {
      throw new Error(`${owner}: excludeUppercase, excludeLowercase, excludeNumbers and excludePunctuation are all true; `
        + 'at least one of them must be false (1 to 4 character types must remain)');
    }
    const excluded = new Set(this.excludeCharacters);
    for (const type of included) {
      const usable = [...type.chars].filter((c) => !excluded.has(c));
      if (usable.length === 0 && this.requireEachIncludedType) {
        throw new Error(`${owner}: excludeCharacters removes every character of ${type.name} while ${type.flag} is false and `
          + `requireEachIncludedType is true, so no password can be generated; allow at least 1 of them or set ${type.flag}: true`);
      }
    }
    const usableTotal = included.flatMap((t) => [...t.chars]).filter((c) => !excluded.has(c)).length;
    if (usableTotal === 0) {
      throw new Error(`${owner}: excludeCharacters removes every character of the included types; at least 1 character must remain`);
    }
    if (this.requireEachIncludedType && this.length < included.length) {
      throw new Error(`${owner}: length must be from ${included.length} to ${MAX_LENGTH} when requireEachIncludedType is true `
        + `and ${included.length} character types are included, got ${this.length}`);
    }
  }
}

function dedupe(chars: string): string {
  return Array.from(new Set(chars)).join('');
}
