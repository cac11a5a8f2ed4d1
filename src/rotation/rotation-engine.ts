import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENGINE_FAMILIES } from './engines';
import { PasswordPolicy, PasswordPolicyProps } from '../password-policy';
import { EngineStatement } from './engines/engine-family';
import {
  FUNCTION_IDS, FunctionId, ROTATION_SCHEMES, SECRET_ENGINES, bundledEngineSpec, engineFamilyOf,
} from '../private/contract';

/**
 * What a secret holds: what a {@link SecretTemplate} describes and what a {@link RotationEngine} rotates
 * (`RotationEngine.secretKind`). `SecretRotation` refuses an engine whose kind is not the template's.
 */
export enum SecretTemplateKind {
  /** Database credentials with a generated `password`. */
  DATABASE = 'database',
  /** OAuth 2.0 client credentials (`client_id`, `client_secret`). */
  OAUTH_CLIENT = 'oauth-client',
  /** An OAuth 2.0 refresh token. */
  OAUTH_REFRESH_TOKEN = 'oauth-refresh-token',
}

/** How messages name a kind of secret. */
const KIND_NAMES: Record<SecretTemplateKind, string> = {
  [SecretTemplateKind.DATABASE]: 'database',
  [SecretTemplateKind.OAUTH_CLIENT]: 'OAuth client',
  [SecretTemplateKind.OAUTH_REFRESH_TOKEN]: 'OAuth refresh token',
};

/**
 * Properties of a custom rotation engine: your own handler code run by a hardened {@link RotationFunction}.
 */
export interface CustomRotationEngineProps {
  /**
   * A short id: lower-case letters, digits and hyphens, 1 to 30 characters, not one of the bundled engine ids.
   * It names the shared function (`RotationFunction.shared`) and must be unique per handler.
   */
  readonly id: string;

  /** The handler code, for example `lambda.Code.fromAsset(...)`. */
  readonly code: lambda.Code;

  /**
   * The handler, as `file.export`.
   *
   * @default 'index.handler'
   */
  readonly handler?: string;

  /**
   * Whether the engine uses alternating users and needs a master secret for every secret it rotates.
   *
   * @default false
   */
  readonly multiUser?: boolean;

  /**
   * What kind of secret the handler rotates. When declared, `SecretRotation` (and `Secret.addRotation`) refuse a
   * secret whose `SecretTemplate` is of another kind at synth, as they do for the bundled engines.
   *
   * @default - `SecretTemplateKind.DATABASE` when `secretEngines` is given; otherwise none: the engine declares nothing
   * and templates are not checked against it (the handler alone decides what it accepts)
   */
  readonly secretKind?: SecretTemplateKind;

  /**
   * Values of the database secret's `engine` field the handler accepts (1 or more non-empty strings), for example
   * `['mysql', 'aurora-mysql']`. Declares a database engine: `SecretRotation` refuses a `SecretTemplate` whose `engine`
   * is not one of them at synth. Only for `secretKind` `DATABASE`.
   *
   * @default - none declared: any database secret (with `secretKind` `DATABASE`) or no check at all
   */
  readonly secretEngines?: string[];

  /**
   * The password policy used when none is given to the function.
   *
   * @default - `new PasswordPolicy()`: length 32, excludes `/ @ " ' \`
   */
  readonly passwordPolicy?: PasswordPolicy;

  /**
   * TCP port of the service the handler connects to; a function in a VPC opens egress to it within the VPC.
   *
   * @default - no egress rule besides HTTPS; add one with `rotationFunction.connections`
   */
  readonly defaultPort?: number;

  /**
   * IAM statements the handler needs beyond the standard rotation permissions. They are copied into the
   * function's one customer-managed policy. Use `Aws.PARTITION`, `Aws.REGION` and `Aws.ACCOUNT_ID` in ARNs.
   *
   * @default - none
   */
  readonly policyStatements?: iam.PolicyStatement[];
}

interface EngineSpec {
  readonly id: string;
  readonly displayName: string;
  readonly multiUser: boolean;
  readonly secretKind?: SecretTemplateKind;
  readonly secretEngines: string[];
  readonly passwordPolicy: PasswordPolicy;
  readonly defaultPort?: number;
  readonly handler: string;
  readonly code?: lambda.Code;
  readonly statements: () => EngineStatement[];
}

const ENGINE_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/;
/** A database secret's `engine` value as custom engines may declare it. */
const SECRET_ENGINE_VALUE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * What a rotation function rotates and how: the handler, the kind of secret (and database engines) it rotates,
 * whether it alternates users, the password policy it uses by default and the extra IAM permissions it needs.
 *
 * Bundled: PostgreSQL (and Aurora PostgreSQL), MySQL (and Aurora MySQL), MariaDB, Amazon Redshift and Amazon
 * DocumentDB, each single user and alternating users. OAuth secrets have no bundled engine yet: rotate them with
 * `RotationEngine.custom(...)` and your own handler.
 */
