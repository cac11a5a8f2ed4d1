import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BUNDLED_FAMILIES, importedVpc, secret, secretKey, testStack } from './fixtures';
import { RotationEngine, RotationFunction, RotationFunctionOptions, SecretRotation, SecretsManagerEndpoints } from '../../src';
import { describeFindings, nagFindings } from '../nag';

const MULTI = RotationEngine.POSTGRES_MULTI_USER;

/**
 * A platform stack: shared single-user and alternating-user functions of one engine family with rotated secrets (the
 * master rotates too); in a VPC with the Secrets Manager endpoint the functions need there.
 */
function platformStack(placement: (stack: Stack) => RotationFunctionOptions, SINGLE = RotationEngine.POSTGRES_SINGLE_USER,
  MULTI_USER = MULTI): { stack: Stack; functions: RotationFunction[] } {
  const stack = testStack('Platform');
  const options = placement(stack);
  const key = secretKey(stack);
  const master = secret(stack, 'Master', key);
  new SecretRotation(stack, 'MasterRotation', { secret: master, engine: SINGLE, rotationFunctionOptions: options });
  for (let i = 0; i < 3; i++) {
    new SecretRotation(stack, `AppRotation${i}`, {
      secret: secret(stack, `App${i}`, key),
      engine: MULTI_USER,
      masterSecret: master,
      rotationFunctionOptions: options,
    });
  }
  const functions = [RotationFunction.shared(stack, SINGLE, options), RotationFunction.shared(stack, MULTI_USER, options)];
  if (options.vpc) {
    new SecretsManagerEndpoints(stack, 'Endpoints', { vpc: options.vpc, allowFrom: functions });
  }
  return { stack, functions };
}

function clearSuppressions(fn: RotationFunction): void {
  for (const c of fn.node.findAll()) {
    if (c instanceof CfnResource && c.getMetadata('cdk_nag')) {
      c.addMetadata('cdk_nag', { rules_to_suppress: [] });
    }
  }
}

/**
 * The wildcard findings an alternating-users function adds per family (beyond `Resource::*`, which every function has):
 * the describe calls that find a service-managed master secret's database. Keyed by the family's first engine value.
 */
const MASTER_RESOLUTION_FINDINGS: Record<string, string[]> = {
  postgres: rdsDescribeFindings(),
  mysql: rdsDescribeFindings(),
  mariadb: rdsDescribeFindings(),
  // redshift-serverless:ListNamespaces and ListWorkgroups are on `*`, a finding every function already has
  redshift: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:redshift:<AWS::Region>:<AWS::AccountId>:cluster:*]'],
  mongo: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:cluster:*]'],
};

function rdsDescribeFindings(): string[] {
  return [
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:cluster:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*]',
  ];
}

/** The reason of the function's AwsSolutions-IAM5 suppression that applies to a finding. */
function iam5Reason(fn: RotationFunction, finding: string): string | undefined {
  const rules: Array<{ id: string; reason: string; applies_to?: unknown[] }> =
    (fn.policy.node.defaultChild as CfnResource).getMetadata('cdk_nag').rules_to_suppress;
  return rules.find((r) => r.id === 'AwsSolutions-IAM5' && (r.applies_to ?? []).includes(finding))?.reason;
}

