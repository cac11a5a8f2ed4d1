import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RotationEngine, Secret, SecretEncryptionKey, SecretTemplate } from '../src';

/**
 * A database secret encrypted with a SecretEncryptionKey, readable by one role through a customer-managed policy.
 * When deployed, the assertions read the secret and check it is encrypted with the key and carries the template.
 */
const app = new App();
const stack = new Stack(app, 'SecretWithKeyInteg');

const key = new SecretEncryptionKey(stack, 'Key', { removalPolicy: RemovalPolicy.DESTROY });
const secret = new Secret(stack, 'DatabaseSecret', {
  encryptionKey: key,
  removalPolicy: RemovalPolicy.DESTROY,
  template: SecretTemplate.database({
    rotationEngine: RotationEngine.POSTGRES_SINGLE_USER,
    host: 'db.internal.example',
    username: 'app',
    dbname: 'app',
  }),
});
const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
secret.grantReadWithManagedPolicy(reader);

const integ = new IntegTest(app, 'SecretWithKey', { testCases: [stack] });
integ.assertions.awsApiCall('SecretsManager', 'describeSecret', { SecretId: secret.secretArn })
  .expect(ExpectedResult.objectLike({ KmsKeyId: key.keyArn }));
integ.assertions.awsApiCall('SecretsManager', 'getSecretValue', { SecretId: secret.secretArn })
  .assertAtPath('ARN', ExpectedResult.exact(secret.secretArn));

app.synth();
