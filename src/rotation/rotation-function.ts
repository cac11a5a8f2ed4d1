import * as crypto from 'crypto';
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, DependencyGroup, IConstruct, IDependable } from 'constructs';
import { ENGINE_FAMILIES } from './engines';
import { assertPasswordRules } from './engines/engine-family';
import { RotationCode } from './rotation-code';
import { RotationEngine, SecretTemplateKind } from './rotation-engine';
import { PasswordPolicy } from '../password-policy';
import { ENV, engineFamilyOf } from '../private/contract';
import { encryptedDeadLetterQueue } from '../private/dead-letter-queue';
import {
  MASTER_SECRET_TAG_VALUE, assertSameEnvironment, isKeyOfAnotherStack, masterSecretTagKey, secretOfAnotherStack,
} from '../private/master-secret-access';
import { addNagSuppressions } from '../private/nag-suppressions';
import {
  DEAD_LETTER_QUEUE_REDRIVE_SUPPRESSION, anySecretArn, deadLetterQueueKeyStatement, decryptMasterSecretsStatement,
  extendNagReason, logGroupKeyStatement, nagArn, readMasterSecretsStatement, readTaggedMasterSecretsStatement,
  rotationFunctionPolicy,
} from '../private/rotation-function-policy';
import {
  MEMORY_SIZE_MB, RUNTIME_CA_BUNDLE, RotationFunctionSettings, conflictingSettings, physicalFunctionName, validateSettings,
} from '../private/rotation-function-settings';
import { addRouteCheck } from '../private/route-check';

/** Marks RotationFunction instances across copies of this library in one app. */
const ROTATION_FUNCTION_SYMBOL = Symbol.for('cdk-secrets-platform.RotationFunction');

/**
 * A rotation function: what `SecretRotation` needs to attach a secret to it.
 */
export interface IRotationFunction extends IConstruct, iam.IGrantable {
  /** The engine the function rotates. */
  readonly engine: RotationEngine;

  /** The ARN of the Lambda function (the `RotationLambdaARN` of every schedule). */
  readonly functionArn: string;

  /** The name of the Lambda function. */
  readonly functionName: string;

  /**
   * What a rotation schedule must be created after: the invoke permission for Secrets Manager, the IAM policy and the
   * function itself (Secrets Manager invokes the function when a schedule is created).
   */
  readonly rotationDependencies: IDependable;

  /**
   * The VPC the function runs in, so checks of endpoint policies and routes can see its placement.
   *
   * @default - not in a VPC (or, for a function defined elsewhere, not known)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Lets the function read a master secret (alternating-user engines) or an admin secret (OAuth client-secret engines).
   * Adding the same secret twice changes nothing.
   *
   * @param secret the secret holding the credential that manages the alternate user
   */
  addMasterSecret(secret: secretsmanager.ISecret): void;
}

/**
 * Options of a rotation function, also used by `RotationFunction.shared`.
 *
 * `passwordPolicy`, `vpc`, `vpcSubnets` and `securityGroups` select the shared function (one per engine and placement
 * and policy); the other options must match the shared function's when given.
 */
export interface RotationFunctionOptions {
  /**
   * How new passwords are generated (serialized into the function's environment). For a bundled engine it must
   * guarantee the database's password rules (Redshift: 8 to 64 characters with an upper-case letter, a lower-case
   * letter and a digit, none of `' " \ / @` or space), checked at synth.
   *
   * @default - the engine's default policy (`engine.defaultPasswordPolicy`)
   */
  readonly passwordPolicy?: PasswordPolicy;

  /**
   * The VPC to run the function in. Needed to reach databases in private subnets; private subnets also need VPC endpoints
   * for Secrets Manager (or a NAT gateway).
   *
   * Checked at synth: isolated subnets of a VPC defined in this app, without routes and without a Secrets Manager
   * interface endpoint in that VPC anywhere in the app, are an error (the function could never reach Secrets Manager);
   * isolated subnets of an imported VPC without such an endpoint in the app are a warning
   * (`cdk-secrets-platform:rotationFunctionMayNotReachSecretsManager`), since the endpoint may exist outside the app.
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets for the function's network interfaces.
   *
   * @default - the VPC's private subnets (with egress if there are any, else isolated)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the function.
   *
   * @default - a new security group without ingress rules, with egress TCP 443 to anywhere (AWS APIs through VPC
   * endpoints or NAT) and, when the engine has a default port and the VPC's CIDR is known, that port within the VPC.
   * Allow other database ports with `rotationFunction.connections`.
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Timeout of one invocation (one rotation step), from 10 seconds to 15 minutes.
   *
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;

  /**
   * Upper bound of one network call made by the handler (connect, query, AWS API call), from 1 second to half the timeout.
   *
   * @default - a quarter of the timeout, at most 10 seconds
   */
  readonly callTimeout?: Duration;

