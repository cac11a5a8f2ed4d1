import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EngineFamily, EngineStatement, PasswordRules, familyPasswordPolicy } from './engine-family';
import { PasswordPolicy } from '../../password-policy';
import { DATABASE_ENGINE_DEFAULTS, ROTATION_SCHEMES } from '../../private/contract';

/** Redshift's password length bounds (CREATE USER / ALTER USER); the longest is the registry's. */
const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = DATABASE_ENGINE_DEFAULTS.redshift.maxPasswordLength;
/** Printable characters Redshift refuses in a password (the space is refused too: only ASCII 33 to 126 are allowed). */
const FORBIDDEN_PASSWORD_CHARACTERS = '\'"\\/@';

/**
 * Redshift's password rules (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html): 8 to 64 characters, at
 * least one upper-case letter, one lower-case letter and one digit, printable ASCII (33 to 126) except `' " \ / @`.
 * The handler checks every generated password against them too, but only after the rotation has started: refusing the
 * policy at synth keeps such a rotation from ever starting.
 */
const REDSHIFT_PASSWORD_RULES: PasswordRules = {
  description: `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters with an upper-case letter, a lower-case letter `
    + 'and a digit, and none of \' " \\ / @ or space',
  problems: (policy: PasswordPolicy) => {
    const problems: string[] = [];
    if (policy.length < MIN_PASSWORD_LENGTH || policy.length > MAX_PASSWORD_LENGTH) {
      problems.push(`length must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}, got ${policy.length}`);
    }
    const required: Array<[boolean, string, string]> = [
      [policy.excludeUppercase, 'excludeUppercase', 'an upper-case letter'],
      [policy.excludeLowercase, 'excludeLowercase', 'a lower-case letter'],
      [policy.excludeNumbers, 'excludeNumbers', 'a digit'],
    ];
    for (const [excluded, property, what] of required) {
      if (excluded) {
        problems.push(`${property} must be false: every password needs ${what}`);
      }
    }
    if (!policy.requireEachIncludedType) {
      problems.push('requireEachIncludedType must be true: otherwise a password may lack an upper-case letter, a lower-case '
        + 'letter or a digit');
    }
    const missing = [...FORBIDDEN_PASSWORD_CHARACTERS].filter((c) => !policy.excludeCharacters.includes(c));
    if (missing.length > 0) {
      problems.push(`excludeCharacters must include ${JSON.stringify(missing.join(''))}, which Redshift refuses in passwords`);
    }
    if (policy.includeSpace) {
      problems.push('includeSpace must be false: Redshift refuses spaces in passwords');
    }
    return problems;
  },
};

/**
 * Amazon Redshift: passwords exclude the registry's Redshift characters and stay within Redshift's 64; alternating users
 * resolve Redshift-managed admin secrets (tagged with the cluster or the Serverless namespace) through the Redshift and
 * Redshift Serverless APIs.
 */
export const REDSHIFT_FAMILY: EngineFamily = {
  family: 'redshift',
  displayName: 'Amazon Redshift',
  statements: (scheme) => scheme === ROTATION_SCHEMES.MULTI_USER ? describeRedshiftEndpointsOfAdminSecrets() : [],
  passwordPolicy: () => familyPasswordPolicy('redshift'),
  passwordRules: REDSHIFT_PASSWORD_RULES,
};

/**
 * `redshift:DescribeClusters` takes the optional resource type `cluster`
 * (`arn:${Partition}:redshift:${Region}:${Account}:cluster:${ClusterName}`), so it is scoped to the account's clusters;
 * `redshift-serverless:ListNamespaces` and `ListWorkgroups` have no resource type and need `*` (Service Authorization
 * Reference, Amazon Redshift and Amazon Redshift Serverless).
 */
function describeRedshiftEndpointsOfAdminSecrets(): EngineStatement[] {
  return [
    {
      statement: new iam.PolicyStatement({
        sid: 'DescribeRedshiftClustersOfAdminSecrets',
        actions: ['redshift:DescribeClusters'],
        resources: [`arn:${Aws.PARTITION}:redshift:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:*`],
      }),
      wildcardReason: 'redshift:DescribeClusters on the clusters of the account and region: it resolves host and port of '
        + 'Redshift-managed admin secrets, whose clusters are not known in advance.',
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'ListRedshiftServerlessOfAdminSecrets',
        actions: ['redshift-serverless:ListNamespaces', 'redshift-serverless:ListWorkgroups'],
        // list actions support no resource-level permissions
        resources: ['*'],
      }),
      wildcardReason: 'redshift-serverless:ListNamespaces and ListWorkgroups support no resource-level permissions: they '
        + 'resolve host and port of the workgroup of a Redshift Serverless-managed admin secret.',
    },
  ];
}
