import { ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as mysql from 'mysql2';
import * as mysqlPromise from 'mysql2/promise';
import { copyDataTemplate, DataTemplate } from './data-template';
import {
  Install, installFor, installOptions, mariadbDataTemplate, serverEnv, ServerFiles, serverFiles, STORAGE_OPTIONS,
} from './mariadb-install';
import { AuthorizedConnection, joinLogs, recordingSocket } from './mariadb-logs';
import {
  launchOnFreePort, readPidFile, ServerProcess, signal, sleep, spawnLogged, sweepAbandonedDirs, terminate,
  TestServerOptions, waitUntilReady, withOwnedTempDir,
} from './server-process';
import { createServerTls, ServerTls } from './server-tls';
import { runAsPrefix } from './server-user';
import { nativePasswordHash } from '../../lambda/engines/mysql-auth';

export { MARIADB_INSTALL_ENTRIES } from './mariadb-install';
export type { AuthorizedConnection } from './mariadb-logs';

const SUPERUSER = 'root';
const BIND_ADDRESS = '127.0.0.1';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const TEMP_PREFIX = 'mariadb-harness-';
const ER_ACCESS_DENIED_ERROR = 1045;
/** How long authorizedConnections() waits for the audit log to catch up with the general log (see mariadb-logs.ts). */
const LOG_SETTLE_MS = 2_000;
/** The longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * `requireTls` sets require_secure_transport=ON; `settings` are mariadbd options, `--name=value` with booleans as
 * ON/OFF; `readyTimeoutMs` defaults to 30 s.
 */
export interface MariaDbServerOptions extends TestServerOptions {
  /**
   * The install to run (default MARIADB_BASEDIR, else /usr): bin/mariadb-install-db, bin/my_print_defaults,
   * sbin/mariadbd, share/mysql and lib/mysql/plugin, as Debian lays them out. Used from where it is when the server
   * user can execute it there, else from a copy (see usableInstallRoot).
   */
  readonly basedir?: string;
}

interface Launched {
  readonly port: number;
  readonly child: ChildProcess;
  readonly serverPid: number;
}

/** Everything about a server but its port and process. */
interface ServerSetup {
  readonly install: Install;
  readonly tempDir: string;
  /** The server's own superuser password, which replaces the template's once the server runs. */
  readonly password: string;
  /** The superuser password the data dir was copied with. */
  readonly templatePassword: string;
  readonly tls?: ServerTls;
  /** Connection ids of the harness's own connections, which authorizedConnections() leaves out. */
  readonly harnessIds: Set<number>;
  readonly requireTls: boolean;
  /** The caller's settings as mariadbd options. */
  readonly settings: string[];
  readonly readyTimeoutMs: number;
}

let sweepPromise: Promise<void> | undefined;

/**
 * A throwaway MariaDB server on a random loopback port, with its own data dir, grant tables, CA and server
 * certificate; nothing is shared with a system install (no option files are read). Not tied to jest.
 */
export class MariaDbServer {
  static async start(options: MariaDbServerOptions = {}): Promise<MariaDbServer> {
    if (options.tls === false && options.requireTls) throw new Error('requireTls needs TLS');
    const settings = settingArgs(options.settings ?? {});
    sweepPromise ??= sweepAbandonedDirs(TEMP_PREFIX, killLeftoverServer);
    const [install] = await Promise.all([installFor(options.basedir), sweepPromise]);
    return withOwnedTempDir(TEMP_PREFIX, async (tempDir) => {
      const setup = await prepare(install, tempDir, options, settings);
      const launched = await launchOnFreePort({
        start: (port) => launch(setup, port),
        portTaken: (tail) => /Address already in use/.test(tail),
        logPath: serverFiles(tempDir).errorLog,
        description: `MariaDB (${install.basedir})`,
        redact: (text) => redactPasswords(text, setup),
      }, BIND_ADDRESS);
      return new MariaDbServer(setup, launched);
    });
  }

  readonly host: string = BIND_ADDRESS;
  readonly port: number;
  /** root, for 'localhost' (the socket) and '%' (TCP), with a random password. */
  readonly superuser: { readonly username: string; readonly password: string };
  readonly caCertPath?: string;
  readonly caCertPem?: string;
  /** The install the server runs from (a copy when the server user could not execute the original). */
  readonly basedir: string;
  /** e.g. `10.11.18`. */
  readonly version: string;
  /** The data dir; deleted (with the certificates and logs) by stop(). */
  readonly dataDir: string;
  /** The server's error log (its stdout and stderr). */
  readonly logPath: string;

  private readonly files: ServerFiles;
  private readonly tls?: ServerTls;
  private readonly process: ServerProcess;
  /** Connection ids of the harness's own connections, which authorizedConnections() leaves out. */
  private readonly harnessIds: Set<number>;
  private readonly pools = new Map<string, mysqlPromise.Pool>();

  private constructor(setup: ServerSetup, launched: Launched) {
    this.port = launched.port;
    this.superuser = { username: SUPERUSER, password: setup.password };
    this.caCertPath = setup.tls?.certificates.caCertPath;
    this.caCertPem = setup.tls?.certificates.caCertPem;
    this.basedir = setup.install.basedir;
    this.version = setup.install.version;
    this.files = serverFiles(setup.tempDir);
    this.dataDir = this.files.dataDir;
    this.logPath = this.files.errorLog;
    this.tls = setup.tls;
    this.harnessIds = setup.harnessIds;
    this.process = new ServerProcess({
      ...launched,
      tempDir: setup.tempDir,
      stopSignal: 'SIGTERM', // mariadbd's normal shutdown, quick with innodb_fast_shutdown=3
      exitSignal: 'SIGKILL', // its data is deleted next, so nothing is worth a clean shutdown
    });
  }

  /**
   * Runs SQL as the superuser over TCP (verified TLS when on). With params, a prepared statement with bound
   * parameters; without, the text as it is (not every statement can be prepared). Rows for a SELECT, else [].
   */
  async query<T = any>(sql: string, params: unknown[] = [], database?: string): Promise<T[]> {
    const pool = this.pool(database);
    const [rows] = params.length > 0 ? await pool.execute(sql, params as any[]) : await pool.query(sql);
    return Array.isArray(rows) ? rows as T[] : [];
  }

  /**
   * Whether this username/password can log in right now, over the harness's transport (verified TLS when on).
   * An authentication failure (ER_ACCESS_DENIED_ERROR) gives false; anything else (server down, TLS, a locked
   * account, an unknown database) throws.
   */
  async canLogin(username: string, password: string, database?: string): Promise<boolean> {
    if (this.process.stopped) throw new Error('MariaDbServer is stopped');
    let connection: mysqlPromise.Connection;
    try {
      connection = await mysqlPromise.createConnection(this.clientOptions(username, password, database));
    } catch (err) {
      if ((err as { errno?: number }).errno === ER_ACCESS_DENIED_ERROR) return false;
      throw err;
    }
    await connection.end();
    return true;
  }

  /**
   * Connections the server accepted since start, each with its user, client host, default database and whether it
   * used TLS, in the order accepted. Leaves out the harness's own (query(), canLogin(), the readiness probe).
   * How: see mariadb-logs.ts.
   */
  async authorizedConnections(): Promise<AuthorizedConnection[]> {
    const deadline = Date.now() + LOG_SETTLE_MS;
    for (;;) {
      const [general, audit] = await Promise.all([this.files.generalLog, this.files.auditLog]
        .map((file) => fs.promises.readFile(file, 'utf8').catch(() => '')));
      const { connections, undecided } = joinLogs(general, audit, this.harnessIds);
      // An attempt still undecided at the deadline is still authenticating, or was dropped: not accepted.
      if (undecided.length === 0 || Date.now() >= deadline) return connections;
      await sleep(20);
    }
  }

  /** Shutdown (SIGKILL if it hangs), then deletes the temp dir. Safe to call twice. */
  stop(): Promise<void> {
    return this.process.stop(() => {
      const pools = [...this.pools.values()];
      this.pools.clear();
      return Promise.allSettled(pools.map((pool) => pool.end()));
    });
  }

  private pool(database: string | undefined): mysqlPromise.Pool {
    if (this.process.stopped) throw new Error('MariaDbServer is stopped');
    const key = database ?? '';
    let pool = this.pools.get(key);
    if (!pool) {
      // maxIdle equal to the limit: a lower one starts a timer that keeps the process alive until end().
      pool = mysqlPromise.createPool({ ...this.clientOptions(SUPERUSER, this.superuser.password, database), connectionLimit: 2, maxIdle: 2 });
      // Idle connections do not hold the event loop, so a forgotten stop() does not keep the process (or jest) alive.
      pool.pool.on('acquire', (connection) => socketOf(connection).ref());
      pool.pool.on('release', (connection) => socketOf(connection).unref());
      this.pools.set(key, pool);
    }
    return pool;
  }

  private clientOptions(user: string, password: string, database: string | undefined): mysql.ConnectionOptions {
    return clientOptions({ port: this.port, tls: this.tls, harnessIds: this.harnessIds }, user, password, database);
  }
}

/**
 * The data dir that servers on this install are copied from (see data-template.ts). Exported for tests, which check
 * that starts reuse it and that its password opens no server.
 */
export async function mariadbServerDataTemplate(options: Pick<MariaDbServerOptions, 'basedir'> = {}): Promise<DataTemplate> {
  return mariadbDataTemplate(await installFor(options.basedir), TEMP_PREFIX);
}

/**
 * The temp dir made ready for a start: a copy of the data template (with the template's superuser password, which
 * launch() replaces with the server's own), and the certificates.
 */
async function prepare(
  install: Install, tempDir: string, options: MariaDbServerOptions, settings: string[],
): Promise<ServerSetup> {
  const { socket } = serverFiles(tempDir);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new Error(`The server socket path ${socket} is too long: set TMPDIR to a shorter folder`);
  }
  if (install.user) await fs.promises.chown(tempDir, install.user.uid, install.user.gid);
  const password = randomBytes(18).toString('base64url');
  // Independent steps; overlapping them saves a few hundred milliseconds per start.
  const tlsReady = options.tls === false ? undefined : createServerTls(tempDir, options.tls ?? {}, install.user, BIND_ADDRESS);
  const dataReady = mariadbDataTemplate(install, TEMP_PREFIX).then(async (template) => {
    await copyDataTemplate(template, tempDir, install.user);
    return template;
  });
  // Let both finish before a failure deletes the dir they write to.
  await Promise.allSettled([tlsReady, dataReady]);
  const tls = await tlsReady;
  const template = await dataReady;
  return {
    install,
    tempDir,
    password,
    templatePassword: template.password,
    tls,
    harnessIds: new Set<number>(),
    requireTls: options.requireTls ?? false,
    settings,
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
  };
}

