import { App, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PasswordPolicy, Secret, SecretEncryptionKey } from '../src';

/**
 * Switching a construct from aws-cdk-lib's `secretsmanager.Secret` to the library's `Secret` (README, "Migrating from
 * aws-cdk-lib"): the same stack is built both ways and the templates compared.
 */
const REGION = 'eu-west-1';
const replicaKeyArn = 'arn:aws:kms:eu-central-1:111111111111:key/11111111-2222-3333-4444-555555555555';

/** The props of one secret, given the stack (for keys and references); the same object goes to both classes. */
type Props = (stack: Stack) => secretsmanager.SecretProps;

interface Built {
  readonly stack: Stack;
  readonly secret: secretsmanager.Secret;
  readonly template: any;
  readonly logicalId: string;
}

interface BuildOptions {
  /** Where the secret is defined. */
  readonly scopeOf?: (stack: Stack) => Construct;
  /** What is done with the secret before the template is synthesized. */
  readonly then?: (secret: secretsmanager.Secret) => void;
}

function build(useLibrary: boolean, props: Props, options: BuildOptions = {}): Built {
  const scopeOf = options.scopeOf ?? ((stack: Stack) => stack);
  const stack = new Stack(new App(), 'Apps', { env: { account: '111111111111', region: REGION } });
  const given = props(stack);
  // the library's props: what aws-cdk-lib rendered by default ({}) must be given explicitly
  const secret = useLibrary
    ? new Secret(scopeOf(stack), 'AppDb', {
      ...given,
      generateSecretString: given.generateSecretString ?? (given.secretStringValue || given.secretObjectValue ? undefined : {}),
      replicaRegions: given.replicaRegions?.map((r) => ({ region: r.region, encryptionKey: r.encryptionKey! })),
    })
    : new secretsmanager.Secret(scopeOf(stack), 'AppDb', given);
  options.then?.(secret);
  const logicalId = stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret);
  return { stack, secret, template: Template.fromStack(stack).toJSON(), logicalId };
}

const withKey = (more: (stack: Stack) => Partial<secretsmanager.SecretProps> = () => ({})): Props => (stack) => ({
  encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
  ...more(stack),
});

const VARIANTS: Array<[string, Props]> = [
  ['no value props (aws-cdk-lib generates with {})', withKey()],
  ['generateSecretString with a template and exclusions', withKey(() => ({
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: 'app', host: 'db.internal' }),
      generateStringKey: 'password',
      excludeCharacters: '/@"\' \\',
      passwordLength: 40,
    },
  }))],
  ['generateSecretString from a PasswordPolicy', withKey(() => ({
    generateSecretString: PasswordPolicy.postgres().toSecretStringGenerator({
      secretStringTemplate: JSON.stringify({ engine: 'postgres', username: 'app' }),
      generateStringKey: 'password',
    }),
  }))],
  ['secretStringValue, a Secrets Manager reference', withKey(() => ({ secretStringValue: SecretValue.secretsManager('upstream/api-key') }))],
  ['secretObjectValue with a literal and a resource attribute', withKey((stack) => ({
    secretObjectValue: {
      username: SecretValue.unsafePlainText('svc'),
      upstream: SecretValue.unsafePlainText(new secretsmanager.Secret(stack, 'Upstream').secretArn),
    },
  }))],
  ['secretName, description and a replica', withKey((stack) => ({
    secretName: 'apps/db',
    description: 'application database credentials',
    replicaRegions: [{ region: 'eu-central-1', encryptionKey: kms.Key.fromKeyArn(stack, 'ReplicaKey', replicaKeyArn) }],
  }))],
];

