import { promises as fs } from 'fs';
import * as path from 'path';
import { ConformanceConnection, ConformanceServer, ConformanceServerFactory, Scheme, StoredUser } from './conformance-server';
import { PostgresServer, PostgresServerOptions } from './postgres-server';
import { systemViewStatements } from './redshift-system-views';
import type { DatabaseEngineFamily } from '../../src/private/contract';

/** Redshift's default database, which the suite's secrets name. */
const DATABASE = 'dev';
/** The schema, table, column, owner and group whose privileges every application user holds. */
const APP = { schema: 'app', table: 'items', column: 'note', owner: 'app_owner', group: 'app_readers' } as const;

/**
 * The conformance server interface for the Redshift engines, on a real PostgreSQL (no Redshift can run here) set up the
 * way Redshift behaves where the two share behaviour:
 * - md5 password authentication, and passwords stored in Redshift's MD5 form, `md5` + md5(password + user name)
 *   (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html); the server computes it for the test users;
 * - a `dev` database, Redshift's default;
 * - Redshift's privilege system views (SVV_*, redshift-system-views.ts) in pg_catalog of every database, computed from
 *   PostgreSQL's catalogs, so the dialect's privilege copy reads true rows;
 * - the master is a superuser, as a Redshift cluster's admin user is (CREATE USER ... CREATEUSER makes a superuser);
 * - application users hold one privilege of each kind the dialect copies and PostgreSQL can grant in Redshift's
 *   syntax: TEMP on the database, USAGE on a schema, SELECT and INSERT on a table, UPDATE on one of its columns,
 *   default privileges (SELECT on the tables another user will create in the schema) and a group membership.
 *
 * The dialect's statements run unchanged: `CREATE USER u PASSWORD 'md5…'` and `ALTER USER` (both store the MD5 form as
 * given), `ALTER USER u CREATEDB`, `GRANT … ON DATABASE | SCHEMA | s.t`, `GRANT UPDATE (c) ON s.t`, `ALTER DEFAULT
 * PRIVILEGES FOR USER o IN SCHEMA s GRANT … ON TABLES` (PostgreSQL reads FOR USER as FOR ROLE), `ALTER GROUP g ADD USER
 * u`, PG_USER and PG_GROUP, `quote_ident`, `set_config`, `BEGIN READ ONLY`.
 *
 * What this stand-in does not have, left to the statement-level tests (test/lambda/engines/redshift.test.ts): Redshift
 * roles (`GRANT ROLE r TO u` is not PostgreSQL; PostgreSQL's login-less roles are its groups); scoped privileges
 * (privilege_scope other than DATABASE or SCHEMA) and Redshift's DROP and ALTER table privileges; user names of more
 * than 63 bytes (NAMEDATALEN; Redshift allows 127). Redshift folds quoted schema, table and
 * column names to lower case unless enable_case_sensitive_identifier is on, PostgreSQL never does: the dialect quotes
 * names as the views give them (as stored), so both behave alike for it.
 */
export class RedshiftConformanceServer implements ConformanceServer {
  public static async start(options: PostgresServerOptions = {}): Promise<RedshiftConformanceServer> {
    const pg = await PostgresServer.start(options);
    try {
      await md5Authentication(pg, options.requireTls ?? false);
      await installSystemViews(pg);
      await createApplicationObjects(pg);
    } catch (err) {
      await pg.stop();
      throw err;
    }
    return new RedshiftConformanceServer(pg);
  }

  public readonly family = 'redshift';
  public readonly storedPasswordForm = { name: 'Redshift\'s MD5 form (md5 + md5(password + user name))', pattern: /^md5[0-9a-f]{32}$/ };
  public readonly sqlInjectionName = 'x"; DROP USER rotation_master; --';
  public readonly otherDatabase = 'postgres';
  public readonly failingProbe = 'SELECT 1/0';

  private constructor(public readonly pg: PostgresServer) {}

  public get version(): string {
    return this.pg.version;
  }

  public get port(): number {
    return this.pg.port;
  }

  public get caCertPath(): string | undefined {
    return this.pg.caCertPath;
  }

  public get superuser(): { readonly username: string; readonly password: string } {
    return this.pg.superuser;
  }

