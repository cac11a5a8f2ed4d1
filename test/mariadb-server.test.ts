import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as mysql from 'mysql2/promise';
import { dataTemplatesMade } from './support/data-template';
import { startAll, stopAll } from './support/lifecycle';
import { greetingConnectionId, joinLogs } from './support/mariadb-logs';
import { MARIADB_INSTALL_ENTRIES, MariaDbServer, mariadbServerDataTemplate } from './support/mariadb-server';
import { processesMentioning } from './support/processes';
import { BINARIES_CACHE_PREFIX } from './support/server-binaries';
import { findServerUser, userCan } from './support/server-user';
import { jsonLines, runSnippet } from './support/snippet';
import { createTestCertificates } from './support/tls';
import { nativePasswordHash } from '../lambda/engines/mysql-auth';

/** Connects, runs one query, disconnects; rejects with the driver's or the TLS error. */
async function queryOnce<T>(options: mysql.ConnectionOptions, sql: string): Promise<T[]> {
  const connection = await mysql.createConnection({ connectTimeout: 5_000, ...options });
  try {
    const [rows] = await connection.query(sql);
    return rows as T[];
  } finally {
    await connection.end();
  }
}

/** The driver checks the host name only with verifyIdentity; without it any certificate from the CA would do. */
function verifiedTls(server: MariaDbServer) {
  return { ca: server.caCertPem, rejectUnauthorized: true, verifyIdentity: true };
}

const TLS_CIPHER = "SELECT VARIABLE_VALUE AS cipher FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'";

