import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RotationFunctionPolicyProps, rotationFunctionPolicy } from '../../src/private/rotation-function-policy';

const BASE: RotationFunctionPolicyProps = {
  functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:f',
  logGroupArn: 'arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/f',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:111111111111:dlq',
  encryptionKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/k',
  engineStatements: [],
};
const SECRET_FINDING = 'Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*';
const KEY_FINDING = 'Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*';

function statement(sid: string, resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: ['ssm:GetParameter'], resources });
}

test('outside a VPC: the standard statements, and a suppression that names exactly their wildcards', () => {
  const policy = rotationFunctionPolicy(BASE);
  expect(policy.statements.map((s) => s.sid)).toEqual([
    'RotateSecretsThatNameThisFunction', 'GenerateRandomPasswords', 'UseSecretKeysViaSecretsManager', 'WriteOwnLogs',
    'SendToOwnDeadLetterQueue', 'EncryptDeadLetterMessagesViaSqs', 'WriteTraces',
  ]);
  expect(policy.wildcardSuppression.id).toBe('AwsSolutions-IAM5');
  expect(policy.wildcardSuppression.appliesTo).toEqual([SECRET_FINDING, 'Resource::*', KEY_FINDING]);
  expect(policy.wildcardSuppression.reason).not.toMatch(/ec2/);
  // the function's own ARN pins the secret statement
  expect(new Stack().resolve(policy.statements[0].toStatementJson().Condition))
    .toEqual({ StringEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': BASE.functionArn } });
});

test('in a VPC: network-interface statements on its own subnets and security groups, and their reasons', () => {
  const policy = rotationFunctionPolicy({ ...BASE, network: { subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] } });
  const sids = policy.statements.map((s) => s.sid);
  expect(sids.slice(-3)).toEqual(['DescribeNetworkInterfaces', 'CreateNetworkInterfacesInOwnSubnetsAndSecurityGroups', 'ManageNetworkInterfaces']);
  const create = policy.statements.find((s) => s.sid === 'CreateNetworkInterfacesInOwnSubnetsAndSecurityGroups')!;
  expect(create.resources.filter((r) => /subnet\/subnet-1$|security-group\/sg-1$/.test(r))).toHaveLength(2);
  expect(policy.wildcardSuppression.reason).toMatch(/ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets\./);
  expect(policy.wildcardSuppression.appliesTo).toContainEqual(
    { regex: '/^Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:\\*:(subnet|security-group)\\/.+$/' });
});

test('engine statements: wildcards with a reason are suppressed (the reason once), wildcards without one are not', () => {
  const reason = 'the reason these parameters are read, whatever their names are';
  const policy = rotationFunctionPolicy({
    ...BASE,
    engineStatements: [
      { statement: statement('A', ['arn:aws:ssm:us-east-1:111111111111:parameter/a/*']), wildcardReason: reason },
      { statement: statement('B', ['arn:aws:ssm:us-east-1:111111111111:parameter/b/*', 'arn:aws:ssm:us-east-1:111111111111:parameter/exact']), wildcardReason: reason },
      { statement: statement('C', ['arn:aws:ssm:us-east-1:111111111111:parameter/c/*']) },
    ],
  });
  expect(policy.statements.map((s) => s.sid).slice(-3)).toEqual(['A', 'B', 'C']);
  const appliesTo = policy.wildcardSuppression.appliesTo!;
  expect(appliesTo).toContain('Resource::arn:aws:ssm:us-east-1:111111111111:parameter/a/*');
  expect(appliesTo).toContain('Resource::arn:aws:ssm:us-east-1:111111111111:parameter/b/*');
  expect(appliesTo).not.toContain('Resource::arn:aws:ssm:us-east-1:111111111111:parameter/exact');
  expect(appliesTo).not.toContain('Resource::arn:aws:ssm:us-east-1:111111111111:parameter/c/*');
  expect(policy.wildcardSuppression.reason.split(reason)).toHaveLength(2);
});
