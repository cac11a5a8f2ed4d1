import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, CustomResource, Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { buildSync } from 'esbuild';
import { RotationEngine, RotationFunction, RotationSchedule, Secret, SecretTemplate, SecretsManagerEndpoints } from '../src';

/** What differs between the MySQL and the MariaDB integration stacks. */
export interface MysqlFamilyRotationProps {
  readonly stackName: string;
  readonly testName: string;
  readonly engine: rds.IInstanceEngine;
  readonly singleUser: RotationEngine;
  readonly multiUser: RotationEngine;
}

/**
 * An RDS instance of the MySQL family in isolated subnets whose master credential is an RDS-managed secret. Two
 * application secrets on it: `app_owner`, rotated by the shared single-user function, and `app`, rotated by the shared
 * alternating-users function with the RDS-managed master secret as `masterSecret` (so the handler finds host and port
 * through the secret's tags and the RDS API). Both functions reach Secrets Manager through an interface endpoint.
 *
 * The handlers rotate credentials that already work, and deploying a schedule makes Secrets Manager test the current
 * one: a setup function creates both users with their generated passwords before the schedules are created.
 *
 * When deployed, the assertions rotate each secret and check that the old value became AWSPREVIOUS.
 */
export function mysqlFamilyRotationApp(props: MysqlFamilyRotationProps): void {
  const app = new App();
  const stack = new Stack(app, props.stackName);

  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const key = new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });

  // the stack's key also encrypts the functions' logs, queues and environment, so nothing is retained after the test
  const functionOptions = { vpc, encryptionKey: key, logRemovalPolicy: RemovalPolicy.DESTROY };
  const single = RotationFunction.shared(stack, props.singleUser, functionOptions);
  const alternating = RotationFunction.shared(stack, props.multiUser, functionOptions);
  const endpoints = new SecretsManagerEndpoints(stack, 'Endpoints', { vpc, allowFrom: [single, alternating] });
  // the alternating-users function finds the host and port of the RDS-managed master secret's instance through the RDS
  // API (DescribeDBInstances); from isolated subnets it reaches that API only through an interface endpoint
  const rdsEndpoint = vpc.addInterfaceEndpoint('RdsEndpoint', { service: ec2.InterfaceVpcEndpointAwsService.RDS, open: false });
  rdsEndpoint.connections.allowDefaultPortFrom(alternating);

  const db = new rds.DatabaseInstance(stack, 'Database', {
    engine: props.engine,
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    // replaced below by the RDS-managed master secret: the placeholder never reaches the template
    credentials: rds.Credentials.fromPassword('admin', SecretValue.unsafePlainText('managed-by-rds')),
    allocatedStorage: 20,
    storageEncrypted: true,
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
  });
  // aws-cdk-lib's DatabaseInstance has no property for an RDS-managed master secret; RDS creates and rotates it
  const dbResource = db.node.defaultChild as rds.CfnDBInstance;
  dbResource.masterUserPassword = undefined;
  dbResource.manageMasterUserPassword = true;
  dbResource.masterUserSecret = { kmsKeyId: key.keyArn };
  const master = secretsmanager.Secret.fromSecretAttributes(stack, 'MasterSecret', {
    secretCompleteArn: dbResource.attrMasterUserSecretSecretArn,
    encryptionKey: key,
  });

  const schedule = RotationSchedule.rate(Duration.days(30), { window: Duration.hours(2) });
  const owner = new Secret(stack, 'OwnerSecret', {
    template: SecretTemplate.fromDatabaseInstance(db, { username: 'app_owner', dbname: 'app', rotationEngine: props.singleUser }),
    encryptionKey: key,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const ownerRotation = owner.addRotation({ rotationFunction: single, schedule });
  const appSecret = new Secret(stack, 'AppSecret', {
    template: SecretTemplate.fromDatabaseInstance(db, {
      username: 'app', dbname: 'app', rotationEngine: props.multiUser, masterSecret: master,
    }),
    encryptionKey: key,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const appRotation = appSecret.addRotation({ rotationFunction: alternating, schedule });

  // Test setup: the master creates the database `app` and both users with the passwords Secrets Manager generated
  // (CREATE ... IF NOT EXISTS: a rerun leaves rotated passwords alone). mysql2 is bundled at synth; the passwords are
  // read from Secrets Manager through the endpoint, sent to the server over verified TLS only, and never logged.
  const setupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-setup-'));
  buildSync({
    stdin: {
      resolveDir: path.join(__dirname, '..'),
      contents: `
        const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
        const mysql = require('mysql2/promise');
        const sm = new SecretsManagerClient({});
        const read = async (id) => JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString);
        const setUp = async () => {
          const master = await read(process.env.MASTER_SECRET_ARN);
          const conn = await mysql.createConnection({
            host: process.env.DB_HOST, port: Number(process.env.DB_PORT), user: master.username, password: master.password,
            ssl: { rejectUnauthorized: true, verifyIdentity: true }, connectTimeout: 10000,
          });
          try {
            await conn.query('CREATE DATABASE IF NOT EXISTS app');
            for (const arn of process.env.APP_SECRET_ARNS.split(',')) {
              const user = await read(arn);
              await conn.query("CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [user.username, user.password]);
              await conn.query("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER ON app.* TO ?@'%'", [user.username]);
            }
          } finally {
            await conn.end();
          }
        };
        exports.handler = async (event) => {
          if (event.RequestType === 'Delete') return {};
          try {
            await setUp();
          } catch (e) {
            // a server error may quote the statement, password included: only its code leaves the function
            throw new Error('setup failed: ' + String(e.code || e.name));
          }
          return { PhysicalResourceId: 'app-users' };
        };
      `,
    },
    bundle: true,
    platform: 'node',
    target: 'node22',
    external: ['@aws-sdk/*'],
    minify: true,
    legalComments: 'none',
    outfile: path.join(setupDir, 'index.js'),
  });
  const setupFunction = new lambda.Function(stack, 'SetupFunction', {
    runtime: lambda.Runtime.NODEJS_24_X,
    memorySize: 256,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(setupDir),
    vpc,
    // egress only to what it needs: the Secrets Manager endpoint and the database (added by the grants below)
    securityGroups: [new ec2.SecurityGroup(stack, 'SetupSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description: 'Test setup: egress to the Secrets Manager endpoint and the database',
    })],
    timeout: Duration.minutes(1),
    logGroup: new logs.LogGroup(stack, 'SetupLogs', { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
    environment: {
      DB_HOST: db.dbInstanceEndpointAddress,
      DB_PORT: db.dbInstanceEndpointPort,
      MASTER_SECRET_ARN: master.secretArn,
      APP_SECRET_ARNS: [owner.secretArn, appSecret.secretArn].join(','),
      // the Amazon CAs (RDS included) for verifying the server certificate
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    },
  });
  for (const secret of [master, owner, appSecret]) {
    secret.grantRead(setupFunction);
  }
  endpoints.allowFrom(setupFunction);
  for (const fn of [single, alternating, setupFunction]) {
    db.connections.allowDefaultPortFrom(fn);
  }
  const setup = new CustomResource(stack, 'Setup', {
    serviceToken: new cr.Provider(stack, 'SetupProvider', {
      onEventHandler: setupFunction,
      logGroup: new logs.LogGroup(stack, 'SetupProviderLogs', { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
    }).serviceToken,
  });
  // the function must reach the server and Secrets Manager when it runs
  setup.node.addDependency(db, endpoints);
  appRotation.node.addDependency(rdsEndpoint);
  ownerRotation.node.addDependency(setup);
  appRotation.node.addDependency(setup);

  const integ = new IntegTest(app, props.testName, { testCases: [stack] });
  // one after the other: rotate a secret, wait for its old value to become AWSPREVIOUS, then the next secret
  const steps = [owner, appSecret].flatMap((secret) => [
    integ.assertions.awsApiCall('SecretsManager', 'rotateSecret', { SecretId: secret.secretArn }),
    integ.assertions.awsApiCall('SecretsManager', 'listSecretVersionIds', { SecretId: secret.secretArn })
      .expect(ExpectedResult.objectLike({
        Versions: ExpectedResult.arrayWith([
          ExpectedResult.objectLike({ VersionStages: ['AWSPREVIOUS'] }),
        ]),
      }))
      .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) }),
  ]);
  steps.reduce((previous, step) => previous.next(step));

  app.synth();
  fs.rmSync(setupDir, { recursive: true, force: true });
}
