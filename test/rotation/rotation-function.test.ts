import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  ACCOUNT, BUNDLED, PARTITION, REGION, importedVpc, joinArn, onlyResource, policyStatements, secret, secretKey, testStack,
} from './fixtures';
import { RotationCode, RotationEngine, RotationFunction, RotationFunctionOptions, SecretRotation } from '../../src';
import { DOCUMENTDB_PROBE_COMMANDS, ENV, engineFamilyOf } from '../../src/private/contract';

const SINGLE = RotationEngine.POSTGRES_SINGLE_USER;
const MULTI = RotationEngine.POSTGRES_MULTI_USER;

function synth(options: RotationFunctionOptions = {}, engine = SINGLE) {
  const stack = testStack();
  const fn = new RotationFunction(stack, 'Rotation', { engine, ...options });
  return { stack, fn, template: Template.fromStack(stack) };
}

function ref(template: Template, type: string): { Ref: string } {
  return { Ref: onlyResource(template, type).id };
}

function getAtt(template: Template, type: string, attribute = 'Arn'): object {
  return { 'Fn::GetAtt': [onlyResource(template, type).id, attribute] };
}

const rdsArn = (resource: string) => joinArn('arn:', PARTITION, ':rds:', REGION, ':', ACCOUNT, `:${resource}`);

/**
 * The statements an alternating-users function adds per family: what finds host and port of a master secret managed by
 * the database service (RDS instances and clusters; Redshift clusters and Serverless workgroups; DocumentDB clusters).
 */
const MASTER_RESOLUTION: Record<string, Record<string, object>> = {
  postgres: rdsDescribe(),
  mysql: rdsDescribe(),
  mariadb: rdsDescribe(),
  redshift: {
    DescribeRedshiftClustersOfAdminSecrets: {
      Action: 'redshift:DescribeClusters',
      Resource: joinArn('arn:', PARTITION, ':redshift:', REGION, ':', ACCOUNT, ':cluster:*'),
    },
    ListRedshiftServerlessOfAdminSecrets: {
      Action: ['redshift-serverless:ListNamespaces', 'redshift-serverless:ListWorkgroups'],
      Resource: '*',
    },
  },
  documentdb: {
    DescribeDocumentDbClustersOfMasterSecrets: { Action: 'rds:DescribeDBClusters', Resource: rdsArn('cluster:*') },
  },
};

function rdsDescribe(): Record<string, object> {
  return {
    DescribeRdsDatabasesOfMasterSecrets: {
      Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
      Resource: [rdsArn('db:*'), rdsArn('cluster:*')],
    },
  };
}

