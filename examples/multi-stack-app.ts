/**
 * A platform stack and two team stacks: the platform owns the network, the interface endpoints, a KMS key and the
 * shared rotation functions; each team owns its database secrets (a master and an application secret rotated with
 * alternating users) and a function that reads its secret through the endpoints.
 *
 * Every reference points from a team stack to the platform stack, never back: a team admits its reader to the
 * platform's endpoints with `endpoints.allowFrom(reader)` (the rules land in the team stack), and the platform's
 * alternating-users function reads a team's master secret because the master carries the function's tag (no ARN of
 * a team resource in the platform's policy).
 *
 * Synthesize it with `npx cdk synth --app "npx ts-node --prefer-ts-exts examples/multi-stack-app.ts"`.
 */
import { App, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  RotationEngine,
  RotationFunction,
  RotationFunctionOptions,
  RotationSchedule,
  Secret,
  SecretEncryptionKey,
  SecretTemplate,
  SecretsManagerEndpoints,
} from '../src';

/** Where the teams' PostgreSQL cluster answers (inside the VPC). */
const DATABASE = { host: 'teams.cluster-example.eu-west-1.rds.amazonaws.com', port: 5432 };

/** The network, the endpoints, the key and the shared rotation functions. */
export class PlatformStack extends Stack {
  /** Isolated subnets only: AWS APIs are reached through interface endpoints. */
  public readonly vpc: ec2.Vpc;
  /** Encrypts secrets of teams that do not bring their own key. */
  public readonly secretsKey: SecretEncryptionKey;
  /** Secrets Manager endpoint for the VPC; teams admit their clients with `allowFrom`. */
  public readonly endpoints: SecretsManagerEndpoints;
  /** Rotates master secrets (and any other single-user secret) of every team. */
  public readonly singleUserRotation: RotationFunction;
  /** Rotates application secrets with alternating users, logging in with each team's master secret. */
  public readonly multiUserRotation: RotationFunction;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      restrictDefaultSecurityGroup: true,
    });
    new VpcFlowLog(this, 'FlowLog', { vpc: this.vpc });

    this.secretsKey = new SecretEncryptionKey(this, 'SecretsKey', {
      alias: 'alias/platform/team-secrets',
      description: 'Encrypts team database secrets',
    });

    const placement: RotationFunctionOptions = { vpc: this.vpc };
    this.singleUserRotation = RotationFunction.shared(this, RotationEngine.POSTGRES_SINGLE_USER, placement);
    this.multiUserRotation = RotationFunction.shared(this, RotationEngine.POSTGRES_MULTI_USER, placement);
    this.endpoints = new SecretsManagerEndpoints(this, 'Endpoints', {
      vpc: this.vpc,
      allowFrom: [this.singleUserRotation, this.multiUserRotation],
    });
  }
}

/** Properties of a {@link TeamStack}. */
export interface TeamStackProps extends StackProps {
  /** The platform whose endpoints, network and rotation functions the team uses. */
  readonly platform: PlatformStack;
  /** The team's database user, also the prefix of its master user. */
  readonly username: string;
  /**
   * The key of the team's secrets.
   *
   * @default - the default key of `Secret`, in this stack
   */
  readonly encryptionKey?: kms.IKey;
}

/** A team's secrets, rotated by the platform's functions, and the function that reads them. */
export class TeamStack extends Stack {
  /** The master user that creates and updates the alternate user; rotated by the single-user function. */
  public readonly masterSecret: Secret;
  /** The application's credential: `<user>` and `<user>_clone` take turns. */
  public readonly appSecret: Secret;
  /** Reads the application secret through the platform's Secrets Manager endpoint. */
  public readonly reader: SecretReader;

  constructor(scope: Construct, id: string, props: TeamStackProps) {
    super(scope, id, props);
    const { platform, username, encryptionKey } = props;

    this.masterSecret = new Secret(this, 'MasterSecret', {
      description: `PostgreSQL master credential of the ${username} team`,
      encryptionKey,
      template: SecretTemplate.database({
        ...DATABASE,
        username: `${username}_admin`,
        rotationEngine: RotationEngine.POSTGRES_SINGLE_USER,
      }),
    });
    this.masterSecret.addRotation({
      rotationFunction: platform.singleUserRotation,
      schedule: RotationSchedule.rate(Duration.days(30)),
    });

    this.appSecret = new Secret(this, 'AppSecret', {
      description: `PostgreSQL credential of the ${username} application`,
      encryptionKey,
      template: SecretTemplate.database({
        ...DATABASE,
        username,
        dbname: username,
        rotationEngine: RotationEngine.POSTGRES_MULTI_USER,
        masterSecret: this.masterSecret,
      }),
    });
    this.appSecret.addRotation({
      rotationFunction: platform.multiUserRotation,
      schedule: RotationSchedule.rate(Duration.days(7), { window: Duration.hours(4) }),
    });

    this.reader = new SecretReader(this, 'Reader', { vpc: platform.vpc });
    this.appSecret.grantReadWithManagedPolicy(this.reader.role);
    this.reader.function.addEnvironment('SECRET_ARN', this.appSecret.secretArn);
    platform.endpoints.allowFrom(this.reader);
  }
}