function socketOf(connection: mysql.PoolConnection): net.Socket {
  // The driver's stream: the TCP socket, or the TLS socket over it (whose ref/unref reach the same handle).
  return (connection as unknown as { stream: net.Socket }).stream;
}

interface ClientTarget {
  readonly port: number;
  readonly tls?: ServerTls;
  readonly harnessIds: Set<number>;
}

/**
 * The harness's connection: always to 127.0.0.1, through a socket that records the connection id; with TLS, the
 * chain verified against the server's CA and the identity against the name the certificate was issued for (the
 * driver checks `host`, and verifies no identity at all unless verifyIdentity is set).
 */
function clientOptions(target: ClientTarget, user: string, password: string, database?: string): mysql.ConnectionOptions {
  const { port, tls, harnessIds } = target;
  return {
    host: tls?.verifyName ?? BIND_ADDRESS,
    port,
    stream: () => recordingSocket(port, BIND_ADDRESS, harnessIds),
    user,
    password,
    database,
    ssl: tls ? { ca: tls.certificates.caCertPem, rejectUnauthorized: true, verifyIdentity: true } : undefined,
    connectTimeout: 5_000,
  };
}

function serverArgs(setup: ServerSetup, port: number): string[] {
  const { install, tempDir, tls: serverTls } = setup;
  const files = serverFiles(tempDir);
  const tlsOptions = serverTls
    ? [`--ssl-ca=${serverTls.certificates.caCertPath}`, `--ssl-cert=${serverTls.certificates.serverCertPath}`,
      `--ssl-key=${serverTls.certificates.serverKeyPath}`]
    : ['--skip-ssl'];
  return [
    path.join(install.basedir, 'sbin', 'mariadbd'),
    '--no-defaults', // must be first: no /etc/mysql option files, nothing shared with a system install
    ...installOptions(install.basedir),
    `--datadir=${files.dataDir}`,
    `--tmpdir=${tempDir}`,
    `--socket=${files.socket}`,
    `--pid-file=${files.pidFile}`,
    '--skip-networking=0',
    `--bind-address=${BIND_ADDRESS}`,
    `--port=${port}`,
    '--skip-name-resolve', // clients are 127.0.0.1 in grants and logs, and no DNS lookups
    '--character-set-server=utf8mb4',
    ...STORAGE_OPTIONS,
    // The two logs authorizedConnections() joins (see mariadb-logs.ts). The general log also records every statement
    // with its literals (bound parameters too): it lives and dies with the temp dir and is never quoted in an error.
    '--log-output=FILE',
    '--general-log=ON',
    `--general-log-file=${files.generalLog}`,
    '--plugin-load-add=server_audit',
    '--server-audit=FORCE_PLUS_PERMANENT', // fail the start rather than run without it, and no UNINSTALL
    '--server-audit-logging=ON',
    '--server-audit-events=CONNECT',
    `--server-audit-file-path=${files.auditLog}`,
    '--server-audit-file-rotations=0', // never rotate: the whole history stays in one file
    ...tlsOptions,
    ...(setup.requireTls ? ['--require-secure-transport=ON'] : []),
    ...setup.settings,
  ];
}

