import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { platformStack } from './fixtures';
import { RotationMonitor, RotationMonitorProps } from '../../src';
import { describeFindings, nagFindings } from '../nag';

function everyOption(stack: Stack, watched: secretsmanager.ISecret, vpcOptions: Pick<RotationMonitorProps, 'overdueCheckOptions'>): RotationMonitorProps {
  const key = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
  const pager = new sns.Topic(stack, 'Pager', { masterKey: key, enforceSSL: true });
  return {
    encryptionKey: key,
    alarmActions: [new cloudwatchActions.SnsAction(pager)],
    secrets: [watched],
    functionAlarms: {
      errorsThreshold: 2,
      throttlesThreshold: 2,
      durationThresholdRatio: 0.7,
      deadLetterQueueThreshold: 1,
      period: Duration.minutes(10),
    },
    errorCodeAlarms: ['TLS_FAILED', 'MASTER_LOGIN_FAILED', 'LOGIN_FAILED'],
    errorCodeAlarmPeriod: Duration.minutes(10),
    dashboardName: 'secrets-rotation',
    overdueCheckOptions: {
      interval: Duration.minutes(30),
      gracePeriod: Duration.hours(12),
      logRetention: logs.RetentionDays.THREE_MONTHS,
      ...vpcOptions.overdueCheckOptions,
    },
  };
}

function clearSuppressions(monitor: RotationMonitor): void {
  for (const c of monitor.node.findAll()) {
    if (c instanceof CfnResource && c.getMetadata('cdk_nag')) c.addMetadata('cdk_nag', { rules_to_suppress: [] });
  }
}

describe('cdk-nag on RotationMonitor: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', () => {
  test('with defaults, the stack reports nothing', () => {
    const { stack } = platformStack(true);
    RotationMonitor.enable(stack);
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('with every option on (the overdue check in the VPC), the stack reports nothing', () => {
    const { stack, vpc, secrets } = platformStack(true);
    RotationMonitor.enable(stack, everyOption(stack, secrets[1], { overdueCheckOptions: { vpc } }));
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('with every option on outside a VPC, the stack reports nothing', () => {
    const { stack, secrets } = platformStack(true);
    RotationMonitor.enable(stack, everyOption(stack, secrets[1], {}));
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('every suppression the monitor adds is needed: without them exactly the suppressed findings fire', () => {
    const { stack } = platformStack(true);
    const monitor = RotationMonitor.enable(stack);
    clearSuppressions(monitor);
    expect(describeFindings(nagFindings(stack))).toEqual([
      'error /Platform/RotationMonitor/DeadLetterQueue/Resource: AwsSolutions-SQS3',
      'error /Platform/RotationMonitor/DeadLetterQueue/Resource: Serverless-SQSRedrivePolicy',
      'error /Platform/RotationMonitor/OverdueCheck/DeadLetterQueue/Resource: Serverless-SQSRedrivePolicy',
      'error /Platform/RotationMonitor/OverdueCheck/Function/Resource: HIPAA.Security-LambdaInsideVPC',
      'error /Platform/RotationMonitor/OverdueCheck/Function/Resource: NIST.800.53.R5-LambdaInsideVPC',
      'error /Platform/RotationMonitor/OverdueCheck/Function/Resource: PCI.DSS.321-LambdaInsideVPC',
      'error /Platform/RotationMonitor/OverdueCheck/Policy/Resource: AwsSolutions-IAM5[Resource::*]',
      'warning /Platform/RotationMonitor/StartRule/Resource: CdkNagValidationFailure[Serverless-EventBusDLQ]',
      'warning /Platform/RotationMonitor/SuccessRule/Resource: CdkNagValidationFailure[Serverless-EventBusDLQ]',
    ]);
  });

  test('in a VPC the overdue check needs no Lambda-in-VPC suppression, and its network wildcards are the only other findings', () => {
    const { stack, vpc } = platformStack(true);
    const monitor = RotationMonitor.enable(stack, { overdueCheckOptions: { vpc } });
    clearSuppressions(monitor);
    const sg = stack.getLogicalId(monitor.overdueCheck!.node.findChild('SecurityGroup').node.defaultChild as CfnResource);
    const findings = describeFindings(nagFindings(stack)).filter((f) => f.includes('/OverdueCheck/'));
    expect(findings).toEqual([
      'error /Platform/RotationMonitor/OverdueCheck/DeadLetterQueue/Resource: Serverless-SQSRedrivePolicy',
      'error /Platform/RotationMonitor/OverdueCheck/Policy/Resource: AwsSolutions-IAM5[Resource::*]',
      `error /Platform/RotationMonitor/OverdueCheck/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:security-group/<${sg}.GroupId>]`,
      'error /Platform/RotationMonitor/OverdueCheck/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/subnet-11111111]',
      'error /Platform/RotationMonitor/OverdueCheck/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/subnet-22222222]',
      'error /Platform/RotationMonitor/OverdueCheck/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
    ]);
  });
});
