import * as net from 'net';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { MariaDbRotationFixture, account, engineOf, functionArn } from '../support/mariadb-rotation-fixture';

/**
 * Alternating users on a real MariaDB, with both bundles: mariadb-multi-user with MariaDB secrets and mysql-multi-user
 * with MySQL secrets (the MySQL dialect's account, grant and password statements are ones MariaDB also takes for
 * mysql_native_password accounts; MySQL-only forms are tested at statement level in engines/mysql.test.ts).
 *
 * The server trusts PROXY protocol headers from 127.0.0.1, so a relay in front of it can make a login come from
 * 10.0.x.y: accounts on a host other than '%' are then real logins, not only rows in mysql.user.
 */
let f: MariaDbRotationFixture;
let masterArn: string;
let masterPassword: string;

beforeAll(async () => {
  f = await MariaDbRotationFixture.start({ settings: { 'proxy-protocol-networks': '127.0.0.1/32' } });
  ({ arn: masterArn, password: masterPassword } = await f.createPrivilegedMaster());
});

afterAll(async () => {
  await f?.stop();
});

const IDS = ['mariadb-multi-user', 'mysql-multi-user'] as const;

/** An application user with SELECT on its own database (a name with `%`, `_` and a backquote), and its secret. */
async function newApp(id: typeof IDS[number], host = '%', extra: Record<string, unknown> = {}): Promise<{ arn: string; username: string; db: string }> {
  const username = f.unique('app_');
  const password = f.canary();
  await f.createAccount(username, password, host);
  const db = `d%_\`${username}`;
  await f.db.query(`CREATE DATABASE ${quoteId(db)}`);
  await f.db.query(`CREATE TABLE ${quoteId(db)}.t (v int, secret int)`);
  await f.db.query(`GRANT SELECT ON ${quoteId(db)}.* TO ${account(username, host)}`);
  const arn = await f.createSecret(f.dbSecret(engineOf(id), username, password, { masterarn: masterArn, ...extra }));
  return { arn, username, db };
}

function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

