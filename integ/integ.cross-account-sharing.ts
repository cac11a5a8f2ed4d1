import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Secret, SecretEncryptionKey } from '../src';

/**
 * One call shares a secret with another account: a resource-policy statement for that account and a key-policy
 * statement letting it decrypt through Secrets Manager. When deployed, the assertions read the secret here and
 * check the resource policy names the other account. The other account comes from context `consumerAccount`.
 */
const app = new App();
const consumerAccount: string = app.node.tryGetContext('consumerAccount') ?? '111122223333';
const stack = new Stack(app, 'CrossAccountSharingInteg');

const key = new SecretEncryptionKey(stack, 'Key', { removalPolicy: RemovalPolicy.DESTROY });
const secret = new Secret(stack, 'SharedSecret', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
secret.shareWithAccount(consumerAccount);

const integ = new IntegTest(app, 'CrossAccountSharing', { testCases: [stack] });
integ.assertions.awsApiCall('SecretsManager', 'getResourcePolicy', { SecretId: secret.secretArn })
  .expect(ExpectedResult.objectLike({ ResourcePolicy: Match.stringLikeRegexp(`arn:aws:iam::${consumerAccount}:root`) }));
integ.assertions.awsApiCall('SecretsManager', 'getSecretValue', { SecretId: secret.secretArn })
  .assertAtPath('ARN', ExpectedResult.exact(secret.secretArn));

app.synth();
