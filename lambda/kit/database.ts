import { ConfusedDeputyError, ERROR_CODES, InvalidSecretValueError, LoginFailedError, RotationError } from './errors';
import { faultPoint } from './fault-points';
import { resolveMaster } from './master-secret';
import { parsePort, parseTlsMode, requireString } from './secret-fields';
import { parseSecretObject, withChangedMembers } from './secret-json';
import type { CredentialEngine, DatabaseCredential, DatabaseDialect, DatabaseLogin, DatabaseSession, LoginStep, SecretRole, SetPendingArgs, StepContext } from './types';
import { ENV } from '../../src/private/contract';
import type { IdentifierLengthUnit } from '../../src/private/contract';

/** Parses a database secret JSON, naming the bad field without echoing any value. */
export function parseDatabaseSecret(value: string, role: SecretRole, dialect: DatabaseDialect): DatabaseCredential {
  const source = parseSecretObject(value, role);
  const o = source.fields;
  const engine = requireString(o, 'engine', role);
  if (!dialect.engines.includes(engine)) {
    throw new InvalidSecretValueError(role, `engine must be one of ${dialect.engines.join(', ')}`);
  }
  return {
    engine,
    host: requireString(o, 'host', role),
    port: parsePort(o.port, role) ?? dialect.defaultPort,
    username: requireString(o, 'username', role),
    password: requireString(o, 'password', role),
    dbname: o.dbname === undefined ? dialect.defaultDbname : requireString(o, 'dbname', role),
    masterarn: o.masterarn === undefined ? undefined : requireString(o, 'masterarn', role),
    tls: parseTlsMode(o.tls, role),
    source,
  };
}

/** Host and port must be the same: the function must not be steered to another server. */
export function assertSameServer(a: DatabaseLogin, b: DatabaseLogin, what: string): void {
  if (a.host.toLowerCase() !== b.host.toLowerCase()) throw new ConfusedDeputyError(`${what}: the host differs`);
  if (a.port !== b.port) throw new ConfusedDeputyError(`${what}: the port differs`);
}

/**
 * Host, port, database and transport must be the same: no version other than AWSCURRENT may steer a login to another
 * server or weaken its TLS setting.
 */
export function assertSameTarget(a: DatabaseLogin, b: DatabaseLogin, what: string): void {
  assertSameServer(a, b, what);
  if (a.dbname !== b.dbname) throw new ConfusedDeputyError(`${what}: the database differs`);
  if (a.tls !== b.tls) throw new ConfusedDeputyError(`${what}: the TLS setting differs`);
}

/** true when the login works, false when the server rejects the credential; any other failure throws. */
export async function canLogin(dialect: DatabaseDialect, login: DatabaseLogin, ctx: StepContext): Promise<boolean> {
  const session = await connectUnlessRejected(dialect, login, ctx);
  await session?.close();
  return session !== undefined;
}

async function withSession<R>(
  dialect: DatabaseDialect, login: DatabaseLogin, ctx: StepContext, use: (s: DatabaseSession) => Promise<R>,
): Promise<R> {
  const session = await dialect.connect(login, ctx);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}

function probeQuery(dialect: DatabaseDialect, ctx: StepContext): string {
  return ctx.env[ENV.PROBE_QUERY] || dialect.defaultProbe;
}

/**
 * The other user of an alternating pair: `name` <-> `name<suffix>`, within the user-name limit (the dialect's, or
 * ROTATION_USERNAME_LENGTH_LIMIT when set; an engine whose limit depends on the server's version checks that limit
 * again once it knows the version).
 */
export function alternateUsername(username: string, dialect: DatabaseDialect, env: NodeJS.ProcessEnv = {}): string {
  const alternate = alternateName(username, dialect);
  const limit = usernameLengthLimit(env) ?? dialect.maxUsernameLength;
  const unit = dialect.usernameLengthUnit;
  if (identifierLength(alternate, unit) > limit) {
    throw new InvalidSecretValueError('current',
      `the alternate user name would exceed ${limit} ${unit}; shorten username to at most ${limit - identifierLength(dialect.cloneSuffix, unit)} ${unit}`);
  }
  return alternate;
}

