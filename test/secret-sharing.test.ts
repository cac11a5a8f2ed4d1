import { App, Annotations as CoreAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Secret, SecretKeyStrategy, SecretPolicy, SecretsManagerEndpoints } from '../src';
import { importedVpc } from './rotation/fixtures';

const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const REGION = 'eu-west-1';
const WARNING_ID = 'cdk-secrets-platform:shareWithAccountOutsideVpcEndpoints';

function envStack(app = new App()): Stack {
  return new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
}

/** The other account's statement in the key policy of a secret's key. */
function decryptStatement(secret: Secret, account = OTHER): any {
  const stack = Stack.of(secret);
  const key = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(secret.encryptionKey!.node.defaultChild as kms.CfnKey)];
  const statements = key.Properties.KeyPolicy.Statement.filter((s: any) => s.Sid === `DecryptViaSecretsManagerByAccount${account}`);
  expect(statements).toHaveLength(1);
  return statements[0];
}

const secretArnPattern = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-??????`]],
});
const VIA_SECRETS_MANAGER = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`, 'kms:CallerAccount': OTHER };

describe('shareWithAccount: the key-policy statement', () => {
  test('kms:Decrypt only, through Secrets Manager, as the other account, for this secret (SecretARN) when it has a name', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', { secretName: 'orders/db' });
    secret.shareWithAccount(OTHER);
    expect(decryptStatement(secret)).toEqual({
      Sid: `DecryptViaSecretsManagerByAccount${OTHER}`,
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${OTHER}:root`]] } },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: {
        StringEquals: VIA_SECRETS_MANAGER,
        StringLike: { 'kms:EncryptionContext:SecretARN': secretArnPattern('orders/db') },
      },
    });
  });

  test('two named secrets on the shared key shared with one account: one statement naming both', () => {
    const stack = envStack();
    const orders = new Secret(stack, 'Orders', { secretName: 'orders/db' });
    const billing = new Secret(stack, 'Billing', { secretName: 'billing/db' });
    orders.shareWithAccount(OTHER);
    billing.shareWithAccount(OTHER);
    new Secret(stack, 'NotShared', { secretName: 'hr/db' });
    expect(decryptStatement(orders).Condition.StringLike).toEqual({
      'kms:EncryptionContext:SecretARN': [secretArnPattern('billing/db'), secretArnPattern('orders/db')],
    });
  });

  test('a secret whose name CloudFormation generates: the statement covers every secret of the key the account may read', () => {
    const stack = envStack();
    const named = new Secret(stack, 'Named', { secretName: 'orders/db' });
    const unnamed = new Secret(stack, 'Unnamed');
    named.shareWithAccount(OTHER);
    unnamed.shareWithAccount(OTHER);
    expect(decryptStatement(named).Condition).toEqual({ StringEquals: VIA_SECRETS_MANAGER });
  });

  test('a plain kms.Key of the app gets the same statement', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', { secretName: 'orders/db', encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });
    secret.shareWithAccount(OTHER);
    expect(decryptStatement(secret).Condition).toEqual({
      StringEquals: VIA_SECRETS_MANAGER,
      StringLike: { 'kms:EncryptionContext:SecretARN': secretArnPattern('orders/db') },
    });
  });

  test('SecretKeyStrategy.PER_SECRET: the statement is in the secret\'s own key', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', { secretName: 'orders/db', keyStrategy: SecretKeyStrategy.PER_SECRET });
    secret.shareWithAccount(OTHER);
    expect(secret.encryptionKey!.node.scope).toBe(secret);
    expect(decryptStatement(secret).Action).toBe('kms:Decrypt');
  });
});

describe('shareWithAccount with SecretPolicy.denyOutsideVpcEndpoints', () => {
  function endpoints(stack: Stack, organizationId?: string): SecretsManagerEndpoints {
    return new SecretsManagerEndpoints(stack, 'Endpoints', { vpc: importedVpc(stack), organizationId });
  }

  const warnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('/Test/Secret', Match.stringLikeRegexp('shareWithAccount'));

  test.each([
    ['shared, then the preset', (secret: Secret, deny: SecretPolicy) => {
      secret.shareWithAccount(OTHER);
      SecretPolicy.applyTo(secret, deny);
    }],
    ['the preset, then shared', (secret: Secret, deny: SecretPolicy) => {
      SecretPolicy.applyTo(secret, deny);
      secret.shareWithAccount(OTHER);
    }],
  ])('endpoints that admit only this account: the other account can never read, synthesis fails (%s)', (_order, apply) => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    apply(secret, SecretPolicy.denyOutsideVpcEndpoints([endpoints(stack).secretsManagerEndpoint]));
    expect(() => Template.fromStack(stack)).toThrow(new RegExp('Secret.shareWithAccount: accountId 222222222222 can never read Test/Secret: '
      + 'its resource policy denies every request that does not come through the VPC endpoint\\(s\\) Test/Endpoints/SecretsManager '
      + '\\(SecretPolicy.denyOutsideVpcEndpoints: aws:SourceVpce, Sid \'DenyOutsideVpcEndpoints\'\\), and the endpoint policy of each of '
      + 'them admits only principals of other accounts'));
  });

  test('endpoints that admit the organization: a warning naming the property, since a shared VPC may carry the calls', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER);
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpoints([endpoints(stack, 'o-a1b2c3d4e5').secretsManagerEndpoint]));
    expect(warnings(stack).map((w) => w.entry.data)).toEqual([expect.stringMatching(
      /^Secret.shareWithAccount: accountId 222222222222 reads Test\/Secret only if its principals call Secrets Manager through one of those endpoints: .*SecretPolicy.denyOutsideVpcEndpoints.*\[ack: cdk-secrets-platform:shareWithAccountOutsideVpcEndpoints\]$/)]);
  });

  test('endpoints known only by id: a warning', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER);
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-0123456789abcdef0']));
    expect(warnings(stack).map((w) => w.entry.data)).toEqual([expect.stringContaining('through the VPC endpoint(s) vpce-0123456789abcdef0')]);
  });

  test('an endpoint policy that was widened to admit the other account: a warning, not an error', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    const endpoint = endpoints(stack).secretsManagerEndpoint;
    endpoint.addToPolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:GetSecretValue'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:PrincipalAccount': OTHER } },
    }));
    secret.shareWithAccount(OTHER);
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpoints([endpoint]));
    expect(warnings(stack)).toHaveLength(1);
  });

  test('the warning can be acknowledged by its id', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER);
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-0123456789abcdef0']));
    // an ancestor acknowledges the warnings of everything below it
    CoreAnnotations.of(stack).acknowledgeWarning(WARNING_ID);
    expect(warnings(stack)).toEqual([]);
  });

  test.each<[string, string[] | undefined, string]>([
    ['a named reader, by a pattern', [`arn:aws:iam::${OTHER}:role/reader`], `arn:aws:iam::${OTHER}:role/*`],
    ['the whole account, by a pattern that covers its roles and users', undefined, `arn:aws:iam::${OTHER}:*`],
  ])('readers exempted from the Deny (exemptPrincipals): neither error nor warning: %s', (_name, principalArns, exempt) => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER, { principalArns });
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpoints([endpoints(stack).secretsManagerEndpoint], {
      exemptPrincipals: [new iam.ArnPrincipal(exempt)],
    }));
    expect(warnings(stack)).toEqual([]);
  });

  test.each<[string, string[] | undefined, string]>([
    ['named readers, one of them not exempt', [`arn:aws:iam::${OTHER}:role/reader`, `arn:aws:iam::${OTHER}:role/auditor`],
      `arn:aws:iam::${OTHER}:role/reader`],
    ['the whole account, one of its roles exempt', undefined, `arn:aws:iam::${OTHER}:role/reader`],
    ['the whole account, its root user exempt (not its roles)', undefined, `arn:aws:iam::${OTHER}:root`],
  ])('exemptions that do not cover every reader do not count: %s', (_name, principalArns, exempt) => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER, { principalArns });
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpoints([endpoints(stack).secretsManagerEndpoint], {
      exemptPrincipals: [new iam.ArnPrincipal(exempt)],
    }));
    expect(() => Template.fromStack(stack)).toThrow(/accountId 222222222222 can never read Test\/Secret/);
  });

  test('without a VPC-endpoint Deny: neither error nor warning', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER);
    SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls());
    endpoints(stack);
    expect(warnings(stack)).toEqual([]);
  });

  test('the endpoint of another stack of the app is found through the cross-stack reference', () => {
    const app = new App();
    const network = new Stack(app, 'Network', { env: { account: ACCOUNT, region: REGION } });
    const vpc = new ec2.Vpc(network, 'Vpc', { subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const endpoint = new SecretsManagerEndpoints(network, 'Endpoints', { vpc }).secretsManagerEndpoint;
    const stack = envStack(app);
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER);
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpoints([endpoint]));
    expect(() => app.synth()).toThrow(/accountId 222222222222 can never read Test\/Secret: .* endpoint\(s\) Network\/Endpoints\/SecretsManager/);
  });
});
