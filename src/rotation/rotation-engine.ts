import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PasswordPolicy } from '../password-policy';
import { FUNCTION_IDS, POSTGRES_DEFAULTS, SECRET_ENGINES } from '../private/contract';

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
   * Values of the secret's `engine` field this handler accepts (documentation for users; the handler enforces it).
   *
   * @default - none declared
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
  readonly secretEngines: string[];
  readonly passwordPolicy: PasswordPolicy;
  readonly defaultPort?: number;
  readonly handler: string;
  readonly code?: lambda.Code;
  readonly statements: () => iam.PolicyStatement[];
}

/** Lets alternating-user handlers find host and port of an RDS-managed master secret (`rds!db-...`, `rds!cluster-...`). */
function describeRdsStatements(): iam.PolicyStatement[] {
  return [new iam.PolicyStatement({
    sid: 'DescribeRdsDatabasesOfMasterSecrets',
    actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
    resources: [
      `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:*`,
      `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:*`,
    ],
  })];
}

const ENGINE_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/;

/**
 * What a rotation function rotates and how: the bundled handler, whether it alternates users, the password policy
 * it uses by default and the extra IAM permissions it needs.
 *
 * PostgreSQL engines are bundled today; MySQL, MariaDB, Redshift, DocumentDB and OAuth engines follow the same shape.
 */
export class RotationEngine {
  /** PostgreSQL and Aurora PostgreSQL: the user in the secret changes its own password. */
  public static readonly POSTGRES_SINGLE_USER = new RotationEngine({
    id: FUNCTION_IDS.POSTGRES_SINGLE_USER,
    displayName: 'PostgreSQL single user',
    multiUser: false,
    secretEngines: [...SECRET_ENGINES.postgres],
    passwordPolicy: PasswordPolicy.postgres(),
    defaultPort: POSTGRES_DEFAULTS.port,
    handler: 'index.handler',
    statements: () => [],
  });

  /**
   * PostgreSQL and Aurora PostgreSQL with alternating users: the master secret (`masterarn`) creates or updates
   * a clone user, so the current credential keeps working throughout the rotation.
   */
  public static readonly POSTGRES_MULTI_USER = new RotationEngine({
    id: FUNCTION_IDS.POSTGRES_MULTI_USER,
    displayName: 'PostgreSQL alternating users',
    multiUser: true,
    secretEngines: [...SECRET_ENGINES.postgres],
    passwordPolicy: PasswordPolicy.postgres(),
    defaultPort: POSTGRES_DEFAULTS.port,
    handler: 'index.handler',
    statements: describeRdsStatements,
  });

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
    const statements = props.policyStatements ?? [];
    return new RotationEngine({
      id: props.id,
      displayName: `custom (${props.id})`,
      multiUser: props.multiUser ?? false,
      secretEngines: [...(props.secretEngines ?? [])],
      passwordPolicy: props.passwordPolicy ?? new PasswordPolicy(),
      defaultPort: props.defaultPort,
      handler: props.handler ?? 'index.handler',
      code: props.code,
      statements: () => statements.map((s) => s.copy()),
    });
  }

  /** The engine id; for bundled engines also the bundle directory `assets/<id>`. */
  public readonly id: string;
  /** A human-readable name for descriptions and messages. */
  public readonly displayName: string;
  /** Whether the engine alternates users and so needs a master secret for every secret it rotates. */
  public readonly multiUser: boolean;
  /** Values of the secret's `engine` field the handler accepts. */
  public readonly secretEngines: string[];
  /** The password policy used when none is given. */
  public readonly defaultPasswordPolicy: PasswordPolicy;
  /** The database port a function in a VPC opens egress to within the VPC, if known. */
  public readonly defaultPort?: number;
  /** The Lambda handler, as `file.export`. */
  public readonly handler: string;
  /** Whether the handler is bundled with this library (as opposed to `RotationEngine.custom`). */
  public readonly isBundled: boolean;

  /** @internal */
  public readonly _code?: lambda.Code;

  private readonly statements: () => iam.PolicyStatement[];

  private constructor(spec: EngineSpec) {
    this.id = spec.id;
    this.displayName = spec.displayName;
    this.multiUser = spec.multiUser;
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
   * Alternating-user engines describe RDS instances and clusters to resolve host and port of RDS-managed master secrets.
   */
  public policyStatements(): iam.PolicyStatement[] {
    return this.statements();
  }

  /** The engine id. */
  public toString(): string {
    return this.id;
  }
}
