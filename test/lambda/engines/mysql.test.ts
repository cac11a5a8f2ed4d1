import { createPublicKey, verify } from 'crypto';
import { MARIADB_FLAVOR, mariadbUsernameLimit, ownPlugin, storedForm } from '../../../lambda/engines/mariadb';
import { MYSQL_FLAVOR, mysqlIdentified, mysqlOwnPassword, mysqlUsernameLimit } from '../../../lambda/engines/mysql';
import { ed25519AuthString, ed25519Sign, nativePasswordHash } from '../../../lambda/engines/mysql-auth';
import {
  MysqlFlavor, MysqlSession, assertVerifiableHost, atLeast, classify, connectionOptions, parseVersion, requireClause,
} from '../../../lambda/engines/mysql-family';
import { Deadline } from '../../../lambda/kit/deadline';
import type { DatabaseLogin, SessionKind, StepContext } from '../../../lambda/kit/types';

/** MySQL-only statements and version branches, checked without a server (no MySQL server runs on these machines). */

const v = parseVersion;

describe('versions compare numerically', () => {
  test.each([
    ['10.11.18-MariaDB-0+deb12u1-log', { major: 10, minor: 11, patch: 18 }],
    ['8.0.36', { major: 8, minor: 0, patch: 36 }],
    ['5.7.44-log', { major: 5, minor: 7, patch: 44 }],
    ['5.5.5-10.11.6-MariaDB', { major: 10, minor: 11, patch: 6 }],
    ['8.0.mysql_aurora.3.05.2'.replace('mysql_aurora.3.05.2', '32'), { major: 8, minor: 0, patch: 32 }],
  ])('%s', (text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
  });

  test('not a version', () => {
    expect(() => parseVersion('MariaDB')).toThrow(expect.objectContaining({ code: 'DATABASE_ERROR' }));
  });

  test('10.11 is after 10.9 and 8.0.13 after 8.0.9 (a string comparison says otherwise)', () => {
    expect(atLeast(v('10.11.2'), 10, 9)).toBe(true);
    expect(atLeast(v('8.0.9'), 8, 0, 13)).toBe(false);
    expect(atLeast(v('8.0.13'), 8, 0, 13)).toBe(true);
    expect(atLeast(v('5.7.5'), 5, 7, 6)).toBe(false);
  });
});

describe('user-name limits by version', () => {
  test.each([
    ['5.6.51', 16], ['5.7.44-log', 32], ['8.0.36', 32], ['8.4.3', 32],
  ])('MySQL %s: %d characters', (version, limit) => {
    expect(mysqlUsernameLimit(v(version)).limit).toBe(limit);
  });

  test.each([['10.11.18-MariaDB', 80], ['5.5.68-MariaDB', 16]])('MariaDB %s: %d characters', (version, limit) => {
    expect(mariadbUsernameLimit(v(version)).limit).toBe(limit);
  });
});

describe('MySQL password statements keep the plugin', () => {
  const password = 'p\'w\\d"x';

  test('own password on 8.0.13+: SET PASSWORD with REPLACE of the current one, both quoted by the driver', () => {
    expect(mysqlOwnPassword({ version: v('8.0.36'), password, currentPassword: 'old\'one' }))
      .toBe('SET PASSWORD = \'p\\\'w\\\\d\\"x\' REPLACE \'old\\\'one\'');
  });

  test('own password on 5.7.6 to 8.0.12: no REPLACE; before 5.7.6: PASSWORD()', () => {
    expect(mysqlOwnPassword({ version: v('8.0.12'), password: 'pw', currentPassword: 'old' })).toBe('SET PASSWORD = \'pw\'');
    expect(mysqlOwnPassword({ version: v('5.7.44'), password: 'pw', currentPassword: 'old' })).toBe('SET PASSWORD = \'pw\'');
    expect(mysqlOwnPassword({ version: v('5.6.51'), password: 'pw', currentPassword: 'old' })).toBe('SET PASSWORD = PASSWORD(\'pw\')');
  });

  test('caching_sha2_password and sha256_password are named, so the account keeps its plugin', () => {
    expect(mysqlIdentified('caching_sha2_password', 'pw', v('8.0.36'))).toBe('IDENTIFIED WITH caching_sha2_password BY \'pw\'');
    expect(mysqlIdentified('sha256_password', 'pw', v('8.0.36'))).toBe('IDENTIFIED WITH sha256_password BY \'pw\'');
  });

  test('mysql_native_password gets its hash, never the password', () => {
    expect(mysqlIdentified('mysql_native_password', 'password', v('8.0.36')))
      .toBe('IDENTIFIED WITH mysql_native_password AS \'*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\'');
    expect(mysqlIdentified('mysql_native_password', 'password', v('5.6.51')))
      .toBe('IDENTIFIED BY PASSWORD \'*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\'');
  });

  test('account locking from MySQL 5.7.6 and MariaDB 10.4.2', () => {
    expect(MYSQL_FLAVOR.accountLocking(v('5.7.6'))).toBe(true);
    expect(MYSQL_FLAVOR.accountLocking(v('5.7.5'))).toBe(false);
    expect(MARIADB_FLAVOR.accountLocking(v('10.4.2'))).toBe(true);
    expect(MARIADB_FLAVOR.accountLocking(v('10.3.39'))).toBe(false);
  });
});