/** The other user's name, without the length check (which createSecret already made). */
function alternateName(username: string, dialect: DatabaseDialect): string {
  const alternate = username.endsWith(dialect.cloneSuffix)
    ? username.slice(0, -dialect.cloneSuffix.length)
    : username + dialect.cloneSuffix;
  if (alternate.length === 0) throw new InvalidSecretValueError('current', 'username is only the clone suffix');
  return alternate;
}

/** ROTATION_USERNAME_LENGTH_LIMIT, or undefined when unset. */
export function usernameLengthLimit(env: NodeJS.ProcessEnv): number | undefined {
  const value = env[ENV.USERNAME_LENGTH_LIMIT];
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9]{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1024) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${ENV.USERNAME_LENGTH_LIMIT} must be a decimal integer from 1 to 1024`);
  }
  return Number(value);
}

/** Length as the engine counts it: UTF-8 bytes (PostgreSQL's NAMEDATALEN) or characters (MySQL, MariaDB). */
export function identifierLength(name: string, unit: IdentifierLengthUnit): number {
  return unit === 'bytes' ? Buffer.byteLength(name, 'utf8') : [...name].length;
}

function originalUsername(username: string, dialect: DatabaseDialect): string {
  return username.endsWith(dialect.cloneSuffix) ? username.slice(0, -dialect.cloneSuffix.length) : username;
}

/** Pending JSON: the current JSON with only the changed fields replaced, so application fields survive rotation. */
function withChanges(current: DatabaseCredential, changes: Record<string, unknown>): string {
  return withChangedMembers(current.source, changes);
}

/** Single user: the user changes its own password; at every instant current or pending logs in. */
export function singleUser(dialect: DatabaseDialect): CredentialEngine<DatabaseCredential> {
  return {
    name: `${dialect.family}-single-user`,
    defaultPasswordPolicy: dialect.defaultPasswordPolicy,
    parse: (value, role) => parseDatabaseSecret(value, role, dialect),
    nextValue: (current, password) => withChanges(current, { password }),
    checkTarget(current, pending) {
      assertSameTarget(current, pending, 'pending and current name different servers');
      if (pending.username !== current.username) throw new ConfusedDeputyError('pending and current name different users');
    },
    async setPending({ current, pending, previous, ctx }: SetPendingArgs<DatabaseCredential>) {
      if (await canLogin(dialect, pending, ctx)) return 'already-set';
      // the session that proved a login works is the one that changes the password: no second login to race with
      const session = await firstWorkingSession(dialect, ctx, current, previous).catch(async (err) => {
        // a duplicate invocation may have changed the password since we tried pending: then the goal is met
        if (err instanceof LoginFailedError && await canLogin(dialect, pending, ctx)) return undefined;
        throw err;
      });
      if (!session) return 'already-set';
      return settle(dialect, pending, ctx, async () => {
        try {
          await faultPoint('login-chosen');
          await session.setOwnPassword(pending.username, pending.password);
        } finally {
          await session.close();
        }
        return 'password-changed';
      });
    },
    async testPending(pending, ctx) {
      await withSession(dialect, pending, ctx, (s) => s.probe(probeQuery(dialect, ctx))).catch(pendingFailed);
    },
  };
}

async function firstWorkingSession(
  dialect: DatabaseDialect, ctx: StepContext, current: DatabaseCredential, previous: () => Promise<DatabaseCredential | undefined>,
): Promise<DatabaseSession> {
  const session = await connectUnlessRejected(dialect, current, ctx);
  if (session) return session;
  const prev = await previous();
  if (prev && prev.username === current.username) {
    assertSameTarget(current, prev, 'previous and current name different servers');
    const fallback = await connectUnlessRejected(dialect, prev, ctx);
    if (fallback) return fallback;
  }
  throw new LoginFailedError('Neither the current nor the previous credential logs in');
}

/** An open session, or undefined when the server rejects the credential; any other failure throws. */
async function connectUnlessRejected(dialect: DatabaseDialect, login: DatabaseLogin, ctx: StepContext): Promise<DatabaseSession | undefined> {
  try {
    return await dialect.connect(login, ctx);
  } catch (err) {
    if (err instanceof LoginFailedError) return undefined;
    throw err;
  }
}

/** Alternating users: the master sets the other user's password, so the current user keeps working throughout. */
export function alternatingUsers(dialect: DatabaseDialect): CredentialEngine<DatabaseCredential> {
  return {
    name: `${dialect.family}-multi-user`,
    defaultPasswordPolicy: dialect.defaultPasswordPolicy,
    parse: (value, role) => parseDatabaseSecret(value, role, dialect),
    nextValue(current, password, ctx) {
      requireMasterArn(current);
      return withChanges(current, { username: alternateUsername(current.username, dialect, ctx.env), password });
    },
    checkTarget(current, pending, step: LoginStep) {
      requireMasterArn(current);
      assertSameTarget(current, pending, 'pending and current name different servers');
      if (pending.masterarn !== current.masterarn) throw new ConfusedDeputyError('pending and current must name the same masterarn');
      const alternate = alternateName(current.username, dialect);
      // a validation (RotateImmediately false) tests a copy of current, which names current's own user
      const allowed = step === 'setSecret' ? [alternate] : [alternate, current.username];
      if (!allowed.includes(pending.username)) throw new ConfusedDeputyError('pending does not name the alternate of the current user');
    },
    async setPending({ current, pending, ctx }: SetPendingArgs<DatabaseCredential>) {
      if (!await canLogin(dialect, current, ctx)) throw new LoginFailedError('The current credential does not log in');
      if (await canLogin(dialect, pending, ctx)) return 'already-set';
      const original = originalUsername(pending.username, dialect);
      const session = await masterSession(dialect, current, ctx);
      return settle(dialect, pending, ctx, async () => {
        try {
          // a current user that is only named like a clone must not get the original's password changed for it
          if (current.username !== original) await session.assertAlternateOf(current.username, original);
          return await session.upsertAlternate(pending.username, original, pending.password);
        } finally {
          await session.close();
        }
      });
    },
    async testPending(pending, ctx) {
      const original = originalUsername(pending.username, dialect);
      const byMaster = dialect.alternateCheckedBy === 'master';
      await withSession(dialect, pending, ctx, async (s) => {
        await s.probe(probeQuery(dialect, ctx));
        if (original !== pending.username && !byMaster) await s.checkAlternate(original, pending.username);
      }).catch(pendingFailed);
      if (original !== pending.username && byMaster) {
        requireMasterArn(pending);
        const session = await masterSession(dialect, pending, ctx);
        try {
          await session.checkAlternate(original, pending.username);
        } finally {
          await session.close();
        }
      }
    },
  };
}

/** The master's session for `target`'s server: refused before logging in when the master secret names another server. */
async function masterSession(dialect: DatabaseDialect, target: DatabaseCredential, ctx: StepContext): Promise<DatabaseSession> {
  const master = await resolveMaster(target, ctx, dialect);
  assertSameServer(target, master, 'the master secret names another server');
  return dialect.connect(master, ctx, 'master').catch((err) => {
    if (err instanceof LoginFailedError) throw new LoginFailedError('The master credential does not log in', err.cause, ERROR_CODES.MASTER_LOGIN_FAILED);
    throw err;
  });
}

function requireMasterArn(current: DatabaseCredential): void {
  if (!current.masterarn) throw new InvalidSecretValueError('current', 'masterarn is required for alternating users');
}

/**
 * Runs a change; when the database refuses it (e.g. "tuple concurrently updated" because a duplicate invocation of
 * the same step won the race) and the pending credential now logs in, the step's goal is met.
 */
async function settle(dialect: DatabaseDialect, pending: DatabaseLogin, ctx: StepContext, change: () => Promise<string>): Promise<string> {
  try {
    return await change();
  } catch (err) {
    if (err instanceof RotationError && err.code === ERROR_CODES.DATABASE_ERROR && await canLogin(dialect, pending, ctx)) return 'already-set';
    throw err;
  }
}

/** A pending credential that cannot log in fails testSecret with its own code; other failures keep theirs. */
function pendingFailed(err: unknown): never {
  if (err instanceof LoginFailedError) throw new RotationError(ERROR_CODES.PENDING_TEST_FAILED, 'The pending credential does not log in', err.cause);
  throw err;
}