  /**
   * Retention of the function's log group (finite; compliance packs require a retention).
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * The KMS key that encrypts the log group, the dead-letter queue and the function's environment.
   *
   * A key defined in the same app gets key-policy statements for CloudWatch Logs (limited to this function's log group)
   * and for SQS (this function's role via SQS). An imported key's policy must already allow both.
   *
   * @default - a new key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * A permissions boundary for the function's role.
   *
   * @default - none
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;

  /**
   * Reserved concurrency: the most rotation steps running at once. Secrets Manager runs the steps of one secret
   * one after another, so this bounds how many secrets rotate at the same moment (and how many database
   * connections the function opens). Accounts with a concurrency limit of 10 cannot reserve any; raise the limit.
   *
   * @default 5
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Absolute path, inside the function, of a PEM bundle of CAs trusted for database TLS (`ROTATION_TLS_CA_BUNDLE`).
   *
   * @default - the runtime's trust store plus the Amazon CAs in `/var/runtime/ca-cert.pem` (includes the RDS CAs)
   */
  readonly tlsCaBundle?: string;

  /**
   * SQL the handler runs with the pending credential in `testSecret` (`ROTATION_PROBE_QUERY`); use it to prove the
   * application's privileges. One statement, run in a read-only transaction that is rolled back. For MySQL and MariaDB,
   * which commit DDL and account statements even in a read-only transaction, it must be a query (`SELECT`, `WITH`,
   * `SHOW`, `DESCRIBE` or `EXPLAIN`, without comments, `;` or `INTO OUTFILE`/`DUMPFILE`), checked at synth. For
   * DocumentDB the probe is not SQL but the name of one read-only command run on the authentication database: `ping`,
   * `connectionStatus`, `listCollections`, `dbStats` or `buildInfo`, checked at synth.
   *
   * @default - `SELECT 1` (DocumentDB: `ping`)
   */
  readonly probeQuery?: string;

  /**
   * The longest user name the database accepts, when the server allows another length than its engine and version imply.
   *
   * Counted as the engine counts it (bytes for PostgreSQL and Redshift, characters for MySQL, MariaDB and DocumentDB),
   * from 1 to 1024; set as `ROTATION_USERNAME_LENGTH_LIMIT`. Alternating-users handlers refuse a clone name beyond it
   * before changing anything.
   *
   * @default - the engine's limit: PostgreSQL 63 bytes, MySQL 5.7+ and Aurora MySQL 32 characters (16 before 5.7, read
   * from the server's version), MariaDB 80 characters, Redshift 127 bytes, DocumentDB 63 characters
   */
  readonly usernameLengthLimit?: number;
}

/**
 * Properties of a {@link RotationFunction}.
 */
export interface RotationFunctionProps extends RotationFunctionOptions {
  /** What the function rotates. */
  readonly engine: RotationEngine;
}

/**
 * One hardened Lambda function that rotates any number of secrets of one engine.
 *
 * - newest Node.js runtime of aws-cdk-lib, arm64, 256 MB, tracing, reserved concurrency, KMS-encrypted environment;
 * - its own role with ONE customer-managed policy: secret actions on every secret of the account and region, but only
 *   where the secret names this function as its rotation function (`secretsmanager:resource/AllowRotationLambdaArn`),
 *   so adding a secret never changes IAM; no inline policy, no AWS managed policy;
 * - an explicit KMS-encrypted log group with retention and a KMS-encrypted, TLS-only dead-letter queue;
 * - one invoke permission for Secrets Manager with `SourceAccount` and `SourceArn`.
 *
 * Prefer `RotationFunction.shared()`, which returns the one function per stack for an engine, placement and password policy
 * (and, for OAuth engines, configuration: adapter, overlap, probe).
 */