describe.each(BUNDLED)('RotationFunction hardening: %s', (_name, engine) => {
  const { template } = synth({}, engine);
  const fnResource = onlyResource(template, 'AWS::Lambda::Function').resource;
  const functionName: string = fnResource.Properties.FunctionName;

  test('runs on the newest Node.js runtime of aws-cdk-lib, arm64, 256 MB, 60 s, index.handler', () => {
    const newestNode = lambda.Runtime.ALL
      .filter((r) => /^nodejs\d+\.x$/.test(r.name))
      .map((r) => r.name)
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .pop();
    expect(fnResource.Properties.Runtime).toBe(newestNode);
    expect(fnResource.Properties.Runtime).toBe('nodejs24.x');
    expect(fnResource.Properties).toMatchObject({
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 60,
      Handler: 'index.handler',
    });
  });

  test('environment: password policy, call timeout and the runtime CA bundle; encrypted with the key', () => {
    expect(fnResource.Properties.Environment.Variables).toEqual({
      [ENV.PASSWORD_POLICY]: engine.defaultPasswordPolicy.toJson(),
      [ENV.CALL_TIMEOUT_MS]: '10000',
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    });
    expect(fnResource.Properties.KmsKeyArn).toEqual(getAtt(template, 'AWS::KMS::Key'));
  });

  test('tracing active, reserved concurrency 5, dead-letter queue', () => {
    expect(fnResource.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fnResource.Properties.ReservedConcurrentExecutions).toBe(5);
    expect(fnResource.Properties.DeadLetterConfig).toEqual({ TargetArn: getAtt(template, 'AWS::SQS::Queue') });
  });

  test('no inline policy and no AWS managed policy: one customer-managed policy attached to the role', () => {
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    const role = onlyResource(template, 'AWS::IAM::Role').resource;
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    const policy = onlyResource(template, 'AWS::IAM::ManagedPolicy');
    expect(policy.resource.Properties.Roles).toEqual([ref(template, 'AWS::IAM::Role')]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/arn:aws:iam::aws:policy|iam::aws:policy/);
    // Lambda checks the DLQ (and ENI) permissions when it creates the function
    expect(fnResource.DependsOn).toContain(policy.id);
  });

  test('policy: secret actions on every secret of the account, only where this function is the rotation function', () => {
    const statements = policyStatements(template);
    expect(statements.RotateSecretsThatNameThisFunction).toEqual({
      Sid: 'RotateSecretsThatNameThisFunction',
      Effect: 'Allow',
      Action: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      Resource: joinArn('arn:', PARTITION, ':secretsmanager:', REGION, ':', ACCOUNT, ':secret:*'),
      Condition: {
        StringEquals: {
          'secretsmanager:resource/AllowRotationLambdaArn': joinArn('arn:', PARTITION, ':lambda:', REGION, ':', ACCOUNT, `:function:${functionName}`),
        },
      },
    });
  });

  test('policy: GetRandomPassword, KMS only via Secrets Manager, own logs, own DLQ, X-Ray (alternating users: the family\'s describe calls); nothing else', () => {
    const statements = policyStatements(template);
    const resolution = engine.multiUser ? MASTER_RESOLUTION[engineFamilyOf(engine.secretEngines[0])!] : {};
    expect(Object.keys(statements).sort()).toEqual([
      ...Object.keys(resolution),
      'EncryptDeadLetterMessagesViaSqs',
      'GenerateRandomPasswords',
      'RotateSecretsThatNameThisFunction',
      'SendToOwnDeadLetterQueue',
      'UseSecretKeysViaSecretsManager',
      'WriteOwnLogs',
      'WriteTraces',
    ].sort());
    expect(statements.GenerateRandomPasswords).toMatchObject({ Action: 'secretsmanager:GetRandomPassword', Resource: '*' });
    expect(statements.UseSecretKeysViaSecretsManager).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: joinArn('arn:', PARTITION, ':kms:', REGION, ':', ACCOUNT, ':key/*'),
      Condition: { StringEquals: { 'kms:ViaService': joinArn('secretsmanager.', REGION, '.amazonaws.com') } },
    });
    expect(statements.WriteOwnLogs).toMatchObject({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: getAtt(template, 'AWS::Logs::LogGroup'),
    });
    expect(statements.SendToOwnDeadLetterQueue).toMatchObject({ Action: 'sqs:SendMessage', Resource: getAtt(template, 'AWS::SQS::Queue') });
    expect(statements.EncryptDeadLetterMessagesViaSqs).toMatchObject({
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: getAtt(template, 'AWS::KMS::Key'),
      Condition: { StringEquals: { 'kms:ViaService': joinArn('sqs.', REGION, '.amazonaws.com') } },
    });
    expect(statements.WriteTraces).toMatchObject({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' });
    for (const [sid, expected] of Object.entries(resolution)) {
      expect(statements[sid]).toEqual({ Sid: sid, Effect: 'Allow', ...expected });
    }
  });

  test('explicit log group: the function logs there, retention one year, encrypted with the key', () => {
    const logGroup = onlyResource(template, 'AWS::Logs::LogGroup').resource;
    expect(logGroup.Properties).toEqual({
      LogGroupName: `/aws/lambda/${functionName}`,
      RetentionInDays: 365,
      KmsKeyId: getAtt(template, 'AWS::KMS::Key'),
    });
    expect(logGroup.DeletionPolicy).toBe('Retain');
    expect(fnResource.Properties.LoggingConfig).toEqual({ LogGroup: ref(template, 'AWS::Logs::LogGroup') });
  });

  test('key: rotation on; CloudWatch Logs may use it for this log group only; SQS for this role only', () => {
    const key = onlyResource(template, 'AWS::KMS::Key').resource;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statements = key.Properties.KeyPolicy.Statement;
    expect(statements).toContainEqual({
      Sid: 'AllowCloudWatchLogsForTheRotationFunctionLogGroup',
      Effect: 'Allow',
      Principal: { Service: joinArn('logs.', REGION, '.amazonaws.com') },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': joinArn('arn:', PARTITION, ':logs:', REGION, ':', ACCOUNT, `:log-group:/aws/lambda/${functionName}`),
        },
      },
    });
    expect(statements).toContainEqual({
      Sid: 'AllowTheRotationFunctionDeadLetterQueueViaSqs',
      Effect: 'Allow',
      Principal: { AWS: getAtt(template, 'AWS::IAM::Role') },
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': joinArn('sqs.', REGION, '.amazonaws.com') } },
    });
  });

  test('dead-letter queue: KMS-encrypted with the key, TLS only, 14 days', () => {
    const queue = onlyResource(template, 'AWS::SQS::Queue').resource;
    expect(queue.Properties).toEqual({ KmsMasterKeyId: getAtt(template, 'AWS::KMS::Key'), MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('one invoke permission for Secrets Manager with SourceAccount and SourceArn', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    expect(onlyResource(template, 'AWS::Lambda::Permission').resource.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: getAtt(template, 'AWS::Lambda::Function'),
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: ACCOUNT,
      SourceArn: joinArn('arn:', PARTITION, ':secretsmanager:', REGION, ':', ACCOUNT, ':secret:*'),
    });
  });

  test('not in a VPC: no security group and no network-interface permissions', () => {
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    expect(fnResource.Properties.VpcConfig).toBeUndefined();
  });

  test('exactly these resources', () => {
    const counts = Object.values(template.toJSON().Resources).reduce((acc: Record<string, number>, r: any) => {
      acc[r.Type] = (acc[r.Type] ?? 0) + 1;
      return acc;
    }, {});
    expect(counts).toEqual({
      'AWS::KMS::Key': 1,
      'AWS::Logs::LogGroup': 1,
      'AWS::SQS::Queue': 1,
      'AWS::SQS::QueuePolicy': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::ManagedPolicy': 1,
      'AWS::Lambda::Function': 1,
      'AWS::Lambda::Permission': 1,
    });
  });

  test('runs the engine\'s bundle, named in its description and function name', () => {
    expect(fnResource.Properties.Description).toBe(`Rotates ${engine.displayName} secrets in Secrets Manager (cdk-secrets-platform)`);
    expect(functionName).toContain(`-${engine.id}-`);
    // the asset's key is the hash of the bundle directory's contents: the same as staging that directory directly
    const bundle = new s3assets.Asset(testStack(), 'Bundle', { path: RotationCode.bundlePath(engine) });
    expect(fnResource.Properties.Code.S3Key).toBe(`${bundle.assetHash}.zip`);
  });
});

