import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EngineFamily, EngineStatement, familyPasswordPolicy } from './engine-family';
import { ROTATION_SCHEMES } from '../../private/contract';

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
