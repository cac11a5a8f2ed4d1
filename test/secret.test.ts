import { App, Aws, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  PasswordPolicy,
  RotationEngine,
  RotationFunction,
  Secret,
  SecretEncryptionKey,
  SecretKeyStrategy,
  SecretPolicy,
  SecretProps,
  SecretRotation,
  SecretTemplate,
} from '../src';
import { DEFAULT_EXCLUDE_CHARACTERS } from '../src/private/contract';

const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const REGION = 'us-east-1';
const SINGLE = RotationEngine.POSTGRES_SINGLE_USER;
const MULTI = RotationEngine.POSTGRES_MULTI_USER;

function envStack(id = 'Test', app = new App(), region = REGION): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region } });
}

const logicalId = (c: { node: { defaultChild?: unknown } } | any) => Stack.of(c).getLogicalId((c.node.defaultChild ?? c) as any);

function resourceOf(construct: any): any {
  const stack = Stack.of(construct);
  return Template.fromStack(stack).toJSON().Resources[logicalId(construct)];
}

const ROOT_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:root`]] };
const DENY_ROOT_DELETE = {
  Sid: 'DenyDeleteByAccountRootUser',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'secretsmanager:DeleteSecret',
  Resource: '*',
  Condition: { ArnEquals: { 'aws:PrincipalArn': ROOT_ARN } },
};
const replicaKeyArn = (region: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

describe('Secret defaults', () => {
  test('the stack\'s shared SecretEncryptionKey, Retain on secret, key and resource policy', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    const t = Template.fromStack(stack);
    const key = SecretEncryptionKey.shared(stack);
    expect(secret.encryptionKey).toBe(key);
    expect(secret.node.tryFindChild('Key')).toBeUndefined();
    t.hasResource('AWS::SecretsManager::Secret', {
      Properties: { KmsKeyId: { 'Fn::GetAtt': [logicalId(key), 'Arn'] } },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    t.hasResource('AWS::SecretsManager::ResourcePolicy', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('resource policy: BlockPublicPolicy and the root-user delete Deny, nothing else', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: logicalId(secret) },
      BlockPublicPolicy: true,
      ResourcePolicy: { Version: '2012-10-17', Statement: [DENY_ROOT_DELETE] },
    });
    expect(secret.resourcePolicy).toBe(secret.node.findChild('Policy').node.defaultChild);
  });

  test('denyAccountRootDelete adds nothing more (and never the whole-account Deny of aws-cdk-lib)', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.denyAccountRootDelete();
    secret.denyAccountRootDelete();
    const policy = resourceOf(secret.resourcePolicy);
    expect(policy.Properties.ResourcePolicy.Statement).toEqual([DENY_ROOT_DELETE]);
  });

  test('in an environment-agnostic stack the root ARN uses the account pseudo parameter', () => {
    const stack = new Stack(new App(), 'Agnostic');
    const secret = new Secret(stack, 'Secret');
    expect(resourceOf(secret.resourcePolicy).Properties.ResourcePolicy.Statement[0].Condition).toEqual({
      ArnEquals: { 'aws:PrincipalArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
    });
  });

  test('a generated value with the default policy', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    expect(resourceOf(secret).Properties.GenerateSecretString).toEqual({
      PasswordLength: 32,
      ExcludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.common,
      ExcludeLowercase: false,
      ExcludeNumbers: false,
      ExcludePunctuation: false,
      ExcludeUppercase: false,
      IncludeSpace: false,
      RequireEachIncludedType: true,
    });
    expect(resourceOf(secret).Properties.SecretString).toBeUndefined();
    expect(secret.passwordPolicy?.length).toBe(32);
  });

  test('removalPolicy DESTROY applies to the secret and its resource policy; the shared key stays Retain', () => {
    const stack = envStack();
    new Secret(stack, 'Secret', { removalPolicy: RemovalPolicy.DESTROY });
    const t = Template.fromStack(stack);
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::SecretsManager::ResourcePolicy']) {
      t.hasResource(type, { DeletionPolicy: 'Delete' });
    }
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('removalPolicy DESTROY with SecretKeyStrategy.PER_SECRET applies to the secret\'s own key too', () => {
    const stack = envStack();
    new Secret(stack, 'Secret', { removalPolicy: RemovalPolicy.DESTROY, keyStrategy: SecretKeyStrategy.PER_SECRET });
    Template.fromStack(stack).hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  test('moving a secret from SecretKeyStrategy.PER_SECRET to the shared key changes only its KmsKeyId', () => {
    const properties = (keyStrategy?: SecretKeyStrategy) => {
      const stack = envStack();
      const secret = new Secret(stack, 'Secret', { keyStrategy });
      const { KmsKeyId, ...rest } = resourceOf(secret).Properties;
      return { KmsKeyId, rest, logicalId: logicalId(secret) };
    };
    const own = properties(SecretKeyStrategy.PER_SECRET);
    const shared = properties();
    expect(shared.logicalId).toBe(own.logicalId);
    expect(shared.rest).toEqual(own.rest);
    expect(shared.KmsKeyId).not.toEqual(own.KmsKeyId);
  });

  test('a given key is used, and aws-cdk-lib grants Secrets Manager its use in the key policy', () => {
    const stack = envStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const secret = new Secret(stack, 'Secret', { encryptionKey: key });
    expect(secret.node.tryFindChild('Key')).toBeUndefined();
    expect(resourceOf(secret).Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(key), 'Arn'] });
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
        })]),
      },
    });
  });

  test('SecretPolicy presets merge into the same resource policy', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    const cfn = SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls());
    expect(cfn).toBe(secret.resourcePolicy);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 1);
    expect(resourceOf(cfn).Properties.ResourcePolicy.Statement.map((s: any) => s.Sid)).toEqual(['DenyDeleteByAccountRootUser', 'DenyWithoutTls']);
  });
});

describe('Secret values', () => {
  test('template: the generated password follows the template\'s policy', () => {
    const stack = envStack();
    const policy = PasswordPolicy.postgres({ length: 40, excludeCharacters: '#%' });
    const secret = new Secret(stack, 'Secret', {
      template: SecretTemplate.database({ engine: 'postgres', host: 'db.internal', username: 'app', passwordPolicy: policy }),
    });
    expect(resourceOf(secret).Properties.GenerateSecretString).toMatchObject({
      PasswordLength: 40,
      ExcludeCharacters: `${DEFAULT_EXCLUDE_CHARACTERS.postgres}#%`,
      GenerateStringKey: 'password',
      SecretStringTemplate: '{"engine":"postgres","host":"db.internal","port":5432,"username":"app","dbname":"postgres"}',
    });
    expect(secret.passwordPolicy).toBe(policy);
  });

  test('passwordPolicy shapes a bare generated value', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', { passwordPolicy: new PasswordPolicy({ length: 64, excludePunctuation: true }) });
    expect(resourceOf(secret).Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
  });

  test('secretStringValue: a literal is in the template; a Secrets Manager reference is not', () => {
    const stack = envStack();
    const literal = new Secret(stack, 'Literal', { secretStringValue: SecretValue.unsafePlainText('api-key-123') });
    const reference = new Secret(stack, 'Reference', { secretStringValue: SecretValue.secretsManager('upstream/key') });
    expect(resourceOf(literal).Properties.SecretString).toBe('api-key-123');
    expect(resourceOf(literal).Properties.GenerateSecretString).toBeUndefined();
    expect(resourceOf(reference).Properties.SecretString).toBe('{{resolve:secretsmanager:upstream/key:SecretString:::}}');
    expect(literal.passwordPolicy).toBeUndefined();
  });

  test('secretObjectValue: JSON of the values', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', {
      secretObjectValue: { user: SecretValue.unsafePlainText('svc'), token: SecretValue.secretsManager('upstream/token') },
    });
    expect(JSON.parse(resourceOf(secret).Properties.SecretString)).toEqual({
      user: 'svc', token: '{{resolve:secretsmanager:upstream/token:SecretString:::}}',
    });
  });

  test('withoutInitialValue (binary values put outside CloudFormation): neither SecretString nor GenerateSecretString', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', { withoutInitialValue: true });
    const props = resourceOf(secret).Properties;
    expect(props.SecretString).toBeUndefined();
    expect(props.GenerateSecretString).toBeUndefined();
    expect(props.KmsKeyId).toBeDefined();
    expect(secret.passwordPolicy).toBeUndefined();
  });

  test('values at the 65,536-byte limit pass; literal parts of token values are measured', () => {
    const stack = envStack();
    expect(() => new Secret(stack, 'Max', { secretStringValue: SecretValue.unsafePlainText('x'.repeat(65_536)) })).not.toThrow();
    const token = new Secret(stack, 'Other').secretArn;
    expect(() => new Secret(stack, 'Tokens', { secretStringValue: SecretValue.unsafePlainText(`${token}${'x'.repeat(1000)}`) })).not.toThrow();
    expect(() => new Secret(stack, 'TokensTooLarge', { secretStringValue: SecretValue.unsafePlainText(`${token}${'x'.repeat(65_537)}`) }))
      .toThrow(/secretStringValue is too large: the value is at least 65537 bytes, and Secrets Manager stores at most 65536 bytes/);
  });
});