  public async createUser(username: string, password: string): Promise<void> {
    await this.run('CREATE USER %I PASSWORD %L', [username], password);
    await this.run(`GRANT TEMP ON DATABASE ${DATABASE} TO %I`, [username]);
    await this.run(`GRANT USAGE ON SCHEMA ${APP.schema} TO %I`, [username]);
    await this.run(`GRANT SELECT, INSERT ON ${APP.schema}.${APP.table} TO %I`, [username]);
    await this.run(`GRANT UPDATE (${APP.column}) ON ${APP.schema}.${APP.table} TO %I`, [username]);
    await this.run(`ALTER DEFAULT PRIVILEGES FOR USER ${APP.owner} IN SCHEMA ${APP.schema} GRANT SELECT ON TABLES TO %I`, [username]);
    await this.run(`ALTER GROUP ${APP.group} ADD USER %I`, [username]);
  }

  public async createMaster(username: string, password: string): Promise<void> {
    await this.run('CREATE USER %I PASSWORD %L SUPERUSER', [username], password);
  }

  /** A superuser needs nothing more. */
  public async prepareMasterFor(_username: string, _master: string): Promise<void> {}

  public canLogin(username: string, password: string, dbname?: string): Promise<boolean> {
    return this.pg.canLogin(username, password, dbname);
  }

  public async setPassword(username: string, password: string): Promise<void> {
    await this.run('ALTER USER %I PASSWORD %L', [username], password);
  }

  /**
   * Every role's stored password, attributes and group memberships, and every privilege granted to it in `dev`
   * (database, schemas, relations, columns, default privileges), read from PostgreSQL's catalogs, not from the SVV
   * views the handler reads.
   */
  public async users(except: readonly string[] = []): Promise<Record<string, StoredUser>> {
    const roles = await this.pg.query<{ rolname: string; rolpassword: string | null; attributes: string[]; memberships: string[] }>(`
      SELECT a.rolname, a.rolpassword,
        ARRAY[format('login=%s superuser=%s createdb=%s createrole=%s', a.rolcanlogin, a.rolsuper, a.rolcreatedb, a.rolcreaterole)] AS attributes,
        ARRAY(SELECT format('member of %I admin=%s', r.rolname, m.admin_option)
          FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
          WHERE m.member = a.oid AND NOT (r.rolname = ANY($1::text[])) ORDER BY 1) AS memberships
      FROM pg_catalog.pg_authid a WHERE NOT (a.rolname = ANY($1::text[])) ORDER BY a.rolname`, [[...except]]);
    const granted = await this.pg.query<{ grantee: string; privilege: string }>(GRANTED_PRIVILEGES, [], DATABASE);
    const byGrantee = new Map<string, string[]>();
    for (const { grantee, privilege } of granted) byGrantee.set(grantee, [...(byGrantee.get(grantee) ?? []), privilege]);
    return Object.fromEntries(roles.map((r) => [r.rolname, {
      credential: r.rolpassword,
      privileges: [...r.attributes, ...r.memberships, ...(byGrantee.get(r.rolname) ?? [])],
    }]));
  }

  public async storedCredentials(username: string): Promise<string[]> {
    const rows = await this.pg.query<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1', [username]);
    return rows.map((r) => r.rolpassword ?? '');
  }

  public authorizedConnections(): Promise<ConformanceConnection[]> {
    return this.pg.authorizedConnections();
  }

  public secretJson(username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { engine: 'redshift', host: 'localhost', port: this.pg.port, username, password, dbname: DATABASE, ...extra };
  }

  public faultPoints(scheme: Scheme, _dialect?: DatabaseEngineFamily): string[] {
    return scheme === 'multi-user'
      ? [
        'redshift:set-search-path', 'redshift:find-user', 'redshift:read-privileges', 'redshift:begin', 'redshift:quote-user',
        'redshift:create-user', 'redshift:quote-grants', 'redshift:grant-database', 'redshift:grant-schema', 'redshift:grant-table',
        'redshift:grant-column', 'redshift:grant-default', 'redshift:grant-group', 'redshift:commit', 'redshift:probe',
      ]
      : ['redshift:session-user', 'redshift:quote-own', 'redshift:alter-user', 'redshift:probe'];
  }

