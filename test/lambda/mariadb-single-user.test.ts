import * as fs from 'fs';
import * as path from 'path';
import { ed25519AuthString } from '../../lambda/engines/mysql-auth';
import { MariaDbRotationFixture, account, engineOf, functionArn } from '../support/mariadb-rotation-fixture';
import { withEnv } from '../support/rotation-harness';

/**
 * Single user on a real MariaDB. The mysql-single-user bundle's own-password statement is MySQL's (`SET PASSWORD =
 * '<password>'`, which MariaDB reads as a stored hash), so it is tested at statement level (engines/mysql.test.ts);
 * its shared paths (TLS, time bounds, login classification) run on MariaDB in mysql-family-transport.test.ts.
 */
let f: MariaDbRotationFixture;

beforeAll(async () => {
  f = await MariaDbRotationFixture.start();
});

afterAll(async () => {
  await f?.stop();
});

describe.each(['mariadb-single-user'] as const)('%s', (id) => {
  const ARN = functionArn(id);
  const engine = engineOf(id);

  test('rotates the user\'s own password twice; only that account changes', async () => {
    const username = f.unique('single_');
    const password = f.canary();
    await f.createAccount(username, password);
    await f.db.query(`CREATE DATABASE \`${username}_db\``);
    await f.db.query(`GRANT SELECT ON \`${username}_db\`.* TO ${account(username)}`);
    const arn = await f.createSecret(f.dbSecret(engine, username, password, { dbname: `${username}_db` }));
    const others = await f.authStrings([username]);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const first = await f.value(arn);
    expect(first.password).not.toBe(password);
    expect(await f.login(first)).toBe(true);
    expect(await f.login({ username, password })).toBe(false);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.login(await f.value(arn))).toBe(true);
    expect(await f.authStrings([username])).toEqual(others);
    expect(await f.hosts(username)).toEqual(['%']);
  });

  test.each([
    ['quotes and a backslash', 'o\'re"il\\ly'],
    ['upper case and a space', 'Mixed Case'],
    ['a percent sign and an underscore', 'pct%_x'],
    ['non-ASCII', 'ünïcødé_名前'],
    ['backquotes', 'back`tick`'],
  ])('a user name with %s rotates (invariant 12)', async (_what, base) => {
    const username = `${base}${f.unique('')}`;
    const password = f.canary();
    await f.createAccount(username, password);
    const decoy = `${base.slice(0, 3)}${f.unique('decoy')}`;
    await f.createAccount(decoy, f.canary());
    const before = await f.authStrings([username]);
    const arn = await f.createSecret(f.dbSecret(engine, username, password));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.login(await f.value(arn))).toBe(true);
    expect(await f.authStrings([username])).toEqual(before);
  });

  test('the account keeps its plugin and TLS requirement', async () => {
    const username = f.unique('keep_');
    const password = f.canary();
    await f.createAccount(username, password, '%', 'REQUIRE SSL');
    const arn = await f.createSecret(f.dbSecret(engine, username, password));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const [row] = await f.db.query('SELECT plugin, ssl_type FROM mysql.user WHERE User = ?', [username]);
    expect(row).toMatchObject({ plugin: 'mysql_native_password', ssl_type: 'ANY' });
  });

  test('an ed25519 account keeps its plugin; the handler logs in with it (testSecret) and the server stores the key of the new password', async () => {
    await f.db.query('INSTALL SONAME \'auth_ed25519\'').catch(() => undefined);
    const username = f.unique('ed_');
    const password = f.canary();
    await f.db.query(`CREATE USER ${account(username)} IDENTIFIED VIA ed25519 USING PASSWORD('${password}')`);
    const arn = await f.createSecret(f.dbSecret(engine, username, password));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const { password: next } = await f.value(arn);
    const [row] = await f.db.query('SELECT plugin, authentication_string AS a FROM mysql.user WHERE User = ?', [username]);
    expect(row).toEqual({ plugin: 'ed25519', a: ed25519AuthString(next) });
  });

  test('a probe that is not a query is refused with INVALID_CONFIGURATION and never runs; AWSCURRENT stays', async () => {
    const username = f.unique('probe_');
    const password = f.canary();
    await f.createAccount(username, password);
    // enough privileges for the statement to succeed if it ran: DDL commits even in a read-only transaction
    await f.db.query(`CREATE DATABASE \`${username}_db\``);
    await f.db.query(`GRANT ALL ON \`${username}_db\`.* TO ${account(username)}`);
    const arn = await f.createSecret(f.dbSecret(engine, username, password));
    const restore = withEnv({ ROTATION_PROBE_QUERY: `CREATE TABLE \`${username}_db\`.probe_made_this (a int)` });
    let outcome;
    try {
      outcome = await f.rotate(arn, ARN);
    } finally {
      restore();
    }
    expect(outcome).toMatchObject({ status: 'failed', step: 'testSecret', errorCode: 'INVALID_CONFIGURATION' });
    expect(await f.db.query('SELECT table_name FROM information_schema.tables WHERE table_schema = ?', [`${username}_db`])).toEqual([]);
    expect((await f.value(arn)).password).toBe(password);
  });

  test('the password never reaches the server as statement text (the general log holds only the stored form)', async () => {
    const username = f.unique('nolog_');
    const password = f.canary();
    await f.createAccount(username, password);
    const arn = await f.createSecret(f.dbSecret(engine, username, password));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const generalLog = await fs.promises.readFile(path.join(f.db.dataDir, '..', 'general.log'), 'utf8');
    const { password: next } = await f.value(arn);
    expect(generalLog).toContain('SET PASSWORD = \'*');
    expect(generalLog.includes(next)).toBe(false);
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