describe('Secret replicas', () => {
  test('each replica carries its own key', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', {
      replicaRegions: [
        { region: 'eu-west-1', encryptionKey: kms.Key.fromKeyArn(stack, 'EuKey', replicaKeyArn('eu-west-1')) },
        { region: 'ap-southeast-2', encryptionKey: kms.Key.fromKeyArn(stack, 'ApKey', replicaKeyArn('ap-southeast-2')) },
      ],
    });
    secret.addReplicaRegion('us-west-2', kms.Key.fromKeyArn(stack, 'UsKey', replicaKeyArn('us-west-2')));
    expect(resourceOf(secret).Properties.ReplicaRegions).toEqual([
      { Region: 'eu-west-1', KmsKeyId: replicaKeyArn('eu-west-1') },
      { Region: 'ap-southeast-2', KmsKeyId: replicaKeyArn('ap-southeast-2') },
      { Region: 'us-west-2', KmsKeyId: replicaKeyArn('us-west-2') },
    ]);
  });

  test('a SecretEncryptionKey of a stack in the replica\'s region is accepted (cross-region references on)', () => {
    const app = new App();
    const eu = new Stack(app, 'Eu', { env: { account: ACCOUNT, region: 'eu-west-1' }, crossRegionReferences: true });
    const euKey = new SecretEncryptionKey(eu, 'Key');
    const stack = new Stack(app, 'Us', { env: { account: ACCOUNT, region: REGION }, crossRegionReferences: true });
    const secret = new Secret(stack, 'Secret', { replicaRegions: [{ region: 'eu-west-1', encryptionKey: euKey }] });
    expect(resourceOf(secret).Properties.ReplicaRegions[0].Region).toBe('eu-west-1');
  });
});

