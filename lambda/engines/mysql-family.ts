import { isIP } from 'net';
import * as mysql from 'mysql2';
import { ed25519Sign } from './mysql-auth';
import { ParsedGrant, atomsOf, grantStatement, significant } from './mysql-grants';
import { CLONE_SUFFIX, ENV, TLS_MODES, isQueryOnlyProbe } from '../../src/private/contract';
import { caBundle } from '../kit/ca-bundle';
import { usernameLengthLimit } from '../kit/database';
import { registryDialectFields } from '../kit/dialect-defaults';
import { ConfusedDeputyError, ERROR_CODES, LoginFailedError, RotationError, errorCode } from '../kit/errors';
import { faultPoint } from '../kit/fault-points';
import { TLS_ERROR_CODE } from '../kit/tls-errors';
import type { DatabaseDialect, DatabaseLogin, DatabaseSession, SessionKind, StepContext } from '../kit/types';

/**
 * What MySQL, Aurora MySQL and MariaDB share: the connection (verified TLS, every call bounded by the step's deadline,
 * the server greeting included), error classification, and the session that finds accounts, copies grants and sets
 * passwords. Where the two differ (password statements, user-name limits, the accounts table) a {@link MysqlFlavor}
 * says how.
 *
 * Accounts. A MySQL account is `user@host`; the host of the original user is kept: the master finds the user's
 * account(s) by name in `mysql.user` (a bound parameter) and refuses a name with several accounts (AMBIGUOUS_ACCOUNT)
 * rather than guess; the clone gets the same host. A single-user session changes its own account (`SET PASSWORD`
 * without FOR), whatever host it matched.
 *
 * An alternate is an alternate: a current user `<x>_clone` counts as the clone of `<x>` (whose password the master is
 * then asked to set) only when both have their one account on the same host and the clone holds no privilege `<x>`
 * lacks. `<x>` may have gained privileges since the last rotation; a privilege taken from `<x>` while its clone is
 * current must be taken from the clone too before the pair swings back (CONFUSED_DEPUTY until then).
 *
 * Quoting. Neither server can bind a user name, a host or a password as a parameter of CREATE USER, ALTER USER,
 * SET PASSWORD, GRANT or SHOW GRANTS (the grammar wants literals; MariaDB 10.11 answers a `?` there with a syntax
 * error). So accounts and literals are quoted by the driver (mysql2's escape, which escapes quotes and backslashes),
 * after the session pinned `sql_mode` so that backslash escapes mean what the driver assumes (NO_BACKSLASH_ESCAPES
 * off). Plain lookups (`mysql.user`) bind their parameters as prepared statements.
 *
 * Passwords. The statement carries what the server stores, computed here (mysql-auth.ts), wherever the server takes
 * it: `mysql_native_password` and MariaDB's `ed25519` hashes. The password itself is sent only where no stored form
 * can be given: MySQL's `caching_sha2_password` / `sha256_password` (`IDENTIFIED WITH ... BY`) and MySQL's own-password
 * `SET PASSWORD`, which MySQL rewrites before writing the general, slow and binary logs.
 */

