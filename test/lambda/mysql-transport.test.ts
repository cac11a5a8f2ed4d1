import * as net from 'net';
import { stopAll } from '../support/lifecycle';
import { MariaDbRotationFixture, MYSQL_FAMILY_IDS, MysqlFamilyId, account, engineOf, functionArn } from '../support/mariadb-rotation-fixture';
import { MariaDbServer } from '../support/mariadb-server';

/**
 * Transport of all four MySQL-family bundles on real MariaDB servers (invariants 8 and 9): a certificate for another
 * host, an untrusted CA and a server without TLS fail with TLS_FAILED and no login reaches the server; a server that
 * accepts TCP and never greets fails the step with TIMEOUT before the invocation's time is up.
 */
let f: MariaDbRotationFixture;
/** Its certificate names another host (and is issued by another CA than the fixture server's). */
let wrongHost: MariaDbServer;
let plaintext: MariaDbServer;
let frozen: net.Server;
const frozenSockets = new Set<net.Socket>();
let masterArn: string;

beforeAll(async () => {
  f = await MariaDbRotationFixture.start();
  [wrongHost, plaintext] = await Promise.all([
    MariaDbServer.start({ tls: { hostnames: ['db.wrong-host.test'], ipAddresses: ['127.0.0.2'] } }),
    MariaDbServer.start({ tls: false }),
  ]);
  ({ arn: masterArn } = await f.createPrivilegedMaster());
  frozen = net.createServer((socket) => {
    // accepts and says nothing: no greeting, ever
    frozenSockets.add(socket);
    socket.on('close', () => frozenSockets.delete(socket));
  });
  await new Promise<void>((resolve) => frozen.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of frozenSockets) socket.destroy();
  await new Promise((resolve) => frozen?.close(resolve));
  await stopAll([wrongHost, plaintext].filter((s) => s !== undefined));
  await f?.stop();
});

/** A user on `server` and a secret naming it on `port`; createSecret done by hand, so setSecret is the first login. */
async function prepared(
  id: MysqlFamilyId, server: MariaDbServer | undefined, port: number,
): Promise<{ arn: string; token: string; username: string }> {
  const username = f.unique('tls_');
  const password = f.canary();
  if (server) await server.query(`CREATE USER ${account(username)} IDENTIFIED BY '${password}'`);
  const multi = id.includes('multi');
  const arn = await f.createSecret({ ...f.dbSecret(engineOf(id), username, password, multi ? { masterarn: masterArn } : {}), port });
  const token = await f.beginManualRotation(arn);
  await f.invoke(id, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
  return { arn, token, username };
}

async function loginsOf(server: MariaDbServer, username: string): Promise<unknown[]> {
  return (await server.authorizedConnections()).filter((c) => c.user === username);
}

describe.each(MYSQL_FAMILY_IDS)('%s', (id) => {
  test('a certificate for another host fails with TLS_FAILED; no login reaches the server (invariant 8)', async () => {
    const { arn, token, username } = await prepared(id, wrongHost, wrongHost.port);
    // the server's own CA is trusted here: only the host name is wrong
    process.env.ROTATION_TLS_CA_BUNDLE = wrongHost.caCertPath;
    try {
      await expect(f.invoke(id, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'TLS_FAILED' });
    } finally {
      process.env.ROTATION_TLS_CA_BUNDLE = f.server.caCertPath;
    }
    expect(await loginsOf(wrongHost, username)).toEqual([]);
  });

  test('an untrusted CA fails with TLS_FAILED; no login reaches the server (invariant 8)', async () => {
    const { arn, token, username } = await prepared(id, f.db, f.db.port);
    process.env.ROTATION_TLS_CA_BUNDLE = wrongHost.caCertPath;
    try {
      await expect(f.invoke(id, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'TLS_FAILED' });
    } finally {
      process.env.ROTATION_TLS_CA_BUNDLE = f.server.caCertPath;
    }
    expect(await loginsOf(f.db, username)).toEqual([]);
  });

  test('an IP address as host is refused with TLS_FAILED before connecting (the driver would check the name localhost)', async () => {
    const { arn, username } = await prepared(id, f.db, f.db.port);
    const current = await f.value(arn);
    const ipArn = await f.createSecret({ ...current, host: '127.0.0.1' });
    const ipToken = await f.beginManualRotation(ipArn);
    await f.invoke(id, { Step: 'createSecret', SecretId: ipArn, ClientRequestToken: ipToken });
    await expect(f.invoke(id, { Step: 'setSecret', SecretId: ipArn, ClientRequestToken: ipToken })).rejects.toMatchObject({ code: 'TLS_FAILED' });
    expect(await loginsOf(f.db, username)).toEqual([]);
  });

  test('a server without TLS fails with TLS_FAILED; nothing is retried in plaintext (invariant 8)', async () => {
    const { arn, token, username } = await prepared(id, plaintext, plaintext.port);
    await expect(f.invoke(id, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'TLS_FAILED' });
    expect(await loginsOf(plaintext, username)).toEqual([]);
  });

  test('a server that accepts TCP and never greets fails the step with TIMEOUT before the invocation ends (invariant 9)', async () => {
    const { arn, token } = await prepared(id, undefined, (frozen.address() as net.AddressInfo).port);
    const callTimeout = process.env.ROTATION_CALL_TIMEOUT_MS;
    process.env.ROTATION_CALL_TIMEOUT_MS = '1500';
    const budgetMs = 20_000;
    const started = Date.now();
    try {
      await expect(f.invoke(id, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token }, budgetMs)).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      process.env.ROTATION_CALL_TIMEOUT_MS = callTimeout;
    }
    // the handler threw on its own; the runtime would have killed it at budgetMs
    expect(Date.now() - started).toBeLessThan(budgetMs);
    // and closed its socket rather than leave it open
    for (let i = 0; i < 100 && frozenSockets.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(frozenSockets.size).toBe(0);
  });
});

test('tls: disabled in the secret is the one way to plaintext, and it works', async () => {
  const username = f.unique('plain_');
  const password = f.canary();
  await plaintext.query(`CREATE USER ${account(username)} IDENTIFIED BY '${password}'`);
  const arn = await f.createSecret({ ...f.dbSecret('mariadb', username, password), port: plaintext.port, tls: 'disabled' });
  expect(await f.rotate(arn, functionArn('mariadb-single-user'))).toMatchObject({ status: 'succeeded' });
  const { password: next } = await f.value(arn);
  expect(await plaintext.canLogin(username, next)).toBe(true);
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
