import * as path from 'path';
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ACCOUNT, PARTITION, REGION, importedVpc, joinArn, onlyResource, policyStatements, secret, secretKey, testStack } from './fixtures';
import { clientTemplate, databaseSharedId, httpAdapter, refreshTemplate, standInOAuthCode } from './oauth-fixtures';
import {
  ClientSecretAdapter, PasswordPolicy, RotationCode, RotationEngine, RotationFunction, Secret, SecretsManagerEndpoints, SecretTemplateKind,
} from '../../src';
import { OAUTH_ENV, OAUTH_EXCHANGE_TAG, OAUTH_FUNCTION_IDS } from '../../src/private/contract';
import { describeFindings, nagFindings } from '../nag';

const REFRESH = RotationEngine.OAUTH_REFRESH_TOKEN;
const CLIENT = RotationEngine.OAUTH_CLIENT_SECRET;

let code: jest.SpyInstance;
beforeEach(() => {
  code = standInOAuthCode();
});
afterEach(() => code.mockRestore());

function functionOf(engine: RotationEngine, options = {}) {
  const stack = testStack();
  const fn = RotationFunction.shared(stack, engine, options);
  return { stack, fn, template: Template.fromStack(stack) };
}

function environmentOf(template: Template): Record<string, string> {
  return onlyResource(template, 'AWS::Lambda::Function').resource.Properties.Environment.Variables;
}

const anySecret = joinArn('arn:', PARTITION, ':secretsmanager:', REGION, ':', ACCOUNT, ':secret:*');

describe('bundled OAuth engines', () => {
  test('OAUTH_REFRESH_TOKEN: bundled, rotates refresh-token templates, one user, no database port, generates nothing', () => {
    expect(REFRESH.id).toBe(OAUTH_FUNCTION_IDS.OAUTH_REFRESH_TOKEN);
    expect(REFRESH.isBundled).toBe(true);
    expect(REFRESH.secretKind).toBe(SecretTemplateKind.OAUTH_REFRESH_TOKEN);
    expect(REFRESH.multiUser).toBe(false);
    expect(REFRESH.defaultPort).toBeUndefined();
    expect(REFRESH.generatesPasswords).toBe(false);
    expect(REFRESH.requiresAdminSecret).toBe(false);
    expect(REFRESH.overlap).toBeUndefined();
  });

  test('OAUTH_CLIENT_SECRET: bundled, rotates client templates with an admin secret, RFC 7592, no overlap', () => {
    expect(CLIENT.id).toBe(OAUTH_FUNCTION_IDS.OAUTH_CLIENT_SECRET);
    expect(CLIENT.isBundled).toBe(true);
    expect(CLIENT.secretKind).toBe(SecretTemplateKind.OAUTH_CLIENT);
    expect(CLIENT.multiUser).toBe(false);
    expect(CLIENT.defaultPort).toBeUndefined();
    expect(CLIENT.requiresAdminSecret).toBe(true);
    expect(CLIENT.overlap!.toSeconds()).toBe(0);
  });

  test('the handler code of both is their bundle directory, assets/<id>', () => {
    code.mockRestore();
    const assets = path.join(__dirname, '..', '..', 'assets');
    expect(RotationCode.bundlePath(REFRESH)).toBe(path.join(assets, 'oauth-refresh-token'));
    expect(RotationCode.bundlePath(CLIENT)).toBe(path.join(assets, 'oauth-client-secret'));
    code = standInOAuthCode();
  });

  test('generated client secrets default to 64 letters and digits', () => {
    const engine = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) });
    expect(engine.defaultPasswordPolicy._toContract()).toMatchObject({ passwordLength: 64, excludePunctuation: true, includeSpace: false });
  });
});