describe('migrating from aws-cdk-lib\'s secretsmanager.Secret', () => {
  test.each(VARIANTS)('%s: same logical id, AWS::SecretsManager::Secret properties byte-identical', (_name, props) => {
    const before = build(false, props);
    const after = build(true, props);
    expect(after.logicalId).toBe(before.logicalId);
    expect(JSON.stringify(after.template.Resources[after.logicalId].Properties))
      .toBe(JSON.stringify(before.template.Resources[before.logicalId].Properties));
  });

  test.each(VARIANTS)('%s: the only other changes are the resource policy and Retain', (_name, props) => {
    const before = build(false, props);
    const after = build(true, props);
    const policies = Object.keys(after.template.Resources).filter((id) => after.template.Resources[id].Type === 'AWS::SecretsManager::ResourcePolicy');
    expect(policies).toHaveLength(1);
    expect(before.template.Resources[policies[0]]).toBeUndefined();
    expect(after.template.Resources[policies[0]].Properties.BlockPublicPolicy).toBe(true);
    expect(before.template.Resources[before.logicalId].DeletionPolicy).toBe('Delete');
    expect(after.template.Resources[after.logicalId]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });

    // everything else, the key and its policy included, is unchanged
    const rest = (built: Built) => {
      const resources = { ...built.template.Resources };
      delete resources[policies[0]];
      const { DeletionPolicy: _d, UpdateReplacePolicy: _u, ...secret } = resources[built.logicalId];
      return { ...built.template, Resources: { ...resources, [built.logicalId]: secret } };
    };
    expect(rest(after)).toEqual(rest(before));
  });

  test('removalPolicy DESTROY keeps aws-cdk-lib\'s Delete', () => {
    const after = build(true, withKey(() => ({ removalPolicy: RemovalPolicy.DESTROY })));
    expect(after.template.Resources[after.logicalId].DeletionPolicy).toBe('Delete');
  });

  test('an existing resource policy keeps its logical id; it gains BlockPublicPolicy and the root-user Deny', () => {
    const then = (secret: secretsmanager.Secret) => secret.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.AccountPrincipal('222222222222')], actions: ['secretsmanager:GetSecretValue'], resources: ['*'],
    }));
    const before = build(false, withKey(), { then });
    const after = build(true, withKey(), { then });
    const policyId = (b: Built) => b.stack.getLogicalId(b.secret.node.findChild('Policy').node.defaultChild as secretsmanager.CfnResourcePolicy);
    expect(policyId(after)).toBe(policyId(before));
    expect(before.template.Resources[policyId(before)].Properties.BlockPublicPolicy).toBeUndefined();
    const policy = after.template.Resources[policyId(after)].Properties;
    expect(policy.BlockPublicPolicy).toBe(true);
    expect(policy.ResourcePolicy.Statement.map((s: any) => s.Sid ?? s.Principal)).toEqual([
      'DenyDeleteByAccountRootUser',
      { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:root']] } },
    ]);
  });

  test('a secret that had the AWS managed key: only KmsKeyId changes, to the stack\'s shared key', () => {
    const before = build(false, () => ({}));
    const after = build(true, () => ({}));
    const { KmsKeyId, ...properties } = after.template.Resources[after.logicalId].Properties;
    expect(properties).toEqual(before.template.Resources[before.logicalId].Properties);
    expect(KmsKeyId).toEqual({ 'Fn::GetAtt': [after.stack.getLogicalId(SecretEncryptionKey.shared(after.stack).node.defaultChild as kms.CfnKey), 'Arn'] });
  });

  test('a construct moved to another scope keeps its logical id with overrideLogicalId', () => {
    const before = build(false, withKey());
    const scopeOf = (stack: Stack) => new Construct(stack, 'Databases');
    expect(build(true, withKey(), { scopeOf }).logicalId).not.toBe(before.logicalId);
    const moved = build(true, withKey(), {
      scopeOf,
      then: (secret) => (secret.node.defaultChild as secretsmanager.CfnSecret).overrideLogicalId(before.logicalId),
    });
    expect(Object.keys(moved.template.Resources).filter((id) => moved.template.Resources[id].Type === 'AWS::SecretsManager::Secret'))
      .toEqual([before.logicalId]);
    expect(moved.template.Resources[before.logicalId].Properties).toEqual(before.template.Resources[before.logicalId].Properties);
  });
});
