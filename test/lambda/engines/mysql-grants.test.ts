import { atoms, atomsOf, grantStatement, parseGrant, significant } from '../../../lambda/engines/mysql-grants';

/** SHOW GRANTS lines as MariaDB 10.11 and MySQL 8 write them, given to a clone's account. */
const CLONE = '\'app_clone\'@\'10.0.%\'';

describe('grantStatement: only the grantee and what follows it change', () => {
  test.each([
    ['MariaDB USAGE line with the password hash, TLS and limits',
      'GRANT USAGE ON *.* TO `app`@`10.0.%` IDENTIFIED BY PASSWORD \'*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\' REQUIRE SSL WITH MAX_USER_CONNECTIONS 3',
      `GRANT USAGE ON *.* TO ${CLONE}`],
    ['a database name with %, _ and a doubled backquote',
      'GRANT SELECT, INSERT ON `d%\\_x``y`.* TO `app`@`10.0.%`',
      `GRANT SELECT, INSERT ON \`d%\\_x\`\`y\`.* TO ${CLONE}`],
    ['column grants on a table',
      'GRANT SELECT (`a`, `b TO c`), INSERT (`a`) ON `db`.`t` TO `app`@`10.0.%`',
      `GRANT SELECT (\`a\`, \`b TO c\`), INSERT (\`a\`) ON \`db\`.\`t\` TO ${CLONE}`],
    ['WITH GRANT OPTION',
      'GRANT UPDATE ON `db`.* TO `app`@`10.0.%` WITH GRANT OPTION',
      `GRANT UPDATE ON \`db\`.* TO ${CLONE} WITH GRANT OPTION`],
    ['MariaDB global grant option among resource limits',
      'GRANT RELOAD ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD \'*AB\' WITH GRANT OPTION MAX_QUERIES_PER_HOUR 10',
      `GRANT RELOAD ON *.* TO ${CLONE} WITH GRANT OPTION`],
    ['a MariaDB role', 'GRANT `reader` TO `app`@`10.0.%`', `GRANT \`reader\` TO ${CLONE}`],
    ['MySQL 8 roles with ADMIN OPTION', 'GRANT `r1`@`%`,`r2`@`%` TO `app`@`10.0.%` WITH ADMIN OPTION', `GRANT \`r1\`@\`%\`,\`r2\`@\`%\` TO ${CLONE} WITH ADMIN OPTION`],
    ['GRANT PROXY', 'GRANT PROXY ON \'\'@\'%\' TO \'app\'@\'10.0.%\' WITH GRANT OPTION', `GRANT PROXY ON ''@'%' TO ${CLONE} WITH GRANT OPTION`],
    ['MySQL 8 dynamic privileges', 'GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ADMIN ON *.* TO `app`@`10.0.%`', `GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ADMIN ON *.* TO ${CLONE}`],
    ['a MySQL 8 partial revoke', 'REVOKE INSERT ON `mysql`.* FROM `app`@`10.0.%`', `REVOKE INSERT ON \`mysql\`.* FROM ${CLONE}`],
    ['a MariaDB default role', 'SET DEFAULT ROLE `reader` FOR `app`@`10.0.%`', `SET DEFAULT ROLE \`reader\` FOR ${CLONE}`],
    ['a routine', 'GRANT EXECUTE ON PROCEDURE `db`.`p` TO `app`@`10.0.%`', `GRANT EXECUTE ON PROCEDURE \`db\`.\`p\` TO ${CLONE}`],
    ['a grantee whose name reads like SQL', 'GRANT SELECT ON `db`.* TO `x`` TO y`@`%`', `GRANT SELECT ON \`db\`.* TO ${CLONE}`],
  ])('%s', (_what, line, expected) => {
    expect(grantStatement(parseGrant(line), CLONE)).toBe(expected);
  });

  test('the original\'s password hash never reaches a statement for the clone', () => {
    const line = 'GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED VIA ed25519 USING \'ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY\'';
    expect(grantStatement(parseGrant(line), CLONE)).not.toContain('ZIgU');
  });

  test.each([
    ['another statement', 'CREATE USER `app`@`%`'],
    ['a grant without a grantee', 'GRANT SELECT ON `db`.* TO'],
    ['an unterminated name', 'GRANT SELECT ON `db.* TO `app`@`%`'],
  ])('%s is refused without echoing the line', (_what, line) => {
    expect(() => parseGrant(line)).toThrow(expect.objectContaining({ code: 'DATABASE_ERROR' }));
    try {
      parseGrant(line);
    } catch (err) {
      expect((err as Error).message).not.toContain('app');
    }
  });
});

describe('atoms: grants compare privilege by privilege', () => {
  const keys = (lines: string[]) => [...atomsOf(significant(lines)).keys()].sort();

  test('merged and separate lines hold the same atoms', () => {
    expect(keys(['GRANT SELECT, INSERT ON `db`.* TO `a`@`%`'])).toEqual(keys(['GRANT SELECT ON `db`.* TO `b`@`%`', 'GRANT INSERT ON `db`.* TO `b`@`%`']));
  });

  test('a column grant is one atom per column; the bare USAGE line has none', () => {
    expect(keys(['GRANT USAGE ON *.* TO `a`@`%` IDENTIFIED BY PASSWORD \'*AB\'', 'GRANT SELECT (`x`, `y`) ON `db`.`t` TO `a`@`%`'])).toEqual([
      'SELECT (`x`) ON `db`.`t`', 'SELECT (`y`) ON `db`.`t`',
    ]);
  });

  test('grant options, roles, admin options, proxies and default roles are atoms of their own', () => {
    expect(keys([
      'GRANT UPDATE ON `db`.* TO `a`@`%` WITH GRANT OPTION',
      'GRANT `r1` TO `a`@`%` WITH ADMIN OPTION',
      'GRANT PROXY ON \'p\'@\'%\' TO \'a\'@\'%\'',
      'SET DEFAULT ROLE `r1` FOR `a`@`%`',
    ])).toEqual([
      'ADMIN OPTION `r1`', 'DEFAULT ROLE `r1`', 'GRANT OPTION ON `db`.*', 'PROXY ON \'p\'@\'%\'', 'ROLE `r1`', 'UPDATE ON `db`.*',
    ]);
  });

  test('each atom is taken away by its own statement', () => {
    const undo = (line: string) => atoms(parseGrant(line)).map((a) => a.undo(CLONE));
    expect(undo('GRANT SELECT, INSERT (`a`) ON `db`.`t` TO `x`@`%` WITH GRANT OPTION')).toEqual([
      `REVOKE SELECT ON \`db\`.\`t\` FROM ${CLONE}`,
      `REVOKE INSERT (\`a\`) ON \`db\`.\`t\` FROM ${CLONE}`,
      `REVOKE GRANT OPTION ON \`db\`.\`t\` FROM ${CLONE}`,
    ]);
    expect(undo('GRANT `r1` TO `x`@`%`')).toEqual([`REVOKE \`r1\` FROM ${CLONE}`]);
    expect(undo('GRANT PROXY ON \'p\'@\'%\' TO \'x\'@\'%\'')).toEqual([`REVOKE PROXY ON 'p'@'%' FROM ${CLONE}`]);
    expect(undo('SET DEFAULT ROLE `r1` FOR `x`@`%`')).toEqual([`SET DEFAULT ROLE NONE FOR ${CLONE}`]);
    expect(undo('REVOKE INSERT ON `mysql`.* FROM `x`@`%`')).toEqual([`GRANT INSERT ON \`mysql\`.* TO ${CLONE}`]);
  });
});