describe('the environment the handlers read', () => {
  test('refresh tokens: the call timeout and nothing of the client-secret adapter, probe or loopback', () => {
    const env = environmentOf(functionOf(REFRESH).template);
    expect(env).toHaveProperty('ROTATION_CALL_TIMEOUT_MS');
    for (const name of Object.values(OAUTH_ENV)) {
      expect(env).not.toHaveProperty(name);
    }
  });

  test('refresh tokens with a probe URL: ROTATION_OAUTH_PROBE_URL', () => {
    const engine = RotationEngine.oauthRefreshToken({ probeUrl: 'https://api.example.com/me' });
    expect(environmentOf(functionOf(engine).template)[OAUTH_ENV.PROBE_URL]).toBe('https://api.example.com/me');
  });

  test('loopback http only when the engine allows it', () => {
    const engine = RotationEngine.oauthRefreshToken({ probeUrl: 'http://127.0.0.1:8080/me', allowLoopbackHttp: true });
    const env = environmentOf(functionOf(engine).template);
    expect(env[OAUTH_ENV.ALLOW_LOOPBACK_HTTP]).toBe('true');
    expect(env[OAUTH_ENV.PROBE_URL]).toBe('http://127.0.0.1:8080/me');
  });

  test('RFC 7592 client secrets: the adapter JSON and overlap 0', () => {
    const env = environmentOf(functionOf(CLIENT).template);
    expect(JSON.parse(env[OAUTH_ENV.CLIENT_SECRET_ADAPTER])).toEqual({ type: 'rfc7592' });
    expect(env[OAUTH_ENV.OVERLAP_SECONDS]).toBe('0');
  });

  test('http client secrets: the adapter\'s requests and the overlap in seconds', () => {
    const engine = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(2) });
    const env = environmentOf(functionOf(engine).template);
    expect(JSON.parse(env[OAUTH_ENV.CLIENT_SECRET_ADAPTER])).toEqual({
      type: 'http',
      add: { method: 'POST', url: 'https://idp.example.com/api/clients/{client_id}/secrets', body: { secret: '{client_secret}' } },
      retire: {
        method: 'PATCH',
        url: 'https://idp.example.com/api/clients/{client_id}/secrets',
        body: { secret: '{client_secret}', expires_at: '{not_after}' },
      },
      auth: 'bearer',
    });
    expect(env[OAUTH_ENV.OVERLAP_SECONDS]).toBe('7200');
    expect(env).not.toHaveProperty(OAUTH_ENV.ALLOW_LOOPBACK_HTTP);
  });

  test('a SQL probe or a user-name limit is refused on an OAuth engine', () => {
    expect(() => functionOf(REFRESH, { probeQuery: 'SELECT 1' }))
      .toThrow(/RotationFunction: probeQuery applies to database engines only, not to the OAuth refresh token engine \(its probe is RotationEngine.oauthRefreshToken\(\{ probeUrl \}\)\)/);
    expect(() => functionOf(CLIENT, { usernameLengthLimit: 40 }))
      .toThrow(/RotationFunction: usernameLengthLimit applies to database engines only, not to the OAuth client secret engine/);
  });
});