describe('Secret refuses bad input at synth, naming the property', () => {
  type Case = [string, (stack: Stack) => unknown, RegExp];
  const key = (stack: Stack, region: string, id = `Key${region}`) => kms.Key.fromKeyArn(stack, id, replicaKeyArn(region));
  const make = (props: SecretProps) => (stack: Stack) => new Secret(stack, 'Secret', props);
  const plain = SecretValue.unsafePlainText('x');
  const db = SecretTemplate.database({ engine: 'postgres', host: 'h', username: 'u' });
  const cases: Case[] = [
    ['template and secretStringValue', make({ template: db, secretStringValue: plain }),
      /Secret: give at most one of template, generateSecretString, secretStringValue, secretObjectValue and withoutInitialValue, got template and secretStringValue/],
    ['secretObjectValue and withoutInitialValue', make({ secretObjectValue: { a: plain }, withoutInitialValue: true }),
      /got secretObjectValue and withoutInitialValue/],
    ['generateSecretString and template', make({ template: db, generateSecretString: {} }),
      /give at most one of template, generateSecretString, .* got template and generateSecretString/],
    ['passwordPolicy with generateSecretString', make({ generateSecretString: {}, passwordPolicy: new PasswordPolicy() }),
      /passwordPolicy applies only to a generated value; with generateSecretString leave it out \(generateSecretString already says how/],
    ['generateSecretString that is not an object', make({ generateSecretString: 'x' as any }),
      /generateSecretString must be a secretsmanager.SecretStringGenerator object/],
    ['keyStrategy with encryptionKey', (s) => new Secret(s, 'Secret', { encryptionKey: new kms.Key(s, 'Own'), keyStrategy: SecretKeyStrategy.PER_SECRET }),
      /Secret: give at most one of encryptionKey and keyStrategy .* got encryptionKey and keyStrategy PER_SECRET/],
    ['an unknown keyStrategy', make({ keyStrategy: 'PER_TEAM' as SecretKeyStrategy }),
      /keyStrategy must be one of SecretKeyStrategy.SHARED_PER_STACK, SecretKeyStrategy.PER_SECRET, got 'PER_TEAM'/],
    ['passwordPolicy with a template', make({ template: db, passwordPolicy: new PasswordPolicy() }),
      /passwordPolicy applies only to a generated value; with template leave it out/],
    ['passwordPolicy with a string value', make({ secretStringValue: plain, passwordPolicy: new PasswordPolicy() }),
      /passwordPolicy applies only to a generated value; with secretStringValue/],
    ['ssm-secure string', make({ secretStringValue: SecretValue.ssmSecure('/app/key', '3') }),
      /secretStringValue uses an ssm-secure reference .* not supported/],
    ['ssm-secure object member', make({ secretObjectValue: { password: SecretValue.ssmSecure('/app/key', '3') } }),
      /secretObjectValue.password uses an ssm-secure reference/],
    ['ssm-secure OAuth client secret', make({
      template: SecretTemplate.oauthClient({ clientId: 'c', clientSecret: SecretValue.ssmSecure('/idp/secret', '1'), issuer: 'https://idp.example.com' }),
    }), /template \(client_secret\) uses an ssm-secure reference/],
    ['empty string', make({ secretStringValue: SecretValue.unsafePlainText('') }), /secretStringValue must not be empty/],
    ['empty object', make({ secretObjectValue: {} }), /secretObjectValue must hold 1 or more keys/],
    ['string over 64 KB', make({ secretStringValue: SecretValue.unsafePlainText('é'.repeat(32_769)) }),
      /secretStringValue is too large: the value is at least 65538 bytes, and Secrets Manager stores at most 65536 bytes \(64 KB\)/],
    ['object over 64 KB', make({ secretObjectValue: { a: SecretValue.unsafePlainText('x'.repeat(65_530)) } }),
      /secretObjectValue is too large: the JSON of the object is at least 65538 bytes/],
    ['template over 64 KB', make({
      template: SecretTemplate.oauthClient({ clientId: 'c', clientSecret: plain, issuer: 'https://idp.example.com', scope: 'a '.repeat(33_000).trim() }),
    }), /template is too large: the JSON of the template is at least \d+ bytes, and Secrets Manager stores at most 65536 bytes/],
    ['AWS managed key by alias', (s) => new Secret(s, 'Secret', { encryptionKey: kms.Alias.fromAliasName(s, 'Managed', 'alias/aws/secretsmanager') }),
      /encryptionKey must be a customer-managed key; AWS managed keys \(alias\/aws\/...\)/],
    ['AWS managed key by ARN', (s) => new Secret(s, 'Secret', {
      encryptionKey: kms.Key.fromKeyArn(s, 'Managed', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/secretsmanager`),
    }), /encryptionKey must be a customer-managed key/],
    ['replica without key', make({ replicaRegions: [{ region: 'eu-west-1' } as any] }),
      /replicaRegions\[0\].encryptionKey is required: a customer-managed key in eu-west-1/],
    ['replica in the secret\'s region', (s) => new Secret(s, 'Secret', { replicaRegions: [{ region: REGION, encryptionKey: key(s, REGION) }] }),
      /replicaRegions\[0\].region must not be the secret's own region \(us-east-1\)/],
    ['replica key in another region', (s) => new Secret(s, 'Secret', {
      replicaRegions: [{ region: 'eu-west-1', encryptionKey: key(s, 'eu-west-1') }, { region: 'eu-central-1', encryptionKey: key(s, 'eu-west-1', 'Again') }],
    }), /replicaRegions\[1\].encryptionKey is in eu-west-1, not in the replica's region eu-central-1/],
    ['replica key of the secret\'s stack', (s) => new Secret(s, 'Secret', {
      replicaRegions: [{ region: 'eu-west-1', encryptionKey: new kms.Key(s, 'Local') }],
    }), /replicaRegions\[0\].encryptionKey is a key of the secret's own stack, so it is in the secret's region/],
    ['replica AWS managed key', (s) => new Secret(s, 'Secret', {
      replicaRegions: [{ region: 'eu-west-1', encryptionKey: kms.Alias.fromAliasName(s, 'Managed', 'alias/aws/secretsmanager') }],
    }), /replicaRegions\[0\].encryptionKey must be a customer-managed key/],
    ['duplicate replica region', (s) => new Secret(s, 'Secret', {
      replicaRegions: [{ region: 'eu-west-1', encryptionKey: key(s, 'eu-west-1') }, { region: 'eu-west-1', encryptionKey: key(s, 'eu-west-1', 'Again') }],
    }), /replicaRegions\[1\].region eu-west-1 is already a replica region/],
    ['invalid replica region', (s) => new Secret(s, 'Secret', { replicaRegions: [{ region: 'mars-1', encryptionKey: key(s, 'eu-west-1') }] }),
      /replicaRegions\[0\].region must be an AWS region such as 'eu-west-1', got 'mars-1'/],
    ['addReplicaRegion without key', (s) => new Secret(s, 'Secret').addReplicaRegion('eu-west-1'),
      /addReplicaRegion.encryptionKey is required/],
    ['share with a short account id', (s) => new Secret(s, 'Secret').shareWithAccount('12345'),
      /shareWithAccount: accountId must be a 12-digit AWS account id, got '12345'/],
    ['share with everyone', (s) => new Secret(s, 'Secret').shareWithAccount('*'),
      /shareWithAccount: accountId must be a 12-digit AWS account id, got '\*'/],
    ['share with a token account', (s) => new Secret(s, 'Secret').shareWithAccount(Aws.ACCOUNT_ID),
      /shareWithAccount: accountId must be a literal value, not a token/],
    ['share with the own account', (s) => new Secret(s, 'Secret').shareWithAccount(ACCOUNT),
      /accountId 111111111111 is the secret's own account; use grantReadWithManagedPolicy or grantRead/],
    ['share with principal *', (s) => new Secret(s, 'Secret').shareWithAccount(OTHER, { principalArns: ['*'] }),
      /shareWithAccount: principalArns\[0\] must be the ARN of a role, user or root of account 222222222222/],
    ['share with a wildcard role', (s) => new Secret(s, 'Secret').shareWithAccount(OTHER, { principalArns: [`arn:aws:iam::${OTHER}:role/*`] }),
      /principalArns\[0\] must be the ARN of a role, user or root of account 222222222222 .* without wildcards/],
    ['share with a principal of a third account', (s) => new Secret(s, 'Secret').shareWithAccount(OTHER, { principalArns: ['arn:aws:iam::333333333333:role/app'] }),
      /principalArns\[0\] must be in account 222222222222, got account 333333333333/],
    ['share with an imported key', (s) => new Secret(s, 'Secret', { encryptionKey: key(s, REGION) }).shareWithAccount(OTHER),
      /shareWithAccount: the secret's encryptionKey is imported .* cannot add the key-policy statement that lets account 222222222222 decrypt/],
    ['fromArn with a token', (s) => Secret.fromArn(s, 'Imported', new Secret(s, 'Secret').secretArn),
      /Secret.fromArn: secretArn is a token, .* call Secret.fromSecretCompleteArn .* Secret.fromSecretPartialArn/],
    ['fromArn with something else', (s) => Secret.fromArn(s, 'Imported', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/x`),
      /Secret.fromArn: secretArn must be a Secrets Manager secret ARN/],
    ['addRotation without engine', (s) => new Secret(s, 'Secret').addRotation(),
      /addRotation: engine is required \(the template names no rotationEngine\); for example RotationEngine.POSTGRES_SINGLE_USER for a PostgreSQL secret/],
    ['addRotation without engine on an OAuth template', (s) => new Secret(s, 'Secret', {
      template: SecretTemplate.oauthClient({ clientId: 'app', clientSecret: SecretValue.unsafePlainText('x'), tokenEndpoint: 'https://idp.example.com/token' }),
    }).addRotation(), /addRotation: engine is required \(the template names no rotationEngine\); use RotationEngine.OAUTH_CLIENT_SECRET or RotationEngine.oauthClientSecret/],
    ['addRotation with an engine for another database', (s) => new Secret(s, 'Secret', {
      template: SecretTemplate.database({ engine: 'mysql', host: 'h', username: 'u' }),
    }).addRotation({ engine: SINGLE }), /addRotation: engine 'postgres-single-user' rotates database secrets with engine 'postgres' or 'aurora-postgresql', but the secret's template has engine 'mysql'; use RotationEngine.MYSQL_SINGLE_USER or RotationEngine.MYSQL_MULTI_USER$/],
    ['addRotation with another password policy', (s) => new Secret(s, 'Secret', { template: db }).addRotation({
      engine: SINGLE, rotationFunctionOptions: { passwordPolicy: PasswordPolicy.postgres({ length: 20 }) },
    }), /addRotation: rotationFunctionOptions.passwordPolicy differs from the template's passwordPolicy/],
    ['addRotation twice', (s) => {
      const secret = new Secret(s, 'Secret', { template: db });
      secret.addRotation({ engine: SINGLE });
      secret.addRotation({ engine: SINGLE });
    }, /already has a rotation/],
  ];

  test.each(cases)('%s', (_name, build, error) => {
    expect(() => build(envStack())).toThrow(error);
  });

  test('a public statement added later fails the synthesis', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()], actions: ['secretsmanager:GetSecretValue'], resources: ['*'],
    }));
    expect(() => Template.fromStack(stack)).toThrow(/Secret: the resource policy of Test\/Secret is public: .*allows Principal '\*'/);
  });
});

describe('Secret access', () => {
  test('grantReadWithManagedPolicy: one customer-managed policy per secret, attached to every role, no inline policy', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    const a = new iam.Role(stack, 'A', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const b = new iam.Role(stack, 'B', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const p1 = secret.grantReadWithManagedPolicy(a);
    const p2 = secret.grantReadWithManagedPolicy(b);
    secret.grantReadWithManagedPolicy(a);
    expect(p2).toBe(p1);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    t.resourceCountIs('AWS::IAM::Policy', 0);
    expect(resourceOf(p1).Properties).toMatchObject({
      Roles: [{ Ref: logicalId(a) }, { Ref: logicalId(b) }],
      PolicyDocument: {
        Statement: [
          { Sid: 'ReadSecret', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: logicalId(secret) } },
          {
            Sid: 'DecryptSecretViaSecretsManager',
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: { 'Fn::GetAtt': [logicalId(secret.encryptionKey), 'Arn'] },
            Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
          },
        ],
      },
    });
  });

  test('two secrets get two policies', () => {
    const stack = envStack();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.AccountRootPrincipal() });
    new Secret(stack, 'A').grantReadWithManagedPolicy(role);
    new Secret(stack, 'B').grantReadWithManagedPolicy(role);
    Template.fromStack(stack).resourceCountIs('AWS::IAM::ManagedPolicy', 2);
  });

  test('a role of another stack references the policy from its own stack', () => {
    const app = new App();
    const secretStack = envStack('Secrets', app);
    const appStack = envStack('App', app);
    const secret = new Secret(secretStack, 'Secret');
    const role = new iam.Role(appStack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const policy = secret.grantReadWithManagedPolicy(role);
    expect(resourceOf(policy).Properties.Roles).toBeUndefined();
    expect(resourceOf(role).Properties.ManagedPolicyArns).toEqual([{ 'Fn::ImportValue': expect.stringMatching(/^Secrets:ExportsOutputRefSecretReadPolicy/) }]);
  });

  test('an imported role is attached through the policy', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    const role = iam.Role.fromRoleArn(stack, 'Imported', `arn:aws:iam::${ACCOUNT}:role/app`);
    expect(resourceOf(secret.grantReadWithManagedPolicy(role)).Properties.Roles).toEqual(['app']);
  });

  test('shareWithAccount: resource-policy Allow for the account and a key-policy grant via Secrets Manager', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER);
    const otherRoot = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${OTHER}:root`]] };
    expect(resourceOf(secret.resourcePolicy).Properties).toMatchObject({
      BlockPublicPolicy: true,
      ResourcePolicy: {
        Statement: [
          DENY_ROOT_DELETE,
          {
            Sid: `ShareWithAccount${OTHER}`,
            Effect: 'Allow',
            Principal: { AWS: otherRoot },
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: '*',
          },
        ],
      },
    });
    expect(resourceOf(secret.encryptionKey).Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: `DecryptViaSecretsManagerByAccount${OTHER}`,
      Principal: { AWS: otherRoot },
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`, 'kms:CallerAccount': OTHER } },
    }));
  });

  test('shareWithAccount with principals; again for the same account adds principals to the same statement', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret');
    secret.shareWithAccount(OTHER, { principalArns: [`arn:aws:iam::${OTHER}:role/reader`] });
    secret.shareWithAccount(OTHER, { principalArns: [`arn:aws:iam::${OTHER}:user/auditor`] });
    const statements = resourceOf(secret.resourcePolicy).Properties.ResourcePolicy.Statement;
    expect(statements).toHaveLength(2);
    expect(statements[1].Principal).toEqual({ AWS: [`arn:aws:iam::${OTHER}:role/reader`, `arn:aws:iam::${OTHER}:user/auditor`] });
    const keyStatements = resourceOf(secret.encryptionKey).Properties.KeyPolicy.Statement;
    expect(keyStatements.filter((s: any) => s.Sid === `DecryptViaSecretsManagerByAccount${OTHER}`)).toHaveLength(1);
  });

  test('shareWithAccount with a kms.Key of the app adds Decrypt via Secrets Manager for that account, once', () => {
    const stack = envStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const secret = new Secret(stack, 'Secret', { encryptionKey: key });
    secret.shareWithAccount(OTHER);
    secret.shareWithAccount(OTHER);
    const statements = resourceOf(key).Properties.KeyPolicy.Statement.filter((s: any) => s.Sid === `DecryptViaSecretsManagerByAccount${OTHER}`);
    expect(statements).toEqual([{
      Sid: `DecryptViaSecretsManagerByAccount${OTHER}`,
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${OTHER}:root`]] } },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`, 'kms:CallerAccount': OTHER } },
    }]);
  });
});

describe('imports grant the right IAM resources', () => {
  const completeArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:app/db-AbC123`;
  const partialArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:app/db`;

  function grantedResources(build: (stack: Stack) => secretsmanager.ISecret): { secret: unknown; kms?: unknown } {
    const stack = envStack();
    const secret = build(stack);
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    secret.grantRead(role);
    const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))[0] as any;
    const statements = policy.Properties.PolicyDocument.Statement;
    return {
      secret: statements.find((s: any) => String(s.Action).includes('secretsmanager'))?.Resource,
      kms: statements.find((s: any) => String(s.Action).includes('kms'))?.Resource,
    };
  }

  test.each<[string, (stack: Stack) => secretsmanager.ISecret, unknown]>([
    ['fromSecretCompleteArn', (s) => Secret.fromSecretCompleteArn(s, 'I', completeArn), completeArn],
    ['fromSecretPartialArn', (s) => Secret.fromSecretPartialArn(s, 'I', partialArn), `${partialArn}-??????`],
    ['fromSecretNameV2', (s) => Secret.fromSecretNameV2(s, 'I', 'app/db'), {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${REGION}:${ACCOUNT}:secret:app/db-??????`]],
    }],
    ['fromArn, complete', (s) => Secret.fromArn(s, 'I', completeArn), completeArn],
    ['fromArn, partial', (s) => Secret.fromArn(s, 'I', partialArn), `${partialArn}-??????`],
    ['fromArn, partial of a name ending in -xxxxxx (taken as complete: denied, never widened)',
      (s) => Secret.fromArn(s, 'I', `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:app-backup`), `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:app-backup`],
  ])('%s', (_name, build, expected) => {
    expect(grantedResources(build).secret).toEqual(expected);
  });

  test('fromArn with a key of the app: grantRead adds a key-policy statement via Secrets Manager; names and full ARNs', () => {
    const stack = envStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const imported = Secret.fromArn(stack, 'I', completeArn, { encryptionKey: key });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    imported.grantRead(role);
    expect(resourceOf(key).Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Action: 'kms:Decrypt',
      Principal: { AWS: { 'Fn::GetAtt': [logicalId(role), 'Arn'] } },
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
    }));
    expect(imported.encryptionKey).toBe(key);
    expect(imported.secretName).toBe('app/db');
    expect(imported.secretFullArn).toBe(completeArn);
    expect(Secret.fromArn(stack, 'P', partialArn).secretFullArn).toBeUndefined();
  });

  test('the secret itself: grantRead names its complete ARN', () => {
    let secret: Secret | undefined;
    const granted = grantedResources((s) => (secret = new Secret(s, 'Secret')));
    expect(granted.secret).toEqual({ Ref: logicalId(secret) });
  });
});

describe('Secret rotation', () => {
  test('works with SecretRotation', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', { template: SecretTemplate.database({ rotationEngine: SINGLE, host: 'db.internal', username: 'app' }) });
    const rotation = new SecretRotation(stack, 'R', { secret, engine: RotationEngine.POSTGRES_SINGLE_USER });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: logicalId(secret) },
      RotationLambdaARN: { 'Fn::GetAtt': [logicalId(rotation.rotationFunction.node.findChild('Function')), 'Arn'] },
    });
  });

  test('addRotation: the template\'s password policy drives the rotation function; its master secret is read', () => {
    const stack = envStack();
    const master = new Secret(stack, 'Master', { template: SecretTemplate.database({ rotationEngine: SINGLE, host: 'db.internal', username: 'admin' }) });
    const policy = PasswordPolicy.postgres({ length: 40 });
    const secret = new Secret(stack, 'App', {
      template: SecretTemplate.database({ rotationEngine: MULTI, host: 'db.internal', username: 'app', masterSecret: master, passwordPolicy: policy }),
    });
    const rotation = secret.addRotation();
    const fn = rotation.rotationFunction as RotationFunction;
    expect(fn).toBe(RotationFunction.shared(stack, MULTI, { passwordPolicy: policy }));
    expect(fn.passwordPolicy.toJson()).toBe(policy.toJson());
    expect(resourceOf(fn.lambdaFunction).Properties.Environment.Variables.ROTATION_PASSWORD_POLICY).toBe(policy.toJson());
    const statements = resourceOf(fn.policy).Properties.PolicyDocument.Statement;
    expect(statements.find((s: any) => s.Sid === 'ReadMasterSecrets').Resource).toEqual({ Ref: logicalId(master) });
    expect(rotation.node.path).toBe('Test/App/Rotation');
  });
});
