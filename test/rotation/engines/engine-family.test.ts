import { BUNDLED_ENGINES, DATABASE_ENGINE_DEFAULTS, ROTATION_SCHEMES, defaultPasswordPolicy } from '../../../src/private/contract';
import { ENGINE_FAMILIES } from '../../../src/rotation/engines';
import { DOCUMENTDB_FAMILY } from '../../../src/rotation/engines/documentdb';
import { MARIADB_FAMILY } from '../../../src/rotation/engines/mariadb';
import { MYSQL_FAMILY } from '../../../src/rotation/engines/mysql';
import { POSTGRES_FAMILY } from '../../../src/rotation/engines/postgres';
import { REDSHIFT_FAMILY } from '../../../src/rotation/engines/redshift';

const families = Object.entries(ENGINE_FAMILIES);

/** Statements render ARNs built from pseudo parameters as `${Token[...]}`: compare their shape. */
const ARN = (service: string, resource: string) => new RegExp(`^arn:\\$\\{Token\\[AWS\\.Partition\\.\\d+\\]\\}:${service}:`
  + `\\$\\{Token\\[AWS\\.Region\\.\\d+\\]\\}:\\$\\{Token\\[AWS\\.AccountId\\.\\d+\\]\\}:${resource}$`);

/**
 * What each family's alternating-users function needs beyond the standard permissions: the calls that find host and
 * port of a master secret managed by the database service, which holds only user name and password.
 */
const MASTER_RESOLUTION: Record<string, Array<{ sid: string; actions: string[]; resources: RegExp[]; reason: RegExp }>> = {
  postgres: [rdsDatabases()],
  mysql: [rdsDatabases()],
  mariadb: [rdsDatabases()],
  redshift: [
    {
      sid: 'DescribeRedshiftClustersOfAdminSecrets',
      actions: ['redshift:DescribeClusters'],
      resources: [ARN('redshift', 'cluster:\\*')],
      reason: /resolves host and port of Redshift-managed admin secrets/,
    },
    {
      sid: 'ListRedshiftServerlessOfAdminSecrets',
      actions: ['redshift-serverless:ListNamespaces', 'redshift-serverless:ListWorkgroups'],
      resources: [/^\*$/],
      reason: /support no resource-level permissions: they resolve host and port of the workgroup of a Redshift Serverless-managed admin secret/,
    },
  ],
  documentdb: [{
    sid: 'DescribeDocumentDbClustersOfMasterSecrets',
    actions: ['rds:DescribeDBClusters'],
    resources: [ARN('rds', 'cluster:\\*')],
    reason: /resolves host and port of DocumentDB-managed master secrets/,
  }],
};

function rdsDatabases() {
  return {
    sid: 'DescribeRdsDatabasesOfMasterSecrets',
    actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
    resources: [ARN('rds', 'db:\\*'), ARN('rds', 'cluster:\\*')],
    reason: /resolve host and port of RDS-managed master secrets/,
  };
}

test('every family of the registry has its family file, and only those', () => {
  const registered = Array.from(new Set(Object.values(BUNDLED_ENGINES).map((e) => e.family))).sort();
  expect(Object.keys(ENGINE_FAMILIES).sort()).toEqual(registered);
  expect(ENGINE_FAMILIES).toEqual({
    postgres: POSTGRES_FAMILY,
    mysql: MYSQL_FAMILY,
    mariadb: MARIADB_FAMILY,
    redshift: REDSHIFT_FAMILY,
    documentdb: DOCUMENTDB_FAMILY,
  });
  expect(Object.keys(MASTER_RESOLUTION).sort()).toEqual(registered);
});

describe.each(families)('%s family', (key, family) => {
  test('is filed under its own name', () => {
    expect(family.family).toBe(key);
  });

  test('single user needs no statement beyond the standard rotation permissions', () => {
    expect(family.statements(ROTATION_SCHEMES.SINGLE_USER)).toEqual([]);
  });

  test('alternating users resolve the database of a service-managed master secret, with the reason for the wildcards', () => {
    const statements = family.statements(ROTATION_SCHEMES.MULTI_USER);
    const expected = MASTER_RESOLUTION[key];
    expect(statements.map((s) => s.statement.sid)).toEqual(expected.map((e) => e.sid));
    statements.forEach((grant, i) => {
      const json = grant.statement.toStatementJson();
      expect(json.Effect).toBe('Allow');
      expect(json.Condition).toBeUndefined();
      expect([json.Action].flat()).toEqual(expected[i].actions);
      const resources: string[] = [json.Resource].flat();
      expect(resources).toHaveLength(expected[i].resources.length);
      resources.forEach((r, j) => expect(r).toMatch(expected[i].resources[j]));
      expect(grant.wildcardReason).toMatch(expected[i].reason);
    });
    // new objects on every call: no two policies share a statement
    expect(family.statements(ROTATION_SCHEMES.MULTI_USER)[0].statement).not.toBe(statements[0].statement);
  });

  test('its password policy is the registry\'s default for the family, and it follows the family\'s password rules', () => {
    const excluded = DATABASE_ENGINE_DEFAULTS[family.family].excludeCharacters;
    expect(family.passwordPolicy()._toContract()).toEqual(defaultPasswordPolicy(excluded));
    expect(family.passwordRules?.problems(family.passwordPolicy()) ?? []).toEqual([]);
    // only Redshift states rules beyond the registry's exclusions and longest password
    expect(family.passwordRules !== undefined).toBe(key === 'redshift');
  });
});