describe('IAM of the OAuth functions', () => {
  const exchangeTag = (functionName: unknown) => ({
    Sid: 'TagRotatedSecretsWithTheExchangeTag',
    Effect: 'Allow',
    Action: 'secretsmanager:TagResource',
    Resource: anySecret,
    Condition: {
      'StringEquals': { 'secretsmanager:resource/AllowRotationLambdaArn': functionName },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [OAUTH_EXCHANGE_TAG] },
      'Null': { 'aws:TagKeys': 'false' },
    },
  });

  test.each<[string, RotationEngine]>([
    ['refresh tokens', REFRESH],
    ['RFC 7592 client secrets', CLIENT],
  ])('%s: TagResource on the secrets of this function, for the exchange tag only', (_name, engine) => {
    const { template } = functionOf(engine);
    const statements = policyStatements(template);
    const rotate = statements.RotateSecretsThatNameThisFunction;
    expect(statements.TagRotatedSecretsWithTheExchangeTag).toEqual(
      exchangeTag(rotate.Condition.StringEquals['secretsmanager:resource/AllowRotationLambdaArn']));
  });

  test('http client secrets never tag: they generate the secret themselves, so a retry can simply add it again', () => {
    const engine = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) });
    expect(Object.keys(policyStatements(functionOf(engine).template))).not.toContain('TagRotatedSecretsWithTheExchangeTag');
  });

  test('refresh tokens: no GetRandomPassword, and the Resource::* reason does not name it', () => {
    const { fn, template } = functionOf(REFRESH);
    const statements = policyStatements(template);
    expect(Object.keys(statements)).not.toContain('GenerateRandomPasswords');
    expect(JSON.stringify(statements)).not.toMatch(/GetRandomPassword/);
    expect(iam5Reason(fn, 'Resource::*')).toMatch(/Resource::\* only for actions without resource-level permissions: xray:PutTraceSegments/);
  });

  test.each<[string, RotationEngine]>([
    ['RFC 7592 client secrets', CLIENT],
    ['http client secrets', RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) })],
    ['PostgreSQL', RotationEngine.POSTGRES_SINGLE_USER],
  ])('%s keep GetRandomPassword', (_name, engine) => {
    expect(policyStatements(functionOf(engine).template).GenerateRandomPasswords.Action).toBe('secretsmanager:GetRandomPassword');
  });

  test('the secret:* suppression reason explains the tag statement', () => {
    const { fn } = functionOf(REFRESH);
    expect(iam5Reason(fn, 'Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*'))
      .toMatch(/Also secretsmanager:TagResource .* only for the tag key secrets-platform:oauth-exchange/);
  });

  test('in a VPC: egress HTTPS only (no database port)', () => {
    const stack = testStack();
    const fn = RotationFunction.shared(stack, CLIENT, { vpc: importedVpc(stack) });
    const groups = Template.fromStack(stack).findResources('AWS::EC2::SecurityGroup');
    expect(Object.values(groups).map((g: any) => g.Properties.SecurityGroupEgress)).toEqual([[
      { CidrIp: '0.0.0.0/0', Description: 'HTTPS to AWS APIs through VPC endpoints or NAT', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]]);
    expect(fn.engine.defaultPort).toBeUndefined();
  });

  test('the admin secret of a template is read like a master secret (by ARN in its own stack)', () => {
    const stack = testStack();
    const key = secretKey(stack);
    const admin = secret(stack, 'Admin', key);
    const s = new Secret(stack, 'Client', { template: clientTemplate(admin) });
    const rotation = s.addRotation({ engine: CLIENT });
    const statements = policyStatements(Template.fromStack(stack));
    expect(statements.ReadMasterSecrets).toEqual({
      Sid: 'ReadMasterSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: { Ref: stack.getLogicalId(admin.node.defaultChild as CfnResource) },
    });
    expect(statements.DecryptMasterSecretsViaSecretsManager.Resource).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnResource), 'Arn'] });
    expect(rotation.rotationFunction.engine).toBe(CLIENT);
  });

  test('an admin secret in another stack gets the function\'s tag, as a master secret would', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const team = new Stack(app, 'Team');
    const fn = RotationFunction.shared(platform, CLIENT);
    const admin = secret(team, 'Admin', secretKey(team));
    new Secret(team, 'Client', { template: clientTemplate(admin) }).addRotation({ rotationFunction: fn });
    const tags = Template.fromStack(team).findResources('AWS::SecretsManager::Secret');
    const adminTags = tags[team.getLogicalId(admin.node.defaultChild as CfnResource)].Properties.Tags;
    expect(adminTags).toEqual([{ Key: expect.stringMatching(/^cdk-secrets-platform:rotation-master-for:Platform-oauth-client-secret-[0-9a-f]{8}$/), Value: 'true' }]);
    expect(Object.keys(policyStatements(Template.fromStack(platform)))).toContain('ReadMasterSecretsTaggedForThisFunction');
  });
});