describe('RotationFunction in a VPC', () => {
  const ports: Record<string, number> = {
    POSTGRES_SINGLE_USER: 5432,
    POSTGRES_MULTI_USER: 5432,
    MYSQL_SINGLE_USER: 3306,
    MYSQL_MULTI_USER: 3306,
    MARIADB_SINGLE_USER: 3306,
    MARIADB_MULTI_USER: 3306,
    REDSHIFT_SINGLE_USER: 5439,
    REDSHIFT_MULTI_USER: 5439,
    DOCUMENTDB_SINGLE_USER: 27017,
    DOCUMENTDB_MULTI_USER: 27017,
  };
  test.each(BUNDLED)('%s: own security group: no ingress, egress HTTPS anywhere and the engine port within the VPC', (name, engine) => {
    const port = ports[name];
    expect(engine.defaultPort).toBe(port);
    const stack = testStack();
    new RotationFunction(stack, 'Rotation', { engine, vpc: importedVpc(stack) });
    const template = Template.fromStack(stack);
    const sg = onlyResource(template, 'AWS::EC2::SecurityGroup').resource;
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    expect(sg.Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'HTTPS to AWS APIs through VPC endpoints or NAT', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
      { CidrIp: '10.0.0.0/16', Description: `${engine.displayName} databases in the VPC`, FromPort: port, IpProtocol: 'tcp', ToPort: port },
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    const fn = onlyResource(template, 'AWS::Lambda::Function').resource;
    expect(fn.Properties.VpcConfig).toEqual({
      SubnetIds: ['subnet-11111111', 'subnet-22222222'],
      SecurityGroupIds: [getAtt(template, 'AWS::EC2::SecurityGroup', 'GroupId')],
    });
  });

  test('network-interface permissions scoped to its subnets, security groups and the account\'s interfaces', () => {
    const stack = testStack();
    new RotationFunction(stack, 'Rotation', { engine: SINGLE, vpc: importedVpc(stack) });
    const template = Template.fromStack(stack);
    const statements = policyStatements(template);
    const eni = joinArn('arn:', PARTITION, ':ec2:', REGION, ':', ACCOUNT, ':network-interface/*');
    expect(statements.DescribeNetworkInterfaces).toMatchObject({ Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' });
    expect(statements.CreateNetworkInterfacesInOwnSubnetsAndSecurityGroups).toMatchObject({
      Action: 'ec2:CreateNetworkInterface',
      Resource: [
        eni,
        joinArn('arn:', PARTITION, ':ec2:', REGION, ':*:subnet/subnet-11111111'),
        joinArn('arn:', PARTITION, ':ec2:', REGION, ':*:subnet/subnet-22222222'),
        joinArn('arn:', PARTITION, ':ec2:', REGION, ':*:security-group/', getAtt(template, 'AWS::EC2::SecurityGroup', 'GroupId')),
      ],
    });
    expect(statements.ManageNetworkInterfaces).toMatchObject({
      Action: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      Resource: eni,
    });
  });

  test('given subnets and security groups are used as they are', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345678');
    new RotationFunction(stack, 'Rotation', {
      engine: SINGLE,
      vpc,
      vpcSubnets: { subnets: [vpc.isolatedSubnets[0]] },
      securityGroups: [sg],
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: ['subnet-11111111'], SecurityGroupIds: ['sg-12345678'] } });
    expect(policyStatements(template).CreateNetworkInterfacesInOwnSubnetsAndSecurityGroups.Resource).toEqual([
      joinArn('arn:', PARTITION, ':ec2:', REGION, ':', ACCOUNT, ':network-interface/*'),
      joinArn('arn:', PARTITION, ':ec2:', REGION, ':*:subnet/subnet-11111111'),
      joinArn('arn:', PARTITION, ':ec2:', REGION, ':*:security-group/sg-12345678'),
    ]);
  });

  test('a VPC without a known CIDR gets only the HTTPS egress rule; connections open more', () => {
    const stack = testStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1', availabilityZones: ['us-east-1a'], isolatedSubnetIds: ['subnet-1'], isolatedSubnetRouteTableIds: ['rtb-1'],
    });
    const fn = new RotationFunction(stack, 'Rotation', { engine: SINGLE, vpc });
    fn.connections.allowTo(ec2.Peer.ipv4('10.1.0.0/16'), ec2.Port.tcp(5433), 'database');
    // a database security group admits the function (RotationFunction is an ec2.IConnectable)
    const db = new ec2.SecurityGroup(stack, 'Database', { vpc, allowAllOutbound: false });
    db.connections.allowFrom(fn, ec2.Port.tcp(5432), 'rotation');
    const template = Template.fromStack(stack);
    const fnSgId = stack.getLogicalId(fn.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup);
    const dbSgId = stack.getLogicalId(db.node.defaultChild as ec2.CfnSecurityGroup);
    expect(template.toJSON().Resources[fnSgId].Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443 }),
      expect.objectContaining({ CidrIp: '10.1.0.0/16', FromPort: 5433 }),
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [dbSgId, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [fnSgId, 'GroupId'] },
      FromPort: 5432,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [fnSgId, 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [dbSgId, 'GroupId'] },
      FromPort: 5432,
    });
  });

  test('connections need a VPC', () => {
    const { fn } = synth();
    expect(() => fn.connections).toThrow(/is not in a VPC: connections need the vpc option/);
  });
});

