import { App, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { describeFindings, nagFindings } from './nag';
import { SecretEncryptionKey, SecretEncryptionKeyProps } from '../src';
import { ACCOUNT, PARTITION, REGION, joinArn, onlyResource, testStack } from './rotation/fixtures';

const ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];
const USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];
const ACCOUNT_ROOT = { AWS: joinArn('arn:', PARTITION, ':iam::', ACCOUNT, ':root') };
const VIA_SECRETS_MANAGER = joinArn('secretsmanager.', REGION, '.amazonaws.com');

function keyPolicy(template: Template): any[] {
  return onlyResource(template, 'AWS::KMS::Key').resource.Properties.KeyPolicy.Statement;
}

function bySid(statements: any[]): Record<string, any> {
  return Object.fromEntries(statements.map((s) => [s.Sid, s]));
}

function synth(props?: SecretEncryptionKeyProps, stack = testStack()) {
  const key = new SecretEncryptionKey(stack, 'Key', props);
  return { stack, key, template: Template.fromStack(stack) };
}

/** Whether an IAM action pattern (with `*` and `?`) matches an action, case-insensitively like IAM. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(action);
}

function actionsOf(statement: any): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

describe('SecretEncryptionKey defaults', () => {
  const { key, template } = synth();
  const resource = onlyResource(template, 'AWS::KMS::Key').resource;

  test('is a kms.Key (an IKey everywhere) with rotation on and a 30-day deletion window', () => {
    expect(key).toBeInstanceOf(kms.Key);
    expect(resource.Properties.EnableKeyRotation).toBe(true);
    expect(resource.Properties.PendingWindowInDays).toBe(30);
    expect(resource.Properties.RotationPeriodInDays).toBeUndefined();
    expect(resource.Properties.Description).toBe('Encrypts Secrets Manager secrets; usable only through Secrets Manager (cdk-secrets-platform)');
  });

  test('removal policy RETAIN', () => {
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
  });

  test('alias derived from the stack name and construct path', () => {
    expect(key.aliasName).toBe('alias/secrets/Test/Key');
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/secrets/Test/Key',
      TargetKeyId: { 'Fn::GetAtt': [onlyResource(template, 'AWS::KMS::Key').id, 'Arn'] },
    });
    expect(key.alias).toBeInstanceOf(kms.Alias);
  });

  test('the key policy is exactly: administration by the account, use and AWS-resource grants via Secrets Manager, deny other grants', () => {
    expect(keyPolicy(template)).toEqual([
      {
        Sid: 'AdministrationByAccount',
        Effect: 'Allow',
        Principal: ACCOUNT_ROOT,
        Action: ADMIN_ACTIONS,
        Resource: '*',
      },
      {
        Sid: 'UseViaSecretsManagerByAccount',
        Effect: 'Allow',
        Principal: ACCOUNT_ROOT,
        Action: USE_ACTIONS,
        Resource: '*',
        Condition: {
          StringEquals: { 'kms:ViaService': VIA_SECRETS_MANAGER, 'kms:CallerAccount': ACCOUNT },
        },
      },
      {
        Sid: 'GrantsForAwsResourcesViaSecretsManagerByAccount',
        Effect: 'Allow',
        Principal: ACCOUNT_ROOT,
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: {
          StringEquals: { 'kms:ViaService': VIA_SECRETS_MANAGER, 'kms:CallerAccount': ACCOUNT },
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
        },
      },
      {
        Sid: 'DenyGrantsNotForAwsResources',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: { Bool: { 'kms:GrantIsForAWSResource': 'false' } },
      },
    ]);
  });

  test('administration never includes cryptographic use or CreateGrant (kms:Create* would match CreateGrant)', () => {
    const admin = bySid(keyPolicy(template)).AdministrationByAccount;
    for (const action of ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt', 'kms:GenerateDataKey', 'kms:CreateGrant', 'kms:Sign']) {
      expect(actionsOf(admin).filter((pattern) => actionMatches(pattern, action))).toEqual([]);
    }
    // the lockout check: the account can still change the key policy
    expect(actionsOf(admin).some((pattern) => actionMatches(pattern, 'kms:PutKeyPolicy'))).toBe(true);
  });

  test('the L2 kms:* default statement for the account is not there', () => {
    expect(JSON.stringify(keyPolicy(template))).not.toContain('"kms:*"');
  });
});

describe('SecretEncryptionKey in an environment', () => {
  test('conditions name the literal region and account', () => {
    const stack = new Stack(new App(), 'Prod', { env: { account: '111111111111', region: 'eu-west-1' } });
    const { template } = synth({}, stack);
    const statements = bySid(keyPolicy(template));
    expect(statements.UseViaSecretsManagerByAccount.Principal).toEqual({ AWS: joinArn('arn:', PARTITION, ':iam::111111111111:root') });
    expect(statements.UseViaSecretsManagerByAccount.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com', 'kms:CallerAccount': '111111111111' },
    });
    expect(statements.GrantsForAwsResourcesViaSecretsManagerByAccount.Condition.StringEquals).toEqual({
      'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com',
      'kms:CallerAccount': '111111111111',
    });
  });
});

describe('SecretEncryptionKey options', () => {
  test('admins get the admin actions only, in their own statement', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'KeyAdmin', { assumedBy: new iam.AccountRootPrincipal() });
    const { template } = synth({ admins: [role, new iam.ArnPrincipal('arn:aws:iam::111111111111:role/SecurityTeam')] }, stack);
    const statements = keyPolicy(template);
    expect(statements.map((s) => s.Sid)).toEqual([
      'AdministrationByAccount',
      'AdministrationByAdmins',
      'UseViaSecretsManagerByAccount',
      'GrantsForAwsResourcesViaSecretsManagerByAccount',
      'DenyGrantsNotForAwsResources',
    ]);
    expect(bySid(statements).AdministrationByAdmins).toEqual({
      Sid: 'AdministrationByAdmins',
      Effect: 'Allow',
      Principal: { AWS: [{ 'Fn::GetAtt': [onlyResource(template, 'AWS::IAM::Role').id, 'Arn'] }, 'arn:aws:iam::111111111111:role/SecurityTeam'] },
      Action: ADMIN_ACTIONS,
      Resource: '*',
    });
  });

  test('alias, description, removal policy, pending window and rotation period', () => {
    const { key, template } = synth({
      alias: 'platform/secrets',
      description: 'Platform secrets',
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
      rotationPeriod: Duration.days(90),
    });
    const resource = onlyResource(template, 'AWS::KMS::Key').resource;
    expect(key.aliasName).toBe('alias/platform/secrets');
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/platform/secrets' });
    expect(resource.Properties).toMatchObject({
      Description: 'Platform secrets',
      PendingWindowInDays: 7,
      RotationPeriodInDays: 90,
      EnableKeyRotation: true,
    });
    expect(resource.DeletionPolicy).toBe('Delete');
  });

  test('an alias given with its prefix is kept as is', () => {
    expect(synth({ alias: 'alias/team-a/db_secrets:prod' }).key.aliasName).toBe('alias/team-a/db_secrets:prod');
  });

  test('the default alias follows nested construct paths and replaces characters an alias cannot hold', () => {
    const stack = testStack('Platform');
    const group = new Construct(new Construct(stack, 'Team A'), 'db.prod');
    const key = new SecretEncryptionKey(group, 'Key+1');
    expect(key.aliasName).toBe('alias/secrets/Platform/Team-A/db-prod/Key-1');
  });

  test('a default alias longer than 256 characters is cut and ends in a hash, so it stays unique', () => {
    const stack = testStack();
    const long = 'x'.repeat(240);
    const a = new SecretEncryptionKey(new Construct(stack, `${long}A`), 'Key');
    const b = new SecretEncryptionKey(new Construct(stack, `${long}B`), 'Key');
    expect(a.aliasName).toHaveLength(256);
    expect(a.aliasName).toMatch(/^alias\/secrets\/Test\/x+-[0-9a-f]{8}$/);
    expect(a.aliasName).not.toBe(b.aliasName);
  });

  const invalid: Array<[string, SecretEncryptionKeyProps, RegExp]> = [
    ['an alias under alias/aws/', { alias: 'alias/aws/secrets' }, /alias must not start with 'alias\/aws\/'/],
    ['an alias with a space', { alias: 'my secrets' }, /alias must be 'alias\/' followed by 1 or more of a-z A-Z 0-9 \/ _ - :, at most 256/],
    ['an empty alias', { alias: 'alias/' }, /alias must be 'alias\/' followed by 1 or more/],
    ['an alias of 257 characters', { alias: `alias/${'a'.repeat(251)}` }, /alias must be .* at most 256 characters in all/],
    ['a token alias', { alias: Token.asString({ Ref: 'AliasParam' }) }, /alias must be a literal value/],
    ['a pending window of 6 days', { pendingWindow: Duration.days(6) }, /pendingWindow must be whole days from 7 to 30, got 6 days/],
    ['a pending window of 31 days', { pendingWindow: Duration.days(31) }, /pendingWindow must be whole days from 7 to 30, got 31 days/],
    ['a pending window of 7.5 days', { pendingWindow: Duration.hours(180) }, /pendingWindow must be whole days from 7 to 30, got 7 days 12 hours/],
    ['a rotation period of 89 days', { rotationPeriod: Duration.days(89) }, /rotationPeriod must be whole days from 90 to 2560, got 89 days/],
    ['a rotation period of 2561 days', { rotationPeriod: Duration.days(2561) }, /rotationPeriod must be whole days from 90 to 2560, got 2561 days/],
  ];
  test.each(invalid)('rejects %s, naming the property and the allowed range', (_name, props, message) => {
    expect(() => new SecretEncryptionKey(testStack(), 'Key', props)).toThrow(message);
  });
});

describe('SecretEncryptionKey.grantToAccount', () => {
  const decryptStatement = (template: Template, account = '222222222222') => bySid(keyPolicy(template))[`DecryptViaSecretsManagerByAccount${account}`];

  test('lets another account decrypt, only through Secrets Manager, only as that account (every secret of the key)', () => {
    const stack = testStack();
    const key = new SecretEncryptionKey(stack, 'Key');
    key.grantToAccount('222222222222');
    expect(decryptStatement(Template.fromStack(stack))).toEqual({
      Sid: 'DecryptViaSecretsManagerByAccount222222222222',
      Effect: 'Allow',
      Principal: { AWS: joinArn('arn:', PARTITION, ':iam::222222222222:root') },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: {
        StringEquals: { 'kms:ViaService': VIA_SECRETS_MANAGER, 'kms:CallerAccount': '222222222222' },
      },
    });
  });

  test('never lets the other account encrypt or generate data keys (it could encrypt its own secrets with this key)', () => {
    const stack = testStack();
    const key = new SecretEncryptionKey(stack, 'Key');
    key.grantToAccount('222222222222');
    const actions = actionsOf(decryptStatement(Template.fromStack(stack)));
    for (const action of ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptTo', 'kms:CreateGrant', 'kms:DescribeKey']) {
      expect(actions.filter((pattern) => actionMatches(pattern, action))).toEqual([]);
    }
  });

  test('secretNames limit the grant to those secrets by the encryption context Secrets Manager sends (SecretARN)', () => {
    const stack = testStack();
    const key = new SecretEncryptionKey(stack, 'Key');
    key.grantToAccount('222222222222', { secretNames: ['app/db'] });
    key.grantToAccount('222222222222', { secretNames: ['app/api', 'app/db'] });
    const secretArn = (name: string) => joinArn('arn:', PARTITION, ':secretsmanager:', REGION, ':', ACCOUNT, `:secret:${name}-??????`);
    expect(decryptStatement(Template.fromStack(stack)).Condition).toEqual({
      StringEquals: { 'kms:ViaService': VIA_SECRETS_MANAGER, 'kms:CallerAccount': '222222222222' },
      StringLike: { 'kms:EncryptionContext:SecretARN': [secretArn('app/api'), secretArn('app/db')] },
    });
  });

  test('a grant without secretNames widens the account\'s one statement to every secret of the key', () => {
    const stack = testStack();
    const key = new SecretEncryptionKey(stack, 'Key');
    key.grantToAccount('222222222222', { secretNames: ['app/db'] });
    key.grantToAccount('222222222222');
    const statements = keyPolicy(Template.fromStack(stack)).filter((s) => s.Sid.endsWith('222222222222'));
    expect(statements).toHaveLength(1);
    expect(statements[0].Condition.StringLike).toBeUndefined();
  });

  test('adding an account twice or the own account adds nothing', () => {
    const stack = new Stack(new App(), 'Prod', { env: { account: '111111111111', region: 'eu-west-1' } });
    const key = new SecretEncryptionKey(stack, 'Key');
    key.grantToAccount('222222222222');
    key.grantToAccount('222222222222');
    key.grantToAccount('333333333333');
    key.grantToAccount('111111111111');
    const sids = keyPolicy(Template.fromStack(stack)).map((s) => s.Sid);
    expect(sids.filter((sid) => sid.startsWith('DecryptViaSecretsManagerByAccount'))).toEqual([
      'DecryptViaSecretsManagerByAccount222222222222',
      'DecryptViaSecretsManagerByAccount333333333333',
    ]);
  });

  test.each([
    ['11 digits', '12345678901', undefined, /accountId must be a 12-digit AWS account id, got '12345678901'/],
    ['letters', '12345678901a', undefined, /accountId must be a 12-digit AWS account id/],
    ['an ARN', 'arn:aws:iam::123456789012:root', undefined, /accountId must be a 12-digit AWS account id/],
    ['a token', Token.asString({ Ref: 'AccountParam' }), undefined, /accountId must be a literal value/],
    ['no secret names', '222222222222', [], /secretNames must hold 1 or more secret names, or be left out/],
    ['a wildcard name', '222222222222', ['app/*'], /secretNames\[0\] must be a secret name of 1 to 512 letters, digits and \/_\+=\.@- \(no wildcards\), got 'app\/\*'/],
    ['a token name', '222222222222', ['ok', Token.asString({ Ref: 'NameParam' })], /secretNames\[1\] must be a literal value/],
  ])('rejects %s, naming the property', (_name, accountId, secretNames, message) => {
    const { key } = synth();
    expect(() => key.grantToAccount(accountId, { secretNames })).toThrow(message);
  });
});

describe('SecretEncryptionKey.shared', () => {
  test('one key per stack, found in the construct tree under a fixed id on the stack', () => {
    const stack = testStack();
    const a = SecretEncryptionKey.shared(new Construct(stack, 'TeamA'));
    const b = SecretEncryptionKey.shared(stack);
    expect(b).toBe(a);
    expect(a.node.scope).toBe(stack);
    expect(a.node.id).toBe('SharedSecretEncryptionKey');
    expect(a.aliasName).toBe('alias/secrets/Test/SharedSecretEncryptionKey');
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 1);
  });

  test('another stack (or another app) gets its own key', () => {
    const app = new App();
    const one = new Stack(app, 'One');
    const two = new Stack(app, 'Two');
    expect(SecretEncryptionKey.shared(one)).not.toBe(SecretEncryptionKey.shared(two));
    expect(SecretEncryptionKey.shared(testStack())).not.toBe(SecretEncryptionKey.shared(testStack()));
  });

  test('removal policy RETAIN and the defaults of the class', () => {
    const stack = testStack();
    SecretEncryptionKey.shared(stack);
    const resource = onlyResource(Template.fromStack(stack), 'AWS::KMS::Key').resource;
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.Properties.EnableKeyRotation).toBe(true);
    expect(resource.Properties.PendingWindowInDays).toBe(30);
  });

  test('an id taken by another construct is refused', () => {
    const stack = testStack();
    new Construct(stack, 'SharedSecretEncryptionKey');
    expect(() => SecretEncryptionKey.shared(stack))
      .toThrow(/SecretEncryptionKey.shared: the id 'SharedSecretEncryptionKey' on stack Test is taken by a construct that is not a SecretEncryptionKey/);
  });

  test('isSecretEncryptionKey tells a SecretEncryptionKey from a kms.Key', () => {
    const stack = testStack();
    expect(SecretEncryptionKey.isSecretEncryptionKey(new SecretEncryptionKey(stack, 'Key'))).toBe(true);
    expect(SecretEncryptionKey.isSecretEncryptionKey(new kms.Key(stack, 'Plain'))).toBe(false);
    expect(SecretEncryptionKey.isSecretEncryptionKey(undefined)).toBe(false);
  });
});

describe('SecretEncryptionKey with Secrets Manager', () => {
  function secretStack() {
    const stack = testStack();
    const key = new SecretEncryptionKey(stack, 'Key');
    const secret = new secretsmanager.Secret(stack, 'Secret', { encryptionKey: key });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    secret.grantRead(reader);
    key.grantDecrypt(new iam.Role(stack, 'Direct', { assumedBy: new iam.AccountRootPrincipal() }));
    key.grantToAccount('222222222222');
    return { stack, key, secret, template: Template.fromStack(stack) };
  }

  test('no statement gives the account kms:* or any principal an unconditioned cryptographic action', () => {
    const { template } = secretStack();
    const crypto = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'];
    const allows = keyPolicy(template).filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(4);
    for (const statement of allows) {
      expect(actionsOf(statement)).not.toContain('kms:*');
      if (actionsOf(statement).some((pattern) => crypto.some((action) => actionMatches(pattern, action)))) {
        expect(statement.Condition?.StringEquals?.['kms:ViaService']).toEqual(VIA_SECRETS_MANAGER);
      }
    }
  });

  test('a CreateGrant that aws-cdk-lib\'s Secret adds without kms:GrantIsForAWSResource is overruled by the Deny', () => {
    const { template } = secretStack();
    const statements = keyPolicy(template);
    const unconditionedGrants = statements.filter((s) => s.Effect === 'Allow'
      && actionsOf(s).some((pattern) => actionMatches(pattern, 'kms:CreateGrant'))
      && s.Condition?.Bool?.['kms:GrantIsForAWSResource'] !== 'true');
    // secretsmanager.Secret grants CreateGrant and DescribeKey to the account via Secrets Manager
    expect(unconditionedGrants.length).toBe(1);
    expect(bySid(statements).DenyGrantsNotForAwsResources).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:CreateGrant',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': 'false' } },
    });
  });

  test('key.grantDecrypt adds an IAM statement only, which the key policy honours only through Secrets Manager', () => {
    const { template } = secretStack();
    const directRoleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('Direct'))!;
    const keyPolicyText = JSON.stringify(keyPolicy(template));
    expect(keyPolicyText).not.toContain(directRoleId);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const direct = policies.find((p) => JSON.stringify(p.Properties.Roles).includes(directRoleId));
    expect(direct.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: { 'Fn::GetAtt': [onlyResource(template, 'AWS::KMS::Key').id, 'Arn'] } },
    ]);
  });

  test('the secret uses the key', () => {
    const { template } = secretStack();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [onlyResource(template, 'AWS::KMS::Key').id, 'Arn'] },
    });
  });
});

describe('cdk-nag: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', () => {
  test('a stack with the key (defaults) reports nothing', () => {
    const stack = testStack();
    new SecretEncryptionKey(stack, 'Key');
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('a stack with the key (every option, a cross-account grant) reports nothing', () => {
    const stack = new Stack(new App(), 'Prod', { env: { account: '111111111111', region: 'eu-west-1' } });
    const admin = new iam.Role(stack, 'KeyAdmin', { assumedBy: new iam.AccountRootPrincipal() });
    const key = new SecretEncryptionKey(stack, 'Key', {
      alias: 'alias/platform/secrets',
      description: 'Platform secrets',
      admins: [admin],
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
      rotationPeriod: Duration.days(180),
    });
    key.grantToAccount('222222222222');
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('the check is not vacuous: a plain kms.Key without rotation is reported', () => {
    const stack = testStack();
    new kms.Key(stack, 'Plain');
    expect(describeFindings(nagFindings(stack))).toEqual(expect.arrayContaining(['error /Test/Plain/Resource: AwsSolutions-KMS5']));
  });
});