describe.each(IDS)('%s', (id) => {
  const ARN = functionArn(id);

  test('users alternate; the clone has the original\'s host and grants; the previous user works until the next setSecret', async () => {
    const { arn, username } = await newApp(id);
    const original = await f.value(arn);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const first = await f.value(arn);
    expect(first.username).toBe(`${username}_clone`);
    expect(await f.hosts(first.username)).toEqual(['%']);
    expect(await f.grants(first.username)).toEqual(await f.grants(username));
    expect(await f.grants(first.username)).toHaveLength(1);
    expect(await f.login(first)).toBe(true);
    expect(await f.login(original)).toBe(true);

    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const second = await f.value(arn);
    expect(second.username).toBe(username);
    expect(await f.login(second)).toBe(true);
    expect(await f.login(first)).toBe(true);
    expect(await f.login(original)).toBe(false);
  });

  test.each([
    ['quotes and a backslash', 'o\'re"il\\ly'],
    ['a percent sign, an underscore and a space', 'pct%_ x'],
    ['non-ASCII and a backquote', 'ünï`名前'],
  ])('a user name with %s alternates; no other account changes (invariant 12)', async (_what, base) => {
    const username = `${base}${f.unique('')}`;
    const password = f.canary();
    await f.createAccount(username, password);
    await f.db.query(`GRANT SELECT ON mysql.db TO ${account(username)}`);
    const arn = await f.createSecret(f.dbSecret(engineOf(id), username, password, { masterarn: masterArn }));
    const before = await f.authStrings([username, `${username}_clone`]);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.grants(`${username}_clone`)).toEqual(await f.grants(username));
    expect(await f.login(await f.value(arn))).toBe(true);
    expect(await f.authStrings([username, `${username}_clone`])).toEqual(before);
  });

  test('column grants, roles, WITH GRANT OPTION, default roles and TLS requirements are copied; the probe proves a read', async () => {
    const { arn, username, db } = await newApp(id);
    const role = f.unique('role_');
    await f.db.query(`CREATE ROLE ${quoteId(role)}`);
    await f.db.query(`GRANT ${quoteId(role)} TO ${account(username)}`);
    await f.db.query(`GRANT ${quoteId(role)} TO ${account('rotation_master')} WITH ADMIN OPTION`);
    await f.db.query(`SET DEFAULT ROLE ${quoteId(role)} FOR ${account(username)}`);
    await f.db.query(`GRANT INSERT (v) ON ${quoteId(db)}.t TO ${account(username)}`);
    await f.db.query(`GRANT UPDATE ON ${quoteId(db)}.* TO ${account(username)} WITH GRANT OPTION`);
    // ISSUER, SUBJECT and CIPHER need a client certificate the current user would have to log in with: statement level
    await f.db.query(`ALTER USER ${account(username)} REQUIRE SSL`);
    process.env.ROTATION_PROBE_QUERY = `SELECT count(*) FROM ${quoteId(db)}.t`;
    try {
      const token = await f.beginManualRotation(arn);
      for (const Step of ['createSecret', 'setSecret']) await f.invoke(id, { Step, SecretId: arn, ClientRequestToken: token });
    } finally {
      delete process.env.ROTATION_PROBE_QUERY;
    }
    const clone = `${username}_clone`;
    expect(await f.grants(clone)).toEqual(await f.grants(username));
    expect((await f.grants(clone)).join('\n')).toContain('WITH GRANT OPTION');
    const requirement = 'SELECT ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ?';
    expect(await f.db.query(requirement, [clone])).toEqual(await f.db.query(requirement, [username]));
  });

  test('an ed25519 original gives an ed25519 clone; both log in through the handler (the MySQL dialect refuses the plugin)', async () => {
    await f.db.query('INSTALL SONAME \'auth_ed25519\'').catch(() => undefined);
    const username = f.unique('ed_');
    const password = f.canary();
    await f.db.query(`CREATE USER ${account(username)} IDENTIFIED VIA ed25519 USING PASSWORD('${password}')`);
    const arn = await f.createSecret(f.dbSecret(engineOf(id), username, password, { masterarn: masterArn }));
    if (id === 'mysql-multi-user') {
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
      expect(f.lastLine(arn)).toMatchObject({ errorCode: 'UNSUPPORTED_ACCOUNT' });
      expect(await f.hosts(`${username}_clone`)).toEqual([]);
      return;
    }
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const rows = await f.db.query('SELECT User AS u, plugin FROM mysql.user WHERE User IN (?, ?) ORDER BY User', [username, `${username}_clone`]);
    expect(rows).toEqual([{ u: username, plugin: 'ed25519' }, { u: `${username}_clone`, plugin: 'ed25519' }]);
  });

  test('grants added to the original between rotations reach the clone; grants it lost are taken from the clone (invariant 15)', async () => {
    const { arn, username, db } = await newApp(id);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    await f.db.query(`GRANT INSERT ON ${quoteId(db)}.* TO ${account(username)}`);
    await f.db.query(`REVOKE SELECT ON ${quoteId(db)}.* FROM ${account(username)}`);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const clone = `${username}_clone`;
    expect((await f.value(arn)).username).toBe(clone);
    expect(await f.grants(clone)).toEqual([`GRANT INSERT ON ${quoteId(db)}.* TO <grantee>`]);
  });

  test('testSecret fails with PRIVILEGES_OUT_OF_SYNC when the clone lost a grant; AWSCURRENT stays', async () => {
    const { arn, username, db } = await newApp(id);
    const token = await f.beginManualRotation(arn);
    for (const Step of ['createSecret', 'setSecret']) await f.invoke(id, { Step, SecretId: arn, ClientRequestToken: token });
    await f.db.query(`REVOKE SELECT ON ${quoteId(db)}.* FROM ${account(`${username}_clone`)}`);
    await expect(f.invoke(id, { Step: 'testSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC' });
    expect(f.sm.versionStages(arn)[token]).toEqual(['AWSPENDING']);
  });

  test('a user name with several accounts is refused with AMBIGUOUS_ACCOUNT; no clone is made', async () => {
    const { arn, username } = await newApp(id);
    await f.createAccount(username, f.canary(), '10.9.%');
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'AMBIGUOUS_ACCOUNT' });
    expect(await f.hosts(`${username}_clone`)).toEqual([]);
  });

  test('a grant the master may not give fails with MASTER_NOT_PERMITTED and leaves no clone', async () => {
    const limited = f.unique('limited_master_');
    const { arn: limitedArn } = await f.createPrivilegedMaster(limited, 'CREATE USER ON *.*');
    await f.db.query(`GRANT SELECT ON mysql.* TO ${account(limited)}`);
    const { arn, username } = await newApp(id, '%', { masterarn: limitedArn });
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'MASTER_NOT_PERMITTED' });
    expect(await f.hosts(`${username}_clone`)).toEqual([]);
  });

  test('a role the master has no ADMIN OPTION on fails with MASTER_NOT_PERMITTED and leaves no clone', async () => {
    const { arn, username } = await newApp(id);
    const role = f.unique('unadministered_');
    await f.db.query(`CREATE ROLE ${quoteId(role)}`);
    await f.db.query(`GRANT ${quoteId(role)} TO ${account(username)}`);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'MASTER_NOT_PERMITTED' });
    expect(await f.hosts(`${username}_clone`)).toEqual([]);
  });

  test('a refusal on an existing clone leaves its old password and never sets the new one', async () => {
    const { arn, username, db } = await newApp(id);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const clone = await f.value(arn, { stage: 'AWSPREVIOUS' });
    const other = `${f.unique('other_')}`;
    await f.db.query(`CREATE DATABASE ${quoteId(other)}`);
    await f.db.query(`GRANT SELECT ON ${quoteId(other)}.* TO ${account(username)}`);
    const limited = f.unique('limited_master_');
    const { arn: limitedArn } = await f.createPrivilegedMaster(limited, 'CREATE USER ON *.*');
    await f.db.query(`GRANT SELECT ON mysql.* TO ${account(limited)}`);
    await f.db.query(`GRANT SELECT ON ${quoteId(db)}.* TO ${account(limited)} WITH GRANT OPTION`);
    const current = await f.value(arn);
    await f.sm.client().send(new PutSecretValueCommand({
      SecretId: arn, SecretString: JSON.stringify({ ...current, masterarn: limitedArn }),
    }));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'MASTER_NOT_PERMITTED' });
    expect(await f.login(clone)).toBe(true);
    const pending = Object.entries(f.sm.versionStages(arn)).find(([, s]) => s.includes('AWSPENDING'))![0];
    expect(await f.login(await f.value(arn, { versionId: pending }))).toBe(false);
  });

  test('a current user named like a clone that holds more than the original is refused (invariant 11)', async () => {
    const { username, db } = await newApp(id);
    const fake = `${username}_clone`;
    const password = f.canary();
    await f.createAccount(fake, password);
    await f.db.query(`GRANT SELECT ON ${quoteId(db)}.* TO ${account(fake)}`);
    await f.db.query(`GRANT CREATE ON *.* TO ${account(fake)}`);
    const arn = await f.createSecret(f.dbSecret(engineOf(id), fake, password, { masterarn: masterArn }));
    const before = await f.authStrings([fake]);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'CONFUSED_DEPUTY' });
    expect(await f.authStrings([fake])).toEqual(before);
  });

  test('a clone name over the engine\'s limit is refused with the limit in the message', async () => {
    const limit = id.startsWith('mysql') ? 32 : 80;
    const username = 'u'.repeat(limit - 5);
    const password = f.canary();
    await f.createAccount(username, password);
    const arn = await f.createSecret(f.dbSecret(engineOf(id), username, password, { masterarn: masterArn }));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'createSecret' });
    expect(String(f.lastLine(arn)?.errorMessage)).toContain(`would exceed ${limit} characters`);
  });

  test('an RDS-managed master secret ({username, password} only) finds host and port through the RDS API', async () => {
    const resourceArn = `arn:aws:rds:us-east-1:123456789012:db:${f.unique('db')}`;
    f.rds.addInstance({ arn: resourceArn, address: f.host, port: f.port });
    const rdsMaster = await f.createSecret({ username: 'rotation_master', password: masterPassword }, [{ Key: 'aws:rds:primaryDBInstanceArn', Value: resourceArn }]);
    const { arn } = await newApp(id, '%', { masterarn: rdsMaster });
    const calls = f.rds.calls.length;
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(f.rds.calls.slice(calls).map((c) => c.action)).toContain('DescribeDBInstances');
  });
});