describe('RotationFunction options', () => {
  test('permissions boundary on the role', () => {
    const stack = testStack();
    const boundary = iam.ManagedPolicy.fromManagedPolicyArn(stack, 'Boundary', 'arn:aws:iam::111111111111:policy/boundary');
    new RotationFunction(stack, 'Rotation', { engine: SINGLE, permissionsBoundary: boundary });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: 'arn:aws:iam::111111111111:policy/boundary' });
  });

  test('a given key is used for logs, DLQ and environment, and no key is created', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'PlatformKey', { enableKeyRotation: true });
    new RotationFunction(stack, 'Rotation', { engine: SINGLE, encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::Lambda::Function', { KmsKeyArn: keyArn });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowCloudWatchLogsForTheRotationFunctionLogGroup' })]) },
    });
  });

  test('timeouts, retention, concurrency, TLS bundle and probe query', () => {
    const { template } = synth({
      timeout: Duration.seconds(20),
      logRetention: logs.RetentionDays.THREE_MONTHS,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      reservedConcurrentExecutions: 2,
      tlsCaBundle: '/var/task/rds-global-bundle.pem',
      probeQuery: 'SELECT 1 FROM app.accounts LIMIT 1',
    });
    const fn = onlyResource(template, 'AWS::Lambda::Function').resource;
    expect(fn.Properties.Timeout).toBe(20);
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(2);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      [ENV.CALL_TIMEOUT_MS]: '5000',
      [ENV.TLS_CA_BUNDLE]: '/var/task/rds-global-bundle.pem',
      [ENV.PROBE_QUERY]: 'SELECT 1 FROM app.accounts LIMIT 1',
    });
    const logGroup = onlyResource(template, 'AWS::Logs::LogGroup').resource;
    expect(logGroup.Properties.RetentionInDays).toBe(90);
    expect(logGroup.DeletionPolicy).toBe('Delete');
    expect(synth({ callTimeout: Duration.seconds(3) }).template.toJSON().Resources).toBeDefined();
  });

  test('a user-name limit for servers that allow another length reaches the handler', () => {
    const { template } = synth({ usernameLengthLimit: 16 }, RotationEngine.MYSQL_MULTI_USER);
    const env = onlyResource(template, 'AWS::Lambda::Function').resource.Properties.Environment.Variables;
    expect(env[ENV.USERNAME_LENGTH_LIMIT]).toBe('16');
    const stack = testStack();
    const fn = RotationFunction.shared(stack, RotationEngine.MYSQL_MULTI_USER, { usernameLengthLimit: 16 });
    expect(RotationFunction.shared(stack, RotationEngine.MYSQL_MULTI_USER, { usernameLengthLimit: 16 })).toBe(fn);
    expect(() => RotationFunction.shared(stack, RotationEngine.MYSQL_MULTI_USER, { usernameLengthLimit: 32 }))
      .toThrow(/already exists with different usernameLengthLimit/);
  });

  test('the password policy is serialized into the environment', () => {
    const policy = SINGLE.passwordPolicy({ length: 48, excludePunctuation: true });
    const { template } = synth({ passwordPolicy: policy });
    const env = onlyResource(template, 'AWS::Lambda::Function').resource.Properties.Environment.Variables;
    expect(JSON.parse(env[ENV.PASSWORD_POLICY])).toEqual(policy._toContract());
  });

  const invalid: Array<[string, RotationFunctionOptions, RegExp]> = [
    ['timeout under 10 s', { timeout: Duration.seconds(5) }, /timeout must be whole seconds from 10 seconds to 15 minutes, got 5 seconds/],
    ['timeout over 15 min', { timeout: Duration.minutes(16) }, /timeout must be whole seconds from 10 seconds to 15 minutes, got 16 minutes/],
    ['timeout not whole seconds', { timeout: Duration.millis(10500) }, /timeout must be whole seconds from 10 seconds to 15 minutes/],
    ['user-name limit 0', { usernameLengthLimit: 0 }, /usernameLengthLimit must be an integer from 1 to 1024, got 0/],
    ['user-name limit 1025', { usernameLengthLimit: 1025 }, /usernameLengthLimit must be an integer from 1 to 1024, got 1025/],
    ['user-name limit 16.5', { usernameLengthLimit: 16.5 }, /usernameLengthLimit must be an integer from 1 to 1024, got 16.5/],
    ['call timeout under 1 s', { callTimeout: Duration.millis(500) }, /callTimeout must be from 1 second to half the timeout \(30 seconds\), got 500 millis/],
    ['call timeout over half the timeout', { callTimeout: Duration.seconds(31) }, /callTimeout must be from 1 second to half the timeout \(30 seconds\)/],
    ['infinite log retention', { logRetention: logs.RetentionDays.INFINITE }, /logRetention must be a finite retention \(RetentionDays.ONE_DAY to RetentionDays.TEN_YEARS\)/],
    ['no reserved concurrency', { reservedConcurrentExecutions: 0 }, /reservedConcurrentExecutions must be an integer from 1 to 10000, got 0/],
    ['fractional concurrency', { reservedConcurrentExecutions: 1.5 }, /reservedConcurrentExecutions must be an integer from 1 to 10000/],
    ['relative TLS bundle path', { tlsCaBundle: 'certs/rds.pem' }, /tlsCaBundle must be an absolute path inside the function \(starting with '\/'\)/],
    ['empty probe query', { probeQuery: ' ' }, /probeQuery must be a non-empty SQL statement/],
  ];
  test.each(invalid)('rejects %s, naming the property and the allowed range', (_name, options, message) => {
    expect(() => new RotationFunction(testStack(), 'Rotation', { engine: SINGLE, ...options })).toThrow(message);
  });

  const mysqlFamily = [
    RotationEngine.MYSQL_SINGLE_USER, RotationEngine.MYSQL_MULTI_USER, RotationEngine.MARIADB_SINGLE_USER, RotationEngine.MARIADB_MULTI_USER,
  ];
  test.each(mysqlFamily)(
    '%s rejects a probe that is not a query (MySQL and MariaDB run DDL even in a read-only transaction)', (engine) => {
      for (const probeQuery of ['CREATE TABLE app.t (a int)', 'SELECT 1; DROP TABLE app.t', 'SELECT 1 /*! , 2 */', 'SELECT * FROM app.t INTO OUTFILE \'/tmp/x\'']) {
        expect(() => new RotationFunction(testStack(), 'Rotation', { engine, probeQuery })).toThrow(/probeQuery for (MySQL|MariaDB) .* must be one query \(SELECT, WITH, SHOW, DESCRIBE or EXPLAIN\)/);
      }
      expect(() => new RotationFunction(testStack(), 'Rotation', { engine, probeQuery: 'SELECT 1 FROM app.accounts LIMIT 1' })).not.toThrow();
    });

  const documentDb = [RotationEngine.DOCUMENTDB_SINGLE_USER, RotationEngine.DOCUMENTDB_MULTI_USER];
  test.each(documentDb)('%s rejects a probe that is not one of the read-only commands the handler runs', (engine) => {
    for (const probeQuery of ['SELECT 1', 'dropDatabase', 'ping; dropDatabase', '{"ping":1}', 'isMaster', 'PING']) {
      expect(() => new RotationFunction(testStack(), 'Rotation', { engine, probeQuery })).toThrow(
        `RotationFunction: probeQuery for ${engine.displayName} must be the name of one read-only command (one of ping, `
        + `connectionStatus, listCollections, dbStats, buildInfo), got ${JSON.stringify(probeQuery)}`);
    }
  });

  test.each(documentDb)('%s accepts every read-only command the handler runs, as the handler reads it', (engine) => {
    for (const probeQuery of [...DOCUMENTDB_PROBE_COMMANDS, ' dbStats ']) {
      const stack = testStack();
      new RotationFunction(stack, 'Rotation', { engine, probeQuery });
      expect(onlyResource(Template.fromStack(stack), 'AWS::Lambda::Function').resource.Properties.Environment.Variables[ENV.PROBE_QUERY])
        .toBe(probeQuery);
    }
    expect(DOCUMENTDB_PROBE_COMMANDS).toEqual(['ping', 'connectionStatus', 'listCollections', 'dbStats', 'buildInfo']);
  });

  test('the DocumentDB command list is not applied to other engines', () => {
    expect(() => new RotationFunction(testStack(), 'Rotation', { engine: SINGLE, probeQuery: 'SELECT 1 FROM app.accounts' })).not.toThrow();
    expect(() => new RotationFunction(testStack(), 'Rotation', { engine: RotationEngine.REDSHIFT_SINGLE_USER, probeQuery: 'SELECT 1 FROM app.accounts' }))
      .not.toThrow();
  });

  test('a PostgreSQL probe may be any one statement: its read-only transaction holds back DDL', () => {
    expect(() => new RotationFunction(testStack(), 'Rotation', { engine: SINGLE, probeQuery: 'CREATE TABLE t (a int)' })).not.toThrow();
  });

  test('rejects subnets or security groups without a VPC', () => {
    const stack = testStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1');
    expect(() => new RotationFunction(stack, 'Rotation', { engine: SINGLE, securityGroups: [sg] })).toThrow(/vpcSubnets and securityGroups need vpc/);
  });
});

