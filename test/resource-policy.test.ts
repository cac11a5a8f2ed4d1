import { App, CliCredentialsStackSynthesizer, DefaultStackSynthesizer, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describeFindings, nagFindings } from './nag';
import { RotationEngine, RotationFunction, SecretEncryptionKey, SecretPolicy, SecretRotation } from '../src';
import { importedVpc, onlyResource, testStack } from './rotation/fixtures';

const ANYONE = { AWS: '*' };
const ALL_ACTIONS = 'secretsmanager:*';
const READ = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
const DEPLOYMENT_ROLE = {
  'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}',
};
const ORG = 'o-a1b2c3d4e5';

function secretStack(stack = testStack()) {
  const key = new SecretEncryptionKey(stack, 'Key');
  const secret = new secretsmanager.Secret(stack, 'Secret', { encryptionKey: key });
  return { stack, key, secret };
}

function policyResource(stack: Stack): any {
  return onlyResource(Template.fromStack(stack), 'AWS::SecretsManager::ResourcePolicy').resource;
}

function statements(stack: Stack): any[] {
  return policyResource(stack).Properties.ResourcePolicy.Statement;
}

function getAtt(stack: Stack, type: string, prefix: string): object {
  const id = Object.keys(Template.fromStack(stack).findResources(type)).find((i) => i.startsWith(prefix));
  return { 'Fn::GetAtt': [id, 'Arn'] };
}

