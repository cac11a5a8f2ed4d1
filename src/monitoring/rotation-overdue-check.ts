import * as path from 'path';
import { Aws, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RotationEngineMetricOptions, RotationMetrics } from './rotation-metrics';
import { MONITORING_FUNCTION_IDS, OVERDUE_ENV } from '../private/contract';
import { encryptedDeadLetterQueue } from '../private/dead-letter-queue';
import { addKeyStatement } from '../private/key-policy';
import { addNagSuppressions } from '../private/nag-suppressions';
import { deadLetterQueueKeyStatement, logGroupKeyStatement, networkInterfaceStatements } from '../private/rotation-function-policy';
import { physicalFunctionName } from '../private/rotation-function-settings';
import { addRouteCheck } from '../private/route-check';
import { IRotationFunction } from '../rotation/rotation-function';

/**
 * Rotation functions whose engines the check can be told: Lambda's environment holds 4 KB, and one entry (function ARN
 * and engine id) takes up to about 140 characters.
 */
const MAX_FUNCTIONS = 25;

/** Options of the overdue check. */
export interface RotationOverdueCheckOptions {
  /**
   * How often the check runs (a whole number of minutes, from 5 minutes to 1 day). The overdue alarms use it as their
   * period.
   *
   * @default Duration.hours(1)
   */
  readonly interval?: Duration;

  /**
   * How long a secret may be past the end of its rotation window before it counts as overdue: room for Secrets Manager's
   * own retries and a slow rotation.
   *
   * @default Duration.days(1)
   */
  readonly gracePeriod?: Duration;

  /**
   * The VPC to run the check in; it needs a route to Secrets Manager (an interface endpoint or NAT).
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc`.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the function in `vpc`.
   *
   * @default - a new group with no ingress and HTTPS egress only
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The key of the function's log group, dead-letter queue and environment.
   *
   * @default - a new key with automatic rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long the function's logs (which name the overdue secrets) are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Properties of a {@link RotationOverdueCheck}. */
export interface RotationOverdueCheckProps extends RotationOverdueCheckOptions {}

/**
 * One small scheduled function for the account and region: it lists the rotation-enabled secrets, computes how long
 * each is past the end of its own schedule's rotation window (rate or cron), and publishes the overdue counts per engine
 * and in total, and the oldest rotation age, as metrics. It reads no secret value: its only Secrets Manager permission is
 * `ListSecrets`.
 */
export class RotationOverdueCheck extends Construct {
  /** The function. */
  public readonly lambdaFunction: lambda.Function;
  /** The schedule that runs it. */
  public readonly rule: events.Rule;
  /** How often it runs. */
  public readonly interval: Duration;
  /** The key of its log group, dead-letter queue and environment. */
  public readonly encryptionKey: kms.IKey;
  /** Its log group (one line per overdue secret). */
  public readonly logGroup: logs.ILogGroup;
  /** Failed runs and undeliverable schedule events. */
  public readonly deadLetterQueue: sqs.IQueue;

  private readonly engineByFunction = new Map<string, { arn: string; engine: string }>();