describe('RotationFunction grants and master secrets', () => {
  test('grants land in the managed policy, never in an inline policy', () => {
    const stack = testStack();
    const fn = new RotationFunction(stack, 'Rotation', { engine: SINGLE });
    const other = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Other', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:other-AbCdEf');
    other.grantRead(fn);
    fn.addToPolicy(new iam.PolicyStatement({ sid: 'Extra', actions: ['ssm:GetParameter'], resources: ['arn:aws:ssm:us-east-1:111111111111:parameter/x'] }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    const statements: any[] = onlyResource(template, 'AWS::IAM::ManagedPolicy').resource.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:other-AbCdEf',
    }));
    expect(statements).toContainEqual(expect.objectContaining({ Sid: 'Extra' }));
  });

  test('master secrets are added once each, with their keys, and the RDS describe calls are there', () => {
    const stack = testStack();
    const key = secretKey(stack);
    const otherKey = secretKey(stack, 'OtherKey');
    const fn = new RotationFunction(stack, 'Rotation', { engine: MULTI });
    const master = secret(stack, 'Master', key);
    const master2 = secret(stack, 'Master2', otherKey);
    const imported = secretsmanager.Secret.fromSecretNameV2(stack, 'Imported', 'rds-managed');
    fn.addMasterSecret(master);
    fn.addMasterSecret(master);
    fn.addMasterSecret(master2);
    fn.addMasterSecret(imported);
    fn.addMasterSecret(imported);
    const template = Template.fromStack(stack);
    const statements = policyStatements(template);
    expect(statements.ReadMasterSecrets).toEqual({
      Sid: 'ReadMasterSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: [
        { Ref: stack.getLogicalId(master.node.defaultChild as secretsmanager.CfnSecret) },
        { Ref: stack.getLogicalId(master2.node.defaultChild as secretsmanager.CfnSecret) },
        joinArn('arn:', PARTITION, ':secretsmanager:', REGION, ':', ACCOUNT, ':secret:rds-managed-??????'),
      ],
    });
    expect(statements.DecryptMasterSecretsViaSecretsManager).toEqual({
      Sid: 'DecryptMasterSecretsViaSecretsManager',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: [
        { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
        { 'Fn::GetAtt': [stack.getLogicalId(otherKey.node.defaultChild as kms.CfnKey), 'Arn'] },
      ],
      Condition: { StringEquals: { 'kms:ViaService': joinArn('secretsmanager.', REGION, '.amazonaws.com') } },
    });
    expect(statements.DescribeRdsDatabasesOfMasterSecrets).toEqual({
      Sid: 'DescribeRdsDatabasesOfMasterSecrets',
      Effect: 'Allow',
      Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
      Resource: [
        joinArn('arn:', PARTITION, ':rds:', REGION, ':', ACCOUNT, ':db:*'),
        joinArn('arn:', PARTITION, ':rds:', REGION, ':', ACCOUNT, ':cluster:*'),
      ],
    });
  });

  test('single-user functions have no RDS or master-secret permissions', () => {
    const statements = policyStatements(synth().template);
    expect(statements.DescribeRdsDatabasesOfMasterSecrets).toBeUndefined();
    expect(statements.ReadMasterSecrets).toBeUndefined();
  });
});