describe('SecretPolicy presets', () => {
  test('denyWithoutTls denies every action without TLS', () => {
    const { stack, secret } = secretStack();
    SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls());
    expect(statements(stack)).toEqual([{
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: ANYONE,
      Action: ALL_ACTIONS,
      Resource: '*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }]);
  });

  test('denyOutsideOrganization denies principals of other organizations (and none), AWS service principals exempt', () => {
    const { stack, secret } = secretStack();
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideOrganization(ORG));
    expect(statements(stack)).toEqual([{
      Sid: 'DenyOutsideOrganization',
      Effect: 'Deny',
      Principal: ANYONE,
      Action: ALL_ACTIONS,
      Resource: '*',
      Condition: {
        StringNotEqualsIfExists: { 'aws:PrincipalOrgID': ORG },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    }]);
  });

  test('denyOutsideVpcEndpoints: requests not through the endpoints, except AWS services, the deployment role and exempt principals', () => {
    const { stack, secret } = secretStack();
    const vpc = importedVpc(stack);
    const a = new ec2.InterfaceVpcEndpoint(stack, 'EndpointA', { vpc, service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER });
    const b = ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(stack, 'EndpointB', { vpcEndpointId: 'vpce-0123456789abcdef0', port: 443 });
    const breakGlass = new iam.Role(stack, 'BreakGlass', { assumedBy: new iam.AccountRootPrincipal() });
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpoints([a, b], {
      exemptPrincipals: [breakGlass, new iam.ArnPrincipal('arn:aws:iam::111111111111:role/ops-*')],
    }));
    const template = Template.fromStack(stack);
    expect(statements(stack)).toEqual([{
      Sid: 'DenyOutsideVpcEndpoints',
      Effect: 'Deny',
      Principal: ANYONE,
      Action: ALL_ACTIONS,
      Resource: '*',
      Condition: {
        StringNotEqualsIfExists: { 'aws:SourceVpce': [{ Ref: onlyResource(template, 'AWS::EC2::VPCEndpoint').id }, 'vpce-0123456789abcdef0'] },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false', 'aws:ViaAWSService': 'false' },
        ArnNotLikeIfExists: {
          'aws:PrincipalArn': [
            DEPLOYMENT_ROLE,
            getAtt(stack, 'AWS::IAM::Role', 'BreakGlass'),
            'arn:aws:iam::111111111111:role/ops-*',
          ],
        },
      },
    }]);
  });

  test('denyOutsideVpcEndpointIds takes ids; exemptDeploymentRole false leaves no exemption by ARN', () => {
    const { stack, secret } = secretStack();
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111', 'vpce-2222222222222222a'], { exemptDeploymentRole: false }));
    expect(statements(stack)[0].Condition).toEqual({
      StringNotEqualsIfExists: { 'aws:SourceVpce': ['vpce-11111111', 'vpce-2222222222222222a'] },
      BoolIfExists: { 'aws:PrincipalIsAWSService': 'false', 'aws:ViaAWSService': 'false' },
    });
  });

  test('the deployment role is the synthesizer\'s: none for stacks that deploy with the caller\'s credentials', () => {
    const stack = new Stack(new App(), 'Cli', { synthesizer: new CliCredentialsStackSynthesizer() });
    const { secret } = secretStack(stack);
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111']));
    expect(statements(stack)[0].Condition.ArnNotLikeIfExists).toBeUndefined();
  });

  test('the deployment role follows the synthesizer\'s qualifier and the stack\'s environment', () => {
    const stack = new Stack(new App(), 'Prod', {
      env: { account: '111111111111', region: 'eu-west-1' },
      synthesizer: new DefaultStackSynthesizer({ qualifier: 'platform1' }),
    });
    const { secret } = secretStack(stack);
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111']));
    expect(statements(stack)[0].Condition.ArnNotLikeIfExists).toEqual({
      'aws:PrincipalArn': [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::111111111111:role/cdk-platform1-cfn-exec-role-111111111111-eu-west-1' }],
    });
  });

  test('restrictToPrincipals denies everyone but the principals and the deployment role, by aws:PrincipalArn (no NotPrincipal)', () => {
    const { stack, secret } = secretStack();
    const app = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    SecretPolicy.applyTo(secret, SecretPolicy.restrictToPrincipals(
      [app, new iam.ArnPrincipal('arn:aws:iam::111111111111:role/reader')],
      { exemptPrincipals: [new iam.ArnPrincipal('arn:aws:iam::111111111111:role/break-glass')] },
    ));
    expect(statements(stack)).toEqual([{
      Sid: 'RestrictToPrincipals',
      Effect: 'Deny',
      Principal: ANYONE,
      Action: ALL_ACTIONS,
      Resource: '*',
      Condition: {
        ArnNotLikeIfExists: {
          'aws:PrincipalArn': [
            getAtt(stack, 'AWS::IAM::Role', 'App'),
            'arn:aws:iam::111111111111:role/reader',
            DEPLOYMENT_ROLE,
            'arn:aws:iam::111111111111:role/break-glass',
          ],
        },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    }]);
    expect(JSON.stringify(statements(stack))).not.toContain('NotPrincipal');
  });

  test('tagBasedAccess: read only with matching tags, never without the principal tag, and the tags cannot be changed', () => {
    const { stack, secret } = secretStack();
    const rotation = new iam.Role(stack, 'Rotation', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    SecretPolicy.applyTo(secret, SecretPolicy.tagBasedAccess(['team', 'cost-center'], { exemptPrincipals: [rotation] }));
    const exempt = {
      BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      ArnNotLikeIfExists: { 'aws:PrincipalArn': [DEPLOYMENT_ROLE, getAtt(stack, 'AWS::IAM::Role', 'Rotation')] },
    };
    const deny = (Sid: string, Action: string | string[], Condition: object) => ({ Sid, Effect: 'Deny', Principal: ANYONE, Action, Resource: '*', Condition });
    expect(statements(stack)).toEqual([
      deny('DenyReadUnlessTagTeamMatches', READ, {
        StringNotEqualsIfExists: { 'secretsmanager:ResourceTag/team': '${aws:PrincipalTag/team}' },
        ...exempt,
      }),
      deny('DenyReadWithoutPrincipalTagTeam', READ, { Null: { 'aws:PrincipalTag/team': 'true' }, ...exempt }),
      deny('DenyReadUnlessTagCostcenterMatches', READ, {
        StringNotEqualsIfExists: { 'secretsmanager:ResourceTag/cost-center': '${aws:PrincipalTag/cost-center}' },
        ...exempt,
      }),
      deny('DenyReadWithoutPrincipalTagCostcenter', READ, { Null: { 'aws:PrincipalTag/cost-center': 'true' }, ...exempt }),
      deny('DenyChangingAccessTags', ['secretsmanager:TagResource', 'secretsmanager:UntagResource'], {
        'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': ['team', 'cost-center'] },
        ...exempt,
      }),
    ]);
  });

  test('tag keys that differ only in characters a Sid cannot hold get distinct Sids', () => {
    const { stack, secret } = secretStack();
    SecretPolicy.applyTo(secret, SecretPolicy.tagBasedAccess(['a-b', 'a.b', '@'], { exemptDeploymentRole: false }));
    expect(statements(stack).map((s) => s.Sid)).toEqual([
      'DenyReadUnlessTagAb1Matches', 'DenyReadWithoutPrincipalTagAb1',
      'DenyReadUnlessTagAb2Matches', 'DenyReadWithoutPrincipalTagAb2',
      'DenyReadUnlessTag3Matches', 'DenyReadWithoutPrincipalTag3',
      'DenyChangingAccessTags',
    ]);
    expect(statements(stack)[0].Condition.ArnNotLikeIfExists).toBeUndefined();
  });

  test('presets have names', () => {
    expect([
      SecretPolicy.denyWithoutTls(),
      SecretPolicy.denyOutsideOrganization(ORG),
      SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111']),
      SecretPolicy.restrictToPrincipals([new iam.ArnPrincipal('arn:aws:iam::111111111111:role/a')]),
      SecretPolicy.tagBasedAccess(['team']),
    ].map((p) => p.name)).toEqual(['denyWithoutTls', 'denyOutsideOrganization', 'denyOutsideVpcEndpoints', 'restrictToPrincipals', 'tagBasedAccess']);
  });
});

describe('SecretPolicy composition', () => {
  function allPresets(stack: Stack) {
    const app = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    return [
      SecretPolicy.denyWithoutTls(),
      SecretPolicy.denyOutsideOrganization(ORG),
      SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111']),
      SecretPolicy.restrictToPrincipals([app]),
      SecretPolicy.tagBasedAccess(['team']),
    ];
  }

  test('all presets merge into the secret\'s one resource policy, in order, with BlockPublicPolicy', () => {
    const { stack, secret } = secretStack();
    const cfn = SecretPolicy.applyTo(secret, ...allPresets(stack));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 1);
    const resource = policyResource(stack);
    expect(resource.Properties.BlockPublicPolicy).toBe(true);
    expect(resource.Properties.SecretId).toEqual({ Ref: onlyResource(template, 'AWS::SecretsManager::Secret').id });
    expect(statements(stack).map((s) => s.Sid)).toEqual([
      'DenyWithoutTls',
      'DenyOutsideOrganization',
      'DenyOutsideVpcEndpoints',
      'RestrictToPrincipals',
      'DenyReadUnlessTagTeamMatches',
      'DenyReadWithoutPrincipalTagTeam',
      'DenyChangingAccessTags',
    ]);
    expect(statements(stack).every((s) => s.Effect === 'Deny')).toBe(true);
    expect(cfn).toBeInstanceOf(secretsmanager.CfnResourcePolicy);
    expect(cfn.node.path).toBe('Test/Secret/Policy/Resource');
  });

  test('separate applyTo calls and statements added by aws-cdk-lib share the policy', () => {
    const { stack, secret } = secretStack();
    secret.denyAccountRootDelete();
    SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls());
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideOrganization(ORG));
    secret.grantRead(new iam.AccountPrincipal('222222222222'));
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 1);
    const sids = statements(stack).map((s) => s.Sid ?? `${s.Effect} ${JSON.stringify(s.Action)}`);
    expect(sids).toEqual([
      'Deny "secretsmanager:DeleteSecret"',
      'DenyWithoutTls',
      'DenyOutsideOrganization',
      'Allow ["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"]',
    ]);
    expect(policyResource(stack).Properties.BlockPublicPolicy).toBe(true);
  });

  test('applying the same preset twice adds its statements once', () => {
    const { stack, secret } = secretStack();
    const tls = SecretPolicy.denyWithoutTls();
    SecretPolicy.applyTo(secret, tls, SecretPolicy.denyWithoutTls());
    SecretPolicy.applyTo(secret, tls);
    expect(statements(stack).map((s) => s.Sid)).toEqual(['DenyWithoutTls']);
  });

  test('a preset applied twice with different settings fails the synthesis, naming the Sid', () => {
    const { stack, secret } = secretStack();
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111']));
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-22222222']));
    expect(() => Template.fromStack(stack)).toThrow(/SecretPolicy: Sid 'DenyOutsideVpcEndpoints' is used by 2 different statements; apply each preset once per secret/);
  });

  test('an imported secret gets a new resource policy under it, with BlockPublicPolicy', () => {
    const stack = testStack();
    const arn = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:shared-AbCdEf';
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Shared', arn);
    const cfn = SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls());
    SecretPolicy.applyTo(secret, SecretPolicy.denyOutsideOrganization(ORG));
    expect(cfn.node.path).toBe('Test/Shared/SecretPolicy/Resource');
    const resource = policyResource(stack);
    expect(resource.Properties.SecretId).toBe(arn);
    expect(resource.Properties.BlockPublicPolicy).toBe(true);
    expect(statements(stack).map((s) => s.Sid)).toEqual(['DenyWithoutTls', 'DenyOutsideOrganization']);
  });
});

