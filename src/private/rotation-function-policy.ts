import { Aws, CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NAG_METADATA_KEY, NagSuppression } from './nag-suppressions';

/**
 * The IAM of a rotation function: the statements of its one customer-managed policy and of its key's policy, and the
 * cdk-nag suppressions with the reason for every wildcard. The construct (`rotation/rotation-function.ts`) decides
 * when each applies; this module decides what they say.
 */

/** What the function's own policy names. */
export interface RotationFunctionPolicyProps {
  /** The function's ARN as a literal built from its name (the function itself depends on the policy). */
  readonly functionArn: string;
  readonly logGroupArn: string;
  readonly deadLetterQueueArn: string;
  /** The key of the log group, dead-letter queue and environment. */
  readonly encryptionKeyArn: string;
  /** Subnets and security groups of a function in a VPC (undefined: not in a VPC). */
  readonly network?: {
    readonly subnetIds: string[];
    readonly securityGroupIds: string[];
  };
  /**
   * Whether the handler generates passwords (`secretsmanager:GetRandomPassword`); an OAuth refresh-token rotator never does.
   *
   * @default true
   */
  readonly generatesPasswords?: boolean;
  /** What the engine adds, each with the reason for its wildcards (none for custom engines: theirs are the user's). */
  readonly engineStatements: Array<{ readonly statement: iam.PolicyStatement; readonly wildcardReason?: string }>;
}

/** The statements of the function's policy and the one AwsSolutions-IAM5 suppression that names each wildcard. */
export interface RotationFunctionPolicy {
  readonly statements: iam.PolicyStatement[];
  readonly wildcardSuppression: NagSuppression;
}

/** Every secret of the stack's account and region. */
export function anySecretArn(): string {
  return `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:*`;
}

/** A function's network-interface permissions in a VPC, with the cdk-nag findings and reasons of their wildcards. */
export interface NetworkInterfaceStatements {
  readonly statements: iam.PolicyStatement[];
  readonly findings: Array<string | { regex: string }>;
  readonly reasons: string[];
}

/**
 * What Lambda needs of a function's role to place it in a VPC: describe (no resource-level permissions), create network
 * interfaces only in the function's own subnets and security groups, and manage the interfaces it created.
 */
export function networkInterfaceStatements(subnetIds: string[], securityGroupIds: string[]): NetworkInterfaceStatements {
  const partition = Aws.PARTITION;
  const region = Aws.REGION;
  const anyNetworkInterface = `arn:${partition}:ec2:${region}:${Aws.ACCOUNT_ID}:network-interface/*`;
  return {
    statements: [
      new iam.PolicyStatement({
        sid: 'DescribeNetworkInterfaces',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'CreateNetworkInterfacesInOwnSubnetsAndSecurityGroups',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          anyNetworkInterface,
          // the account is a wildcard so subnets and security groups shared from another account (shared VPCs) work;
          // the ids pin them
          ...subnetIds.map((id) => `arn:${partition}:ec2:${region}:*:subnet/${id}`),
          ...securityGroupIds.map((id) => `arn:${partition}:ec2:${region}:*:security-group/${id}`),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'ManageNetworkInterfaces',
        actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: [anyNetworkInterface],
      }),
    ],
    findings: [
      `Resource::${nagArn(anyNetworkInterface)}`,
      { regex: '/^Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:\\*:(subnet|security-group)\\/.+$/' },
    ],
    reasons: [
      `ec2 on ${nagArn(anyNetworkInterface)}: Lambda creates and deletes the function's network `
        + 'interfaces with its role; their ids are not known in advance (the account and region are pinned).',
      'ec2:CreateNetworkInterface on the function\'s own subnets and security groups by id; the account '
        + 'is a wildcard so subnets and security groups shared from another account (shared VPC) work.',
    ],
  };
}

/** How cdk-nag renders `arn:${Aws.PARTITION}:...` in its findings. */
export function nagArn(arn: string): string {
  return arn
    .replace(Aws.PARTITION, '<AWS::Partition>')
    .replace(Aws.REGION, '<AWS::Region>')
    .replace(Aws.ACCOUNT_ID, '<AWS::AccountId>');
}

/**
 * The function's permissions: secret actions on every secret that names this function as its rotation function, random
 * passwords, secret keys through Secrets Manager, its own logs, dead-letter queue and traces, its network interfaces
 * (in a VPC), and what the engine adds. Adding a secret never changes any of them.
 */
