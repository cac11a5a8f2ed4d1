import { QueryConfig } from 'pg';
import { classifyWireError, connectWire } from './pg-connect';
import { MD5_PASSWORD_HASH, assertRedshiftPassword, redshiftMd5Hash } from './redshift-password';
import { registryDialectFields } from '../kit/dialect-defaults';
import { ConfusedDeputyError, ERROR_CODES, RotationError } from '../kit/errors';
import { faultPoint } from '../kit/fault-points';
import type { DatabaseDialect, DatabaseLogin, DatabaseSession, SessionKind, StepContext } from '../kit/types';

/**
 * Amazon Redshift (provisioned and Serverless). Redshift speaks the PostgreSQL wire protocol, so the transport is the
 * PostgreSQL dialect's (`pg` with the same options: the certificate chain and the host name verified unless the secret
 * says `tls: disabled`; every call bounded by the step's deadline). Redshift's server certificates are issued by ACM
 * and chain to Amazon's root CAs (https://docs.aws.amazon.com/redshift/latest/mgmt/connecting-ssl-support.html), which
 * the Node.js runtime's trust store holds, so no CA bundle is needed; ROTATION_TLS_CA_BUNDLE still applies. Redshift's
 * SQL is not PostgreSQL's, so the statements are this file's.
 *
 * Passwords. Set as the MD5 form `md5<hex(md5(password || username))>` (redshift-password.ts), so the password never
 * appears in a statement, STL_QUERY or a log. The hash is inlined only after it matched its expected shape. Redshift
 * checks its password rules on clear text only, so the handler checks them itself before hashing.
 *
 * Identifiers. Every user, group, role, database, schema, table and column name in a statement was quoted by the
 * server (`quote_ident`, with the name as a bound parameter): nothing from the secret JSON or a catalog row is
 * concatenated unquoted. Privilege words and object types come from an allow-list, never from the row as read.
 *
 * Case. The MD5 form is salted with the user name as stored. Redshift folds database, schema, table and column names
 * to lower case unless `enable_case_sensitive_identifier` is on, but keeps the case of a user name in double quotes
 * whatever that setting says (https://docs.aws.amazon.com/redshift/latest/dg/r_enable_case_sensitive_identifier.html),
 * and quote_ident double-quotes every name that is not plain lower case: a clone is stored under the name the pending
 * secret gives it, which is its salt. The own-password hash is salted with the name the server reports for the session
 * (`session_user`), so a user created unquoted (folded) under a secret that spells it in capitals still gets a hash
 * that matches.
 *
 * The master's session pins `search_path` to `pg_catalog, pg_temp` first and reads `pg_catalog` views only.
 *
 * Alternating users (`<user>` and `<user>_clone`). Redshift cannot make one user a member of another, so the clone is
 * given, on every rotation, each privilege the original holds directly, read from the system views
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_RELATION_PRIVILEGES.html and its siblings):
 * - database privileges (SVV_DATABASE_PRIVILEGES, scope DATABASE), schema privileges (SVV_SCHEMA_PRIVILEGES, scope SCHEMA), table and
 *   view privileges (SVV_RELATION_PRIVILEGES), column privileges (SVV_COLUMN_PRIVILEGES, which has no admin_option:
 *   a column privilege held WITH GRANT OPTION is copied without it);
 * - default privileges granted to the original (SVV_DEFAULT_PRIVILEGES,
 *   https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_DEFAULT_PRIVILEGES.html), as ALTER DEFAULT PRIVILEGES FOR USER
 *   <owner> [IN SCHEMA <schema>] GRANT ... TO <clone>;
 * - role memberships (SVV_USER_GRANTS) and group memberships (PG_GROUP);
 * - the CREATEDB attribute (PG_USER).
 * Only what the clone lacks is granted; nothing is revoked (the handler revokes nothing it did not grant).
 *
 * Refused, with UNSUPPORTED_ACCOUNT and nothing changed: a superuser original (CREATEUSER makes a superuser in Redshift;
 * its clone would be a second superuser); a privilege or role the original holds WITH GRANT/ADMIN OPTION (the clone
 * could pass it on, and the master may lack the option itself); function and procedure privileges and scoped database and schema
 * privileges (https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_DATABASE_PRIVILEGES.html) (their statements need signatures and scopes the views do not give exactly); a privilege word outside the
 * allow-list. Not copied: ownership. Objects the original owns stay its own; the clone reaches them only through grants.
 *
 * An alternate is an alternate: a current user `<x>_clone` counts as the clone of `<x>` only when it exists, is no
 * superuser, and holds no privilege (of the kinds above) that `<x>` lacks. An existing `<x>_clone` that is a superuser
 * or has CREATEDB while `<x>` has not is not the handler's clone: refused (CONFUSED_DEPUTY).
 */

