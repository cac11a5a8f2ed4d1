import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PlatformSecretsStack } from '../../examples/platform-app';
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

  test('four rotated secrets, two shared rotation functions, one customer-managed policy each', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 4);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 4);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 2);
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });
});