/** `--name=value` options; names are checked so a caller's setting cannot smuggle in another option. */
function settingArgs(settings: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(settings).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`Invalid MariaDB setting name: ${JSON.stringify(name)}`);
    const text = typeof value === 'boolean' ? (value ? 'ON' : 'OFF') : String(value);
    return `--${name}=${text}`;
  });
}

async function launch(setup: ServerSetup, port: number): Promise<Launched> {
  const { install, tempDir } = setup;
  const files = serverFiles(tempDir);
  // SIGKILL if this process dies without stop(): see runAsPrefix. The data dir goes with it.
  const child = spawnLogged([...runAsPrefix(install.user, 'SIGKILL'), ...serverArgs(setup, port)],
    { cwd: tempDir, env: serverEnv(tempDir), logPath: files.errorLog });
  try {
    // Ready once the superuser logs in over TCP (with TLS verified when on), which is what every test needs.
    const templateLogin = clientOptions({ port, tls: setup.tls, harnessIds: setup.harnessIds }, SUPERUSER, setup.templatePassword);
    await waitUntilReady(child, 'mariadbd', () => probe(templateLogin), setup.readyTimeoutMs);
    await setSuperuserPassword(templateLogin, setup.password);
    return { port, child, serverPid: await readPidFile(files.pidFile) };
  } catch (err) {
    // With runuser the child is not mariadbd; the pid file names it once it got that far.
    await terminate(child, await readPidFile(files.pidFile).catch(() => child.pid), 'SIGKILL');
    throw err;
  }
}