export function rotationFunctionPolicy(props: RotationFunctionPolicyProps): RotationFunctionPolicy {
  const partition = Aws.PARTITION;
  const region = Aws.REGION;
  const account = Aws.ACCOUNT_ID;
  const anySecret = anySecretArn();
  const anyKey = `arn:${partition}:kms:${region}:${account}:key/*`;

  const generatesPasswords = props.generatesPasswords ?? true;
  const statements = [
    new iam.PolicyStatement({
      sid: 'RotateSecretsThatNameThisFunction',
      actions: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [anySecret],
      conditions: { StringEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': props.functionArn } },
    }),
    ...(generatesPasswords ? [new iam.PolicyStatement({
      sid: 'GenerateRandomPasswords',
      actions: ['secretsmanager:GetRandomPassword'],
      resources: ['*'],
    })] : []),
    new iam.PolicyStatement({
      sid: 'UseSecretKeysViaSecretsManager',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [anyKey],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
    }),
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [props.logGroupArn],
    }),
    new iam.PolicyStatement({
      sid: 'SendToOwnDeadLetterQueue',
      actions: ['sqs:SendMessage'],
      resources: [props.deadLetterQueueArn],
    }),
    new iam.PolicyStatement({
      sid: 'EncryptDeadLetterMessagesViaSqs',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [props.encryptionKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${region}.amazonaws.com` } },
    }),
    new iam.PolicyStatement({
      sid: 'WriteTraces',
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      resources: ['*'],
    }),
  ];

  const findings: Array<string | { regex: string }> = [`Resource::${nagArn(anySecret)}`, 'Resource::*', `Resource::${nagArn(anyKey)}`];
  const reasons = [
    `secretsmanager:* on ${nagArn(anySecret)}: only secrets whose rotation function is this function `
      + '(condition secretsmanager:resource/AllowRotationLambdaArn), so adding a secret never changes IAM.',
    'Resource::* only for actions without resource-level permissions: '
      + (generatesPasswords ? 'secretsmanager:GetRandomPassword, ' : '') + 'xray:PutTraceSegments, xray:PutTelemetryRecords'
      + (props.network ? ', ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets.' : '.'),
    `kms on ${nagArn(anyKey)}: Decrypt and GenerateDataKey only through Secrets Manager (condition kms:ViaService) `
      + 'for the keys of the rotated secrets, which are not known when the function is created.',
  ];

  if (props.network) {
    const network = networkInterfaceStatements(props.network.subnetIds, props.network.securityGroupIds);
    statements.push(...network.statements);
    findings.push(...network.findings);
    reasons.push(...network.reasons);
  }

  for (const { statement, wildcardReason } of props.engineStatements) {
    statements.push(statement);
    // only reviewed wildcards are suppressed; a statement without a reason keeps its findings
    if (wildcardReason === undefined) {
      continue;
    }
    const wildcards = statement.resources.filter((r) => r.includes('*')).map((r) => `Resource::${nagArn(r)}`);
    if (wildcards.length > 0) {
      // `Resource::*` is already there (GetRandomPassword); its reason gains the engine's sentence
      findings.push(...wildcards.filter((w) => !findings.includes(w)));
      if (!reasons.includes(wildcardReason)) {
        reasons.push(wildcardReason);
      }
    }
  }

  return {
    statements,
    wildcardSuppression: { id: 'AwsSolutions-IAM5', reason: reasons.join(' '), appliesTo: findings },
  };
}

/** The dead-letter queue has no queue of its own to redrive to; its depth is alarmed on instead. */
export const DEAD_LETTER_QUEUE_REDRIVE_SUPPRESSION: NagSuppression = {
  id: 'Serverless-SQSRedrivePolicy',
  reason: 'This queue is the dead-letter queue of the rotation function; a dead-letter queue of a dead-letter queue '
    + 'would only move the same messages again. Its depth is alarmed on instead.',
};

/** Key policy: CloudWatch Logs may use the function's key for the function's log group only. */
export function logGroupKeyStatement(logGroupName: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsForTheRotationFunctionLogGroup',
    principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroupName}` },
    },
  });
}

/** Key policy: the function's role may use the key only through SQS (its encrypted dead-letter queue). */
export function deadLetterQueueKeyStatement(roleArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AllowTheRotationFunctionDeadLetterQueueViaSqs',
    principals: [new iam.ArnPrincipal(roleArn)],
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: ['*'],
    conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
  });
}

/** Reads master secrets named by ARN (resources added one per master). */
export function readMasterSecretsStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadMasterSecrets',
    // DescribeSecret: an RDS-managed master secret names its database only in its tags
    actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
  });
}

/** Decrypts master secrets with their keys through Secrets Manager (resources added one per key). */
export function decryptMasterSecretsStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DecryptMasterSecretsViaSecretsManager',
    actions: ['kms:Decrypt'],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
  });
}

/**
 * Reads the master secrets of other stacks that carry the function's tag, and the sentence the secret:* suppression's
 * reason gains with it.
 */
export function readTaggedMasterSecretsStatement(tagKey: string, tagValue: string): { statement: iam.PolicyStatement; wildcardReason: string } {
  const anySecret = anySecretArn();
  return {
    statement: new iam.PolicyStatement({
      sid: 'ReadMasterSecretsTaggedForThisFunction',
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      resources: [anySecret],
      conditions: { StringEquals: { [`aws:ResourceTag/${tagKey}`]: tagValue } },
    }),
    wildcardReason: `Also secretsmanager:DescribeSecret and GetSecretValue on ${nagArn(anySecret)}, but only on master secrets `
      + `tagged ${tagKey}=${tagValue} (condition aws:ResourceTag), which the library sets on master secrets of other `
      + 'stacks: naming their ARNs would make the stacks depend on each other in a cycle.',
  };
}

/**
 * Appends to the reason of this library's suppression of `ruleId` that applies to `finding` (written by
 * `addNagSuppressions` in the same resource's `cdk_nag` metadata).
 */
export function extendNagReason(resource: CfnResource, ruleId: string, finding: string, extra: string): void {
  const metadata = resource.getMetadata(NAG_METADATA_KEY);
  const rules: Array<{ id: string; reason: string; applies_to?: unknown[] }> = metadata?.rules_to_suppress ?? [];
  const rule = rules.find((r) => r.id === ruleId && (r.applies_to ?? []).includes(finding));
  if (!rule) {
    throw new Error(`RotationFunction: no ${ruleId} suppression for ${finding} on ${resource.node.path} to extend`);
  }
  if (!rule.reason.includes(extra)) {
    rule.reason = `${rule.reason} ${extra}`;
    resource.addMetadata(NAG_METADATA_KEY, { ...metadata, rules_to_suppress: rules });
  }
}
