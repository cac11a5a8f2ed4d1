import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PlatformSecretsStack } from '../../examples/platform-app';
import { ERROR_CODES } from '../../src/private/contract';
import { nagFindings } from '../nag';

/** The example the README and the demo use is a platform a compliance team would accept as it is. */
describe('examples/platform-app', () => {
  const app = new App();
  const stack = new PlatformSecretsStack(app, 'PlatformSecrets', { env: { account: '123456789012', region: 'eu-west-1' } });
  const findings = nagFindings(stack);
  const template = Template.fromStack(stack);

  test('cdk-nag AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1 and Serverless report nothing', () => {
    expect(findings).toEqual([]);
  });

  test('eight rotated secrets, six shared rotation functions (PostgreSQL x2, Redshift, DocumentDB, the custom API key rotator, OAuth refresh tokens) and the overdue check, one customer-managed policy each', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 8);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 8);
    template.resourceCountIs('AWS::Lambda::Function', 7);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 7);
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('the Redshift API endpoint admits HTTPS from the Redshift rotation function only', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: 'com.amazonaws.eu-west-1.redshift', PrivateDnsEnabled: true });
    const groups = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('RedshiftApiEndpoint') } });
    expect(Object.keys(groups)).toHaveLength(1);
    const [group] = Object.values(groups);
    expect(group.Properties.SecurityGroupIngress ?? []).toEqual([]);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((r) => JSON.stringify(r.Properties.GroupId).includes(Object.keys(groups)[0]));
    expect(ingress.map((r) => [r.Properties.FromPort, r.Properties.ToPort, r.Properties.Description])).toEqual([
      [443, 443, 'Redshift DescribeClusters from the Redshift rotation function'],
    ]);
    expect(ingress[0].Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).toMatch(/^RotationFunctionredshiftmultiuser[0-9a-f]{8}SecurityGroup/);
  });

  test('monitoring is on for everything it rotates: rules, topic, dashboard, and an alarm with an action for each function and code', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::Events::Rule', 4);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    // 4 per rotation function (the custom API key rotator's and the OAuth one's too), 1 per error code, 5 for the monitor itself
    expect(alarms).toHaveLength(6 * 4 + Object.keys(ERROR_CODES).length + 5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });

  test('the OAuth refresh token is rotated daily from the subnets with a NAT route, with no token in the template and no GetRandomPassword', () => {
    const [[functionId, fn]] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('RotationFunctionoauthrefreshtoken'));
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(['subnet-0ccccccccccccccc3', 'subnet-0ddddddddddddddd4']);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationLambdaARN: { 'Fn::GetAtt': [functionId, 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(1 day)' },
    });
    const secret = Object.values(template.findResources('AWS::SecretsManager::Secret')).find((r) => r.Properties.Description?.includes('CRM'));
    expect(JSON.stringify(secret!.Properties.SecretString)).toContain('{{resolve:secretsmanager:platform/crm/bootstrap:SecretString:refresh_token::}}');
    const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).find((p) => JSON.stringify(p.Properties.Roles ?? []).includes(functionId.slice(0, 30)));
    expect(JSON.stringify(policy!.Properties.PolicyDocument)).not.toContain('GetRandomPassword');
    expect(JSON.stringify(policy!.Properties.PolicyDocument)).toContain('secretsmanager:TagResource');
    // it reaches Secrets Manager through the interface endpoint, whose security group admits it
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(ingress).toContainEqual(expect.objectContaining({ FromPort: 443, Description: 'OAuth refresh-token rotation' }));
  });

  test('the custom API key rotator runs its bundle in a shared function like the bundled engines, with 4 alarms and read access to the admin secret only', () => {
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([id]) => id.startsWith('RotationFunctionapikey'));
    expect(functions).toHaveLength(1);
    const [[functionId, fn]] = functions;
    expect(fn.Properties.Handler).toBe('index.handler');
    expect(fn.Properties.VpcConfig).toBeDefined();
    expect(fn.Properties.Code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.AlarmDescription.includes('PlatformSecrets/RotationFunction-api-key-'));
    expect(alarms).toHaveLength(4);
    const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
      .find((p) => JSON.stringify(p.Properties.Roles ?? []).includes('RotationFunctionapikey'));
    const statements: Array<Record<string, any>> = policy!.Properties.PolicyDocument.Statement;
    expect(statements.filter((st) => JSON.stringify(st).includes('keys-api/admin'))).toEqual([
      expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow' }),
    ]);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationLambdaARN: { 'Fn::GetAtt': [functionId, 'Arn'] },
    });
  });
});