/**
 * Replaces the template's superuser password with the server's own on both root accounts, so that only
 * `server.superuser.password` logs in. As the stored hash, and with this session's statements kept out of the
 * general log: neither the password nor its hash is written anywhere.
 */
async function setSuperuserPassword(templateLogin: mysql.ConnectionOptions, password: string): Promise<void> {
  const connection = await mysqlPromise.createConnection(templateLogin);
  try {
    await connection.query('SET SESSION sql_log_off = ON');
    const hash = nativePasswordHash(password);
    await connection.query(`ALTER USER 'root'@'localhost' IDENTIFIED BY PASSWORD '${hash}', 'root'@'%' IDENTIFIED BY PASSWORD '${hash}'`);
  } finally {
    await connection.end();
  }
}

/** Hides both superuser passwords from text that goes into an error. */
function redactPasswords(text: string, setup: ServerSetup): string {
  return [setup.password, setup.templatePassword].reduce((redacted, secret) => redacted.split(secret).join('<password>'), text);
}

async function probe(options: mysql.ConnectionOptions): Promise<void> {
  // Short: if another process took the port, notice mariadbd exiting soon.
  const connection = await mysqlPromise.createConnection({ ...options, connectTimeout: 2_000 });
  await connection.end();
}

/** Stops a server left by a dead owner, if the pid in its dir still is that server (pids get reused). */
async function killLeftoverServer(dir: string): Promise<void> {
  const files = serverFiles(dir);
  const pid = await readPidFile(files.pidFile);
  const cmdline = await fs.promises.readFile(`/proc/${pid}/cmdline`, 'utf8');
  if (cmdline.includes(files.dataDir)) signal(pid, 'SIGKILL');
}
