import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Secret, SecretPolicy, SecretsManagerEndpoints } from '../src';

/**
 * Isolated subnets reach Secrets Manager through SecretsManagerEndpoints only, and the secret denies any request that
 * does not arrive through that endpoint. When deployed, a reader function in the VPC reads the secret through it.
 */
const app = new App();
const stack = new Stack(app, 'PrivateEndpointsInteg');

const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
});
const endpoints = new SecretsManagerEndpoints(stack, 'Endpoints', { vpc });

const secret = new Secret(stack, 'Secret', { removalPolicy: RemovalPolicy.DESTROY });
SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls(), SecretPolicy.denyOutsideVpcEndpoints([endpoints.secretsManagerEndpoint]));

// reads through the endpoint and returns only the value's length
const reader = new lambda.Function(stack, 'Reader', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  vpc,
  timeout: Duration.seconds(30),
  environment: { SECRET_ARN: secret.secretArn },
  code: lambda.Code.fromInline([
    'const { SecretsManagerClient, GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager");',
    'exports.handler = async () => {',
    '  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: process.env.SECRET_ARN }));',
    '  return { length: out.SecretString.length };',
    '};',
  ].join('\n')),
});
endpoints.allowFrom(reader);
secret.grantRead(reader);

const integ = new IntegTest(app, 'PrivateEndpoints', { testCases: [stack] });
integ.assertions.invokeFunction({ functionName: reader.functionName })
  .expect(ExpectedResult.objectLike({ StatusCode: 200, Payload: '{"length":32}' }));

app.synth();