const INSUFFICIENT_PRIVILEGE = '42501';
/** How messages and deadline labels name the server. */
const PRODUCT = 'Redshift';

export const redshift: DatabaseDialect = {
  ...registryDialectFields('redshift'),
  defaultProbe: 'SELECT 1',
  // a user cannot read another user's grants in Redshift's views; the master can
  alternateCheckedBy: 'master',
  managedMasters: ['redshift'],
  connect,
};

/** What the session needs of a `pg` client; tests drive it over a scripted one. */
export interface WireClient {
  query(config: QueryConfig): Promise<{ rows: any[] }>;
  end(): Promise<void>;
}

function connect(login: DatabaseLogin, ctx: StepContext, kind: SessionKind = 'application'): Promise<DatabaseSession> {
  return connectWire(login, ctx, kind, { product: PRODUCT, classify, session: (client) => new RedshiftSession(client, ctx, kind) });
}

/** The wire protocol's classification (same driver, same SQLSTATEs); a refusal to the master is its own code. */
export function classify(err: unknown, during: string, kind?: SessionKind): RotationError {
  const wire = classifyWireError(err, during, PRODUCT);
  if (kind === 'master' && !(err instanceof RotationError) && wire.cause?.code === INSUFFICIENT_PRIVILEGE) {
    return new RotationError(ERROR_CODES.MASTER_NOT_PERMITTED,
      `Redshift refused ${during} to the master user: it needs CREATE USER, ALTER USER and each privilege and role of the original user with the right to grant it`, wire.cause);
  }
  return wire;
}

/** Privilege words the handler puts in a GRANT; anything else read from a view is refused. */
const PRIVILEGE_WORDS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'DROP', 'ALTER', 'TRUNCATE', 'CREATE', 'USAGE', 'TEMP', 'TEMPORARY', 'RULE', 'TRIGGER', 'EXECUTE']);
/** SVV_DEFAULT_PRIVILEGES object types and their ALTER DEFAULT PRIVILEGES words. */
const DEFAULT_OBJECT_TYPES: Readonly<Record<string, string>> = { RELATION: 'TABLES', FUNCTION: 'FUNCTIONS', PROCEDURE: 'PROCEDURES' };

export type PrivilegeKind = 'database' | 'schema' | 'table' | 'column' | 'default' | 'role' | 'group';

/**
 * One privilege a user holds directly. `names` are raw identifiers (quoted by the server when the statement is made);
 * `key` compares privileges of two users.
 */
export interface Privilege {
  readonly kind: PrivilegeKind;
  /** An allow-listed word: a privilege (SELECT), or for default privileges `<privilege> ON <TABLES|FUNCTIONS|PROCEDURES>`. */
  readonly what: string;
  /** database; schema; schema, table; schema, table, column; owner[, schema]; role; group. */
  readonly names: readonly string[];
  readonly key: string;
}

/** The statement that gives `p` to `grantee`; every identifier passed in is already quoted by the server. */
export function grantStatement(p: Privilege, quoted: readonly string[], grantee: string): string {
  switch (p.kind) {
    case 'database': return `GRANT ${p.what} ON DATABASE ${quoted[0]} TO ${grantee}`;
    case 'schema': return `GRANT ${p.what} ON SCHEMA ${quoted[0]} TO ${grantee}`;
    case 'table': return `GRANT ${p.what} ON ${quoted[0]}.${quoted[1]} TO ${grantee}`;
    case 'column': return `GRANT ${p.what} (${quoted[2]}) ON ${quoted[0]}.${quoted[1]} TO ${grantee}`;
    case 'default': return `ALTER DEFAULT PRIVILEGES FOR USER ${quoted[0]}${quoted.length > 1 ? ` IN SCHEMA ${quoted[1]}` : ''} GRANT ${p.what} TO ${grantee}`;
    case 'role': return `GRANT ROLE ${quoted[0]} TO ${grantee}`;
    case 'group': return `ALTER GROUP ${quoted[0]} ADD USER ${grantee}`;
  }
}

function privilege(kind: PrivilegeKind, what: string, names: string[]): Privilege {
  return { kind, what, names, key: JSON.stringify([kind, what, ...names]) };
}

