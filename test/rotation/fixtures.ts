import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RotationEngine, SecretTemplateKind } from '../../src';

/** A fresh app and environment-agnostic stack. */
export function testStack(id = 'Test'): Stack {
  return new Stack(new App(), id);
}

/** A platform team's existing VPC with isolated subnets (reaches AWS APIs through interface endpoints). */
export function importedVpc(stack: Stack, id = 'Vpc', subnetIds = ['subnet-11111111', 'subnet-22222222']): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, id, {
    vpcId: `vpc-${id.toLowerCase()}`,
    vpcCidrBlock: '10.0.0.0/16',
    availabilityZones: subnetIds.map((_, i) => `us-east-1${'abc'[i]}`),
    isolatedSubnetIds: subnetIds,
    isolatedSubnetRouteTableIds: subnetIds.map((_, i) => `rtb-${i}`),
  });
}

/** A customer-managed key for test secrets. */
export function secretKey(stack: Stack, id = 'SecretKey'): kms.Key {
  return new kms.Key(stack, id, { enableKeyRotation: true });
}

/** A secret encrypted with the given key. */
export function secret(stack: Stack, id: string, key: kms.IKey): secretsmanager.Secret {
  return new secretsmanager.Secret(stack, id, { encryptionKey: key });
}

/** Resources of a type in a template, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, any> {
  return template.findResources(type);
}

/** The one resource of a type (fails when there is not exactly one). */
export function onlyResource(template: Template, type: string): { id: string; resource: any } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type}, found ${found.length}`);
  }
  return { id: found[0][0], resource: found[0][1] };
}

/** Statements of the one customer-managed policy, keyed by Sid. */
export function policyStatements(template: Template): Record<string, any> {
  const { resource } = onlyResource(template, 'AWS::IAM::ManagedPolicy');
  return Object.fromEntries(resource.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
}

/** `arn:${Partition}:...` as CloudFormation renders an ARN built from pseudo parameters. */
export function joinArn(...parts: Array<string | object>): object {
  return { 'Fn::Join': ['', parts] };
}

export const PARTITION = { Ref: 'AWS::Partition' };
export const REGION = { Ref: 'AWS::Region' };
export const ACCOUNT = { Ref: 'AWS::AccountId' };

/** Every bundled engine (database and OAuth) with its static name, in declaration order. */
export const ALL_BUNDLED: Array<[string, RotationEngine]> = Object.entries(RotationEngine)
  .filter((entry): entry is [string, RotationEngine] => entry[1] instanceof RotationEngine && entry[1].isBundled);

/** Every bundled database engine with its static name, in declaration order (for `describe.each` / `test.each`). */
export const BUNDLED: Array<[string, RotationEngine]> = ALL_BUNDLED
  .filter(([, engine]) => engine.secretKind === SecretTemplateKind.DATABASE);

/** The bundled OAuth engines with their static names. */
export const BUNDLED_OAUTH: Array<[string, RotationEngine]> = ALL_BUNDLED
  .filter(([, engine]) => engine.secretKind !== SecretTemplateKind.DATABASE);

/** Every family with a bundled engine: its single-user and alternating-users engines. */
export const BUNDLED_FAMILIES: Array<[string, RotationEngine, RotationEngine]> = Array.from(
  new Set(BUNDLED.map(([, e]) => e.secretEngines[0])),
  (value) => [
    value,
    BUNDLED.find(([, e]) => e.secretEngines[0] === value && !e.multiUser)![1],
    BUNDLED.find(([, e]) => e.secretEngines[0] === value && e.multiUser)![1],
  ],
);