describe('stored forms', () => {
  test('mysql_native_password: PASSWORD(\'password\')', () => {
    expect(nativePasswordHash('password')).toBe('*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19');
  });

  test('MariaDB ed25519: the public key of SHA-512(password), as MariaDB stores it', () => {
    expect(ed25519AuthString('secret')).toBe('ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY');
    expect(storedForm('ed25519', 'secret')).toBe('ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY');
  });

  test('MariaDB client_ed25519: a signature of the scramble that verifies against the stored key', () => {
    const scramble = Buffer.from('0123456789abcdef0123456789abcdef');
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(ed25519AuthString('secret'), 'base64').toString('base64url') }, format: 'jwk' });
    expect(verify(null, scramble, key, ed25519Sign('secret', scramble))).toBe(true);
    expect(verify(null, scramble, key, ed25519Sign('Secret', scramble))).toBe(false);
  });

  test('an unsupported plugin is refused', () => {
    expect(() => storedForm('unix_socket', 'x')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ACCOUNT' }));
  });

  test.each([
    ['CREATE USER `a`@`%` IDENTIFIED BY PASSWORD \'*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\'', 'mysql_native_password'],
    ['CREATE USER `a`@`%` IDENTIFIED VIA ed25519 USING \'ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY\' REQUIRE SSL', 'ed25519'],
    ['CREATE USER `a`@`%` IDENTIFIED VIA mysql_native_password USING \'*AB OR x\'', 'mysql_native_password'],
  ])('MariaDB own plugin of %s', (line, plugin) => {
    expect(ownPlugin(line)).toBe(plugin);
  });

  test.each([
    'CREATE USER `a`@`%` IDENTIFIED VIA ed25519 USING \'x\' OR unix_socket',
    'CREATE USER `a`@`%`',
  ])('MariaDB: several plugins or none are refused (%s)', (line) => {
    expect(() => ownPlugin(line)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ACCOUNT' }));
  });
});

describe('requireClause', () => {
  test.each([
    [{ ssl_type: '' }, 'REQUIRE NONE'],
    [{ ssl_type: 'ANY' }, 'REQUIRE SSL'],
    [{ ssl_type: 'X509' }, 'REQUIRE X509'],
    [{ ssl_type: 'SPECIFIED', x509_issuer: Buffer.from('/CN=ca'), x509_subject: Buffer.from('/CN=o\'brien'), ssl_cipher: Buffer.from('') },
      'REQUIRE ISSUER \'/CN=ca\' AND SUBJECT \'/CN=o\\\'brien\''],
    [{ ssl_type: 'SPECIFIED', x509_issuer: '', x509_subject: '', ssl_cipher: 'ECDHE-RSA-AES256-GCM-SHA384' }, 'REQUIRE CIPHER \'ECDHE-RSA-AES256-GCM-SHA384\''],
  ])('%j', (row, clause) => {
    expect(requireClause(row)).toBe(clause);
  });
});