describe.each(BUNDLED_FAMILIES)('cdk-nag on %s engines: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', (family, single, alternating) => {
  test('a VPC-placed platform reports nothing', () => {
    const { stack } = platformStack((s) => ({ vpc: importedVpc(s) }), single, alternating);
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('outside a VPC only the "Lambda in VPC" rules of HIPAA, NIST and PCI fire (left for the user to decide)', () => {
    const { stack } = platformStack(() => ({}), single, alternating);
    const findings = nagFindings(stack);
    const rules = findings.map((f) => `${f.level} ${f.rule}`).sort();
    const expected = ['HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC'];
    // two functions (single user, alternating users)
    expect(rules).toEqual([...expected, ...expected].map((r) => `error ${r}`).sort());
    for (const f of findings) {
      expect(f.path).toMatch(/\/Function\/Resource$/);
    }
  });

  test('every suppression in src is needed: without them exactly the suppressed findings fire', () => {
    const { stack, functions } = platformStack((s) => ({ vpc: importedVpc(s) }), single, alternating);
    functions.forEach(clearSuppressions);
    const findings = describeFindings(nagFindings(stack));
    const perFunction = (name: string, multi: boolean) => [
      `error /Platform/${name}/DeadLetterQueue/Resource: Serverless-SQSRedrivePolicy`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::*]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:security-group/<${name.replace(/-/g, '')}SecurityGroup`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/subnet-11111111]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/subnet-22222222]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]`,
      `error /Platform/${name}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*]`,
      ...(multi ? MASTER_RESOLUTION_FINDINGS[family].map((f) => `error /Platform/${name}/Policy/Resource: ${f}`) : []),
    ];
    // the security group id is a GetAtt whose logical id ends in a hash: compare that line by prefix
    const normalize = (lines: string[]) => lines.map((l) => l.replace(/(security-group\/<[A-Za-z0-9]*SecurityGroup)[^\]]*\]/, '$1'));
    const expected = [
      ...perFunction(functions[0].node.id, false),
      ...perFunction(functions[1].node.id, true),
    ].sort();
    expect(normalize(findings).sort()).toEqual(expected);
  });

  test('the wildcard reasons name every action on `*` and the family\'s describe calls', () => {
    const { functions } = platformStack((s) => ({ vpc: importedVpc(s) }), single, alternating);
    const [singleFn, multiFn] = functions;
    const anyResource = iam5Reason(singleFn, 'Resource::*');
    expect(anyResource).toMatch(/secretsmanager:GetRandomPassword, xray:PutTraceSegments, xray:PutTelemetryRecords, ec2:DescribeNetworkInterfaces/);
    expect(anyResource).not.toMatch(/rds:|redshift/);
    if (family === 'redshift') {
      expect(iam5Reason(multiFn, 'Resource::*')).toMatch(/redshift-serverless:ListNamespaces and ListWorkgroups support no resource-level permissions/);
    }
    for (const finding of MASTER_RESOLUTION_FINDINGS[family]) {
      const applies = finding.replace(/^AwsSolutions-IAM5\[(.*)\]$/, '$1');
      expect(iam5Reason(multiFn, applies)).toMatch(/resolves? host and port of (RDS|Redshift|DocumentDB)-managed (master|admin) secrets/);
    }
  });
});

describe('cdk-nag: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', () => {

  test('reading tagged master secrets of a team stack: the platform reports nothing; the secret:* reason says why', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const team = new Stack(app, 'Team');
    const vpc = importedVpc(platform);
    const fn = RotationFunction.shared(platform, MULTI, { vpc });
    new SecretsManagerEndpoints(platform, 'Endpoints', { vpc, allowFrom: [fn] });
    const key = secretKey(team);
    new SecretRotation(team, 'Rotation', { secret: secret(team, 'App', key), rotationFunction: fn, masterSecret: secret(team, 'Master', key) });
    expect(describeFindings(nagFindings(platform))).toEqual([]);
    const rules = (fn.policy.node.defaultChild as CfnResource).getMetadata('cdk_nag').rules_to_suppress;
    const secretRule = rules.find((r: any) => r.id === 'AwsSolutions-IAM5'
      && r.applies_to.includes('Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*'));
    expect(secretRule.reason).toMatch(/only on master secrets tagged cdk-secrets-platform:rotation-master-for:Platform-postgres-multi-user-[0-9a-f]{8}=true \(condition aws:ResourceTag\)/);
  });

  test('the suppressions are granular: a new wildcard in the policy is still reported', () => {
    const { stack, functions } = platformStack((s) => ({ vpc: importedVpc(s) }));
    functions[0].addToPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: ['arn:aws:ssm:us-east-1:111111111111:parameter/*'] }));
    expect(describeFindings(nagFindings(stack))).toEqual([
      `error /Platform/${functions[0].node.id}/Policy/Resource: AwsSolutions-IAM5[Resource::arn:aws:ssm:us-east-1:111111111111:parameter/*]`,
    ]);
  });
});