function unsupported(problem: string): RotationError {
  return new RotationError(ERROR_CODES.UNSUPPORTED_ACCOUNT, `The original user cannot be cloned: ${problem}`);
}

function word(value: unknown): string {
  const w = String(value ?? '').trim().toUpperCase();
  if (!PRIVILEGE_WORDS.has(w)) throw unsupported('it holds a privilege the handler does not copy');
  return w;
}

function name(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'A system view returned an empty name');
  return value;
}

function noGrantOption(row: { g?: unknown }): void {
  if (row.g === true || row.g === 't') throw unsupported('it holds a privilege or role WITH GRANT OPTION or WITH ADMIN OPTION');
}

/**
 * Every privilege the clone copies (and the kinds it refuses), for the users named $1 and $2, one branch per source:
 * u the user, k the kind, a/b/c the names, p the privilege word, g its grant (or admin) option, s its scope, o the object
 * type of default privileges. SVV_COLUMN_PRIVILEGES has no admin_option; PG_GROUP lists group members by user id.
 */
const PRIVILEGES_OF_TWO_USERS = [
  'SELECT identity_name AS u, \'database\' AS k, database_name AS a, NULL AS b, NULL AS c, privilege_type AS p, admin_option AS g, privilege_scope AS s, NULL AS o '
    + 'FROM pg_catalog.svv_database_privileges WHERE identity_type = \'user\' AND identity_name IN ($1, $2)',
  'SELECT identity_name, \'schema\', namespace_name, NULL, NULL, privilege_type, admin_option, privilege_scope, NULL '
    + 'FROM pg_catalog.svv_schema_privileges WHERE identity_type = \'user\' AND identity_name IN ($1, $2)',
  'SELECT identity_name, \'table\', namespace_name, relation_name, NULL, privilege_type, admin_option, NULL, NULL '
    + 'FROM pg_catalog.svv_relation_privileges WHERE identity_type = \'user\' AND identity_name IN ($1, $2)',
  'SELECT identity_name, \'column\', namespace_name, relation_name, column_name, privilege_type, NULL, NULL, NULL '
    + 'FROM pg_catalog.svv_column_privileges WHERE identity_type = \'user\' AND identity_name IN ($1, $2)',
  'SELECT identity_name, \'function\', namespace_name, function_name, NULL, privilege_type, admin_option, NULL, NULL '
    + 'FROM pg_catalog.svv_function_privileges WHERE identity_type = \'user\' AND identity_name IN ($1, $2)',
  'SELECT grantee_name, \'default\', owner_name, schema_name, NULL, privilege_type, admin_option, NULL, object_type '
    + 'FROM pg_catalog.svv_default_privileges WHERE grantee_type = \'user\' AND grantee_name IN ($1, $2)',
  'SELECT user_name, \'role\', role_name, NULL, NULL, NULL, admin_option, NULL, NULL '
    + 'FROM pg_catalog.svv_user_grants WHERE user_name IN ($1, $2)',
  'SELECT u.usename, \'group\', g.groname, NULL, NULL, NULL, NULL, NULL, NULL '
    + 'FROM pg_catalog.pg_group g, pg_catalog.pg_user u WHERE u.usename IN ($1, $2) AND u.usesysid = ANY (g.grolist)',
].join(' UNION ALL ');

/** One row of {@link PRIVILEGES_OF_TWO_USERS} as a privilege; undefined for a kind only counted against a clone. */
function readPrivilege(r: any, strict: boolean): Privilege | undefined {
  switch (r.k) {
    case 'database':
      if (r.s !== undefined && r.s !== null && String(r.s).toUpperCase() !== 'DATABASE') throw unsupported('it holds a scoped database privilege');
      return privilege('database', word(r.p), [name(r.a)]);
    case 'schema':
      if (r.s !== undefined && r.s !== null && String(r.s).toUpperCase() !== 'SCHEMA') throw unsupported('it holds a scoped schema privilege');
      return privilege('schema', word(r.p), [name(r.a)]);
    case 'table': return privilege('table', word(r.p), [name(r.a), name(r.b)]);
    case 'column': return privilege('column', word(r.p), [name(r.a), name(r.b), name(r.c)]);
    case 'function':
      if (strict) throw unsupported('it holds function or procedure privileges');
      return undefined;
    case 'default': {
      const objects = DEFAULT_OBJECT_TYPES[String(r.o ?? '').toUpperCase()];
      if (!objects) throw unsupported('it holds default privileges on an object type the handler does not copy');
      return privilege('default', `${word(r.p)} ON ${objects}`, r.b === null || r.b === undefined || r.b === '' ? [name(r.a)] : [name(r.a), name(r.b)]);
    }
    case 'role': return privilege('role', 'ROLE', [name(r.a)]);
    case 'group': return privilege('group', 'GROUP', [name(r.a)]);
    default: throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'A system view returned a row of an unknown kind');
  }
}