/** Properties of a {@link VpcFlowLog}. */
interface VpcFlowLogProps {
  readonly vpc: ec2.IVpc;
}

/** Flow logs of every interface in the VPC to an encrypted log group, written by a role with a managed policy. */
class VpcFlowLog extends Construct {
  constructor(scope: Construct, id: string, props: VpcFlowLogProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'Encrypts the VPC flow logs' });
    const logGroup = new logs.LogGroup(this, 'LogGroup', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: key });
    key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${Stack.of(this).region}.amazonaws.com`));
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com') });
    new iam.ManagedPolicy(this, 'Policy', {
      roles: [role],
      statements: [new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [logGroup.logGroupArn],
      })],
    });
    new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(props.vpc),
      // without policy updates: aws-cdk-lib would grant through an inline policy on the role
      destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup, role.withoutPolicyUpdates()),
    });
  }
}

/** Properties of a {@link SecretReader}. */
interface SecretReaderProps {
  readonly vpc: ec2.IVpc;
}

/** A small hardened function in the VPC that reads a secret (stands in for an application). */
export class SecretReader extends Construct implements ec2.IConnectable {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SecretReaderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'Encrypts the reader\'s logs, queue and environment' });
    const logGroup = new logs.LogGroup(this, 'LogGroup', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: key });
    key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`));
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
    });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Secret reader: HTTPS to the interface endpoints only',
      allowAllOutbound: false,
    });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [deadLetterQueue.queueArn] }),
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
        new iam.PolicyStatement({
          actions: ['ec2:CreateNetworkInterface'],
          resources: [
            `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:network-interface/*`,
            ...props.vpc.isolatedSubnets.map((s) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:subnet/${s.subnetId}`),
            `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:security-group/${securityGroup.securityGroupId}`,
          ],
        }),
        new iam.PolicyStatement({
          actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:network-interface/*`],
        }),
        // these actions have no resource-level permissions
        new iam.PolicyStatement({
          actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline([
        'const { SecretsManagerClient, GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager");',
        'exports.handler = async () => {',
        '  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: process.env.SECRET_ARN }));',
        '  return { length: out.SecretString.length };',
        '};',
      ].join('\n')),
      // every permission is in the managed policy: aws-cdk-lib would add AWS managed policies and an inline policy
      role: this.role.withoutPolicyUpdates(),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      deadLetterQueue,
      environmentEncryption: key,
      logGroup,
      memorySize: 256,
      timeout: Duration.seconds(10),
      reservedConcurrentExecutions: 2,
      tracing: lambda.Tracing.ACTIVE,
    });
    this.function.node.addDependency(policy);

    NagSuppressions.addResourceSuppressions(policy, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Lambda creates and deletes the function\'s network interfaces, whose ids are not known in advance; '
        + 'ec2:Describe* and X-Ray have no resource-level permissions.',
      appliesTo: ['Resource::*', `Resource::arn:<AWS::Partition>:ec2:${stack.region}:${stack.account}:network-interface/*`],
    }]);
    NagSuppressions.addResourceSuppressions(deadLetterQueue, [{
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the function\'s dead-letter queue; a queue behind it would only move the same messages again.',
    }]);
  }

  /** The reader's security group. */
  public get connections(): ec2.Connections {
    return this.function.connections;
  }
}

/** The platform and two teams: `orders` encrypts with the platform's key, `reporting` with a key of its own stack. */
export function multiStackApp(app: App, env?: { account: string; region: string }): { platform: PlatformStack; teams: TeamStack[] } {
  const platform = new PlatformStack(app, 'Platform', { env });
  const teams = [
    new TeamStack(app, 'TeamOrders', { env, platform, username: 'orders', encryptionKey: platform.secretsKey }),
    new TeamStack(app, 'TeamReporting', { env, platform, username: 'reporting' }),
  ];
  return { platform, teams };
}

// synthesized when run as the CDK app; tests import multiStackApp
if (require.main === module) {
  const app = new App();
  multiStackApp(app, { account: '123456789012', region: 'eu-west-1' });
  app.synth();
}
