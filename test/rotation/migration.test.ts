import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { importedVpc } from './fixtures';
import { RotationEngine, RotationSchedule, Secret, SecretRotation, SecretTemplate } from '../../src';

/**
 * The README's "Migrating from aws-cdk-lib / Rotation": an aws-cdk-lib `Secret` rotated by a hosted rotation
 * (`addRotationSchedule` with `HostedRotation.postgreSqlSingleUser()`) moves to `SecretRotation` on the shared function.
 * Each test synthesizes the same app before and after the change and compares the templates.
 */

interface Variant {
  /** `secret.denyAccountRootDelete()`: keeps the resource policy aws-cdk-lib's `RotationSchedule` added. */
  readonly keepResourcePolicy?: boolean;
}

/** The database secret of an existing app, as aws-cdk-lib users write it. */
function databaseSecret(stack: Stack): { secret: secretsmanager.Secret; vpc: ec2.IVpc } {
  const vpc = importedVpc(stack);
  const key = new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true });
  const secret = new secretsmanager.Secret(stack, 'AppDb', {
    encryptionKey: key,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ engine: 'postgres', host: 'db.internal', port: 5432, username: 'app', dbname: 'app' }),
      generateStringKey: 'password',
      excludeCharacters: '/@"\'\\:',
    },
  });
  return { secret, vpc };
}

/** Before: aws-cdk-lib's hosted rotation (a nested stack with a Python Lambda, created by the AWS::SecretsManager transform). */
function before(): Template {
  const stack = new Stack(new App(), 'Db');
  const { secret, vpc } = databaseSecret(stack);
  secret.addRotationSchedule('Rotation', {
    hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({ vpc }),
    automaticallyAfter: Duration.days(30),
  });
  return Template.fromStack(stack);
}

/** After: the same secret, rotated by the shared function; the rotation under the secret with the same id. */
function after(variant: Variant = {}): Template {
  const stack = new Stack(new App(), 'Db');
  const { secret, vpc } = databaseSecret(stack);
  new SecretRotation(secret, 'Rotation', {
    secret,
    engine: RotationEngine.POSTGRES_SINGLE_USER,
    schedule: RotationSchedule.rate(Duration.days(30)),
    rotationFunctionOptions: { vpc },
  });
  if (variant.keepResourcePolicy) {
    secret.denyAccountRootDelete();
  }
  return Template.fromStack(stack);
}

function resourcesOfType(template: Template, type: string): Record<string, any> {
  return template.findResources(type);
}

describe('migrating a hosted rotation to SecretRotation', () => {
  test('the secret and its key are byte-identical: the secret and its value stay', () => {
    const [old, now] = [before().toJSON().Resources, after().toJSON().Resources];
    const kept = Object.keys(old).filter((id) => ['AWS::SecretsManager::Secret', 'AWS::KMS::Key'].includes(old[id].Type));
    expect(kept).toEqual([expect.stringMatching(/^SecretsKey/), expect.stringMatching(/^AppDb/)]);
    for (const id of kept) {
      expect(JSON.stringify(now[id])).toBe(JSON.stringify(old[id]));
    }
  });

  test('the schedule keeps its logical id, so CloudFormation updates it in place from the hosted Lambda to the shared function', () => {
    const old = Object.entries(resourcesOfType(before(), 'AWS::SecretsManager::RotationSchedule'));
    const now = Object.entries(resourcesOfType(after(), 'AWS::SecretsManager::RotationSchedule'));
    expect(old).toHaveLength(1);
    expect(now.map(([id]) => id)).toEqual(old.map(([id]) => id));
    const [oldSchedule, newSchedule] = [old[0][1].Properties, now[0][1].Properties];
    expect(oldSchedule.HostedRotationLambda).toMatchObject({ RotationType: 'PostgreSQLSingleUser' });
    expect(oldSchedule.RotationLambdaARN).toBeUndefined();
    expect(newSchedule.HostedRotationLambda).toBeUndefined();
    expect(newSchedule.RotationLambdaARN).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RotationFunctionpostgressingleuser/), 'Arn'] });
    // same secret, same interval
    expect(newSchedule.SecretId).toEqual(oldSchedule.SecretId);
    expect(newSchedule.RotationRules).toEqual(oldSchedule.RotationRules);
  });

  test('the AWS::SecretsManager transform goes, and with it the nested stack of the hosted Lambda', () => {
    expect(before().toJSON().Transform).toBe('AWS::SecretsManager-2024-09-16');
    const template = after().toJSON();
    expect(template.Transform).toBeUndefined();
    // the transform added the nested stack at deployment; nothing in the new template brings it back
    const types = Object.values<any>(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t.startsWith('AWS::Serverless::') || t === 'AWS::CloudFormation::Stack')).toEqual([]);
  });

  test('the hosted rotation\'s security group goes; the shared function brings its own', () => {
    const groups = (t: Template) => Object.keys(resourcesOfType(t, 'AWS::EC2::SecurityGroup'));
    expect(groups(before())).toEqual([expect.stringMatching(/^AppDbRotationSecurityGroup/)]);
    expect(groups(after())).toEqual([expect.stringMatching(/^RotationFunctionpostgressingleuser.*SecurityGroup/)]);
  });

  test('the resource policy the hosted schedule added goes, unless denyAccountRootDelete keeps it byte-identical', () => {
    const policies = (t: Template) => JSON.stringify(resourcesOfType(t, 'AWS::SecretsManager::ResourcePolicy'));
    expect(Object.keys(resourcesOfType(before(), 'AWS::SecretsManager::ResourcePolicy'))).toHaveLength(1);
    expect(Object.keys(resourcesOfType(after(), 'AWS::SecretsManager::ResourcePolicy'))).toHaveLength(0);
    expect(policies(after({ keepResourcePolicy: true }))).toBe(policies(before()));
  });

  test('a SecretRotation in another scope keeps the logical id with resource.overrideLogicalId', () => {
    const oldId = Object.keys(resourcesOfType(before(), 'AWS::SecretsManager::RotationSchedule'))[0];
    const stack = new Stack(new App(), 'Db');
    const { secret } = databaseSecret(stack);
    const rotation = new SecretRotation(stack, 'AppDbRotation', { secret, engine: RotationEngine.POSTGRES_SINGLE_USER });
    expect(stack.getLogicalId(rotation.resource)).not.toBe(oldId);
    rotation.resource.overrideLogicalId(oldId);
    expect(Object.keys(resourcesOfType(Template.fromStack(stack), 'AWS::SecretsManager::RotationSchedule'))).toEqual([oldId]);
  });

  test('the library\'s Secret.addRotation() renders its schedule under the same logical id', () => {
    const oldId = Object.keys(resourcesOfType(before(), 'AWS::SecretsManager::RotationSchedule'))[0];
    const stack = new Stack(new App(), 'Db');
    const secret = new Secret(stack, 'AppDb', {
      template: SecretTemplate.database({ host: 'db.internal', username: 'app', rotationEngine: RotationEngine.POSTGRES_SINGLE_USER }),
    });
    const rotation = secret.addRotation();
    expect(stack.getLogicalId(rotation.resource)).toBe(oldId);
  });
});
