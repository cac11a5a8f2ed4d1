import { Client, QueryConfig } from 'pg';
import { classifyWireError, connectWire } from './pg-connect';
import { scramSha256Verifier } from './postgres-scram';
import { registryDialectFields } from '../kit/dialect-defaults';
import { ConfusedDeputyError, ERROR_CODES, RotationError } from '../kit/errors';
import { faultPoint } from '../kit/fault-points';
import type { DatabaseDialect, DatabaseLogin, DatabaseSession, SessionKind, StepContext } from '../kit/types';

/**
 * PostgreSQL rules for the master's session (docs/security.md):
 * - the master never connects to the application's database (the kit passes the master secret's `dbname`, else
 *   `postgres`), and its first statement pins `search_path` to `pg_catalog, pg_temp`, which overrides any
 *   `ALTER DATABASE ... SET search_path` an application user who owns a database may have made;
 * - every function, type and operator in the handler's statements is qualified with `pg_catalog` besides.
 *
 * An alternate is an alternate: a current user `<x>_clone` counts as the clone of `<x>` only when it is a member of
 * `<x>` (pg_has_role MEMBER, checked by the master before `<x>`'s password changes). An existing `<x>_clone` that holds
 * an attribute the handler never grants (SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS) is not the
 * handler's clone: it is refused rather than given a new password.
 */

const INSUFFICIENT_PRIVILEGE = '42501';
/** How messages and deadline labels name the server. */
const PRODUCT = 'PostgreSQL';

export const postgres: DatabaseDialect = {
  ...registryDialectFields('postgres'),
  defaultProbe: 'SELECT 1',
  managedMasters: ['rds'],
  connect,
};

function connect(login: DatabaseLogin, ctx: StepContext, kind: SessionKind = 'application'): Promise<DatabaseSession> {
  return connectWire(login, ctx, kind, { product: PRODUCT, classify, session: (client) => new PostgresSession(client, ctx) });
}

/** Maps a pg or socket error to a named error; the driver's message is never kept. */
export function classify(err: unknown, during: string): RotationError {
  return classifyWireError(err, during, PRODUCT);
}

/** PostgreSQL 16+ lets a CREATEROLE user grant a role only with ADMIN OPTION on it (automatic for roles it created). */
function masterNotPermitted(err: unknown): never {
  if (err instanceof RotationError && err.cause?.code === INSUFFICIENT_PRIVILEGE) {
    throw new RotationError(ERROR_CODES.MASTER_NOT_PERMITTED,
      'The master user may not grant the original role to the alternate user: give it ADMIN OPTION on that role (PostgreSQL 16+)', err.cause);
  }
  throw err;
}

/** Role attributes the handler never grants a clone; an existing `<x>_clone` holding one is someone else's role. */
const FOREIGN_ATTRIBUTES = 'r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls';

class PostgresSession implements DatabaseSession {
  constructor(private readonly client: Client, private readonly ctx: StepContext) {}

  public async pinSearchPath(): Promise<void> {
    await this.query('set-search-path', 'SELECT pg_catalog.set_config(\'search_path\', \'pg_catalog, pg_temp\', false)');
  }

  public async setOwnPassword(username: string, password: string): Promise<void> {
    await this.execFormatted('alter-role', 'ALTER ROLE %I WITH PASSWORD %L', [username, scramSha256Verifier(password)]);
  }

  public async assertAlternateOf(alternate: string, original: string): Promise<void> {
    const rows = await this.query('check-alternate',
      'SELECT pg_catalog.pg_has_role(a.oid, o.oid, \'MEMBER\') AS member FROM pg_catalog.pg_roles a, pg_catalog.pg_roles o '
      + 'WHERE a.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name AND o.rolname OPERATOR(pg_catalog.=) $2::pg_catalog.name',
      [alternate, original]);
    if (rows[0]?.member !== true) {
      throw new ConfusedDeputyError('the current user is named like the clone of the pending user but is not a member of it');
    }
  }

  public async upsertAlternate(target: string, original: string, password: string): Promise<'created' | 'updated'> {
    const verifier = scramSha256Verifier(password);
    // one transaction: a crash between statements leaves no user whose password works without its privileges
    await this.query('begin', 'BEGIN');
    try {
      const found = await this.query('find-role',
        `SELECT (${FOREIGN_ATTRIBUTES}) AS is_foreign FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name`,
        [target]);
      const exists = found.length > 0;
      if (exists && target !== original && found[0].is_foreign === true) {
        throw new ConfusedDeputyError('the alternate user exists with attributes the handler never grants; it is not a clone');
      }
      if (exists) {
        await this.execFormatted('alter-role', 'ALTER ROLE %I WITH LOGIN INHERIT PASSWORD %L', [target, verifier]);
      } else {
        await this.execFormatted('create-role', 'CREATE ROLE %I WITH LOGIN INHERIT PASSWORD %L', [target, verifier]);
      }
      if (target !== original) {
        // re-granted on every rotation so the clone keeps the original's privileges
        await this.execFormatted('grant-role', 'GRANT %I TO %I', [original, target]).catch(masterNotPermitted);
      }
      await this.query('commit', 'COMMIT');
      return exists ? 'updated' : 'created';
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** As the pending user (pg_has_role on current_user), so `_alternate` is the session's own user. */
  public async checkAlternate(original: string, _alternate: string): Promise<void> {
    const rows = await this.query('check-privileges',
      'SELECT pg_catalog.pg_has_role(current_user, r.oid, \'USAGE\') AS inherits FROM pg_catalog.pg_roles r '
      + 'WHERE r.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name',
      [original]);
    if (rows.length === 0 || rows[0].inherits !== true) {
      throw new RotationError(ERROR_CODES.PRIVILEGES_OUT_OF_SYNC, 'The alternate user does not hold the original user\'s privileges');
    }
  }

  /**
   * The probe is one statement (the extended protocol refuses a second) in a read-only transaction that is rolled
   * back, so a probe can prove what the pending user may read and can change nothing.
   */
  public async probe(sql: string): Promise<void> {
    await this.query('probe-begin', 'BEGIN READ ONLY');
    await this.query('probe', { text: sql, queryMode: 'extended' } as QueryConfig);
    await this.query('probe-end', 'ROLLBACK');
  }

  public async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /** Identifiers and literals are quoted by the server (format %I / %L), never by string concatenation here. */
  private async execFormatted(point: string, template: string, args: string[]): Promise<void> {
    const params = args.map((_, i) => `$${i + 2}::pg_catalog.text`).join(', ');
    const rows = await this.query(`format-${point}`, `SELECT pg_catalog.format($1::pg_catalog.text, ${params}) AS stmt`, [template, ...args]);
    await this.query(point, rows[0].stmt);
  }

  private async query(point: string, sql: string | QueryConfig, params: unknown[] = []): Promise<any[]> {
    let result;
    try {
      result = await this.ctx.deadline.run('PostgreSQL query', () => this.client.query(typeof sql === 'string' ? { text: sql, values: params } : sql));
    } catch (err) {
      throw classify(err, point);
    }
    await faultPoint(`postgres:${point}`);
    return result.rows;
  }
}