export class RotationFunction extends Construct implements IRotationFunction, ec2.IConnectable {
  /**
   * The rotation function of `Stack.of(scope)` for an engine, placement (VPC, subnets, security groups) and password
   * policy (for OAuth engines also their configuration: two `RotationEngine.oauthClientSecret(...)` engines with different
   * adapters or overlaps get two functions); created on first use. It is found in the construct tree under a deterministic id on the stack, never in
   * a cache, so it works with any number of apps and stacks.
   *
   * @param scope any construct in the stack that should hold the function
   * @param engine what the function rotates
   * @param options placement, password policy and settings; settings other than placement and policy must match an
   * existing shared function's when given
   */
  public static shared(scope: IConstruct, engine: RotationEngine, options: RotationFunctionOptions = {}): RotationFunction {
    const stack = Stack.of(scope);
    const passwordPolicy = options.passwordPolicy ?? engine.defaultPasswordPolicy;
    const key = {
      engine: engine.id,
      vpc: options.vpc?.vpcId,
      subnets: options.vpc ? options.vpc.selectSubnets(options.vpcSubnets).subnetIds : [],
      securityGroups: (options.securityGroups ?? []).map((sg) => JSON.stringify(stack.resolve(sg.securityGroupId))).sort(),
      passwordPolicy: passwordPolicy._toContract(),
      // OAuth engines only (undefined, so left out of the JSON, for every other engine: their ids stay as they were)
      configuration: engine._sharedFunctionKey(),
    };
    const hash = crypto.createHash('sha256').update(JSON.stringify(stack.resolve(key))).digest('hex').slice(0, 8);
    const id = `RotationFunction-${engine.id}-${hash}`;
    const existing = stack.node.tryFindChild(id);
    if (existing !== undefined) {
      if (!RotationFunction.isRotationFunction(existing)) {
        throw new Error(`RotationFunction.shared: the id '${id}' on stack ${stack.node.path} is taken by a construct that is not a RotationFunction`);
      }
      if (!existing.engine._sameAs(engine, stack)) {
        throw new Error(`RotationFunction.shared: a different engine with id '${engine.id}' already has a shared function on stack ${stack.node.path}; `
          + 'custom engines need distinct ids');
      }
      existing.assertSharedOptions(options);
      return existing;
    }
    return new RotationFunction(stack, id, { ...options, engine, passwordPolicy });
  }

  /**
   * Whether `x` is a RotationFunction (works across copies of this library).
   *
   * @param x any value
   */
  public static isRotationFunction(x: any): x is RotationFunction {
    return x !== null && typeof x === 'object' && ROTATION_FUNCTION_SYMBOL in x;
  }

  /** The engine the function rotates. */
  public readonly engine: RotationEngine;
  /** The password policy the function generates passwords with. */
  public readonly passwordPolicy: PasswordPolicy;
  /** The Lambda function. */
  public readonly lambdaFunction: lambda.Function;
  /** The ARN of the Lambda function. */
  public readonly functionArn: string;
  /** The name of the Lambda function. */
  public readonly functionName: string;
  /** The function's execution role. Add permissions with `grantPrincipal` or `addToPolicy`, never to the role directly. */
  public readonly role: iam.IRole;
  /** The one customer-managed policy holding every permission of the function. */
  public readonly policy: iam.ManagedPolicy;
  /** The KMS key of the log group, dead-letter queue and environment. */
  public readonly encryptionKey: kms.IKey;
  /** The function's log group. */
  public readonly logGroup: logs.ILogGroup;
  /** The dead-letter queue. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The invoke permission for `secretsmanager.amazonaws.com`. */
  public readonly invokePermission: lambda.CfnPermission;
  /** Grants to this principal are added to the function's managed policy. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** What rotation schedules must be created after. */
  public readonly rotationDependencies: IDependable;
  /** The VPC the function runs in; undefined when it is not in a VPC. */
  public readonly vpc?: ec2.IVpc;

