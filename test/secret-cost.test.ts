import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RotationEngine, Secret, SecretEncryptionKey, SecretKeyStrategy, SecretRotation, SecretTemplate } from '../src';

/**
 * What one more secret costs: the README's table "what one more secret adds" is read here, and each row is measured
 * by building a stack with 10 and with 11 such secrets and comparing the resources by type.
 */
const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const ENGINE = RotationEngine.POSTGRES_SINGLE_USER;

/** The rows of the README table, first cell to the resource types of the second. */
function readmeRows(): Map<string, string[]> {
  const table = /\| one more secret \| adds \|\n\|---\|---\|\n((?:\|.*\n)+)/.exec(README);
  if (!table) {
    throw new Error('README has no "| one more secret | adds |" table');
  }
  return new Map(table[1].split('\n').filter(Boolean).map((row) => {
    const [label, adds] = row.split('|').slice(1, 3).map((cell) => cell.trim());
    return [label, [...adds.matchAll(/`(AWS::[A-Za-z0-9:]+)`/g)].map((m) => m[1]).sort()];
  }));
}

type Build = (stack: Stack, i: number) => void;

const librarySecret = (keyStrategy?: SecretKeyStrategy): Build => (stack, i) => {
  const secret = new Secret(stack, `Secret${i}`, {
    keyStrategy,
    template: SecretTemplate.database({ rotationEngine: ENGINE, host: 'db.internal', username: `app${i}` }),
  });
  secret.addRotation();
};

const awsCdkLibSecret: Build = (stack, i) => {
  const key = (stack.node.tryFindChild('Key') as kms.Key | undefined) ?? new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const secret = new secretsmanager.Secret(stack, `Secret${i}`, { encryptionKey: key });
  new SecretRotation(stack, `Rotation${i}`, { secret, engine: ENGINE });
};

/** The rows, each with how to build one secret of it. */
const ROWS: Array<[string, Build]> = [
  ['`Secret` with the default key, `addRotation()`', librarySecret()],
  ['`Secret` with `keyStrategy: SecretKeyStrategy.PER_SECRET`, `addRotation()`', librarySecret(SecretKeyStrategy.PER_SECRET)],
  ['aws-cdk-lib `secretsmanager.Secret` with an `encryptionKey`, `SecretRotation`', awsCdkLibSecret],
];

function synth(build: Build, secrets: number): Template {
  const stack = new Stack(new App(), 'Platform', { env: { account: '111111111111', region: 'eu-west-1' } });
  for (let i = 0; i < secrets; i++) {
    build(stack, i);
  }
  return Template.fromStack(stack);
}

function countByType(template: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of Object.values<any>(template.toJSON().Resources)) {
    counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return counts;
}

/** The resource types one more secret adds, one entry per added resource. */
function addedByOneMore(build: Build): string[] {
  const before = countByType(synth(build, 10));
  const after = countByType(synth(build, 11));
  return Object.keys(after).flatMap((type) => {
    const added = after[type] - (before[type] ?? 0);
    return Array.from({ length: added }, () => type);
  }).sort();
}

/** Statements of every key policy in the stack, in all. */
function keyPolicyStatements(template: Template): number {
  return Object.values<any>(template.findResources('AWS::KMS::Key'))
    .reduce((n, key) => n + key.Properties.KeyPolicy.Statement.length, 0);
}

describe('what one more secret adds (the README table)', () => {
  test('the README lists exactly the measured rows', () => {
    expect([...readmeRows().keys()]).toEqual(ROWS.map(([label]) => label));
  });

  test.each(ROWS)('%s', (label, build) => {
    expect(addedByOneMore(build)).toEqual(readmeRows().get(label));
  });

  test.each(ROWS.filter(([label]) => !label.includes('PER_SECRET')))('%s: no statement is added to the key policy', (_label, build) => {
    expect(keyPolicyStatements(synth(build, 11))).toBe(keyPolicyStatements(synth(build, 1)));
  });
});

describe('one key per stack', () => {
  test('11 library secrets with the defaults are encrypted by one SecretEncryptionKey', () => {
    const stack = new Stack(new App(), 'Platform', { env: { account: '111111111111', region: 'eu-west-1' } });
    const secrets = Array.from({ length: 11 }, (_, i) => new Secret(stack, `Secret${i}`));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::KMS::Alias', 1);
    const keyId = stack.getLogicalId(SecretEncryptionKey.shared(stack).node.defaultChild as kms.CfnKey);
    for (const secret of secrets) {
      expect(secret.encryptionKey).toBe(SecretEncryptionKey.shared(stack));
      const resource = template.toJSON().Resources[stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret)];
      expect(resource.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    }
  });

  test('with rotation, the keys are the shared secrets key and the rotation function\'s own key (logs, queue, environment)', () => {
    const template = synth(librarySecret(), 11);
    const descriptions = Object.values<any>(template.findResources('AWS::KMS::Key')).map((k) => k.Properties.Description);
    expect(descriptions).toHaveLength(2);
    expect(descriptions.filter((d) => /secrets of this stack that have no key of their own/.test(d))).toHaveLength(1);
  });

  test('SecretKeyStrategy.PER_SECRET: one key per secret, under the secret', () => {
    const stack = new Stack(new App(), 'Platform');
    const secrets = Array.from({ length: 3 }, (_, i) => new Secret(stack, `Secret${i}`, { keyStrategy: SecretKeyStrategy.PER_SECRET }));
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 3);
    for (const secret of secrets) {
      expect(secret.encryptionKey).toBe(secret.node.findChild('Key'));
    }
    expect(stack.node.tryFindChild('SharedSecretEncryptionKey')).toBeUndefined();
  });

  test('secrets of two stacks use a key of their own stack (no cross-stack reference)', () => {
    const app = new App();
    const one = new Stack(app, 'One');
    const two = new Stack(app, 'Two');
    const a = new Secret(one, 'Secret');
    const b = new Secret(two, 'Secret');
    expect(a.encryptionKey).toBe(SecretEncryptionKey.shared(one));
    expect(b.encryptionKey).toBe(SecretEncryptionKey.shared(two));
    expect(Object.keys(Template.fromStack(two).toJSON().Outputs ?? {})).toEqual([]);
  });
});
