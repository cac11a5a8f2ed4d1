import * as crypto from 'crypto';
import { Annotations, Aws, CfnResource, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, DependencyGroup, IConstruct, IDependable } from 'constructs';
import { RotationCode } from './rotation-code';
import { RotationEngine } from './rotation-engine';
import { PasswordPolicy } from '../password-policy';
import { ENV } from '../private/contract';
import {
  MASTER_SECRET_TAG_VALUE, assertSameEnvironment, isKeyOfAnotherStack, masterSecretTagKey, secretOfAnotherStack,
} from '../private/master-secret-access';
import { NAG_METADATA_KEY, addNagSuppressions } from '../private/nag-suppressions';
import { NO_ROUTE_WARNING_ID, checkRouteToSecretsManager } from '../private/route-check';
import { assertLiteral, isIntegerInRange } from '../private/validation';

/** Marks RotationFunction instances across copies of this library in one app. */
const ROTATION_FUNCTION_SYMBOL = Symbol.for('cdk-secrets-platform.RotationFunction');

/**
 * The Node.js 20+ Lambda runtimes no longer load the Amazon CA certificates (including the RDS CAs) by default;
 * this file in the runtime holds them. Setting NODE_EXTRA_CA_CERTS restores them for database TLS verification.
 */
const RUNTIME_CA_BUNDLE = '/var/runtime/ca-cert.pem';