describe('MariaDbServer with TLS', () => {
  let server: MariaDbServer;
  let login: { host: string; port: number; user: string; password: string };

  beforeAll(async () => {
    server = await MariaDbServer.start();
    await server.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret'");
    await server.query('CREATE DATABASE other');
    await server.query("GRANT ALL ON other.* TO 'app'@'%'");
    login = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret' };
  });
  afterAll(() => server?.stop());

  test('describes itself', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.superuser.username).toBe('root');
    expect(server.superuser.password.length).toBeGreaterThanOrEqual(16);
    expect(server.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(fs.existsSync(path.join(server.basedir, 'sbin', 'mariadbd'))).toBe(true);
    expect(fs.readFileSync(server.caCertPath!, 'utf8')).toBe(server.caCertPem);
    expect(server.caCertPem).toContain('BEGIN CERTIFICATE');
    expect(fs.readFileSync(server.logPath, 'utf8')).toContain('ready for connections');
    expect(fs.existsSync(path.join(server.dataDir, 'mysql'))).toBe(true);
  });

  test('runs superuser queries with bound parameters over TLS', async () => {
    const rows = await server.query<{ sum: number; who: string }>('SELECT ? + ? AS sum, CURRENT_USER() AS who', [2, 3]);
    expect(rows).toEqual([{ sum: 5, who: 'root@%' }]);
    const [{ cipher }] = await server.query<{ cipher: string }>(TLS_CIPHER);
    expect(cipher).toMatch(/^TLS_|ECDHE/);
    // Statements that return no rows give an empty list.
    await expect(server.query('DO 1')).resolves.toEqual([]);
  });

  test('queries other databases', async () => {
    const rows = await server.query<{ db: string }>('SELECT DATABASE() AS db', [], 'other');
    expect(rows).toEqual([{ db: 'other' }]);
    await expect(server.query<{ db: string | null }>('SELECT DATABASE() AS db')).resolves.toEqual([{ db: null }]);
  });

  test('has its own grant tables: root only, with the harness password, and the new user', async () => {
    const accounts = await server.query<{ account: string }>(
      "SELECT CONCAT(User, '@', Host) AS account FROM mysql.global_priv WHERE User <> 'mariadb.sys' ORDER BY 1");
    expect(accounts.map((a) => a.account)).toEqual(['app@%', 'root@%', 'root@localhost']);
  });

  test('accepts a verified TLS login by host name and by IP address', async () => {
    await expect(queryOnce<{ cipher: string }>({ ...login, ssl: verifiedTls(server) }, TLS_CIPHER))
      .resolves.toEqual([{ cipher: expect.stringMatching(/./) }]);
    await expect(queryOnce({ ...login, host: '127.0.0.1', ssl: verifiedTls(server) }, 'SELECT 1 AS one'))
      .resolves.toEqual([{ one: 1 }]);
  });

  test('a client trusting a different CA fails verification', async () => {
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'other-ca-'));
    try {
      const other = await createTestCertificates(otherDir, { hostnames: ['localhost'] });
      await expect(queryOnce({ ...login, ssl: { ...verifiedTls(server), ca: other.caCertPem } }, 'SELECT 1'))
        // The server sends its CA along with its certificate, so the chain ends in a CA the client does not trust.
        .rejects.toMatchObject({ code: 'HANDSHAKE_SSL_ERROR', message: 'self-signed certificate in certificate chain' });
    } finally {
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  });

  test('canLogin tells good from bad credentials', async () => {
    await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    await expect(server.canLogin('app', 'app-secret', 'other')).resolves.toBe(true);
    await expect(server.canLogin('app', 'wrong')).resolves.toBe(false);
    await expect(server.canLogin('nobody-here', 'app-secret')).resolves.toBe(false);
    await expect(server.canLogin(server.superuser.username, server.superuser.password)).resolves.toBe(true);
  });

  test('canLogin throws on failures other than authentication', async () => {
    // Authenticated, but refused the database: not an answer about the password.
    await expect(server.canLogin('app', 'app-secret', 'mysql')).rejects.toMatchObject({ errno: 1044 });
    await server.query("CREATE USER 'locked'@'%' IDENTIFIED BY 'locked-secret' ACCOUNT LOCK");
    await expect(server.canLogin('locked', 'locked-secret')).rejects.toMatchObject({ errno: 4151 });
  });

  test('authorizedConnections reports user, host, database and TLS use, and leaves out the harness\'s own', async () => {
    await server.query("CREATE USER 'seen'@'%' IDENTIFIED BY 'seen-secret'");
    await server.query("GRANT ALL ON other.* TO 'seen'@'%'");
    const seen = { ...login, user: 'seen', password: 'seen-secret' };
    await queryOnce({ ...seen, database: 'other', ssl: verifiedTls(server) }, 'SELECT 1');
    await queryOnce({ ...seen }, 'SELECT 1'); // plaintext: the server accepts it unless requireTls
    await expect(queryOnce({ ...seen, password: 'wrong', ssl: verifiedTls(server) }, 'SELECT 1')).rejects.toMatchObject({ errno: 1045 });
    // The superuser from outside the harness is a connection like any other.
    await queryOnce({ ...login, user: 'root', password: server.superuser.password, ssl: verifiedTls(server) }, 'SELECT 1');
    await expect(server.canLogin('seen', 'seen-secret')).resolves.toBe(true); // the harness's own

    const connections = await server.authorizedConnections();
    expect(connections.filter((c) => c.user === 'seen')).toEqual([
      { user: 'seen', host: '127.0.0.1', database: 'other', ssl: true },
      { user: 'seen', host: '127.0.0.1', database: '', ssl: false },
    ]);
    // Only the test's own root login: the harness's queries, canLogin calls and readiness probe are left out.
    expect(connections.filter((c) => c.user === 'root')).toEqual([{ user: 'root', host: '127.0.0.1', database: '', ssl: true }]);
  });
});

