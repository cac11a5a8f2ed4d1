import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RotationEngine, RotationFunction, RotationFunctionOptions, SecretRotation, SecretsManagerEndpoints } from '../../src';
import { importedVpc, secret, secretKey, testStack } from '../rotation/fixtures';

/**
 * A platform stack: a shared single-user and a shared alternating-user PostgreSQL function, each rotating secrets; in a
 * VPC (with the Secrets Manager endpoint) when `vpc` is true.
 */
export function platformStack(vpc = false): { stack: Stack; functions: RotationFunction[]; vpc?: ec2.IVpc; secrets: secretsmanager.ISecret[] } {
  const stack = testStack('Platform');
  const network = vpc ? importedVpc(stack) : undefined;
  const options: RotationFunctionOptions = network ? { vpc: network } : {};
  const key = secretKey(stack);
  const master = secret(stack, 'Master', key);
  new SecretRotation(stack, 'MasterRotation', { secret: master, engine: RotationEngine.POSTGRES_SINGLE_USER, rotationFunctionOptions: options });
  const app = secret(stack, 'App', key);
  new SecretRotation(stack, 'AppRotation', {
    secret: app,
    engine: RotationEngine.POSTGRES_MULTI_USER,
    masterSecret: master,
    rotationFunctionOptions: options,
  });
  const functions = [
    RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER, options),
    RotationFunction.shared(stack, RotationEngine.POSTGRES_MULTI_USER, options),
  ];
  if (network) {
    new SecretsManagerEndpoints(stack, 'Endpoints', { vpc: network, allowFrom: functions });
  }
  return { stack, functions, vpc: network, secrets: [master, app] };
}