const DEFAULT_TIMEOUT = Duration.seconds(60);
const MIN_TIMEOUT = Duration.seconds(10);
const MAX_TIMEOUT = Duration.minutes(15);
const MAX_CALL_TIMEOUT_MS = 10_000;
const DEFAULT_RESERVED_CONCURRENCY = 5;
const MEMORY_SIZE_MB = 256;

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
   * Lets the function read a master secret (alternating-user engines). Adding the same secret twice changes nothing.
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
   * How new passwords are generated (serialized into the function's environment).
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
   * application's privileges.
   *
   * @default - `SELECT 1`
   */
  readonly probeQuery?: string;
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
 * Prefer `RotationFunction.shared()`, which returns the one function per stack for an engine, placement and password policy.
 */
export class RotationFunction extends Construct implements IRotationFunction, ec2.IConnectable {
  /**
   * The rotation function of `Stack.of(scope)` for an engine, placement (VPC, subnets, security groups) and password
   * policy; created on first use. It is found in the construct tree under a deterministic id on the stack, never in
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
    };
    const hash = crypto.createHash('sha256').update(JSON.stringify(stack.resolve(key))).digest('hex').slice(0, 8);
    const id = `RotationFunction-${engine.id}-${hash}`;
    const existing = stack.node.tryFindChild(id);
    if (existing !== undefined) {
      if (!RotationFunction.isRotationFunction(existing)) {
        throw new Error(`RotationFunction.shared: the id '${id}' on stack ${stack.node.path} is taken by a construct that is not a RotationFunction`);
      }
      if (existing.engine !== engine) {
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

  private readonly settings: Settings;
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
    this.settings = validateSettings(owner, props);

    if (!props.vpc && (props.vpcSubnets || props.securityGroups)) {
      throw new Error(`${owner}: vpcSubnets and securityGroups need vpc`);
    }

    const functionName = physicalFunctionName(this, this.engine);
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
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsForTheRotationFunctionLogGroup',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroupName}` },
      },
    }), true);

    const dlq = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = dlq;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${this.engine.displayName} rotation function`,
      permissionsBoundary: props.permissionsBoundary,
    });
    this.role = role;
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowTheRotationFunctionDeadLetterQueueViaSqs',
      principals: [new iam.ArnPrincipal(role.roleArn)],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
    }), true);

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
      sourceArn: `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:*`,
    });
    this.rotationDependencies = new DependencyGroup(this.invokePermission, this.policy, this.lambdaFunction);

    this.addStatements(functionArnLiteral, dlq, props.vpc ? this.lambdaFunction : undefined, props);

    const vpc = props.vpc;
    if (vpc) {
      // late, so endpoints and routes defined after the function (in any stack of the app) are seen
      this.node.addValidation({
        validate: () => {
          const result = checkRouteToSecretsManager({ owner, scope: this, vpc, vpcSubnets: props.vpcSubnets });
          if (result.warning) {
            // on the Lambda function, so Annotations.of(rotationFunction).acknowledgeWarning(...) (an ancestor) applies
            Annotations.of(this.lambdaFunction).addWarningV2(NO_ROUTE_WARNING_ID, result.warning);
          }
          return result.error ? [result.error] : [];
        },
      });
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
   * Lets the function read a master secret (alternating-user engines); the same secret is added once. Also lets it
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
          this.masterKeyStatement = new iam.PolicyStatement({
            sid: 'DecryptMasterSecretsViaSecretsManager',
            actions: ['kms:Decrypt'],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
          });
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
      this.masterSecretStatement = new iam.PolicyStatement({
        sid: 'ReadMasterSecrets',
        // DescribeSecret: an RDS-managed master secret names its database only in its tags
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      });
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
    const anySecret = anySecretArn();
    this.taggedMasterSecretStatement = new iam.PolicyStatement({
      sid: 'ReadMasterSecretsTaggedForThisFunction',
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      resources: [anySecret],
      conditions: { StringEquals: { [`aws:ResourceTag/${tagKey}`]: MASTER_SECRET_TAG_VALUE } },
    });
    this.policy.addStatements(this.taggedMasterSecretStatement);
    // the same finding as the rotated secrets' statement, so the one suppression covers it: its reason says why
    extendNagReason(this.policy.node.defaultChild as iam.CfnManagedPolicy, 'AwsSolutions-IAM5', `Resource::${nagArn(anySecret)}`,
      `Also secretsmanager:DescribeSecret and GetSecretValue on ${nagArn(anySecret)}, but only on master secrets tagged `
      + `${tagKey}=${MASTER_SECRET_TAG_VALUE} (condition aws:ResourceTag), which the library sets on master secrets of other `
      + 'stacks: naming their ARNs would make the stacks depend on each other in a cycle.');
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

  private addStatements(functionArn: string, dlq: sqs.Queue, vpcFunction: lambda.Function | undefined, props: RotationFunctionProps): void {
    const partition = Aws.PARTITION;
    const region = Aws.REGION;
    const account = Aws.ACCOUNT_ID;
    const anySecret = anySecretArn();
    const anyKey = `arn:${partition}:kms:${region}:${account}:key/*`;
    const anyNetworkInterface = `arn:${partition}:ec2:${region}:${account}:network-interface/*`;

    const statements = [
      new iam.PolicyStatement({
        sid: 'RotateSecretsThatNameThisFunction',
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [anySecret],
        conditions: { StringEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': functionArn } },
      }),
      new iam.PolicyStatement({
        sid: 'GenerateRandomPasswords',
        actions: ['secretsmanager:GetRandomPassword'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'UseSecretKeysViaSecretsManager',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [anyKey],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
      }),
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
      new iam.PolicyStatement({
        sid: 'SendToOwnDeadLetterQueue',
        actions: ['sqs:SendMessage'],
        resources: [dlq.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'EncryptDeadLetterMessagesViaSqs',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${region}.amazonaws.com` } },
      }),
      new iam.PolicyStatement({
        sid: 'WriteTraces',
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    ];

    const wildcardFindings: string[] = [`Resource::${nagArn(anySecret)}`, 'Resource::*', `Resource::${nagArn(anyKey)}`];
    const wildcardReasons = [
      `secretsmanager:* on ${nagArn(anySecret)}: only secrets whose rotation function is this function `
        + '(condition secretsmanager:resource/AllowRotationLambdaArn), so adding a secret never changes IAM.',
      'Resource::* only for actions without resource-level permissions: secretsmanager:GetRandomPassword, '
        + 'xray:PutTraceSegments, xray:PutTelemetryRecords'
        + (vpcFunction ? ', ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets.' : '.'),
      `kms on ${nagArn(anyKey)}: Decrypt and GenerateDataKey only through Secrets Manager (condition kms:ViaService) `
        + 'for the keys of the rotated secrets, which are not known when the function is created.',
    ];
    const appliesToRegex: Array<{ regex: string }> = [];

    if (vpcFunction) {
      const subnetIds = props.vpc!.selectSubnets(props.vpcSubnets).subnetIds;
      const sgIds = vpcFunction.connections.securityGroups.map((sg) => sg.securityGroupId);
      statements.push(
        new iam.PolicyStatement({
          sid: 'DescribeNetworkInterfaces',
          actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'CreateNetworkInterfacesInOwnSubnetsAndSecurityGroups',
          actions: ['ec2:CreateNetworkInterface'],
          resources: [
            anyNetworkInterface,
            // the account is a wildcard so subnets and security groups shared from another account (shared VPCs) work;
            // the ids pin them
            ...subnetIds.map((id) => `arn:${partition}:ec2:${region}:*:subnet/${id}`),
            ...sgIds.map((id) => `arn:${partition}:ec2:${region}:*:security-group/${id}`),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ManageNetworkInterfaces',
          actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: [anyNetworkInterface],
        }),
      );
      wildcardFindings.push(`Resource::${nagArn(anyNetworkInterface)}`);
      wildcardReasons.push(`ec2 on ${nagArn(anyNetworkInterface)}: Lambda creates and deletes the function's network `
        + 'interfaces with its role; their ids are not known in advance (the account and region are pinned).');
      appliesToRegex.push({ regex: '/^Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:\\*:(subnet|security-group)\\/.+$/' });
      wildcardReasons.push('ec2:CreateNetworkInterface on the function\'s own subnets and security groups by id; the account '
        + 'is a wildcard so subnets and security groups shared from another account (shared VPC) work.');
    }

    const engineStatements = this.engine.policyStatements();
    statements.push(...engineStatements);
    if (this.engine.isBundled) {
      // the bundled engines' extra wildcards are reviewed here; a custom engine's are the user's to justify
      const engineWildcards = engineStatements
        .flatMap((s) => s.resources)
        .filter((r) => r.includes('*'))
        .map((r) => `Resource::${nagArn(r)}`);
      if (engineWildcards.length > 0) {
        wildcardFindings.push(...engineWildcards);
        wildcardReasons.push('rds:DescribeDBInstances and rds:DescribeDBClusters on the instances and clusters of the account '
          + 'and region: they resolve host and port of RDS-managed master secrets, whose databases are not known in advance.');
      }
    }

    this.policy.addStatements(...statements);

    const policyResource = this.policy.node.defaultChild as iam.CfnManagedPolicy;
    addNagSuppressions(policyResource, [{
      id: 'AwsSolutions-IAM5',
      reason: wildcardReasons.join(' '),
      appliesTo: [...wildcardFindings, ...appliesToRegex],
    }]);
    addNagSuppressions(dlq.node.defaultChild as sqs.CfnQueue, [{
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue of the rotation function; a dead-letter queue of a dead-letter queue '
        + 'would only move the same messages again. Its depth is alarmed on instead.',
    }]);
  }

  /** Checks that options passed to `shared()` for an existing function match it. */
  private assertSharedOptions(options: RotationFunctionOptions): void {
    const stack = Stack.of(this);
    const same = (a: unknown, b: unknown) => JSON.stringify(stack.resolve(a)) === JSON.stringify(stack.resolve(b));
    const conflicts: string[] = [];
    const check = (property: keyof RotationFunctionOptions, given: unknown, existing: unknown) => {
      if (given !== undefined && !same(given, existing)) {
        conflicts.push(property);
      }
    };
    check('timeout', options.timeout?.toMilliseconds(), this.settings.timeout.toMilliseconds());
    check('callTimeout', options.callTimeout?.toMilliseconds(), this.settings.callTimeout.toMilliseconds());
    check('logRetention', options.logRetention, this.settings.logRetention);
    check('logRemovalPolicy', options.logRemovalPolicy, this.settings.logRemovalPolicy);
    check('reservedConcurrentExecutions', options.reservedConcurrentExecutions, this.settings.reservedConcurrentExecutions);
    check('tlsCaBundle', options.tlsCaBundle, this.settings.tlsCaBundle);
    check('probeQuery', options.probeQuery, this.settings.probeQuery);
    check('encryptionKey', options.encryptionKey?.keyArn, this.settings.encryptionKey?.keyArn);
    check('permissionsBoundary', options.permissionsBoundary?.managedPolicyArn, this.settings.permissionsBoundary?.managedPolicyArn);
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

/** The effective settings of a function (defaults applied), compared by `shared()`. */
interface Settings {
  readonly timeout: Duration;
  readonly callTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly reservedConcurrentExecutions: number;
  readonly encryptionKey?: kms.IKey;
  readonly permissionsBoundary?: iam.IManagedPolicy;
  readonly tlsCaBundle?: string;
  readonly probeQuery?: string;
}

function validateSettings(owner: string, props: RotationFunctionOptions): Settings {
  const timeout = props.timeout ?? DEFAULT_TIMEOUT;
  assertLiteral(owner, 'timeout', timeout);
  const timeoutMs = timeout.toMilliseconds();
  if (timeoutMs % 1000 !== 0 || timeoutMs < MIN_TIMEOUT.toMilliseconds() || timeoutMs > MAX_TIMEOUT.toMilliseconds()) {
    throw new Error(`${owner}: timeout must be whole seconds from 10 seconds to 15 minutes, got ${timeout.toHumanString()}`);
  }
  const callTimeout = props.callTimeout ?? Duration.millis(Math.min(MAX_CALL_TIMEOUT_MS, Math.floor(timeoutMs / 4)));
  assertLiteral(owner, 'callTimeout', callTimeout);
  const callMs = callTimeout.toMilliseconds();
  if (!Number.isInteger(callMs) || callMs < 1000 || callMs > timeoutMs / 2) {
    throw new Error(`${owner}: callTimeout must be from 1 second to half the timeout (${timeoutMs / 2000} seconds), `
      + `got ${callTimeout.toHumanString()}`);
  }
  const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
  if (logRetention === logs.RetentionDays.INFINITE) {
    throw new Error(`${owner}: logRetention must be a finite retention (RetentionDays.ONE_DAY to RetentionDays.TEN_YEARS), got INFINITE`);
  }
  const reserved = props.reservedConcurrentExecutions ?? DEFAULT_RESERVED_CONCURRENCY;
  assertLiteral(owner, 'reservedConcurrentExecutions', reserved);
  if (!isIntegerInRange(reserved, 1, 10_000)) {
    throw new Error(`${owner}: reservedConcurrentExecutions must be an integer from 1 to 10000, got ${reserved}`);
  }
  if (props.tlsCaBundle !== undefined && !Token.isUnresolved(props.tlsCaBundle) && !props.tlsCaBundle.startsWith('/')) {
    throw new Error(`${owner}: tlsCaBundle must be an absolute path inside the function (starting with '/'), got '${props.tlsCaBundle}'`);
  }
  if (props.probeQuery !== undefined && props.probeQuery.trim() === '') {
    throw new Error(`${owner}: probeQuery must be a non-empty SQL statement (1 or more characters), got an empty string`);
  }
  return {
    timeout,
    callTimeout,
    logRetention,
    logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    reservedConcurrentExecutions: reserved,
    encryptionKey: props.encryptionKey,
    permissionsBoundary: props.permissionsBoundary,
    tlsCaBundle: props.tlsCaBundle,
    probeQuery: props.probeQuery,
  };
}

/**
 * A deterministic function name, unique per stack name and construct path, at most 64 characters.
 * The name is known at synth so the IAM policy can name the function's ARN without depending on the function
 * (which depends on the policy).
 */
function physicalFunctionName(scope: Construct, engine: RotationEngine): string {
  const stack = Stack.of(scope);
  const stackName = stack.stackName;
  const prefix = Token.isUnresolved(stackName)
    ? Names.uniqueResourceName(stack, { maxLength: 20 })
    : stackName.replace(/[^A-Za-z0-9-_]/g, '').slice(0, 20);
  const hash = crypto.createHash('sha256').update(`${Token.isUnresolved(stackName) ? '' : stackName}/${scope.node.path}`)
    .digest('hex').slice(0, 8);
  return `${prefix}-${engine.id.slice(0, 30)}-${hash}`;
}

/** The VPC's CIDR if the VPC knows it (imported VPCs may not). */
function vpcCidrIfKnown(vpc: ec2.IVpc): string | undefined {
  try {
    return vpc.vpcCidrBlock;
  } catch {
    return undefined;
  }
}

/**
 * Appends to the reason of this library's suppression of `ruleId` that applies to `finding` (written by
 * `addNagSuppressions` in the same resource's `cdk_nag` metadata).
 */
function extendNagReason(resource: CfnResource, ruleId: string, finding: string, extra: string): void {
  const metadata = resource.getMetadata(NAG_METADATA_KEY);
  const rules: Array<{ id: string; reason: string; applies_to?: unknown[] }> = metadata?.rules_to_suppress ?? [];
  const rule = rules.find((r) => r.id === ruleId && (r.applies_to ?? []).includes(finding));
  if (!rule) {
    throw new Error(`RotationFunction: no ${ruleId} suppression for ${finding} on ${resource.node.path} to extend`);
  }
  if (!rule.reason.includes(extra)) {
    rule.reason = `${rule.reason} ${extra}`;
    resource.addMetadata(NAG_METADATA_KEY, { ...metadata, rules_to_suppress: rules });
  }
}

/** Every secret of the stack's account and region. */
function anySecretArn(): string {
  return `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:*`;
}

/** How cdk-nag renders `arn:${Aws.PARTITION}:...` in its findings. */
function nagArn(arn: string): string {
  return arn
    .replace(Aws.PARTITION, '<AWS::Partition>')
    .replace(Aws.REGION, '<AWS::Region>')
    .replace(Aws.ACCOUNT_ID, '<AWS::AccountId>');
}