describe('MariaDbServer with a certificate for another host name', () => {
  let server: MariaDbServer;

  beforeAll(async () => {
    server = await MariaDbServer.start({ tls: { hostnames: ['db.other.example'], ipAddresses: [] } });
  });
  afterAll(() => server?.stop());

  test('the harness itself still connects, verifying the certificate\'s own name', async () => {
    await expect(server.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });

  test('connecting to localhost fails host name verification', async () => {
    const root = { host: 'localhost', port: server.port, user: 'root', password: server.superuser.password };
    await expect(queryOnce({ ...root, ssl: verifiedTls(server) }, 'SELECT 1'))
      .rejects.toMatchObject({ code: 'HANDSHAKE_SSL_ERROR', message: expect.stringMatching(/altnames/) });
  });
});

describe('MariaDbServer with requireTls', () => {
  let server: MariaDbServer;

  beforeAll(async () => {
    server = await MariaDbServer.start({ requireTls: true });
    await server.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret'");
  });
  afterAll(() => server?.stop());

  test('rejects a plaintext login and accepts a TLS one', async () => {
    const login = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret' };
    // MariaDB answers a plaintext login under require_secure_transport with the access-denied error.
    await expect(queryOnce(login, 'SELECT 1')).rejects.toMatchObject({ errno: 1045 });
    await expect(queryOnce<{ cipher: string }>({ ...login, ssl: verifiedTls(server) }, TLS_CIPHER))
      .resolves.toEqual([{ cipher: expect.stringMatching(/./) }]);
    await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    expect(await server.authorizedConnections()).toEqual([{ user: 'app', host: '127.0.0.1', database: '', ssl: true }]);
    await expect(server.query<{ value: number }>('SELECT @@require_secure_transport AS value')).resolves.toEqual([{ value: 1 }]);
  });
});

describe('MariaDbServer without TLS', () => {
  let server: MariaDbServer;

  beforeAll(async () => {
    server = await MariaDbServer.start({ tls: false });
  });
  afterAll(() => server?.stop());

  test('serves plaintext only', async () => {
    expect(server.caCertPath).toBeUndefined();
    expect(server.caCertPem).toBeUndefined();
    await expect(server.query(TLS_CIPHER)).resolves.toEqual([{ cipher: '' }]);
    await server.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret'");
    const login = { host: '127.0.0.1', port: server.port, user: 'app', password: 'app-secret' };
    await expect(queryOnce({ ...login, ssl: { rejectUnauthorized: true } }, 'SELECT 1')).rejects.toThrow(/does not support secure connection/);
    await queryOnce(login, 'SELECT 1');
    expect(await server.authorizedConnections()).toEqual([{ user: 'app', host: '127.0.0.1', database: '', ssl: false }]);
  });

  test('stop() shuts the server down and removes its files', async () => {
    const { dataDir, port } = server;
    const tempDir = path.dirname(dataDir);
    expect(processesMentioning(tempDir)).toHaveLength(1);
    await server.stop();
    expect(processesMentioning(tempDir)).toEqual([]);
    expect(fs.existsSync(tempDir)).toBe(false);
    await expect(queryOnce({ host: '127.0.0.1', port, user: 'root', password: 'x' }, 'SELECT 1'))
      .rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(server.stop()).resolves.toBeUndefined();
    await expect(server.query('SELECT 1')).rejects.toThrow(/stopped/);
    await expect(server.canLogin('app', 'app-secret')).rejects.toThrow(/stopped/);
  });
});

test('two servers run side by side, each with its own port, CA, data and accounts', async () => {
  const [a, b] = await startAll([MariaDbServer.start(), MariaDbServer.start()]);
  try {
    expect(a.port).not.toBe(b.port);
    expect(a.dataDir).not.toBe(b.dataDir);
    expect(a.caCertPem).not.toBe(b.caCertPem);
    await a.query("CREATE USER 'only_a'@'%' IDENTIFIED BY 'a-secret'");
    await expect(a.canLogin('only_a', 'a-secret')).resolves.toBe(true);
    await expect(b.canLogin('only_a', 'a-secret')).resolves.toBe(false);
    // A client of one server does not trust the other's certificate.
    const intoB = { host: 'localhost', port: b.port, user: 'root', password: b.superuser.password, ssl: verifiedTls(a) };
    await expect(queryOnce(intoB, 'SELECT 1')).rejects.toMatchObject({ code: 'HANDSHAKE_SSL_ERROR' });
  } finally {
    await stopAll([a, b]);
  }
});

describe('servers started from the data template', () => {
  let withTls: MariaDbServer;
  let plain: MariaDbServer;
  let templatePassword: string;
  let madeBefore: number;

  beforeAll(async () => {
    templatePassword = (await mariadbServerDataTemplate()).password; // made here if this process has none yet
    madeBefore = dataTemplatesMade();
    [withTls, plain] = await startAll([MariaDbServer.start(), MariaDbServer.start({ tls: false })]);
  });
  afterAll(() => stopAll([withTls, plain].filter(Boolean)));

  /** Logs in as root@localhost through the server's unix socket: the other account that had the template's password. */
  async function canLoginOnSocket(server: MariaDbServer, password: string): Promise<boolean> {
    const socketPath = path.join(path.dirname(server.dataDir), 'mysqld.sock');
    try {
      await queryOnce({ socketPath, user: 'root', password }, 'SELECT 1');
      return true;
    } catch (err) {
      if ((err as { errno?: number }).errno === 1045) return false;
      throw err;
    }
  }

  test('the template is made once per process: starts copy it', async () => {
    expect(dataTemplatesMade()).toBe(madeBefore);
    expect((await mariadbServerDataTemplate()).password).toBe(templatePassword);
  });

  test('each server has its own superuser password and refuses the other\'s and the template\'s, over TCP and the socket', async () => {
    expect(withTls.superuser.password).not.toBe(plain.superuser.password);
    expect(templatePassword).not.toBe(withTls.superuser.password);
    for (const [server, other] of [[withTls, plain], [plain, withTls]]) {
      await expect(server.canLogin('root', server.superuser.password)).resolves.toBe(true);
      await expect(server.canLogin('root', other.superuser.password)).resolves.toBe(false);
      await expect(server.canLogin('root', templatePassword)).resolves.toBe(false);
      await expect(canLoginOnSocket(server, server.superuser.password)).resolves.toBe(true);
      await expect(canLoginOnSocket(server, templatePassword)).resolves.toBe(false);
    }
  });

  test('the password change leaves neither the password nor its hash in the general log', async () => {
    const generalLog = fs.readFileSync(path.join(path.dirname(withTls.dataDir), 'general.log'), 'utf8');
    expect(generalLog).toMatch(/Connect\troot@127\.0\.0\.1/); // the log is on, and saw the harness log in
    for (const secret of [withTls.superuser.password, nativePasswordHash(withTls.superuser.password), templatePassword]) {
      expect(generalLog).not.toContain(secret);
    }
  });

  test('a copy serves TLS or plaintext as asked, and takes its own accounts', async () => {
    await expect(withTls.query(TLS_CIPHER)).resolves.toEqual([{ cipher: expect.stringMatching(/./) }]);
    await expect(plain.query(TLS_CIPHER)).resolves.toEqual([{ cipher: '' }]);
    await withTls.query("CREATE USER 'only_tls'@'%' IDENTIFIED BY 'only-secret'");
    await expect(withTls.canLogin('only_tls', 'only-secret')).resolves.toBe(true);
    await expect(plain.canLogin('only_tls', 'only-secret')).resolves.toBe(false);
  });
});

const IS_ROOT = process.getuid?.() === 0;

(IS_ROOT ? describe : describe.skip)('as root, a MariaDB install in a 0700 folder (root only: a normal user runs the server as itself)', () => {
  const serverUser = findServerUser(['mysql', 'nobody']);
  let checkout: string;
  let basedir: string;

  beforeAll(() => {
    // Like a checkout in /root or a `mktemp -d` folder: only its owner can traverse it.
    checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'private-mariadb-'));
    expect(fs.statSync(checkout).mode % 0o1000).toBe(0o700);
    basedir = path.join(checkout, 'install');
    for (const entry of MARIADB_INSTALL_ENTRIES) {
      fs.cpSync(path.join('/usr', entry), path.join(basedir, entry), { recursive: true, verbatimSymlinks: true });
    }
  });
  afterAll(() => {
    // The copy is made for this test's folder alone: leave no 40 MB cache behind.
    const copies = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(`${BINARIES_CACHE_PREFIX}mariadb-`));
    for (const dir of [checkout, ...copies.map((name) => path.join(os.tmpdir(), name))]) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the server user cannot execute it where it is, so the server runs from a copy and accepts a login', async () => {
    await expect(userCan(serverUser!, [{ path: path.join(basedir, 'sbin', 'mariadbd'), access: 'execute' }])).resolves.toBe(false);
    const server = await MariaDbServer.start({ basedir });
    try {
      expect(server.basedir.startsWith(checkout)).toBe(false);
      expect(path.basename(server.basedir)).toMatch(new RegExp(`^${BINARIES_CACHE_PREFIX}mariadb-`));
      const [{ running }] = await server.query<{ running: string }>('SELECT @@basedir AS running');
      expect(path.resolve(running)).toBe(server.basedir);
      await server.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret'");
      await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('when a start fails or the owner ends', () => {
  const support = path.join(__dirname, 'support', 'mariadb-server');
  let tmp: string;

  beforeEach(() => {
    // The harness's temp dirs go here (TMPDIR), so what a start leaves behind is ours to see.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mariadb-starts-'));
    fs.chmodSync(tmp, 0o755); // the server user must reach the data dirs in it
  });
  afterEach(() => {
    // A failing test must not leak what it was checking for: a server left running keeps its port and memory.
    for (const leftover of processesMentioning(tmp)) process.kill(Number(leftover.split(':')[0]), 'SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Leftovers: processes and files in TMPDIR (a binaries copy would be a cache, not a leftover). */
  function leftovers() {
    const files = fs.readdirSync(tmp).filter((name) => !name.startsWith(BINARIES_CACHE_PREFIX));
    return { processes: processesMentioning(tmp), files };
  }

  /**
   * An install whose mariadb-install-db fails after printing the SQL it was given, as the bootstrap does with a
   * failing statement: the superuser's password is in it. Readable by the server user where it is, so no copy.
   */
  function echoingInstall(): string {
    const basedir = fs.mkdtempSync(path.join(os.tmpdir(), 'echoing-mariadb-'));
    fs.chmodSync(basedir, 0o755);
    fs.mkdirSync(path.join(basedir, 'bin'), { mode: 0o755 });
    fs.mkdirSync(path.join(basedir, 'sbin'), { mode: 0o755 });
    fs.symlinkSync('/usr/sbin/mariadbd', path.join(basedir, 'sbin', 'mariadbd'));
    fs.symlinkSync('/usr/bin/my_print_defaults', path.join(basedir, 'bin', 'my_print_defaults'));
    const script = '#!/bin/sh\nfor arg; do case "$arg" in --extra-file=*) cat "${arg#--extra-file=}" >&2;; esac; done\nexit 1\n';
    fs.writeFileSync(path.join(basedir, 'bin', 'mariadb-install-db'), script, { mode: 0o755 });
    return basedir;
  }

  test('a failed start rejects with the log tail, and leaves no process, temp dir or open handle behind', async () => {
    const echoing = echoingInstall();
    const script = `
      const { MariaDbServer } = require(${JSON.stringify(support)});
      const { RotationFixture } = require(${JSON.stringify(path.join(__dirname, 'support', 'rotation-fixture'))});
      const { MARIADB_CONFORMANCE } = require(${JSON.stringify(path.join(__dirname, 'support', 'mariadb-conformance-server'))});
      const attempts = {
        missingInstall: () => MariaDbServer.start({ basedir: '/nonexistent' }),
        echoedPassword: () => MariaDbServer.start({ basedir: ${JSON.stringify(echoing)} }),
        // mariadbd exits at once
        invalidSetting: () => MariaDbServer.start({ settings: { no_such_option: 1 } }),
        // mariadbd runs, but never on TCP: stopped when the wait for it ends
        neverReady: () => MariaDbServer.start({ settings: { skip_networking: true }, readyTimeoutMs: 1500 }),
        // the local Secrets Manager and RDS endpoints start fine and must be stopped again
        fixture: () => RotationFixture.startOn(MARIADB_CONFORMANCE, { settings: { no_such_option: 1 } }),
      };
      (async () => {
        for (const [name, attempt] of Object.entries(attempts)) {
          const outcome = await attempt().then(() => 'started', (err) => err.message);
          process.stdout.write(JSON.stringify([name, outcome]) + '\\n');
        }
        // While this process lives: a server left running would otherwise die only with it.
        const { processesMentioning } = require(${JSON.stringify(path.join(__dirname, 'support', 'processes'))});
        process.stdout.write(JSON.stringify(['running', processesMentioning(process.env.TMPDIR)]) + '\\n');
      })();`;
    // The limit is for the silence between lines (the first includes compiling the support code).
    // No compile cache: it would be the one thing in TMPDIR that is not the harness's.
    const run = await runSnippet(script, { TMPDIR: tmp, DISABLE_V8_COMPILE_CACHE: '1' }, 45_000)
      .finally(() => fs.rmSync(echoing, { recursive: true, force: true }));

    expect(run.stderr).toBe('');
    const outcomes = Object.fromEntries(jsonLines(run) as Array<[string, unknown]>);
    expect(outcomes).toEqual({
      missingInstall: expect.stringMatching(/^No MariaDB server \(bin\/mariadb-install-db, bin\/my_print_defaults, sbin\/mariadbd\) found in \/nonexistent/),
      echoedPassword: expect.stringMatching(/^mariadb-install-db failed: [^]*ALTER USER 'root'@'localhost' IDENTIFIED BY '<password>'/),
      invalidSetting: expect.stringMatching(/^MariaDB \(.*\) did not start: mariadbd exited[^]*--- last lines of the server log ---[^]*unknown variable 'no_such_option=1'/),
      neverReady: expect.stringMatching(/^MariaDB \(.*\) did not start: not ready after 1.5 s[^]*--- last lines of the server log ---/),
      fixture: expect.stringMatching(/^MariaDB \(.*\) did not start: mariadbd exited[^]*unknown variable 'no_such_option=1'/),
      running: [],
    });
    // The server's log tail is its error log, which has no statements; what else echoes the password hides it.
    expect(JSON.stringify(outcomes)).not.toMatch(/IDENTIFIED BY '(?!<password>')/);
    // Exited on its own, promptly: nothing it started kept its event loop alive.
    expect(run.exitAfterOutputMs).toBeLessThan(2_000);
    expect(leftovers()).toEqual({ processes: [], files: [] });
  });

  test('a forgotten stop(): the exit hook kills the server and deletes its files, and nothing holds the process', async () => {
    const script = `
      const { MariaDbServer } = require(${JSON.stringify(support)});
      (async () => {
        const server = await MariaDbServer.start();
        await server.query('SELECT 1'); // leaves an idle pooled connection
        await server.canLogin('root', server.superuser.password);
        process.stdout.write(JSON.stringify(server.dataDir) + '\\n');
      })();`;
    const run = await runSnippet(script, { TMPDIR: tmp, DISABLE_V8_COMPILE_CACHE: '1' }, 45_000);

    expect(run.stderr).toBe('');
    expect(jsonLines(run)).toEqual([expect.stringContaining(tmp)]);
    expect(run.exitAfterOutputMs).toBeLessThan(2_000);
    expect(leftovers()).toEqual({ processes: [], files: [] });
  });

  test('an owner killed outright takes its server with it; the next start deletes the abandoned dir', async () => {
    const killed = `
      const { MariaDbServer } = require(${JSON.stringify(support)});
      MariaDbServer.start().then((server) => {
        process.stdout.write(JSON.stringify(server.dataDir) + '\\n');
        process.kill(process.pid, 'SIGKILL'); // no exit hook runs
      });`;
    const run = await runSnippet(killed, { TMPDIR: tmp, DISABLE_V8_COMPILE_CACHE: '1' }, 45_000);
    expect(run.signal).toBe('SIGKILL');
    const [dataDir] = jsonLines(run) as string[];
    expect(fs.existsSync(dataDir)).toBe(true);
    // The parent-death signal (setpriv --pdeathsig) stops mariadbd; it may take a moment to be reaped.
    for (let i = 0; i < 50 && processesMentioning(tmp).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesMentioning(tmp)).toEqual([]);

    const next = `
      const { MariaDbServer } = require(${JSON.stringify(support)});
      MariaDbServer.start().then((server) => server.stop()).then(() => process.stdout.write('"stopped"\\n'));`;
    const nextRun = await runSnippet(next, { TMPDIR: tmp, DISABLE_V8_COMPILE_CACHE: '1' }, 45_000);
    expect(jsonLines(nextRun)).toEqual(['stopped']);
    expect(leftovers()).toEqual({ processes: [], files: [] });
  });
});

describe('reading the logs', () => {
  /** A protocol-10 greeting for connection `id`, as a server sends it. */
  function greeting(id: number): Buffer {
    const payload = Buffer.concat([Buffer.from([10]), Buffer.from('10.11.18-MariaDB\0'), Buffer.from([id, 0, 0, 0]), Buffer.alloc(40)]);
    return Buffer.concat([Buffer.from([payload.length, 0, 0, 0]), payload]);
  }

  test('the connection id is read from a greeting however it is split, and not from an error packet', () => {
    const packet = greeting(42);
    expect(greetingConnectionId(packet)).toBe(42);
    for (const cut of [3, 5, 12, 22]) expect(greetingConnectionId(packet.subarray(0, cut))).toBeNull();
    // 0xff: the server refused before greeting (too many connections).
    expect(greetingConnectionId(Buffer.from([9, 0, 0, 0, 0xff, 0x10, 0x04, 0x54, 0x6f, 0x6f]))).toBeUndefined();
  });

  test('joins attempts and outcomes on the connection id', () => {
    const general = [
      '261130  0:19:58\t     3 Connect\tapp@127.0.0.1 on  using SSL/TLS',
      '\t\t     3 Query\tSELECT 1',
      '\t\t     4 Connect\tapp@127.0.0.1 on other using TCP/IP',
      '\t\t     4 Init DB\tAccess denied for user \'app\'@\'%\' to database \'other\'',
      '\t\t     5 Connect\troot@127.0.0.1 on  using SSL/TLS',
      '\t\t     6 Connect\tlate@127.0.0.1 on  using SSL/TLS',
      '261130  0:19:59\t     7 Connect\tplain@127.0.0.1 on other using TCP/IP',
    ].join('\n');
    const audit = [
      '20261130 00:19:58,vm,app,127.0.0.1,3,0,CONNECT,,,0',
      '20261130 00:19:58,vm,app,127.0.0.1,4,0,FAILED_CONNECT,other,,1044',
      '20261130 00:19:58,vm,root,127.0.0.1,5,0,CONNECT,,,0',
      '20261130 00:19:58,vm,app,127.0.0.1,3,0,DISCONNECT,,,0',
      '20261130 00:19:59,vm,plain,127.0.0.1,7,0,CONNECT,other,,0',
    ].join('\n');
    expect(joinLogs(general, audit, new Set([5]))).toEqual({
      connections: [
        { user: 'app', host: '127.0.0.1', database: '', ssl: true },
        { user: 'plain', host: '127.0.0.1', database: 'other', ssl: false },
      ],
      // 6 authenticated after the audit log was read: worth waiting for.
      undecided: [6],
    });
    expect(() => joinLogs('', audit, new Set())).toThrow(/not in the general log; is general_log off/);
  });
});
