import { BUNDLED_ENGINES, DATABASE_ENGINE_DEFAULTS, ROTATION_SCHEMES, defaultPasswordPolicy } from '../../../src/private/contract';
import { ENGINE_FAMILIES } from '../../../src/rotation/engines';
import { MARIADB_FAMILY } from '../../../src/rotation/engines/mariadb';
import { MYSQL_FAMILY } from '../../../src/rotation/engines/mysql';
import { POSTGRES_FAMILY } from '../../../src/rotation/engines/postgres';

const families = Object.entries(ENGINE_FAMILIES);

test('every family of the registry has its family file, and only those', () => {
  const registered = Array.from(new Set(Object.values(BUNDLED_ENGINES).map((e) => e.family))).sort();
  expect(Object.keys(ENGINE_FAMILIES).sort()).toEqual(registered);
  expect(ENGINE_FAMILIES).toEqual({ postgres: POSTGRES_FAMILY, mysql: MYSQL_FAMILY, mariadb: MARIADB_FAMILY });
});

describe.each(families)('%s family', (key, family) => {
  test('is filed under its own name', () => {
    expect(family.family).toBe(key);
  });

  test('single user needs no statement beyond the standard rotation permissions', () => {
    expect(family.statements(ROTATION_SCHEMES.SINGLE_USER)).toEqual([]);
  });

  test('alternating users describe RDS instances and clusters of the account, with the reason for the wildcards', () => {
    const [grant, ...rest] = family.statements(ROTATION_SCHEMES.MULTI_USER);
    expect(rest).toEqual([]);
    expect(grant.statement.actions.sort()).toEqual(['rds:DescribeDBClusters', 'rds:DescribeDBInstances']);
    expect(grant.statement.resources.every((r) => /:rds:.*:(db|cluster):\*$/.test(r))).toBe(true);
    expect(grant.wildcardReason).toMatch(/resolve host and port of RDS-managed master secrets/);
    // new objects on every call: no two policies share a statement
    expect(family.statements(ROTATION_SCHEMES.MULTI_USER)[0].statement).not.toBe(grant.statement);
  });

  test('its password policy is the registry\'s default for the family', () => {
    const excluded = DATABASE_ENGINE_DEFAULTS[family.family].excludeCharacters;
    expect(family.passwordPolicy()._toContract()).toEqual(defaultPasswordPolicy(excluded));
  });
});