describe('SecretPolicy public-policy check', () => {
  const publicRead = () => new iam.PolicyStatement({ sid: 'PublicRead', principals: [new iam.AnyPrincipal()], actions: ['secretsmanager:GetSecretValue'], resources: ['*'] });

  test('a public Allow added to a secret with presets fails the synthesis, naming the statement', () => {
    const { stack, secret } = secretStack();
    SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls());
    secret.addToResourcePolicy(publicRead());
    expect(() => Template.fromStack(stack)).toThrow(/SecretPolicy: statement 2 \(Sid 'PublicRead'\) is public: it allows Principal '\*' without a StringEquals, StringLike, ArnEquals or ArnLike condition on aws:PrincipalAccount/);
  });

  const restricted: Array<[string, Record<string, unknown>]> = [
    ['aws:PrincipalAccount', { StringEquals: { 'aws:PrincipalAccount': '111111111111' } }],
    ['aws:PrincipalOrgID', { StringEquals: { 'aws:PrincipalOrgID': ORG } }],
    ['aws:PrincipalOrgPaths', { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': [`${ORG}/r-ab12/ou-ab12-11111111/*`] } }],
    ['aws:SourceVpce', { StringEquals: { 'aws:SourceVpce': 'vpce-11111111' } }],
    ['aws:PrincipalArn', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/app-*' } }],
    ['a token value', { StringEquals: { 'aws:PrincipalAccount': Token.asString({ Ref: 'AWS::AccountId' }) } }],
  ];
  test.each(restricted)('an Allow to * restricted by %s is not public', (_name, conditions) => {
    const document = new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['secretsmanager:GetSecretValue'], resources: ['*'], conditions })],
    });
    expect(() => SecretPolicy.assertNotPublic(document)).not.toThrow();
  });

  const allowAnyone = (conditions: Record<string, unknown>) => new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions: ['secretsmanager:*'],
    resources: ['*'],
    conditions,
  });
  const unrestricted: Array<[string, iam.PolicyStatement, RegExp]> = [
    ['an Allow to AnyPrincipal', publicRead(), /statement 1 \(Sid 'PublicRead'\) is public/],
    ['an Allow to StarPrincipal', new iam.PolicyStatement({ principals: [new iam.StarPrincipal()], actions: ['secretsmanager:*'], resources: ['*'] }),
      /statement 1 is public/],
    ['a negated condition', allowAnyone({ StringNotEquals: { 'aws:PrincipalAccount': '111111111111' } }), /statement 1 is public/],
    ['an IfExists condition', allowAnyone({ StringEqualsIfExists: { 'aws:PrincipalOrgID': ORG } }), /statement 1 is public/],
    ['a wildcard-only value', allowAnyone({ ArnLike: { 'aws:PrincipalArn': '*' } }), /statement 1 is public/],
    ['a condition on an unrelated key', allowAnyone({ Bool: { 'aws:SecureTransport': 'true' } }), /statement 1 is public/],
    ['NotPrincipal', new iam.PolicyStatement({ notPrincipals: [new iam.AccountPrincipal('111111111111')], actions: ['secretsmanager:*'], resources: ['*'] }),
      /statement 1 is an Allow with NotPrincipal/],
  ];
  test.each(unrestricted)('assertNotPublic refuses %s, naming the statement', (_name, statement, message) => {
    expect(() => SecretPolicy.assertNotPublic(new iam.PolicyDocument({ statements: [statement] }))).toThrow(message);
  });

  test('Deny statements and Allows to named principals pass; the message names only the public statements', () => {
    const document = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({ effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['secretsmanager:*'], resources: ['*'] }),
        new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('222222222222')], actions: ['secretsmanager:GetSecretValue'], resources: ['*'] }),
      ],
    });
    expect(() => SecretPolicy.assertNotPublic(document)).not.toThrow();
    document.addStatements(publicRead());
    expect(() => SecretPolicy.assertNotPublic(document)).toThrow(/^SecretPolicy.assertNotPublic: statement 3 \(Sid 'PublicRead'\) is public[^;]*$/);
  });
});