  public stop(): Promise<void> {
    return this.pg.stop();
  }

  /**
   * Runs `template` with `identifiers` quoted by the server (%I); with `password`, the last %L is Redshift's MD5 form
   * of it, salted with the first identifier and computed by the server.
   */
  private async run(template: string, identifiers: string[], password?: string): Promise<void> {
    const args = identifiers.map((_, i) => `$${i + 2}::text`);
    if (password !== undefined) args.push(`'md5' || md5($${identifiers.length + 2}::text || $2::text)`);
    const values = password === undefined ? identifiers : [...identifiers, password];
    const [{ stmt }] = await this.pg.query<{ stmt: string }>(`SELECT format($1::text, ${args.join(', ')}) AS stmt`, [template, ...values]);
    await this.pg.query(stmt, [], DATABASE);
  }
}

/** One row per privilege granted to a role in the current database: the grantee and the privilege in words. */
const GRANTED_PRIVILEGES = `
  WITH grants(grantee, privilege) AS (
    SELECT x.grantee, format('database %I: %s%s', d.datname, x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
      FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) x
    UNION ALL
    SELECT x.grantee, format('schema %I: %s%s', n.nspname, x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
      FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) x
    UNION ALL
    SELECT x.grantee, format('relation %I.%I: %s%s', n.nspname, c.relname, x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.aclexplode(c.relacl) x
    UNION ALL
    SELECT x.grantee, format('column %I.%I.%I: %s%s', n.nspname, c.relname, a.attname, x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
        pg_catalog.aclexplode(a.attacl) x
    UNION ALL
    SELECT x.grantee, format('default for %I in %s on %s: %s%s', o.rolname, COALESCE(quote_ident(n.nspname), 'every schema'), d.defaclobjtype,
        x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
      FROM pg_catalog.pg_default_acl d JOIN pg_catalog.pg_roles o ON o.oid = d.defaclrole
        LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace, pg_catalog.aclexplode(d.defaclacl) x
  )
  SELECT r.rolname AS grantee, g.privilege FROM grants g JOIN pg_catalog.pg_roles r ON r.oid = g.grantee ORDER BY 1, 2`;

/** Redshift authenticates passwords with md5 by default: PostgreSQL's md5 method checks the stored MD5 form. */
async function md5Authentication(pg: PostgresServer, requireTls: boolean): Promise<void> {
  const connectionType = requireTls ? 'hostssl' : 'host';
  const lines = ['127.0.0.1/32', '::1/128'].map((address) => `${connectionType} all all ${address} md5`);
  await fs.writeFile(path.join(pg.dataDir, 'pg_hba.conf'), `${lines.join('\n')}\n`);
  await pg.query('SELECT pg_catalog.pg_reload_conf()');
}

/** In `dev` and in `postgres`, the databases anyone logs in to (pg_catalog is per database). */
async function installSystemViews(pg: PostgresServer): Promise<void> {
  await pg.query(`CREATE DATABASE ${DATABASE}`);
  for (const database of [DATABASE, 'postgres']) await pg.query(systemViewStatements().join(';\n'), [], database);
}

async function createApplicationObjects(pg: PostgresServer): Promise<void> {
  await pg.query([
    `CREATE USER ${APP.owner}`,
    `CREATE GROUP ${APP.group}`,
    `CREATE SCHEMA ${APP.schema} AUTHORIZATION ${APP.owner}`,
    `CREATE TABLE ${APP.schema}.${APP.table} (id integer, ${APP.column} text)`,
    `ALTER TABLE ${APP.schema}.${APP.table} OWNER TO ${APP.owner}`,
  ].join(';\n'), [], DATABASE);
}

export const REDSHIFT_CONFORMANCE: ConformanceServerFactory<RedshiftConformanceServer> & { readonly runsOn: string } = {
  family: 'redshift',
  // the rows' titles say so (test/lambda/conformance/rows.ts)
  runsOn: 'PostgreSQL',
  start: (options) => RedshiftConformanceServer.start(options),
};

/** The name the conformance suite finds this engine's server by (test/lambda/conformance/rows.ts). */
export const CONFORMANCE_SERVER = REDSHIFT_CONFORMANCE;
