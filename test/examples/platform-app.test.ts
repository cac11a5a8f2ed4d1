import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
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

  test('four rotated secrets, two shared rotation functions and the overdue check, one customer-managed policy each', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 4);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 4);
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 3);
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('monitoring is on for everything it rotates: rules, topic, dashboard, and an alarm with an action for each function and code', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::Events::Rule', 4);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    // 4 per rotation function, 1 per error code, 5 for the monitor itself
    expect(alarms).toHaveLength(2 * 4 + Object.keys(ERROR_CODES).length + 5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });
});