describe('SecretPolicy validation', () => {
  const role = () => new iam.Role(testStack(), 'R', { assumedBy: new iam.AccountRootPrincipal() });
  const invalid: Array<[string, () => unknown, RegExp]> = [
    ['an organization id without o-', () => SecretPolicy.denyOutsideOrganization('a1b2c3d4e5'),
      /denyOutsideOrganization: organizationId must be 'o-' followed by 10 to 32 lower-case letters or digits \(o-\[a-z0-9\]\{10,32\}\), got 'a1b2c3d4e5'/],
    ['an organization id in upper case', () => SecretPolicy.denyOutsideOrganization('o-A1B2C3D4E5'), /organizationId must be 'o-' followed by 10 to 32/],
    ['an organization id too short', () => SecretPolicy.denyOutsideOrganization('o-abc123'), /organizationId must be 'o-' followed by 10 to 32/],
    ['an organization id too long', () => SecretPolicy.denyOutsideOrganization(`o-${'a'.repeat(33)}`), /organizationId must be 'o-' followed by 10 to 32/],
    ['an organization id token', () => SecretPolicy.denyOutsideOrganization(Token.asString({ Ref: 'Org' })), /organizationId must be a literal value/],
    ['an empty endpoint list', () => SecretPolicy.denyOutsideVpcEndpoints([]),
      /denyOutsideVpcEndpoints: endpoints must hold 1 or more interface VPC endpoints, got an empty list/],
    ['an empty endpoint id list', () => SecretPolicy.denyOutsideVpcEndpointIds([]), /endpointIds must hold 1 or more VPC endpoint ids, got an empty list/],
    ['a malformed endpoint id', () => SecretPolicy.denyOutsideVpcEndpointIds(['vpc-11111111']),
      /endpointIds must be VPC endpoint ids, 'vpce-' followed by 8 to 17 hexadecimal digits, got 'vpc-11111111'/],
    ['a service principal to exempt', () => SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111'], { exemptPrincipals: [new iam.ServicePrincipal('lambda.amazonaws.com')] }),
      /denyOutsideVpcEndpointIds: exemptPrincipals must be IAM principals with an ARN/],
    ['everyone to exempt', () => SecretPolicy.denyOutsideVpcEndpointIds(['vpce-11111111'], { exemptPrincipals: [new iam.AnyPrincipal()] }),
      /exemptPrincipals must be IAM principals with an ARN/],
    ['an empty principal list', () => SecretPolicy.restrictToPrincipals([]), /restrictToPrincipals: principals must hold 1 or more IAM principals, got an empty list/],
    ['a service principal to keep', () => SecretPolicy.restrictToPrincipals([new iam.ServicePrincipal('ecs-tasks.amazonaws.com')]),
      /restrictToPrincipals: principals must be IAM principals with an ARN .*got ServicePrincipal\(ecs-tasks.amazonaws.com\)/],
    ['an empty tag key list', () => SecretPolicy.tagBasedAccess([]), /tagBasedAccess: tagKeys must hold 1 to 10 tag keys, got 0/],
    ['11 tag keys', () => SecretPolicy.tagBasedAccess(Array.from({ length: 11 }, (_, i) => `k${i}`)), /tagKeys must hold 1 to 10 tag keys, got 11/],
    ['an aws: tag key', () => SecretPolicy.tagBasedAccess(['aws:team']), /tagKeys must be 1 to 128 letters, digits, spaces or _ \. : \/ = \+ - @, not starting with 'aws:', got 'aws:team'/],
    ['a tag key with *', () => SecretPolicy.tagBasedAccess(['team*']), /tagKeys must be 1 to 128 letters.*got 'team\*'/],
    ['an empty tag key', () => SecretPolicy.tagBasedAccess(['']), /tagKeys must be 1 to 128 letters/],
    ['a tag key of 129 characters', () => SecretPolicy.tagBasedAccess(['k'.repeat(129)]), /tagKeys must be 1 to 128 letters/],
    ['tag keys differing only in case', () => SecretPolicy.tagBasedAccess(['Team', 'team']), /tagKeys must be distinct \(ignoring case\), got 'Team', 'team'/],
    ['no presets', () => SecretPolicy.applyTo(secretStack().secret), /applyTo: policies must hold 1 or more presets, got none/],
  ];
  test.each(invalid)('rejects %s, naming the property', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('roles, users, ARN patterns and account principals are accepted as principals', () => {
    expect(() => SecretPolicy.restrictToPrincipals([
      role(),
      new iam.ArnPrincipal('arn:aws:iam::111111111111:role/app-*'),
      new iam.AccountPrincipal('111111111111'),
    ])).not.toThrow();
  });
});

describe('cdk-nag: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', () => {
  test('a rotated secret with a SecretEncryptionKey and every preset reports nothing', () => {
    const stack = testStack('Platform');
    const { secret } = secretStack(stack);
    const vpc = importedVpc(stack);
    const endpoint = new ec2.InterfaceVpcEndpoint(stack, 'SecretsManagerEndpoint', { vpc, service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER });
    new SecretRotation(stack, 'Rotation', { secret, engine: RotationEngine.POSTGRES_SINGLE_USER, rotationFunctionOptions: { vpc } });
    const rotationFunction = RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER, { vpc });
    const app = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    SecretPolicy.applyTo(secret,
      SecretPolicy.denyWithoutTls(),
      SecretPolicy.denyOutsideOrganization(ORG),
      SecretPolicy.denyOutsideVpcEndpoints([endpoint]),
      SecretPolicy.restrictToPrincipals([app, rotationFunction.role]),
      SecretPolicy.tagBasedAccess(['team'], { exemptPrincipals: [rotationFunction.role] }));
    expect(describeFindings(nagFindings(stack))).toEqual([]);
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 1);
  });
});