  constructor(scope: Construct, id: string, props: RotationOverdueCheckProps = {}) {
    super(scope, id);
    const owner = 'RotationOverdueCheck';
    this.interval = props.interval ?? Duration.hours(1);
    const minutes = this.interval.toMinutes({ integral: false });
    // the not-running alarm evaluates two intervals, and a CloudWatch alarm's period is at most one day
    if (!Number.isInteger(minutes) || minutes < 5 || minutes > 24 * 60) {
      throw new Error(`${owner}: interval must be a whole number of minutes from 5 minutes to 1 day; got ${this.interval.toHumanString()}`);
    }
    const grace = props.gracePeriod ?? Duration.days(1);
    // what the handler accepts (it refuses anything else with INVALID_CONFIGURATION at every run)
    if (!Number.isInteger(grace.toSeconds({ integral: false })) || grace.toDays({ integral: false }) > 366) {
      throw new Error(`${owner}: gracePeriod must be whole seconds and at most 366 days, got ${grace.toHumanString()}`);
    }
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    if (logRetention === logs.RetentionDays.INFINITE) {
      throw new Error(`${owner}: logRetention must be a finite retention, got INFINITE`);
    }
    if (!props.vpc && (props.vpcSubnets || props.securityGroups)) {
      throw new Error(`${owner}: vpcSubnets and securityGroups need vpc`);
    }

    const functionName = physicalFunctionName(this, MONITORING_FUNCTION_IDS.OVERDUE_CHECK);
    const logGroupName = `/aws/lambda/${functionName}`;
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'Encrypts the logs, dead-letter queue and environment of the rotation overdue check',
    });
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      retention: logRetention,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    addKeyStatement(owner, this, this.encryptionKey, logGroupKeyStatement(logGroupName));

