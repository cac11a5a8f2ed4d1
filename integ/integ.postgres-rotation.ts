import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { RotationEngine, RotationFunction, RotationSchedule, SecretRotation, SecretsManagerEndpoints } from '../src';

/**
 * A PostgreSQL instance in isolated subnets whose generated credential is rotated by the shared single-user function,
 * reaching Secrets Manager through an interface endpoint. When deployed, the assertions rotate the secret and check
 * that a new AWSCURRENT exists and the old one became AWSPREVIOUS.
 */
const app = new App();
const stack = new Stack(app, 'PostgresRotationInteg');

const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
});
const key = new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });

const rotation = RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER, {
  vpc,
  logRemovalPolicy: RemovalPolicy.DESTROY,
});
new SecretsManagerEndpoints(stack, 'Endpoints', { vpc, allowFrom: [rotation] });

const db = new rds.DatabaseInstance(stack, 'Database', {
  engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
  instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
  vpc,
  vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  credentials: rds.Credentials.fromGeneratedSecret('app_admin', { encryptionKey: key }),
  storageEncrypted: true,
  removalPolicy: RemovalPolicy.DESTROY,
  deletionProtection: false,
});
db.connections.allowDefaultPortFrom(rotation);

new SecretRotation(stack, 'Rotation', {
  secret: db.secret!,
  engine: RotationEngine.POSTGRES_SINGLE_USER,
  rotationFunction: rotation,
  schedule: RotationSchedule.rate(Duration.days(30), { window: Duration.hours(2) }),
});

const integ = new IntegTest(app, 'PostgresRotation', { testCases: [stack] });
const secretId = db.secret!.secretArn;
integ.assertions.awsApiCall('SecretsManager', 'rotateSecret', { SecretId: secretId })
  .next(integ.assertions.awsApiCall('SecretsManager', 'listSecretVersionIds', { SecretId: secretId })
    .expect(ExpectedResult.objectLike({
      Versions: ExpectedResult.arrayWith([
        ExpectedResult.objectLike({ VersionStages: ['AWSPREVIOUS'] }),
      ]),
    }))
    .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) }));

app.synth();