describe('RotationFunction.shared', () => {
  test('the same key returns the same instance, found in the construct tree on the stack', () => {
    const stack = testStack();
    const a = RotationFunction.shared(stack, SINGLE);
    const nested = new iam.Role(stack, 'SomeScope', { assumedBy: new iam.AccountRootPrincipal() });
    const b = RotationFunction.shared(nested, SINGLE, { passwordPolicy: SINGLE.defaultPasswordPolicy });
    expect(b).toBe(a);
    expect(a.node.scope).toBe(stack);
    expect(a.node.id).toMatch(/^RotationFunction-postgres-single-user-[0-9a-f]{8}$/);
    expect(stack.node.tryFindChild(a.node.id)).toBe(a);
    expect(RotationFunction.isRotationFunction(a)).toBe(true);
    expect(RotationFunction.isRotationFunction(stack)).toBe(false);
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('the id is deterministic across apps', () => {
    const id1 = RotationFunction.shared(testStack(), SINGLE).node.id;
    const id2 = RotationFunction.shared(testStack(), SINGLE).node.id;
    expect(id1).toBe(id2);
  });

  test('different engine, placement or password policy give different functions', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const otherVpc = importedVpc(stack, 'Other', ['subnet-33333333']);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1');
    const base = RotationFunction.shared(stack, SINGLE);
    const variants = [
      RotationFunction.shared(stack, MULTI),
      RotationFunction.shared(stack, SINGLE, { vpc }),
      RotationFunction.shared(stack, SINGLE, { vpc: otherVpc }),
      RotationFunction.shared(stack, SINGLE, { vpc, vpcSubnets: { subnets: [vpc.isolatedSubnets[1]] } }),
      RotationFunction.shared(stack, SINGLE, { vpc, securityGroups: [sg] }),
      RotationFunction.shared(stack, SINGLE, { passwordPolicy: SINGLE.passwordPolicy({ length: 40 }) }),
    ];
    expect(new Set([base, ...variants]).size).toBe(7);
    expect(RotationFunction.shared(stack, SINGLE, { vpc })).toBe(variants[1]);
    expect(RotationFunction.shared(stack, SINGLE, { passwordPolicy: SINGLE.passwordPolicy({ length: 40 }) })).toBe(variants[5]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 7);
    const names = Object.values(template.findResources('AWS::Lambda::Function')).map((r: any) => r.Properties.FunctionName);
    expect(new Set(names).size).toBe(7);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name).toMatch(/^[A-Za-z0-9-_]+$/);
    }
  });

  test('each stack has its own shared function', () => {
    const stack = testStack();
    const other = new Stack(stack.node.root, 'Other');
    expect(RotationFunction.shared(stack, SINGLE)).not.toBe(RotationFunction.shared(other, SINGLE));
  });

  test('conflicting settings for the same key are an error naming them; equal or omitted settings are fine', () => {
    const stack = testStack();
    const fn = RotationFunction.shared(stack, SINGLE, { timeout: Duration.seconds(90), reservedConcurrentExecutions: 3 });
    expect(RotationFunction.shared(stack, SINGLE)).toBe(fn);
    expect(RotationFunction.shared(stack, SINGLE, { timeout: Duration.seconds(90) })).toBe(fn);
    expect(() => RotationFunction.shared(stack, SINGLE, { timeout: Duration.seconds(60), reservedConcurrentExecutions: 4 }))
      .toThrow(/already exists with different timeout, reservedConcurrentExecutions/);
    const key = secretKey(stack, 'OtherKey');
    expect(() => RotationFunction.shared(stack, SINGLE, { encryptionKey: key })).toThrow(/already exists with different encryptionKey/);
    expect(() => RotationFunction.shared(stack, SINGLE, { probeQuery: 'SELECT 2' })).toThrow(/different probeQuery/);
  });

  test('two custom engines with the same id cannot share', () => {
    const stack = testStack();
    const code = lambda.Code.fromInline('exports.handler = async () => {}');
    RotationFunction.shared(stack, RotationEngine.custom({ id: 'api', code }));
    expect(() => RotationFunction.shared(stack, RotationEngine.custom({ id: 'api', code })))
      .toThrow(/a different engine with id 'api' already has a shared function/);
  });

  test('custom engines run their code with their handler and statements', () => {
    const stack = testStack();
    const engine = RotationEngine.custom({
      id: 'api',
      code: lambda.Code.fromInline('exports.rotate = async () => {}'),
      handler: 'index.rotate',
      policyStatements: [new iam.PolicyStatement({ sid: 'CallIdp', actions: ['ssm:GetParameter'], resources: ['arn:aws:ssm:us-east-1:111111111111:parameter/idp'] })],
    });
    RotationFunction.shared(stack, engine);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.rotate', Code: { ZipFile: 'exports.rotate = async () => {}' } });
    expect(policyStatements(template).CallIdp).toMatchObject({ Action: 'ssm:GetParameter' });
  });
});