describe('classify: the driver\'s message never survives', () => {
  const err = (props: Record<string, unknown>) => Object.assign(new Error('CANARY-driver-message-31337'), props);
  test.each([
    ['access denied at login', err({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR' }), 'connect', 'LOGIN_FAILED'],
    ['a locked account at login (MariaDB)', err({ errno: 4151 }), 'connect', 'LOGIN_FAILED'],
    ['a locked account at login (MySQL)', err({ errno: 3118 }), 'connect', 'LOGIN_FAILED'],
    ['access denied to the master\'s GRANT', err({ errno: 1045 }), 'master', 'MASTER_NOT_PERMITTED'],
    ['a role without ADMIN OPTION', err({ errno: 1698 }), 'master', 'MASTER_NOT_PERMITTED'],
    ['MySQL 8 missing ROLE_ADMIN', err({ errno: 1227 }), 'master', 'MASTER_NOT_PERMITTED'],
    ['a probe the application user may not run', err({ errno: 1142 }), 'application', 'DATABASE_ERROR'],
    ['connect timeout', err({ code: 'ETIMEDOUT' }), 'connect', 'TIMEOUT'],
    ['query timeout', err({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' }), 'application', 'TIMEOUT'],
    ['max_statement_time', err({ errno: 1969 }), 'application', 'TIMEOUT'],
    ['a certificate for another host', err({ code: 'HANDSHAKE_SSL_ERROR' }), 'connect', 'TLS_FAILED'],
    ['a server without TLS', err({ code: 'HANDSHAKE_NO_SSL_SUPPORT' }), 'connect', 'TLS_FAILED'],
    ['an untrusted CA', err({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'connect', 'TLS_FAILED'],
    ['MySQL secure transport required', err({ errno: 3159 }), 'connect', 'TLS_FAILED'],
  ])('%s is %s', (_what, e, phase, code) => {
    const classified = classify('MySQL', e, 'x', phase as 'connect' | SessionKind);
    expect(classified.code).toBe(code);
    expect(JSON.stringify({ message: classified.message, cause: classified.cause?.message })).not.toContain('CANARY');
  });
});

const ctx = (env: NodeJS.ProcessEnv = {}): StepContext => ({
  secretArn: 'arn', token: 't', deadline: new Deadline(() => 60_000), secrets: undefined as never, env,
});
const login = (extra: Partial<DatabaseLogin> = {}): DatabaseLogin => ({ host: 'db.example.internal', port: 3306, username: 'app', password: 'pw', tls: 'verify-full', ...extra });

describe('connection options', () => {
  test('TLS verifies the chain and the host name; the greeting is bounded by the call budget', () => {
    expect(connectionOptions(login(), ctx(), 1234)).toMatchObject({
      ssl: { rejectUnauthorized: true, verifyIdentity: true }, connectTimeout: 1234, multipleStatements: false,
    });
  });

  test('tls: disabled is the only way to plaintext', () => {
    expect(connectionOptions(login({ tls: 'disabled' }), ctx(), 1000).ssl).toBeUndefined();
  });

  test('an IP address host with TLS is refused (the driver would verify the name localhost)', () => {
    expect(() => assertVerifiableHost(MYSQL_FLAVOR, login({ host: '10.0.0.5' }))).toThrow(expect.objectContaining({ code: 'TLS_FAILED' }));
    expect(() => assertVerifiableHost(MYSQL_FLAVOR, login({ host: '10.0.0.5', tls: 'disabled' }))).not.toThrow();
    expect(() => assertVerifiableHost(MYSQL_FLAVOR, login())).not.toThrow();
  });
});

/**
 * The session over a scripted connection: each statement is recorded and answered by the first matching rule, so
 * the MySQL-only paths (MySQL 8 with caching_sha2_password, MySQL 5.6) run without a MySQL server.
 */
class ScriptedConnection {
  public readonly statements: string[] = [];
  constructor(private readonly rules: Array<[RegExp, unknown[] | Error]>) {}
  public query(options: { sql: string }, done: (err: unknown, rows?: unknown) => void): void {
    this.answer(options.sql, done);
  }
  public execute(options: { sql: string; values: unknown[] }, done: (err: unknown, rows?: unknown) => void): void {
    this.answer(`${options.sql} -- ${JSON.stringify(options.values)}`, done);
  }
  public destroy(): void {}
  public end(done: () => void): void {
    done();
  }
  private answer(sql: string, done: (err: unknown, rows?: unknown) => void): void {
    this.statements.push(sql);
    const rule = this.rules.find(([pattern]) => pattern.test(sql));
    const result = rule?.[1] ?? [];
    setImmediate(() => (result instanceof Error ? done(result) : done(null, result)));
  }
}

async function masterSession(flavor: MysqlFlavor, version: string, rules: Array<[RegExp, unknown[] | Error]>, env: NodeJS.ProcessEnv = {}) {
  const connection = new ScriptedConnection([[/SELECT VERSION\(\)/, [{ v: version }]], ...rules]);
  const session = new MysqlSession(flavor, connection as never, ctx(env), login({ username: 'admin' }), 'master');
  await session.start();
  return { session, connection };
}

const account = (host: string, plugin: string, ssl: Record<string, string> = { ssl_type: '' }) => [{ host, plugin, ...ssl }];

describe('the master\'s session on MySQL 8 (caching_sha2_password)', () => {
  const rules = (cloneExists: boolean): Array<[RegExp, unknown[] | Error]> => [
    [/FROM mysql\.user WHERE User = \? -- \["app"\]/, account('10.0.%', 'caching_sha2_password', { ssl_type: 'X509' })],
    [/FROM mysql\.user WHERE User = \? -- \["app_clone"\]/, cloneExists ? account('10.0.%', 'caching_sha2_password') : []],
    [/SHOW GRANTS FOR 'app'@/, [{ g: 'GRANT USAGE ON *.* TO `app`@`10.0.%`' }, { g: 'GRANT SELECT ON `d%_b`.* TO `app`@`10.0.%`' }, { g: 'GRANT `r`@`%` TO `app`@`10.0.%`' }]],
    [/SHOW GRANTS FOR 'app_clone'@/, [{ g: 'GRANT USAGE ON *.* TO `app_clone`@`10.0.%`' }, { g: 'GRANT DELETE ON `x`.* TO `app_clone`@`10.0.%`' }]],
  ];

  test('a new clone: created locked with the plugin kept, given the grants, then its password, TLS requirement and unlock', async () => {
    const { session, connection } = await masterSession(MYSQL_FLAVOR, '8.0.36', rules(false));
    expect(await session.upsertAlternate('app_clone', 'app', 'NEWPW')).toBe('created');
    const writes = connection.statements.filter((s) => !/^(SELECT|SHOW|SET SESSION)/.test(s));
    expect(writes).toEqual([
      'CREATE USER \'app_clone\'@\'10.0.%\' IDENTIFIED WITH caching_sha2_password BY \'NEWPW\' ACCOUNT LOCK',
      'GRANT SELECT ON `d%_b`.* TO \'app_clone\'@\'10.0.%\'',
      'GRANT `r`@`%` TO \'app_clone\'@\'10.0.%\'',
      'REVOKE DELETE ON `x`.* FROM \'app_clone\'@\'10.0.%\'',
      'GRANT SELECT ON `d%_b`.* TO \'app_clone\'@\'10.0.%\'',
      'GRANT `r`@`%` TO \'app_clone\'@\'10.0.%\'',
      'ALTER USER \'app_clone\'@\'10.0.%\' IDENTIFIED WITH caching_sha2_password BY \'NEWPW\' REQUIRE X509 ACCOUNT UNLOCK',
    ]);
  });

  test('a refused grant drops the clone it created and never unlocks it', async () => {
    const denied = Object.assign(new Error('denied'), { errno: 1227 });
    const { session, connection } = await masterSession(MYSQL_FLAVOR, '8.0.36', [[/^GRANT `r`/, denied], ...rules(false)]);
    await expect(session.upsertAlternate('app_clone', 'app', 'NEWPW')).rejects.toMatchObject({ code: 'MASTER_NOT_PERMITTED' });
    expect(connection.statements.filter((s) => /^(CREATE|DROP|ALTER) USER/.test(s))).toEqual([
      'CREATE USER \'app_clone\'@\'10.0.%\' IDENTIFIED WITH caching_sha2_password BY \'NEWPW\' ACCOUNT LOCK',
      'DROP USER \'app_clone\'@\'10.0.%\'',
    ]);
  });

  test('the pair swinging back sets the original\'s own password with its plugin, on its host', async () => {
    const { session, connection } = await masterSession(MYSQL_FLAVOR, '8.0.36', rules(true));
    expect(await session.upsertAlternate('app', 'app', 'NEWPW')).toBe('updated');
    expect(connection.statements).toContain('ALTER USER \'app\'@\'10.0.%\' IDENTIFIED WITH caching_sha2_password BY \'NEWPW\'');
  });

  test('several accounts of the original are refused before any change', async () => {
    const { session, connection } = await masterSession(MYSQL_FLAVOR, '8.0.36', [
      [/FROM mysql\.user WHERE User = \? -- \["app"\]/, [...account('10.0.%', 'caching_sha2_password'), ...account('%', 'caching_sha2_password')]],
    ]);
    await expect(session.upsertAlternate('app_clone', 'app', 'NEWPW')).rejects.toMatchObject({ code: 'AMBIGUOUS_ACCOUNT' });
    expect(connection.statements.filter((s) => /^(CREATE|ALTER|GRANT)/.test(s))).toEqual([]);
  });

  test('an account on a plugin without a password (IAM authentication) is refused', async () => {
    const { session } = await masterSession(MYSQL_FLAVOR, '8.0.36', [
      [/FROM mysql\.user WHERE User = \? -- \["app"\]/, account('%', 'AWSAuthenticationPlugin')],
    ]);
    await expect(session.upsertAlternate('app_clone', 'app', 'NEWPW')).rejects.toMatchObject({ code: 'UNSUPPORTED_ACCOUNT' });
  });

  test('testSecret\'s comparison: the same grants without the original\'s TLS requirement is PRIVILEGES_OUT_OF_SYNC', async () => {
    const grants = [{ g: 'GRANT USAGE ON *.* TO `x`@`10.0.%`' }, { g: 'GRANT SELECT ON `d`.* TO `x`@`10.0.%`' }];
    const { session } = await masterSession(MYSQL_FLAVOR, '8.0.36', [
      [/FROM mysql\.user WHERE User = \? -- \["app"\]/, account('10.0.%', 'caching_sha2_password', { ssl_type: 'X509' })],
      [/FROM mysql\.user WHERE User = \? -- \["app_clone"\]/, account('10.0.%', 'caching_sha2_password')],
      [/SHOW GRANTS FOR/, grants],
    ]);
    await expect(session.checkAlternate('app', 'app_clone')).rejects.toThrow(/the TLS requirements differ/);
  });

  test('testSecret\'s comparison: a missing grant is PRIVILEGES_OUT_OF_SYNC', async () => {
    const { session } = await masterSession(MYSQL_FLAVOR, '8.0.36', [
      [/FROM mysql\.user WHERE User = \? -- \["app_clone"\]/, account('10.0.%', 'caching_sha2_password', { ssl_type: 'X509' })],
      ...rules(true),
    ]);
    await expect(session.checkAlternate('app', 'app_clone')).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC' });
  });
});

describe('the master\'s session on MySQL 5.6', () => {
  const rules: Array<[RegExp, unknown[] | Error]> = [
    [/FROM mysql\.user WHERE User = \? -- \["application"\]/, account('%', 'mysql_native_password')],
  ];

  test('a clone name over 16 characters is refused, naming the limit and the version', async () => {
    const { session, connection } = await masterSession(MYSQL_FLAVOR, '5.6.51-log', rules);
    await expect(session.upsertAlternate('application_clone', 'application', 'pw')).rejects.toThrow(/would exceed 16 characters \(MySQL 5\.6\.51: 16 before 5\.7\)/);
    expect(connection.statements.filter((s) => /^(CREATE|ALTER|GRANT)/.test(s))).toEqual([]);
  });

  test('ROTATION_USERNAME_LENGTH_LIMIT lifts it for a server that allows more', async () => {
    const { session, connection } = await masterSession(MYSQL_FLAVOR, '5.6.51-log', rules, { ROTATION_USERNAME_LENGTH_LIMIT: '32' });
    await session.upsertAlternate('application_clone', 'application', 'pw');
    // no ACCOUNT LOCK and no ALTER USER before 5.7.6: the hash in the 5.6 forms, the TLS requirement through GRANT USAGE
    expect(connection.statements.filter((s) => /^(CREATE|ALTER|SET PASSWORD|GRANT)/.test(s))).toEqual([
      `CREATE USER 'application_clone'@'%' IDENTIFIED BY PASSWORD '${nativePasswordHash('pw')}'`,
      'GRANT USAGE ON *.* TO \'application_clone\'@\'%\' REQUIRE NONE',
      `SET PASSWORD FOR 'application_clone'@'%' = '${nativePasswordHash('pw')}'`,
    ]);
  });
});

describe('the MariaDB flavor over a scripted connection', () => {
  test('own password: the stored form of the account\'s plugin, read first from SHOW CREATE USER', async () => {
    const connection = new ScriptedConnection([
      [/SELECT VERSION\(\)/, [{ v: '10.11.18-MariaDB' }]],
      [/SHOW CREATE USER CURRENT_USER\(\)/, [{ c: 'CREATE USER `app`@`%` IDENTIFIED VIA ed25519 USING \'x\'' }]],
    ]);
    const session = new MysqlSession(MARIADB_FLAVOR, connection as never, ctx(), login(), 'application');
    await session.start();
    await session.setOwnPassword('app', 'secret');
    expect(connection.statements).toContain('SET PASSWORD = \'ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY\'');
    expect(connection.statements.join('\n')).not.toContain('\'secret\'');
  });
});