export class RotationEngine {
  /** PostgreSQL and Aurora PostgreSQL: the user in the secret changes its own password. */
  public static readonly POSTGRES_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.POSTGRES_SINGLE_USER);

  /**
   * PostgreSQL and Aurora PostgreSQL with alternating users: the master secret (`masterarn`) creates or updates
   * a clone user, so the current credential keeps working throughout the rotation.
   */
  public static readonly POSTGRES_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.POSTGRES_MULTI_USER);

  /** MySQL and Aurora MySQL (`mysql`, `aurora-mysql`): the user in the secret changes its own password. */
  public static readonly MYSQL_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.MYSQL_SINGLE_USER);

  /**
   * MySQL and Aurora MySQL (`mysql`, `aurora-mysql`) with alternating users: the master secret (`masterarn`) creates or
   * updates a clone user (same account host, the original's grants), so the current credential keeps working.
   */
  public static readonly MYSQL_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.MYSQL_MULTI_USER);

  /** MariaDB (`mariadb`): the user in the secret changes its own password. */
  public static readonly MARIADB_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.MARIADB_SINGLE_USER);

  /**
   * MariaDB (`mariadb`) with alternating users: the master secret (`masterarn`) creates or updates a clone user (same
   * account host, the original's grants), so the current credential keeps working.
   */
  public static readonly MARIADB_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.MARIADB_MULTI_USER);

  /**
   * Amazon Redshift (provisioned clusters and Redshift Serverless workgroups, `redshift`): the user in the secret changes
   * its own password, sent as Redshift's MD5 hash, never in clear.
   */
  public static readonly REDSHIFT_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.REDSHIFT_SINGLE_USER);

  /**
   * Amazon Redshift with alternating users: the master secret (`masterarn`, also a Redshift-managed admin secret)
   * creates or updates a clone user and copies the original's privileges to it on every rotation.
   */
  public static readonly REDSHIFT_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.REDSHIFT_MULTI_USER);

  /** Amazon DocumentDB (`mongo` or `docdb`): the user in the secret changes its own password (`updateUser`). */
  public static readonly DOCUMENTDB_SINGLE_USER = RotationEngine.bundled(FUNCTION_IDS.DOCUMENTDB_SINGLE_USER);

  /**
   * Amazon DocumentDB (`mongo` or `docdb`) with alternating users: the master secret (`masterarn`, also a
   * DocumentDB-managed master secret) creates or updates a clone user with the original's roles on every rotation.
   */
  public static readonly DOCUMENTDB_MULTI_USER = RotationEngine.bundled(FUNCTION_IDS.DOCUMENTDB_MULTI_USER);

  /**
   * An engine with your own handler code, run by the same hardened function and IAM policy.
   *
   * @param props the handler code and what it needs
   */
  public static custom(props: CustomRotationEngineProps): RotationEngine {
    const bundled: string[] = Object.values(FUNCTION_IDS);
    if (!ENGINE_ID_PATTERN.test(props.id)) {
      throw new Error(`RotationEngine.custom: id must be 1 to 30 lower-case letters, digits or hyphens (not at either end), got '${props.id}'`);
    }
    if (bundled.includes(props.id)) {
      throw new Error(`RotationEngine.custom: id '${props.id}' is a bundled engine id; choose an id other than ${bundled.join(', ')}`);
    }
    if (props.defaultPort !== undefined && (!Number.isInteger(props.defaultPort) || props.defaultPort < 1 || props.defaultPort > 65535)) {
      throw new Error(`RotationEngine.custom: defaultPort must be an integer from 1 to 65535, got ${props.defaultPort}`);
    }
    const secretEngines = props.secretEngines ?? [];
    if (props.secretEngines !== undefined) {
      if (secretEngines.length === 0) {
        throw new Error('RotationEngine.custom: secretEngines must hold 1 or more engine values (for example [\'mysql\', \'aurora-mysql\']), '
          + 'got an empty list; leave it out to declare none');
      }
      secretEngines.forEach((value, i) => {
        if (typeof value !== 'string' || Token.isUnresolved(value) || !SECRET_ENGINE_VALUE_PATTERN.test(value)) {
          throw new Error(`RotationEngine.custom: secretEngines[${i}] must be a literal engine value of 1 to 64 letters, digits, `
            + `hyphens, dots or underscores, got ${JSON.stringify(value)}`);
        }
      });
    }
    if (props.secretKind !== undefined && !Object.values(SecretTemplateKind).includes(props.secretKind)) {
      throw new Error(`RotationEngine.custom: secretKind must be one of ${Object.values(SecretTemplateKind).join(', ')}, got '${props.secretKind}'`);
    }
    if (secretEngines.length > 0 && props.secretKind !== undefined && props.secretKind !== SecretTemplateKind.DATABASE) {
      throw new Error(`RotationEngine.custom: secretEngines applies only to secretKind ${SecretTemplateKind.DATABASE} (the engine field of `
        + `database secrets), got secretKind '${props.secretKind}'`);
    }
    const statements = props.policyStatements ?? [];
    return new RotationEngine({
      id: props.id,
      displayName: `custom (${props.id})`,
      multiUser: props.multiUser ?? false,
      // declaring database engine values declares a database engine
      secretKind: props.secretKind ?? (secretEngines.length > 0 ? SecretTemplateKind.DATABASE : undefined),
      secretEngines: [...secretEngines],
      passwordPolicy: props.passwordPolicy ?? new PasswordPolicy(),
      defaultPort: props.defaultPort,
      handler: props.handler ?? 'index.handler',
      code: props.code,
      statements: () => statements.map((statement) => ({ statement: statement.copy() })),
    });
  }

  /**
   * Which engines rotate secrets of a template's kind and engine value, for messages: the bundled ones, or (when none is
   * bundled for them yet) how to declare a custom one. Never suggests an engine of another family.
   *
   * @param kind the template's kind
   * @param secretEngine the template's `engine` value (database templates)
   * @internal
   */
  public static _suggest(kind: SecretTemplateKind, secretEngine: string | undefined): string {
    const fitting = bundledEngines().filter(([, e]) => e.rotatesSecret(kind, secretEngine));
    if (fitting.length > 0) {
      return `use ${fitting.map(([name]) => `RotationEngine.${name}`).join(' or ')}`;
    }
    if (kind === SecretTemplateKind.DATABASE) {
      const family = secretEngine !== undefined ? engineFamilyOf(secretEngine) : undefined;
      const values = family !== undefined ? [...SECRET_ENGINES[family]] : secretEngine !== undefined ? [secretEngine] : [];
      const what = family ?? secretEngine ?? 'these database';
      return `there is no bundled rotation engine for ${what} secrets yet; use RotationEngine.custom({ id, code, `
        + `secretEngines: [${values.map((v) => `'${v}'`).join(', ')}] }) with your own handler`;
    }
    return `there is no bundled rotation engine for ${KIND_NAMES[kind]} secrets yet; use RotationEngine.custom({ id, code, `
      + `secretKind: SecretTemplateKind.${enumName(kind)} }) with your own handler`;
  }

  /** A bundled engine: its registry entry in the contract plus what its family file adds. */
  private static bundled(id: FunctionId): RotationEngine {
    const spec = bundledEngineSpec(id);
    const family = ENGINE_FAMILIES[spec.family];
    const multiUser = spec.scheme === ROTATION_SCHEMES.MULTI_USER;
    return new RotationEngine({
      id,
      secretKind: SecretTemplateKind.DATABASE,
      displayName: `${family.displayName} ${multiUser ? 'alternating users' : 'single user'}`,
      multiUser,
      secretEngines: [...spec.secretEngines],
      passwordPolicy: family.passwordPolicy(),
      defaultPort: spec.defaultPort,
      handler: 'index.handler',
      statements: () => family.statements(spec.scheme),
    });
  }

  /** The engine id; for bundled engines also the bundle directory `assets/<id>`. */
  public readonly id: string;
  /** A human-readable name for descriptions and messages. */
  public readonly displayName: string;
  /** Whether the engine alternates users and so needs a master secret for every secret it rotates. */
  public readonly multiUser: boolean;
  /**
   * The kind of secret the engine rotates; undefined for a custom engine that declares none (then no template is
   * checked against it).
   */
  public readonly secretKind?: SecretTemplateKind;
  /** Values of the database secret's `engine` field the handler accepts (empty: not declared). */
  public readonly secretEngines: string[];
  /** The password policy used when none is given; `passwordPolicy(overrides)` derives others from it. */
  public readonly defaultPasswordPolicy: PasswordPolicy;
  /** The database port a function in a VPC opens egress to within the VPC, if known. */
  public readonly defaultPort?: number;
  /** The Lambda handler, as `file.export`. */
  public readonly handler: string;
  /** Whether the handler is bundled with this library (as opposed to `RotationEngine.custom`). */
  public readonly isBundled: boolean;

  /** @internal */
  public readonly _code?: lambda.Code;

  private readonly statements: () => EngineStatement[];

  private constructor(spec: EngineSpec) {
    this.id = spec.id;
    this.displayName = spec.displayName;
    this.multiUser = spec.multiUser;
    this.secretKind = spec.secretKind;
    this.secretEngines = spec.secretEngines;
    this.defaultPasswordPolicy = spec.passwordPolicy;
    this.defaultPort = spec.defaultPort;
    this.handler = spec.handler;
    this.isBundled = spec.code === undefined;
    this._code = spec.code;
    this.statements = spec.statements;
  }

  /**
   * The IAM statements this engine needs beyond the standard rotation permissions (new objects on every call).
   *
   * Alternating-user engines find host and port of a master secret managed by the database service, which holds only
   * user name and password: RDS instances and clusters (PostgreSQL, MySQL, MariaDB), Redshift clusters and Redshift
   * Serverless workgroups (Redshift), DocumentDB clusters (DocumentDB).
   */
  public policyStatements(): iam.PolicyStatement[] {
    return this.statements().map((s) => s.statement);
  }

  /**
   * The engine's default password policy with overrides. The engine's required exclusions (for example `/ @ " ' \ :`
   * for PostgreSQL) always stay excluded: `overrides.excludeCharacters` adds to them.
   *
   * @param overrides settings to change
   */
  public passwordPolicy(overrides: PasswordPolicyProps = {}): PasswordPolicy {
    return this.defaultPasswordPolicy._withOverrides(overrides);
  }

  /**
   * The IAM statements with the reasons for their wildcard resources (bundled engines), for the function's cdk-nag
   * suppressions; new objects on every call.
   *
   * @internal
   */
  public _policyStatementsWithReasons(): EngineStatement[] {
    return this.statements();
  }

  /** The engine id. */
  public toString(): string {
    return this.id;
  }

  /**
   * Why this engine cannot rotate a secret of a template's kind and engine value, with what to use instead; undefined
   * when it can (or when the engine declares nothing).
   *
   * @internal
   */
  public _mismatch(kind: SecretTemplateKind, secretEngine: string | undefined): string | undefined {
    if (this.rotatesSecret(kind, secretEngine)) {
      return undefined;
    }
    const what = kind !== this.secretKind
      ? `the secret's template is ${describeTemplate(kind, secretEngine)}`
      : `the secret's template has engine '${secretEngine}'`;
    return `engine '${this.id}' rotates ${this.describeSecrets()}, but ${what}; ${RotationEngine._suggest(kind, secretEngine)}`;
  }

  /**
   * What to write for an alternating-users engine in messages: the bundled alternating-users engine of the same
   * secrets, or a custom one.
   *
   * @internal
   */
  public _alternatingUsersAlternative(): string {
    const counterparts = bundledEngines().filter(([, e]) => e.multiUser && e.secretKind === this.secretKind
      && this.secretEngines.length > 0 && this.secretEngines.every((v) => e.secretEngines.includes(v)));
    return counterparts.length > 0
      ? `an alternating-users engine such as ${counterparts.map(([name]) => `RotationEngine.${name}`).join(' or ')}`
      : 'an alternating-users engine (RotationEngine.custom({ ..., multiUser: true }))';
  }

  /** Whether the engine rotates secrets of this kind and engine value (an engine that declares nothing: yes). */
  private rotatesSecret(kind: SecretTemplateKind, secretEngine: string | undefined): boolean {
    if (this.secretKind === undefined) {
      return true;
    }
    if (kind !== this.secretKind) {
      return false;
    }
    return secretEngine === undefined || this.secretEngines.length === 0 || this.secretEngines.includes(secretEngine);
  }

  private describeSecrets(): string {
    if (this.secretKind === SecretTemplateKind.DATABASE && this.secretEngines.length > 0) {
      return `database secrets with engine ${this.secretEngines.map((v) => `'${v}'`).join(' or ')}`;
    }
    return `${KIND_NAMES[this.secretKind!]} secrets`;
  }
}

/** The bundled engines with their static property names (`POSTGRES_SINGLE_USER`), in declaration order. */
function bundledEngines(): Array<[string, RotationEngine]> {
  return Object.entries(RotationEngine)
    .filter((entry): entry is [string, RotationEngine] => entry[1] instanceof RotationEngine && entry[1].isBundled);
}

function describeTemplate(kind: SecretTemplateKind, secretEngine: string | undefined): string {
  if (kind === SecretTemplateKind.DATABASE) {
    return secretEngine !== undefined ? `a database secret with engine '${secretEngine}'` : 'a database secret';
  }
  return `an ${KIND_NAMES[kind]} secret`;
}

function enumName(kind: SecretTemplateKind): string {
  return Object.entries(SecretTemplateKind).find(([, v]) => v === kind)![0];
}
