import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EngineFamily, EngineStatement, familyPasswordPolicy } from './engine-family';
import { ROTATION_SCHEMES } from '../../private/contract';

/**
 * Amazon DocumentDB (`mongo`, `docdb`): alternating users resolve DocumentDB-managed master secrets. DocumentDB manages
 * them through the RDS service-linked role, which tags them with `aws:rds:primaryDBClusterArn`, and the RDS API
 * describes DocumentDB clusters (DocumentDB shares the RDS management plane and its `rds:` IAM actions).
 */
export const DOCUMENTDB_FAMILY: EngineFamily = {
  family: 'documentdb',
  displayName: 'Amazon DocumentDB',
  statements: (scheme) => scheme === ROTATION_SCHEMES.MULTI_USER ? [describeDocumentDbClustersOfMasterSecrets()] : [],
  passwordPolicy: () => familyPasswordPolicy('documentdb'),
};

/**
 * Only `rds:DescribeDBClusters`: a DocumentDB master user belongs to its cluster, so a managed master secret names a
 * cluster, never an instance (the RDS families also need `rds:DescribeDBInstances` for instance-level masters).
 */
function describeDocumentDbClustersOfMasterSecrets(): EngineStatement {
  return {
    statement: new iam.PolicyStatement({
      sid: 'DescribeDocumentDbClustersOfMasterSecrets',
      actions: ['rds:DescribeDBClusters'],
      resources: [`arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:*`],
    }),
    wildcardReason: 'rds:DescribeDBClusters on the clusters of the account and region: it resolves host and port of '
      + 'DocumentDB-managed master secrets, whose clusters are not known in advance.',
  };
}