  private readonly settings: RotationFunctionSettings;
  /** The function's name as a literal (`functionName` is a reference to the function). */
  private readonly physicalName: string;
  private readonly masterSecretArns = new Set<string>();
  private masterSecretStatement?: iam.PolicyStatement;
  private taggedMasterSecretStatement?: iam.PolicyStatement;
  private readonly masterKeyArns = new Set<string>();
  private masterKeyStatement?: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: RotationFunctionProps) {
    super(scope, id);
    Object.defineProperty(this, ROTATION_FUNCTION_SYMBOL, { value: true });
    const owner = 'RotationFunction';
    const stack = Stack.of(this);

    this.engine = props.engine;
    this.vpc = props.vpc;
    this.passwordPolicy = props.passwordPolicy ?? props.engine.defaultPasswordPolicy;
    const family = props.engine.isBundled ? engineFamilyOf(props.engine.secretEngines[0] ?? '') : undefined;
    this.settings = validateSettings(owner, props, props.engine.displayName, family);
    if (family !== undefined) {
      // a policy the database refuses would fail every rotation after it started; a custom engine's rules are its own
      assertPasswordRules(owner, 'passwordPolicy', ENGINE_FAMILIES[family], this.passwordPolicy);
    }
    if (props.engine.isBundled && props.engine.secretKind !== SecretTemplateKind.DATABASE) {
      // OAuth rotators speak HTTPS to an identity provider: there is no SQL probe and no database user
      for (const property of ['probeQuery', 'usernameLengthLimit'] as const) {
        if (props[property] !== undefined) {
          throw new Error(`${owner}: ${property} applies to database engines only, not to the ${props.engine.displayName} engine`
            + (property === 'probeQuery' ? ' (its probe is RotationEngine.oauthRefreshToken({ probeUrl }))' : ''));
        }
      }
    }

    if (!props.vpc && (props.vpcSubnets || props.securityGroups)) {
      throw new Error(`${owner}: vpcSubnets and securityGroups need vpc`);
    }

    const functionName = physicalFunctionName(this, this.engine.id);
    this.physicalName = functionName;
    const functionArnLiteral = `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${functionName}`;
    const logGroupName = `/aws/lambda/${functionName}`;

    // Encryption key: logs may use it only for this log group; SQS only on behalf of this function's role.
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: `Encrypts the logs, dead-letter queue and environment of the ${this.engine.displayName} rotation function`,
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      retention: this.settings.logRetention,
      encryptionKey: this.encryptionKey,
      removalPolicy: this.settings.logRemovalPolicy,
    });
    this.encryptionKey.addToResourcePolicy(logGroupKeyStatement(logGroupName), true);

    const dlq = encryptedDeadLetterQueue(this, 'DeadLetterQueue', this.encryptionKey);
    this.deadLetterQueue = dlq;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${this.engine.displayName} rotation function`,
      permissionsBoundary: props.permissionsBoundary,
    });
    this.role = role;
    this.encryptionKey.addToResourcePolicy(deadLetterQueueKeyStatement(role.roleArn), true);

    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Permissions of the ${this.engine.displayName} rotation function`,
      roles: [role],
    });
    this.grantPrincipal = new ManagedPolicyPrincipal(role, this.policy);

    // Network placement.
    let securityGroups = props.securityGroups && props.securityGroups.length > 0 ? props.securityGroups : undefined;
    if (props.vpc && !securityGroups) {
      securityGroups = [this.createSecurityGroup(props.vpc)];
    }

    const environment: Record<string, string> = {
      [ENV.PASSWORD_POLICY]: this.passwordPolicy.toJson(),
      [ENV.CALL_TIMEOUT_MS]: String(this.settings.callTimeout.toMilliseconds()),
      NODE_EXTRA_CA_CERTS: RUNTIME_CA_BUNDLE,
    };
    if (this.settings.tlsCaBundle !== undefined) {
      environment[ENV.TLS_CA_BUNDLE] = this.settings.tlsCaBundle;
    }
    if (this.settings.probeQuery !== undefined) {
      environment[ENV.PROBE_QUERY] = this.settings.probeQuery;
    }
    if (this.settings.usernameLengthLimit !== undefined) {
      environment[ENV.USERNAME_LENGTH_LIMIT] = String(this.settings.usernameLengthLimit);
    }
    Object.assign(environment, this.engine._environment(this));

    this.lambdaFunction = new lambda.Function(this, 'Function', {
      functionName,
      description: `Rotates ${this.engine.displayName} secrets in Secrets Manager (cdk-secrets-platform)`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: MEMORY_SIZE_MB,
      timeout: this.settings.timeout,
      handler: this.engine.handler,
      code: RotationCode.forEngine(this.engine),
      // aws-cdk-lib would write a DefaultPolicy (and attach AWS managed policies to a role it creates);
      // every permission lives in this.policy instead.
      role: role.withoutPolicyUpdates(),
      environment,
      environmentEncryption: this.encryptionKey,
      deadLetterQueue: dlq,
      reservedConcurrentExecutions: this.settings.reservedConcurrentExecutions,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups,
    });
    // Lambda checks the DLQ and network-interface permissions when it creates the function.
    this.lambdaFunction.node.addDependency(this.policy);
    this.functionArn = this.lambdaFunction.functionArn;
    this.functionName = this.lambdaFunction.functionName;

    // One invoke permission for every secret of this account and region.
    this.invokePermission = new lambda.CfnPermission(this, 'SecretsManagerInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: this.lambdaFunction.functionArn,
      principal: 'secretsmanager.amazonaws.com',
      sourceAccount: stack.account,
      sourceArn: anySecretArn(),
    });
    this.rotationDependencies = new DependencyGroup(this.invokePermission, this.policy, this.lambdaFunction);

    const policy = rotationFunctionPolicy({
      functionArn: functionArnLiteral,
      logGroupArn: this.logGroup.logGroupArn,
      deadLetterQueueArn: dlq.queueArn,
      encryptionKeyArn: this.encryptionKey.keyArn,
      network: props.vpc ? {
        subnetIds: props.vpc.selectSubnets(props.vpcSubnets).subnetIds,
        securityGroupIds: this.lambdaFunction.connections.securityGroups.map((sg) => sg.securityGroupId),
      } : undefined,
      generatesPasswords: this.engine.generatesPasswords,
      engineStatements: this.engine._policyStatementsWithReasons(functionArnLiteral),
    });
    this.policy.addStatements(...policy.statements);
    addNagSuppressions(this.policy.node.defaultChild as iam.CfnManagedPolicy, [policy.wildcardSuppression]);
    addNagSuppressions(dlq.node.defaultChild as sqs.CfnQueue, [DEAD_LETTER_QUEUE_REDRIVE_SUPPRESSION]);

    if (props.vpc) {
      addRouteCheck({ owner, scope: this, vpc: props.vpc, vpcSubnets: props.vpcSubnets }, this.lambdaFunction);
    }
  }

  /**
   * The function's security groups (only for a function in a VPC), for example to allow a database port:
   * `database.connections.allowDefaultPortFrom(rotationFunction)`.
   */
  public get connections(): ec2.Connections {
    if (this.lambdaFunction.isBoundToVpc) {
      return this.lambdaFunction.connections;
    }
    throw new Error(`RotationFunction ${this.node.path} is not in a VPC: connections need the vpc option`);
  }

  /**
   * Adds a statement to the function's customer-managed policy.
   *
   * @param statement the statement to add
   */
  public addToPolicy(statement: iam.PolicyStatement): void {
    this.policy.addStatements(statement);
  }

  /**
   * Lets the function read a master secret (alternating-user engines) or the identity provider's admin secret (OAuth
   * client-secret engines, whose `SecretRotation` adds it); the same secret is added once. Also lets it
   * decrypt with the secret's KMS key through Secrets Manager, if the secret has a key.
   *
   * A master secret of this stack, or an imported one, is named by its ARN in the function's policy. A master secret
   * defined in another stack of the app (a team's stack, with the function in a platform stack) gets the tag
   * `cdk-secrets-platform:rotation-master-for:<function name>` = `true` instead, and the policy allows reading the
   * secrets of the account and region that carry it (condition `aws:ResourceTag`): no reference between the stacks,
   * so no dependency cycle whichever way the stacks' other references point. Its key is covered by the function's
   * statement for keys used through Secrets Manager.
   *
   * @param secret the secret holding the credential that manages the alternate user
   */
  public addMasterSecret(secret: secretsmanager.ISecret): void {
    const stack = Stack.of(this);
    const remote = secretOfAnotherStack(secret, stack);
    if (remote) {
      assertSameEnvironment('RotationFunction.addMasterSecret', this, secret);
      this.tagMasterSecret(remote);
    } else {
      this.addMasterSecretArn(secret);
    }
    const key = secret.encryptionKey;
    // a key of another stack is used through Secrets Manager like any secret's key (UseSecretKeysViaSecretsManager);
    // naming its ARN here would make this stack depend on that one
    if (key && !isKeyOfAnotherStack(key, stack)) {
      const keyArnKey = JSON.stringify(stack.resolve(key.keyArn));
      if (!this.masterKeyArns.has(keyArnKey)) {
        this.masterKeyArns.add(keyArnKey);
        if (!this.masterKeyStatement) {
          this.masterKeyStatement = decryptMasterSecretsStatement();
          this.policy.addStatements(this.masterKeyStatement);
        }
        this.masterKeyStatement.addResources(key.keyArn);
      }
    }
  }

  /**
   * Failed invocations (failed rotation steps).
   *
   * @param props metric options
   */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.lambdaFunction.metricErrors(props);
  }

  /**
   * Throttled invocations (more rotation steps at once than the reserved concurrency).
   *
   * @param props metric options
   */
  public metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.lambdaFunction.metricThrottles(props);
  }

  /**
   * How long rotation steps take; compare its maximum with the function's timeout to see steps close to being killed.
   *
   * @param props metric options
   * @default - average over 5 minutes
   */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.lambdaFunction.metricDuration(props);
  }

  /**
   * Messages waiting in the dead-letter queue: invocations that failed outside the synchronous rotation protocol.
   *
   * @param props metric options
   * @default - maximum over 5 minutes
   */
  public metricDeadLetterQueueDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(props);
  }

  /** Names a master secret of this stack (or an imported one) by its ARN in the policy. */
  private addMasterSecretArn(secret: secretsmanager.ISecret): void {
    const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
    const arnKey = JSON.stringify(Stack.of(this).resolve(arn));
    if (this.masterSecretArns.has(arnKey)) {
      return;
    }
    this.masterSecretArns.add(arnKey);
    if (!this.masterSecretStatement) {
      this.masterSecretStatement = readMasterSecretsStatement();
      this.policy.addStatements(this.masterSecretStatement);
    }
    this.masterSecretStatement.addResources(arn);
  }

  /** Tags a master secret of another stack for this function; the first one adds the statement that reads tagged masters. */
  private tagMasterSecret(resource: secretsmanager.CfnSecret): void {
    const tagKey = masterSecretTagKey(this.physicalName);
    resource.tags.setTag(tagKey, MASTER_SECRET_TAG_VALUE);
    if (this.taggedMasterSecretStatement) {
      return;
    }
    const tagged = readTaggedMasterSecretsStatement(tagKey, MASTER_SECRET_TAG_VALUE);
    this.taggedMasterSecretStatement = tagged.statement;
    this.policy.addStatements(tagged.statement);
    // the same finding as the rotated secrets' statement, so the one suppression covers it: its reason says why
    extendNagReason(this.policy.node.defaultChild as iam.CfnManagedPolicy, 'AwsSolutions-IAM5', `Resource::${nagArn(anySecretArn())}`,
      tagged.wildcardReason);
  }

  private createSecurityGroup(vpc: ec2.IVpc): ec2.ISecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `${this.engine.displayName} rotation function: no ingress; egress HTTPS and the database port`,
      allowAllOutbound: false,
    });
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs through VPC endpoints or NAT');
    if (this.engine.defaultPort !== undefined) {
      const cidr = vpcCidrIfKnown(vpc);
      if (cidr !== undefined) {
        sg.addEgressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(this.engine.defaultPort), `${this.engine.displayName} databases in the VPC`);
      }
    }
    return sg;
  }

  /** Checks that options passed to `shared()` for an existing function match it. */
  private assertSharedOptions(options: RotationFunctionOptions): void {
    const conflicts = conflictingSettings(Stack.of(this), options, this.settings);
    if (conflicts.length > 0) {
      throw new Error(`RotationFunction.shared: the shared ${this.engine.id} function ${this.node.path} already exists with different `
        + `${conflicts.join(', ')}; pass the same values (or none), or create a separate RotationFunction`);
    }
  }
}

/** Adds statements given to `grant*` methods to the function's managed policy instead of an inline policy. */
class ManagedPolicyPrincipal implements iam.IPrincipal {
  public readonly grantPrincipal: iam.IPrincipal = this;
  public readonly assumeRoleAction: string;
  public readonly policyFragment: iam.PrincipalPolicyFragment;
  public readonly principalAccount?: string;

  constructor(role: iam.IRole, private readonly policy: iam.ManagedPolicy) {
    this.assumeRoleAction = role.assumeRoleAction;
    this.policyFragment = role.policyFragment;
    this.principalAccount = role.principalAccount;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

/** The VPC's CIDR if the VPC knows it (imported VPCs may not). */
function vpcCidrIfKnown(vpc: ec2.IVpc): string | undefined {
  try {
    return vpc.vpcCidrBlock;
  } catch {
    return undefined;
  }
}