describe('shared OAuth functions', () => {
  test('two adapters or overlaps: two functions; the same configuration twice: one', () => {
    const stack = testStack();
    const hourly = RotationFunction.shared(stack, RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) }));
    const again = RotationFunction.shared(stack, RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) }));
    const longer = RotationFunction.shared(stack, RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(2) }));
    const rfc = RotationFunction.shared(stack, CLIENT);
    const rfcAgain = RotationFunction.shared(stack, RotationEngine.oauthClientSecret({ adapter: ClientSecretAdapter.rfc7592() }));
    expect(again).toBe(hourly);
    expect(rfcAgain).toBe(rfc);
    expect(new Set([hourly, longer, rfc]).size).toBe(3);
    expect(new Set([hourly, longer, rfc].map((f) => f.functionName)).size).toBe(3);
  });

  test('two probe URLs: two refresh-token functions', () => {
    const stack = testStack();
    const a = RotationFunction.shared(stack, RotationEngine.oauthRefreshToken({ probeUrl: 'https://a.example.com/me' }));
    const b = RotationFunction.shared(stack, RotationEngine.oauthRefreshToken({ probeUrl: 'https://b.example.com/me' }));
    expect(a).not.toBe(b);
    expect(RotationFunction.shared(stack, REFRESH)).not.toBe(a);
  });

  test('two client-secret policies: two functions', () => {
    const stack = testStack();
    const a = RotationFunction.shared(stack, RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) }));
    const b = RotationFunction.shared(stack, RotationEngine.oauthClientSecret({
      adapter: httpAdapter(), overlap: Duration.hours(1), passwordPolicy: new PasswordPolicy({ length: 48, excludePunctuation: true }),
    }));
    expect(a).not.toBe(b);
  });

  test.each<[string, RotationEngine]>([
    ['POSTGRES_SINGLE_USER', RotationEngine.POSTGRES_SINGLE_USER],
    ['MYSQL_MULTI_USER', RotationEngine.MYSQL_MULTI_USER],
    ['DOCUMENTDB_SINGLE_USER', RotationEngine.DOCUMENTDB_SINGLE_USER],
  ])('%s keeps the id its shared function always had', (_name, engine) => {
    const stack = testStack();
    expect(RotationFunction.shared(stack, engine).node.id).toBe(databaseSharedId(stack, engine));
  });

  test('templates rotate on the function of their engine: refresh tokens and client secrets side by side', () => {
    const stack = testStack();
    const admin = secret(stack, 'Admin', secretKey(stack));
    const refresh = new Secret(stack, 'Refresh', { template: refreshTemplate() }).addRotation({ engine: REFRESH });
    const client = new Secret(stack, 'Client', { template: clientTemplate(admin) }).addRotation({ engine: CLIENT });
    expect(refresh.rotationFunction).toBe(RotationFunction.shared(stack, REFRESH));
    expect(client.rotationFunction).toBe(RotationFunction.shared(stack, CLIENT));
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 2);
  });
});

describe('cdk-nag on the OAuth engines: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', () => {
  /** A platform stack with both bundled OAuth engines (and an http client-secret engine) rotating secrets in a VPC. */
  function oauthPlatform(): { stack: Stack; functions: RotationFunction[] } {
    const stack = testStack('Platform');
    const vpc = importedVpc(stack);
    const key = secretKey(stack);
    // the identity provider's admin credential is usually managed elsewhere (its rotation is not this platform's)
    const admin = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Admin', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:idp-admin-AbCdEf');
    const http = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) });
    const options = { rotationFunctionOptions: { vpc } };
    new Secret(stack, 'Refresh', { template: refreshTemplate(), encryptionKey: key }).addRotation({ engine: REFRESH, ...options });
    new Secret(stack, 'Rfc7592', { template: clientTemplate(admin), encryptionKey: key }).addRotation({ engine: CLIENT, ...options });
    new Secret(stack, 'Http', { template: clientTemplate(admin), encryptionKey: key }).addRotation({ engine: http, ...options });
    const functions = [REFRESH, CLIENT, http].map((engine) => RotationFunction.shared(stack, engine, { vpc }));
    new SecretsManagerEndpoints(stack, 'Endpoints', { vpc, allowFrom: functions });
    return { stack, functions };
  }

  test('a VPC-placed platform with both engines reports nothing', () => {
    const { stack } = oauthPlatform();
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('every suppression is needed: without them exactly the suppressed findings fire', () => {
    const { stack, functions } = oauthPlatform();
    for (const fn of functions) {
      for (const c of fn.node.findAll()) {
        if (c instanceof CfnResource && c.getMetadata('cdk_nag')) {
          c.addMetadata('cdk_nag', { rules_to_suppress: [] });
        }
      }
    }
    const findings = describeFindings(nagFindings(stack)).map((l) => l.replace(/(security-group\/<[A-Za-z0-9]*SecurityGroup)[^\]]*\]/, '$1'));
    const perFunction = (name: string) => [
      `error /Platform/${name}/DeadLetterQueue/Resource: Serverless-SQSRedrivePolicy`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::*]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:security-group/<${name.replace(/-/g, '')}SecurityGroup`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/subnet-11111111]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/subnet-22222222]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*]`,
    ];
    expect(findings.sort()).toEqual(functions.flatMap((fn) => perFunction(fn.node.id)).sort());
  });
});

/** The reason of the function's AwsSolutions-IAM5 suppression that applies to a finding. */
function iam5Reason(fn: RotationFunction, finding: string): string | undefined {
  const rules: Array<{ id: string; reason: string; applies_to?: unknown[] }> =
    (fn.policy.node.defaultChild as CfnResource).getMetadata('cdk_nag').rules_to_suppress;
  return rules.find((r) => r.id === 'AwsSolutions-IAM5' && (r.applies_to ?? []).includes(finding))?.reason;
}