describe('an account on host 10.0.% (logins through a PROXY protocol relay)', () => {
  let relay: net.Server;
  let savedPort: number;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    relay = net.createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      const upstream = net.connect(f.db.port, '127.0.0.1', () => {
        // PROXY protocol v1: the server takes the client to be 10.0.3.4
        upstream.write(`PROXY TCP4 10.0.3.4 127.0.0.1 ${client.remotePort ?? 40000} ${f.db.port}\r\n`);
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    savedPort = f.port;
    f.port = (relay.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    f.port = savedPort;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
  });

  test.each(IDS)('%s keeps the host through two alternating rotations; a grant added between them reaches the clone', async (id) => {
    const ARN = functionArn(id);
    const master = f.unique('relay_master_');
    const { arn: relayMaster } = await f.createPrivilegedMaster(master);
    const { arn, username, db } = await newApp(id, '10.0.%', { masterarn: relayMaster });
    const outcome = await f.rotate(arn, ARN);
    if (outcome.status !== 'succeeded') console.error(JSON.stringify(f.capture.stepLines.filter((l) => l.secretArn === arn)));
    expect(outcome).toMatchObject({ status: 'succeeded' });
    const clone = `${username}_clone`;
    expect(await f.hosts(clone)).toEqual(['10.0.%']);
    await f.db.query(`GRANT INSERT ON ${quoteId(db)}.* TO ${account(username, '10.0.%')}`);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect((await f.value(arn)).username).toBe(username);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect((await f.value(arn)).username).toBe(clone);
    expect(await f.hosts(clone)).toEqual(['10.0.%']);
    expect(await f.hosts(username)).toEqual(['10.0.%']);
    expect(await f.grants(clone, '10.0.%')).toEqual(await f.grants(username, '10.0.%'));
    expect((await f.grants(clone, '10.0.%')).join('\n')).toContain('INSERT');
    // the logins really came from 10.0.3.4: from 127.0.0.1 the account does not match
    expect(await f.login(await f.value(arn))).toBe(false);
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