describe('RotationFunction with master secrets of another stack', () => {
  const TAG_PREFIX = 'cdk-secrets-platform:rotation-master-for:';

  /** A platform stack with the shared alternating-users function and a team stack with master secrets. */
  function platformAndTeam(env?: { account: string; region: string }, teamEnv = env) {
    const app = new App();
    const platform = new Stack(app, 'Platform', { env });
    const team = new Stack(app, 'Team', { env: teamEnv });
    const fn = RotationFunction.shared(platform, MULTI);
    return { app, platform, team, fn };
  }

  function functionName(stack: Stack): string {
    return onlyResource(Template.fromStack(stack), 'AWS::Lambda::Function').resource.Properties.FunctionName;
  }

  function tagsOf(stack: Stack, master: secretsmanager.ISecret): Array<{ Key: string; Value: string }> {
    return Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(master.node.defaultChild as secretsmanager.CfnSecret)].Properties.Tags;
  }

  test('the master gets a tag naming the function; the policy reads secrets with that tag, naming no ARN of the team', () => {
    const { app, platform, team, fn } = platformAndTeam();
    const master = secret(team, 'Master', secretKey(team));
    fn.addMasterSecret(master);
    app.synth();
    const name = functionName(platform);
    expect(tagsOf(team, master)).toEqual([{ Key: `${TAG_PREFIX}${name}`, Value: 'true' }]);
    const statements = policyStatements(Template.fromStack(platform));
    expect(statements.ReadMasterSecretsTaggedForThisFunction).toEqual({
      Sid: 'ReadMasterSecretsTaggedForThisFunction',
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: joinArn('arn:', PARTITION, ':secretsmanager:', REGION, ':', ACCOUNT, ':secret:*'),
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_PREFIX}${name}`]: 'true' } },
    });
    expect(statements.ReadMasterSecrets).toBeUndefined();
    expect(platform.dependencies).toEqual([]);
  });

  test('the master\'s key of the other stack is not named (the function uses keys through Secrets Manager)', () => {
    const { app, platform, team, fn } = platformAndTeam();
    fn.addMasterSecret(secret(team, 'Master', secretKey(team)));
    app.synth();
    const statements = policyStatements(Template.fromStack(platform));
    expect(statements.DecryptMasterSecretsViaSecretsManager).toBeUndefined();
    expect(statements.UseSecretKeysViaSecretsManager.Resource).toEqual(joinArn('arn:', PARTITION, ':kms:', REGION, ':', ACCOUNT, ':key/*'));
  });

  test('a key of the function\'s own stack is still named for a master of another stack', () => {
    const { app, platform, team, fn } = platformAndTeam();
    const platformKey = secretKey(platform, 'PlatformKey');
    fn.addMasterSecret(secret(team, 'Master', platformKey));
    app.synth();
    expect(policyStatements(Template.fromStack(platform)).DecryptMasterSecretsViaSecretsManager.Resource)
      .toEqual({ 'Fn::GetAtt': [platform.getLogicalId(platformKey.node.defaultChild as kms.CfnKey), 'Arn'] });
  });

  test('a rotation in the team stack with the platform\'s function synthesizes; the team depends on the platform only', () => {
    const { app, platform, team, fn } = platformAndTeam();
    const key = secretKey(team);
    const master = secret(team, 'Master', key);
    new SecretRotation(team, 'Rotation', { secret: secret(team, 'App', key), rotationFunction: fn, masterSecret: master });
    expect(() => app.synth()).not.toThrow();
    expect(team.dependencies).toEqual([platform]);
    expect(platform.dependencies).toEqual([]);
  });

  test('more masters and the same master again add one statement; each master carries one tag', () => {
    const { app, platform, team, fn } = platformAndTeam();
    const key = secretKey(team);
    const a = secret(team, 'A', key);
    const b = secret(team, 'B', key);
    fn.addMasterSecret(a);
    fn.addMasterSecret(a);
    fn.addMasterSecret(b);
    app.synth();
    const statements = policyStatements(Template.fromStack(platform));
    expect(Object.keys(statements).filter((sid) => sid.includes('Master'))).toEqual(['DescribeRdsDatabasesOfMasterSecrets', 'ReadMasterSecretsTaggedForThisFunction']);
    expect(tagsOf(team, a)).toHaveLength(1);
    expect(tagsOf(team, b)).toHaveLength(1);
  });

  test('a master read by two functions carries a tag for each', () => {
    const { app, platform, team, fn } = platformAndTeam();
    const other = RotationFunction.shared(platform, MULTI, { passwordPolicy: SINGLE.passwordPolicy({ length: 40 }) });
    const master = secret(team, 'Master', secretKey(team));
    fn.addMasterSecret(master);
    other.addMasterSecret(master);
    app.synth();
    const names = Object.values(Template.fromStack(platform).findResources('AWS::Lambda::Function')).map((r: any) => r.Properties.FunctionName);
    expect(tagsOf(team, master).map((t) => t.Key).sort()).toEqual(names.map((n) => `${TAG_PREFIX}${n}`).sort());
  });

  test('an imported master of another stack is named by its ARN (it cannot be tagged, and its ARN is a literal)', () => {
    const { app, platform, team, fn } = platformAndTeam();
    fn.addMasterSecret(secretsmanager.Secret.fromSecretCompleteArn(team, 'Imported', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:admin-AbCdEf'));
    app.synth();
    const statements = policyStatements(Template.fromStack(platform));
    expect(statements.ReadMasterSecrets.Resource).toBe('arn:aws:secretsmanager:us-east-1:111111111111:secret:admin-AbCdEf');
    expect(statements.ReadMasterSecretsTaggedForThisFunction).toBeUndefined();
  });

  test.each([
    ['account', { account: '222222222222', region: 'eu-west-1' }],
    ['region', { account: '111111111111', region: 'eu-central-1' }],
  ])('a master in another %s is refused, naming both', (what, teamEnv) => {
    const { team, fn } = platformAndTeam({ account: '111111111111', region: 'eu-west-1' }, teamEnv);
    const master = secret(team, 'Master', secretKey(team));
    expect(() => fn.addMasterSecret(master)).toThrow(new RegExp(`addMasterSecret: the master secret Team/Master is in ${what} `
      + `${what === 'account' ? '222222222222' : 'eu-central-1'}, the rotation function Platform/RotationFunction-postgres-multi-user-[0-9a-f]+ `
      + `in ${what} ${what === 'account' ? '111111111111' : 'eu-west-1'}`));
  });
});

describe('metrics a monitor alarms on', () => {
  const stack = testStack();
  const fn = new RotationFunction(stack, 'Rotation', { engine: SINGLE });
  const functionName = { Ref: onlyResource(Template.fromStack(stack), 'AWS::Lambda::Function').id };
  const dimensions = (metric: { dimensions?: Record<string, unknown> }) => stack.resolve(metric.dimensions);

  test.each([
    ['metricErrors', 'Errors', 'Sum'],
    ['metricThrottles', 'Throttles', 'Sum'],
    ['metricDuration', 'Duration', 'Average'],
  ] as const)('%s: AWS/Lambda %s (%s) of this function', (method, metricName, statistic) => {
    const metric = fn[method]();
    expect({ namespace: metric.namespace, metricName: metric.metricName, statistic: metric.statistic }).toEqual({ namespace: 'AWS/Lambda', metricName, statistic });
    expect(dimensions(metric)).toEqual({ FunctionName: functionName });
  });

  test('metricDeadLetterQueueDepth: the maximum of visible messages in this function\'s dead-letter queue', () => {
    const metric = fn.metricDeadLetterQueueDepth();
    expect({ namespace: metric.namespace, metricName: metric.metricName, statistic: metric.statistic })
      .toEqual({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', statistic: 'Maximum' });
    expect(dimensions(metric)).toEqual({ QueueName: stack.resolve(fn.deadLetterQueue.queueName) });
  });

  test('options pass through', () => {
    expect(fn.metricDeadLetterQueueDepth({ period: Duration.minutes(1), statistic: 'Sum' })).toMatchObject({ statistic: 'Sum', period: Duration.minutes(1) });
  });
});