/** A server version, compared numerically: `10.11.18-MariaDB-0+deb12u1-log`, `8.0.36`, `5.7.44-log`. */
export interface ServerVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export function parseVersion(reported: string): ServerVersion {
  // MariaDB 10+ behind some proxies reports `5.5.5-10.11.6-MariaDB`: the real version follows that prefix
  const real = /^5\.5\.5-\d+\.\d+\.\d+.*mariadb/i.test(reported) ? reported.slice('5.5.5-'.length) : reported;
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(real);
  if (!match) throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'The server reported a version that is not major.minor.patch');
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** true when `v` is at least `major.minor.patch`. */
export function atLeast(v: ServerVersion, major: number, minor = 0, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

export function versionText(v: ServerVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** An account of the user being rotated, as the master reads it from `mysql.user`. */
export interface Account {
  readonly host: string;
  readonly plugin: string;
  /** The TLS requirement as an ALTER USER clause: `REQUIRE NONE`, `REQUIRE SSL`, `REQUIRE ISSUER '...' AND ...`. */
  readonly require: string;
}

/** What differs between MySQL (and Aurora MySQL) and MariaDB. */
export interface MysqlFlavor {
  readonly family: 'mysql' | 'mariadb';
  /** Used in messages: `MySQL`, `MariaDB`. */
  readonly label: string;
  /** Accounts (never roles) with the user name bound as the one parameter: host, plugin, ssl_type, ssl_cipher, x509_issuer, x509_subject. */
  readonly accountsQuery: string;
  /** Authentication plugins whose password the handler can set, keeping the plugin. */
  readonly plugins: readonly string[];
  /** The longest user name this server version accepts, and the words that say why. */
  usernameLimit(version: ServerVersion): { readonly limit: number; readonly source: string };
  /** The session user's own password change (no FOR: the account it logged in as). */
  ownPassword(s: OwnPasswordContext): Promise<string>;
  /** `IDENTIFIED ...` for CREATE USER of an account on `plugin`. */
  identified(plugin: string, password: string, version: ServerVersion): string;
  /** Statements that set an existing account's password (its plugin kept), and optionally its TLS requirement and unlock. */
  setPassword(account: string, plugin: string, password: string, version: ServerVersion, options: SetPasswordOptions): string[];
  /** Whether CREATE/ALTER USER take ACCOUNT LOCK / UNLOCK on this version. */
  accountLocking(version: ServerVersion): boolean;
}

export interface SetPasswordOptions {
  /** A REQUIRE clause to set with the password. */
  readonly require?: string;
  readonly unlock?: boolean;
}

/** What a flavor may use to build the own-password statement. */
export interface OwnPasswordContext {
  readonly version: ServerVersion;
  readonly password: string;
  /** The password the session logged in with (MySQL 8.0.13+ may require it: REPLACE). */
  readonly currentPassword: string;
  /** Runs a statement (no secret in it) and returns its rows. */
  query(point: string, sql: string): Promise<any[]>;
}

/** Errors of a rejected login: access denied, access denied (no password), account locked (MariaDB, MySQL), host not allowed. */
const LOGIN_REJECTED = new Set([1045, 1698, 4151, 3118, 1130]);
/** Errors of a statement the session's user may not run: the master lacks a privilege it would grant, or CREATE USER. */
const NOT_PERMITTED = new Set([1044, 1045, 1142, 1143, 1227, 1370, 1410, 1698, 3530]);
/** Server-side statement timeouts: MariaDB max_statement_time, MySQL max_execution_time. */
const STATEMENT_TIMEOUT = new Set([1969, 3024]);
/** The server requires TLS of an account or of every connection, and the secret said `tls: disabled`. */
const TLS_REQUIRED = new Set([3159, 4025]);
/** Node TLS error codes (the kit's) and the driver's for a server without TLS: never a reason to retry in plaintext. */
const TLS_ERROR = new RegExp(`${TLS_ERROR_CODE.source}|HANDSHAKE_NO_SSL_SUPPORT|HANDSHAKE_SSL_ERROR`);
const DRIVER_TIMEOUT = new Set(['ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT']);

/** The session's own sql_mode: strict, and without NO_BACKSLASH_ESCAPES, which would change what the driver's quoting means. */
const SESSION_SQL_MODE = 'STRICT_ALL_TABLES';

function errno(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? n : undefined;
}

/** Maps a driver, server or socket error to a named error; the driver's message is never kept. */
export function classify(label: string, err: unknown, during: string, phase: 'connect' | SessionKind): RotationError {
  if (err instanceof RotationError) return err;
  const n = errno(err);
  const code = errorCode(err);
  if (phase === 'connect' && n !== undefined && LOGIN_REJECTED.has(n)) return new LoginFailedError(`${label} rejected the credential`, err);
  if ((n !== undefined && STATEMENT_TIMEOUT.has(n)) || (code !== undefined && DRIVER_TIMEOUT.has(code))) {
    return new RotationError(ERROR_CODES.TIMEOUT, `${label} ${during} did not complete within its time bound`, err);
  }
  if ((code !== undefined && TLS_ERROR.test(code)) || (n !== undefined && TLS_REQUIRED.has(n))) {
    return new RotationError(ERROR_CODES.TLS_FAILED, `TLS to ${label} failed during ${during}`, err);
  }
  // only the master's statements grant and create; an application user's refusal (a probe) is a database error
  if (phase === 'master' && n !== undefined && NOT_PERMITTED.has(n)) {
    return new RotationError(ERROR_CODES.MASTER_NOT_PERMITTED,
      `${label} refused ${during} to the master user: it needs CREATE USER, SELECT on mysql.*, each privilege of the original WITH GRANT OPTION and ADMIN OPTION on each of its roles`, err);
  }
  return new RotationError(ERROR_CODES.DATABASE_ERROR, `${label} ${during} failed`, err);
}

/**
 * TLS verifies the chain and the host name (mysql2 checks the name only with verifyIdentity) unless the secret says
 * `tls: disabled`. With TLS on, a server that does not offer TLS fails the handshake: the driver never goes on in
 * plaintext.
 */
export function connectionOptions(login: DatabaseLogin, ctx: StepContext, budgetMs: number): mysql.ConnectionOptions {
  return {
    host: login.host,
    port: login.port,
    user: login.username,
    password: login.password,
    database: login.dbname,
    ssl: login.tls === TLS_MODES.DISABLED ? undefined : { ca: caBundle(ctx.env), rejectUnauthorized: true, verifyIdentity: true },
    // bounds TCP connect, greeting, TLS and authentication together; the deadline below bounds it again
    connectTimeout: budgetMs,
    multipleStatements: false,
    charset: 'utf8mb4_general_ci',
    supportBigNumbers: true,
    connectAttributes: { program_name: 'cdk-secrets-platform-rotation' },
    // MariaDB accounts on ed25519 log in with a signature of the server's 32-byte scramble
    authPlugins: { client_ed25519: () => (scramble: Buffer) => ed25519Sign(login.password, scramble.subarray(0, 32)) },
  };
}

/**
 * mysql2 checks the certificate against the host only when the host is a name: for an IP address it passes no server
 * name to TLS, and Node then checks the certificate against `localhost`. An IP address would thus accept any
 * certificate the CA issued for `localhost`; refused instead (RDS and Aurora endpoints are DNS names).
 */
export function assertVerifiableHost(flavor: Pick<MysqlFlavor, 'label'>, login: DatabaseLogin): void {
  if (login.tls !== TLS_MODES.DISABLED && isIP(login.host) !== 0) {
    throw new RotationError(ERROR_CODES.TLS_FAILED,
      `TLS to ${flavor.label} needs the server's DNS name in host: the driver cannot verify a certificate against an IP address`);
  }
}

/**
 * ROTATION_PROBE_QUERY must be a query on the MySQL family (SELECT, WITH, SHOW, DESCRIBE or EXPLAIN, no comments, no
 * `;`, no INTO OUTFILE / DUMPFILE): anything else could change the database with the pending user's privileges,
 * because DDL and account statements commit implicitly. Refused as a configuration error, never run.
 */
export function checkProbe(sql: string): void {
  if (!isQueryOnlyProbe(sql)) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${ENV.PROBE_QUERY} must be one query (SELECT, WITH, SHOW, DESCRIBE or EXPLAIN) `
      + 'without comments, \';\' or INTO OUTFILE/DUMPFILE on MySQL and MariaDB: other statements would commit even in a read-only transaction');
  }
}

/** The dialect of a flavor; each flavor's file states the managed masters it accepts. */
export function mysqlDialect(flavor: MysqlFlavor): Omit<DatabaseDialect, 'managedMasters'> {
  return {
    ...registryDialectFields(flavor.family),
    defaultProbe: 'SELECT 1',
    // a user cannot read another account's grants; the master can
    alternateCheckedBy: 'master',
    connect: (login, ctx, kind) => connect(flavor, login, ctx, kind),
  };
}

async function connect(flavor: MysqlFlavor, login: DatabaseLogin, ctx: StepContext, kind: SessionKind = 'application'): Promise<DatabaseSession> {
  assertVerifiableHost(flavor, login);
  const what = `${flavor.label} connect`;
  const budget = ctx.deadline.budget(what);
  const connection = mysql.createConnection(connectionOptions(login, ctx, budget));
  // a socket error after connect must not crash the process; the next statement reports it
  connection.on('error', () => undefined);
  try {
    await ctx.deadline.run(what, (signal) => new Promise<void>((resolve, reject) => {
      // a server that accepts TCP and never greets: the deadline ends the wait and the socket
      signal.addEventListener('abort', () => connection.destroy());
      connection.once('connect', () => resolve());
      connection.once('error', reject);
    }));
  } catch (err) {
    connection.destroy();
    throw classify(flavor.label, err, 'connect', 'connect');
  }
  const session = new MysqlSession(flavor, connection, ctx, login, kind);
  try {
    await session.start();
  } catch (err) {
    await session.close();
    throw err;
  }
  return session;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** The REQUIRE clause of an account row (mysql.user's ssl_type and the three X.509 columns). */
export function requireClause(row: Record<string, unknown>): string {
  const type = text(row.ssl_type).toUpperCase();
  if (type === '') return 'REQUIRE NONE';
  if (type === 'ANY') return 'REQUIRE SSL';
  if (type === 'X509') return 'REQUIRE X509';
  if (type !== 'SPECIFIED') throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'The original account has a TLS requirement of an unknown type');
  const parts = [['ISSUER', row.x509_issuer], ['SUBJECT', row.x509_subject], ['CIPHER', row.ssl_cipher]]
    .filter(([, v]) => text(v) !== '')
    .map(([k, v]) => `${k} ${mysql.escape(text(v))}`);
  return parts.length === 0 ? 'REQUIRE NONE' : `REQUIRE ${parts.join(' AND ')}`;
}

/** An account name quoted by the driver: `'user'@'host'`. */
export function accountName(user: string, host: string): string {
  return `${mysql.escape(user)}@${mysql.escape(host)}`;
}

/** Exported for statement-level tests, which drive it over a scripted connection. */
export class MysqlSession implements DatabaseSession {
  private version?: ServerVersion;

  constructor(
    private readonly flavor: MysqlFlavor,
    private readonly connection: mysql.Connection,
    private readonly ctx: StepContext,
    private readonly login: DatabaseLogin,
    private readonly kind: SessionKind,
  ) {}

  /** Pins the session's sql_mode (the driver's quoting depends on it) and reads the server's version. */
  public async start(): Promise<void> {
    await this.query('set-sql-mode', `SET SESSION sql_mode = ${mysql.escape(SESSION_SQL_MODE)}`);
    const [row] = await this.query('version', 'SELECT VERSION() AS v');
    this.version = parseVersion(text(row?.v));
  }

  public async setOwnPassword(_username: string, password: string): Promise<void> {
    const statement = await this.flavor.ownPassword({
      version: this.serverVersion(),
      password,
      currentPassword: this.login.password,
      query: (point, sql) => this.query(point, sql),
    });
    await this.query('set-own-password', statement);
  }

  public async assertAlternateOf(alternate: string, original: string): Promise<void> {
    const originalAccount = await this.account(original, 'original');
    const alternateAccount = await this.account(alternate, 'alternate');
    if (!originalAccount || !alternateAccount || alternateAccount.host !== originalAccount.host) {
      throw new ConfusedDeputyError('the current user is named like the clone of the pending user but is not its clone (no account of both on one host)');
    }
    // the clone holds the original's grants; the original may have gained some since, never the other way round
    const originalGrants = atomsOf(await this.grants(original, originalAccount.host));
    const extra = [...atomsOf(await this.grants(alternate, alternateAccount.host)).keys()].filter((k) => !originalGrants.has(k));
    if (extra.length > 0) {
      throw new ConfusedDeputyError('the current user is named like the clone of the pending user but holds grants the pending user does not');
    }
  }

  public async upsertAlternate(target: string, original: string, password: string): Promise<'created' | 'updated'> {
    const version = this.serverVersion();
    const source = await this.account(original, 'original');
    if (!source) throw new ConfusedDeputyError('the original user has no account on the server');
    this.requirePlugin(source.plugin);
    if (target === original) {
      // the pair swings back: the original's own password, its plugin kept
      for (const statement of this.flavor.setPassword(accountName(original, source.host), source.plugin, password, version, {})) {
        await this.query('alter-user', statement);
      }
      return 'updated';
    }
    this.checkUsernameLength(target);
    const clone = accountName(target, source.host);
    const existing = await this.account(target, 'alternate');
    if (existing && existing.host !== source.host) {
      throw new ConfusedDeputyError('the alternate user exists on another host than the original');
    }
    const locking = this.flavor.accountLocking(version);
    const desired = await this.grants(original, source.host);
    if (!existing) {
      // locked until every grant is in place: a refusal half way leaves no clone whose password works
      await this.query('create-user', `CREATE USER ${clone} ${this.flavor.identified(source.plugin, password, version)}${locking ? ' ACCOUNT LOCK' : ''}`);
    }
    try {
      await this.syncGrants(desired, target, clone, source.host);
    } catch (err) {
      // created in this call: nothing may be left behind
      if (!existing) await this.query('drop-user', `DROP USER ${clone}`).catch(() => undefined);
      throw err;
    }
    // last: the new password, the original's TLS requirement, unlocked
    for (const statement of this.flavor.setPassword(clone, source.plugin, password, version, { require: source.require, unlock: locking })) {
      await this.query('alter-user', statement);
    }
    return existing ? 'updated' : 'created';
  }

  public async checkAlternate(original: string, alternate: string): Promise<void> {
    const source = await this.account(original, 'original');
    const clone = await this.account(alternate, 'alternate');
    const outOfSync = (why: string) => new RotationError(ERROR_CODES.PRIVILEGES_OUT_OF_SYNC, `The alternate user does not hold the original user's privileges: ${why}`);
    if (!source || !clone) throw outOfSync('an account is missing');
    if (clone.host !== source.host) throw outOfSync('the hosts differ');
    if (clone.require !== source.require) throw outOfSync('the TLS requirements differ');
    if (clone.plugin !== source.plugin) throw outOfSync('the authentication plugins differ');
    const want = atomsOf(await this.grants(original, source.host));
    const have = atomsOf(await this.grants(alternate, clone.host));
    const missing = [...want.keys()].filter((k) => !have.has(k)).length;
    const extra = [...have.keys()].filter((k) => !want.has(k)).length;
    if (missing > 0 || extra > 0) throw outOfSync(`${missing} grant(s) missing, ${extra} grant(s) the original does not hold`);
  }

  /**
   * The probe is one statement (the session refuses several) in a read-only transaction that is rolled back, so a
   * probe can prove what the pending user may read. Unlike PostgreSQL's, a MySQL or MariaDB transaction does not hold
   * back DDL, account statements or SET GLOBAL: they commit implicitly and run even in a read-only transaction. So only
   * a query is run: see {@link checkProbe}.
   */
  public async probe(sql: string): Promise<void> {
    checkProbe(sql);
    await this.query('probe-begin', 'START TRANSACTION READ ONLY');
    await this.query('probe', sql);
    await this.query('probe-end', 'ROLLBACK');
  }

  public async close(): Promise<void> {
    const connection = this.connection;
    await new Promise<void>((resolve) => {
      // a polite QUIT, bounded: a server that stopped answering gets its socket closed
      const timer = setTimeout(() => {
        connection.destroy();
        resolve();
      }, 1_000);
      connection.end(() => {
        clearTimeout(timer);
        resolve();
      });
    }).catch(() => connection.destroy());
  }

  /**
   * Grants the clone the original's grants, then takes away each privilege the clone holds beyond them, then grants
   * again (taking a role away takes its ADMIN OPTION too). Each GRANT adds only what the original holds; a refusal
   * stops before the clone's password is set.
   */
  private async syncGrants(desired: ParsedGrant[], target: string, clone: string, host: string): Promise<void> {
    for (const grant of desired) await this.query('grant', grantStatement(grant, clone));
    const wanted = atomsOf(desired);
    const surplus = [...atomsOf(await this.grants(target, host)).values()].filter((a) => !wanted.has(a.key));
    if (surplus.length === 0) return;
    for (const statement of new Set(surplus.map((a) => a.undo(clone)))) await this.query('revoke', statement);
    for (const grant of desired) await this.query('grant', grantStatement(grant, clone));
  }

  /** The one account of `user`; undefined when it has none; AMBIGUOUS_ACCOUNT when it has several. */
  private async account(user: string, which: string): Promise<Account | undefined> {
    const rows = await this.execute('find-account', this.flavor.accountsQuery, [user]);
    if (rows.length > 1) {
      throw new RotationError(ERROR_CODES.AMBIGUOUS_ACCOUNT,
        `The ${which} user has ${rows.length} accounts (one per host); rotating one of them would be a guess: keep one account per rotated user`);
    }
    if (rows.length === 0) return undefined;
    return { host: text(rows[0].host), plugin: text(rows[0].plugin), require: requireClause(rows[0]) };
  }

  private async grants(user: string, host: string): Promise<ParsedGrant[]> {
    const rows = await this.query('show-grants', `SHOW GRANTS FOR ${accountName(user, host)}`);
    return significant(rows.map((row) => text(Object.values(row)[0])));
  }

  private requirePlugin(plugin: string): void {
    if (!this.flavor.plugins.includes(plugin)) {
      throw new RotationError(ERROR_CODES.UNSUPPORTED_ACCOUNT,
        `The original account authenticates with a plugin the handler cannot set a password for; supported: ${this.flavor.plugins.join(', ')}`);
    }
  }

  private checkUsernameLength(name: string): void {
    const override = usernameLengthLimit(this.ctx.env);
    const { limit, source } = override !== undefined
      ? { limit: override, source: ENV.USERNAME_LENGTH_LIMIT }
      : this.flavor.usernameLimit(this.serverVersion());
    const length = [...name].length;
    if (length > limit) {
      throw new RotationError(ERROR_CODES.INVALID_SECRET_VALUE,
        `The alternate user name would exceed ${limit} characters (${source}); shorten username to at most ${limit - CLONE_SUFFIX.length} characters`);
    }
  }

  private serverVersion(): ServerVersion {
    if (!this.version) throw new RotationError(ERROR_CODES.INTERNAL, 'The session has not read the server version');
    return this.version;
  }

  /** A statement with bound parameters (a server-side prepared statement). */
  private async execute(point: string, sql: string, params: unknown[]): Promise<any[]> {
    return this.run(point, (timeout, done) => this.connection.execute({ sql, values: params as any[], timeout }, done));
  }

  /** A statement as text: only statements the server cannot prepare with parameters, quoted by the driver. */
  private async query(point: string, sql: string): Promise<any[]> {
    return this.run(point, (timeout, done) => this.connection.query({ sql, timeout }, done));
  }

  private async run(point: string, call: (timeout: number, done: (err: unknown, rows: unknown) => void) => void): Promise<any[]> {
    const label = this.flavor.label;
    let rows: unknown;
    try {
      rows = await this.ctx.deadline.run(`${label} query`, (signal, ms) => new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => this.connection.destroy());
        call(ms, (err, result) => (err ? reject(err) : resolve(result)));
      }));
    } catch (err) {
      throw classify(label, err, point, this.kind);
    }
    await faultPoint(`${this.flavor.family}:${point}`);
    return Array.isArray(rows) ? rows as any[] : [];
  }
}