    const dlq = encryptedDeadLetterQueue(this, 'DeadLetterQueue', this.encryptionKey);
    this.deadLetterQueue = dlq;
    addNagSuppressions(dlq.node.defaultChild as sqs.CfnQueue, [{
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue of the overdue check and of its schedule; a dead-letter queue of a '
        + 'dead-letter queue would only move the same messages again. A missed run is alarmed on instead.',
    }]);

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the rotation overdue check',
    });
    addKeyStatement(owner, this, this.encryptionKey, deadLetterQueueKeyStatement(role.roleArn));
    // EventBridge sends events it cannot deliver to the same queue
    addKeyStatement(owner, this, this.encryptionKey, new iam.PolicyStatement({
      sid: 'AllowEventBridgeToTheDeadLetterQueueViaSqs',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
    }));

    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Permissions of the rotation overdue check',
      roles: [role],
    });

    let securityGroups = props.securityGroups && props.securityGroups.length > 0 ? props.securityGroups : undefined;
    if (props.vpc && !securityGroups) {
      const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: 'Rotation overdue check: no ingress; HTTPS egress to AWS APIs',
        allowAllOutbound: false,
      });
      sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs through VPC endpoints or NAT');
      securityGroups = [sg];
    }

    const stack = Stack.of(this);
    this.lambdaFunction = new lambda.Function(this, 'Function', {
      functionName,
      description: 'Counts rotation-enabled secrets past their rotation window (cdk-secrets-platform)',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // Lambda's longest: an account with hundreds of thousands of secrets takes thousands of ListSecrets pages
      timeout: Duration.minutes(15),
      handler: 'index.handler',
      code: overdueCheckCode(),
      role: role.withoutPolicyUpdates(),
      environment: {
        [OVERDUE_ENV.GRACE_PERIOD_SECONDS]: String(grace.toSeconds()),
        [OVERDUE_ENV.ENGINE_BY_FUNCTION]: Lazy.string({
          produce: () => stack.toJsonString(Object.fromEntries([...this.engineByFunction.values()].map((e) => [e.arn, e.engine]))),
        }),
      },
      environmentEncryption: this.encryptionKey,
      deadLetterQueue: dlq,
      reservedConcurrentExecutions: 1,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups,
    });
    this.lambdaFunction.node.addDependency(policy);

    policy.addStatements(
      new iam.PolicyStatement({ sid: 'ListSecrets', actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
      new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
      new iam.PolicyStatement({ sid: 'SendToOwnDeadLetterQueue', actions: ['sqs:SendMessage'], resources: [dlq.queueArn] }),
      new iam.PolicyStatement({
        sid: 'EncryptDeadLetterMessagesViaSqs',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
      }),
      new iam.PolicyStatement({ sid: 'WriteTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
    );
    const findings: Array<string | { regex: string }> = ['Resource::*'];
    const reasons = ['Resource::* only for actions without resource-level permissions: secretsmanager:ListSecrets, '
      + 'xray:PutTraceSegments, xray:PutTelemetryRecords' + (props.vpc ? ', ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets.' : '.')];
    if (props.vpc) {
      const network = networkInterfaceStatements(props.vpc.selectSubnets(props.vpcSubnets).subnetIds,
        this.lambdaFunction.connections.securityGroups.map((sg) => sg.securityGroupId));
      policy.addStatements(...network.statements);
      findings.push(...network.findings);
      reasons.push(...network.reasons);
    } else {
      addNagSuppressions(this.lambdaFunction.node.defaultChild as lambda.CfnFunction, ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'].map((pack) => ({
        id: `${pack}-LambdaInsideVPC`,
        reason: 'The overdue check only calls secretsmanager:ListSecrets (secret metadata, never a value) over TLS, '
          + 'accepts no connection and reaches no database; pass vpc to place it in a VPC.',
      })));
    }
    addNagSuppressions(policy.node.defaultChild as iam.CfnManagedPolicy, [{ id: 'AwsSolutions-IAM5', reason: reasons.join(' '), appliesTo: findings }]);

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the rotation overdue check',
      schedule: events.Schedule.rate(this.interval),
    });
    this.rule.addTarget(new targets.LambdaFunction(this.lambdaFunction, { deadLetterQueue: dlq, retryAttempts: 2 }));

    this.node.addValidation({
      validate: () => this.engineByFunction.size > MAX_FUNCTIONS
        ? [`${owner}: ${this.engineByFunction.size} rotation functions were added; the engine map of at most ${MAX_FUNCTIONS} fits `
          + 'in the function\'s environment (4 KB). Use one overdue check per group of functions, or leave some out: their '
          + 'secrets count under the engine "unknown"']
        : [],
    });

    if (props.vpc) {
      addRouteCheck({ owner, scope: this, vpc: props.vpc, vpcSubnets: props.vpcSubnets }, this.lambdaFunction);
    }
  }

  /**
   * Counts the secrets a rotation function rotates under its engine (the `Engine` dimension); secrets of functions not
   * added count under `unknown`. Adding the same function twice changes nothing; at most 25 functions.
   *
   * @param rotationFunction the rotation function
   */
  public addRotationFunction(rotationFunction: IRotationFunction): void {
    const key = JSON.stringify(Stack.of(this).resolve(rotationFunction.functionArn));
    if (!this.engineByFunction.has(key)) {
      this.engineByFunction.set(key, { arn: rotationFunction.functionArn, engine: rotationFunction.engine.id });
    }
  }

  /**
   * Overdue secrets (Maximum over the check's interval).
   *
   * @param options the engine to narrow to, and metric options
   */
  public metricOverdueSecrets(options: RotationEngineMetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.overdueSecrets({ period: this.interval, ...options });
  }

  /**
   * Rotation-enabled secrets the check looked at (Maximum over the check's interval); no data means the check did not run.
   *
   * @param options the engine to narrow to, and metric options
   */
  public metricRotationEnabledSecrets(options: RotationEngineMetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.rotationEnabledSecrets({ period: this.interval, ...options });
  }

  /**
   * Rotation-enabled secrets whose schedule the check cannot evaluate (Maximum over the check's interval).
   *
   * @param options the engine to narrow to, and metric options
   */
  public metricUnknownScheduleSecrets(options: RotationEngineMetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.unknownScheduleSecrets({ period: this.interval, ...options });
  }

  /**
   * Seconds since the oldest last rotation (Maximum over the check's interval).
   *
   * @param options metric options
   */
  public metricOldestRotationAge(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.oldestRotationAge({ period: this.interval, ...options });
  }
}

/** The bundled overdue check, `<package>/assets/rotation-overdue-check` (the same path from `src/` and `lib/`). */
function overdueCheckCode(): lambda.Code {
  return lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', MONITORING_FUNCTION_IDS.OVERDUE_CHECK));
}