/** A server-quoted identifier: a plain lower-case name or a double-quoted one with inner quotes doubled. */
const QUOTED_IDENTIFIER = /^(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")$/s;

interface UserRow {
  readonly usename: string;
  readonly usesuper: boolean;
  readonly usecreatedb: boolean;
}

/** Exported for statement-level tests, which drive it over a scripted client. */
export class RedshiftSession implements DatabaseSession {
  constructor(private readonly client: WireClient, private readonly ctx: StepContext, private readonly kind: SessionKind = 'application') {}

  public async pinSearchPath(): Promise<void> {
    await this.query('set-search-path', 'SELECT pg_catalog.set_config(\'search_path\', \'pg_catalog, pg_temp\', false)');
  }

  /** The session's own user: salted with the name the server reports, which is the name it stores. */
  public async setOwnPassword(_username: string, password: string): Promise<void> {
    assertRedshiftPassword(password);
    const [row] = await this.query('session-user', 'SELECT session_user AS session_name');
    const stored = name(row?.session_name);
    const [user] = await this.quote('own', [stored]);
    await this.query('alter-user', `ALTER USER ${user} PASSWORD ${hashLiteral(password, stored)}`);
  }

  public async assertAlternateOf(alternate: string, original: string): Promise<void> {
    const found = await this.users(alternate, original);
    const clone = found.get(alternate);
    const source = found.get(original);
    if (!clone || !source || clone.usesuper) {
      throw new ConfusedDeputyError('the current user is named like the clone of the pending user but is not its clone');
    }
    const privileges = await this.privilegesOf(original, alternate, false);
    const held = new Set(privileges.get(original)!.map((p) => p.key));
    const extra = privileges.get(alternate)!.filter((p) => !held.has(p.key));
    if (extra.length > 0 || (clone.usecreatedb && !source.usecreatedb)) {
      throw new ConfusedDeputyError('the current user is named like the clone of the pending user but holds privileges the pending user does not');
    }
  }

  public async upsertAlternate(target: string, original: string, password: string): Promise<'created' | 'updated'> {
    assertRedshiftPassword(password);
    const source = (await this.users(original)).get(original);
    if (!source) throw new ConfusedDeputyError('the original user does not exist on the server');
    if (source.usesuper) throw unsupported('it is a superuser');
    const cloning = target !== original;
    // read (and refuse) everything before the first change
    const wanted = cloning ? (await this.privilegesOf(original, original, true)).get(original)! : [];
    await this.query('begin', 'BEGIN');
    try {
      const existing = (await this.users(target)).get(target);
      if (existing && cloning && (existing.usesuper || (existing.usecreatedb && !source.usecreatedb))) {
        throw new ConfusedDeputyError('the alternate user exists with attributes the handler never grants; it is not a clone');
      }
      // the swing back salts with the original's stored name; a new clone is stored under the quoted name it is given
      const salt = existing ? existing.usename : target;
      const [user] = await this.quote('user', [salt]);
      if (existing) {
        await this.query('alter-user', `ALTER USER ${user} PASSWORD ${hashLiteral(password, salt)}`);
      } else {
        await this.query('create-user', `CREATE USER ${user} PASSWORD ${hashLiteral(password, salt)}`);
      }
      if (cloning && source.usecreatedb && !existing?.usecreatedb) await this.query('grant-createdb', `ALTER USER ${user} CREATEDB`);
      if (cloning) {
        const held = new Set(existing ? (await this.privilegesOf(target, target, false)).get(target)!.map((p) => p.key) : []);
        const missing = wanted.filter((w) => !held.has(w.key));
        // every name of every grant quoted in one round trip
        const quoted = missing.length > 0 ? await this.quote('grants', missing.flatMap((p) => p.names)) : [];
        let next = 0;
        for (const p of missing) {
          const names = quoted.slice(next, next += p.names.length);
          await this.query(`grant-${p.kind}`, grantStatement(p, names, user));
        }
      }
      await this.query('commit', 'COMMIT');
      return existing ? 'updated' : 'created';
    } catch (err) {
      await this.client.query({ text: 'ROLLBACK' }).catch(() => undefined);
      throw err;
    }
  }

  /** As the master: the clone holds every privilege of the original (it may hold more: nothing is revoked). */
  public async checkAlternate(original: string, alternate: string): Promise<void> {
    const found = await this.users(original, alternate);
    const source = found.get(original);
    const clone = found.get(alternate);
    const outOfSync = (why: string) => new RotationError(ERROR_CODES.PRIVILEGES_OUT_OF_SYNC, `The alternate user does not hold the original user's privileges: ${why}`);
    if (!source || !clone) throw outOfSync('a user is missing');
    if (source.usecreatedb && !clone.usecreatedb) throw outOfSync('CREATEDB is missing');
    const privileges = await this.privilegesOf(original, alternate, false);
    const have = new Set(privileges.get(alternate)!.map((p) => p.key));
    const missing = privileges.get(original)!.filter((p) => !have.has(p.key)).length;
    if (missing > 0) throw outOfSync(`${missing} privilege(s) missing`);
  }

  /** One statement in a read-only transaction that is rolled back (the extended protocol refuses a second statement). */
  public async probe(sql: string): Promise<void> {
    await this.query('probe-begin', 'BEGIN READ ONLY');
    await this.query('probe', sql, [], true);
    await this.query('probe-end', 'ROLLBACK');
  }

  public async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /** The users among `names` that exist (one or two names: one statement, one round trip). */
  private async users(...names: [string] | [string, string]): Promise<Map<string, UserRow>> {
    const rows = await this.query('find-user', 'SELECT usename, usesuper, usecreatedb FROM pg_catalog.pg_user WHERE usename IN ($1, $2)', [names[0], names[1] ?? names[0]]);
    const found = new Map<string, UserRow>();
    for (const row of rows) {
      const usename = name(row.usename);
      found.set(usename, { usename, usesuper: row.usesuper === true, usecreatedb: row.usecreatedb === true });
    }
    return found;
  }

  /**
   * The privileges `a` and `b` (the same name for one user) hold directly, read from every view in one statement, so
   * that one round trip and one snapshot serve both users. `strict` (reading the original to copy it) refuses what
   * cannot be copied; otherwise (comparing) such rows are left out of the comparison's sets and only the copyable
   * kinds compared.
   */
  public async privilegesOf(a: string, b: string, strict: boolean): Promise<Map<string, Privilege[]>> {
    const result = new Map<string, Privilege[]>([[a, []], [b, []]]);
    for (const row of await this.query('read-privileges', PRIVILEGES_OF_TWO_USERS, [a, b])) {
      const held = result.get(row.u);
      if (!held) throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'A system view returned a row of another user');
      try {
        if (strict) noGrantOption(row);
        const p = readPrivilege(row, strict);
        if (p) held.push(p);
      } catch (err) {
        if (strict) throw err;
      }
    }
    return result;
  }

  /** Identifiers quoted by the server (quote_ident over bound parameters), each checked for the shape it must have. */
  private async quote(point: string, names: readonly string[]): Promise<string[]> {
    const columns = names.map((_, i) => `pg_catalog.quote_ident($${i + 1}) AS q${i}`).join(', ');
    const [row] = await this.query(`quote-${point}`, `SELECT ${columns}`, [...names]);
    return names.map((_, i) => {
      const quoted = row?.[`q${i}`];
      if (typeof quoted !== 'string' || !QUOTED_IDENTIFIER.test(quoted)) {
        throw new RotationError(ERROR_CODES.DATABASE_ERROR, 'The server returned a quoted identifier of an unexpected shape');
      }
      return quoted;
    });
  }

  private async query(point: string, text: string, values: unknown[] = [], extended = false): Promise<any[]> {
    let result;
    try {
      const config = (extended ? { text, values, queryMode: 'extended' } : { text, values }) as QueryConfig;
      result = await this.ctx.deadline.run('Redshift query', () => this.client.query(config));
    } catch (err) {
      throw classify(err, point, this.kind);
    }
    await faultPoint(`redshift:${point}`);
    return result.rows;
  }
}

/** The MD5 form as a SQL literal, only after it matched its shape (hex digits: nothing to escape). */
function hashLiteral(password: string, salt: string): string {
  const hash = redshiftMd5Hash(password, salt);
  if (!MD5_PASSWORD_HASH.test(hash)) throw new RotationError(ERROR_CODES.INTERNAL, 'The password hash has an unexpected shape');
  return `'${hash}'`;
}
