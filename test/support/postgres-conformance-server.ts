import { ConformanceConnection, ConformanceServer, ConformanceServerFactory, Scheme, StoredUser } from './conformance-server';
import { PostgresServer, PostgresServerOptions } from './postgres-server';
import type { DatabaseEngineFamily } from '../../src/private/contract';

/**
 * The conformance server interface over a real PostgreSQL ({@link PostgresServer}, reachable as `pg` for the
 * PostgreSQL-only tests). Users are login roles; the master is a CREATEROLE role, which on PostgreSQL 16+ also needs
 * ADMIN OPTION on each role it lets a clone join.
 */
export class PostgresConformanceServer implements ConformanceServer {
  public static async start(options: PostgresServerOptions = {}): Promise<PostgresConformanceServer> {
    return new PostgresConformanceServer(await PostgresServer.start(options));
  }

  public readonly family = 'postgres';
  public readonly storedPasswordForm = { name: 'a SCRAM-SHA-256 verifier', pattern: /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/ };
  public readonly sqlInjectionName = 'x"; DROP ROLE postgres; --';
  public readonly otherDatabase = 'template1';
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

  /** A role with `options` (default a plain LOGIN role, what an application user is). */
  public async createUser(username: string, password: string, options = 'LOGIN'): Promise<void> {
    await this.execFormatted(`CREATE ROLE %I WITH ${options} PASSWORD %L`, username, password);
  }

  public async createMaster(username: string, password: string): Promise<void> {
    await this.createUser(username, password, 'LOGIN CREATEROLE');
  }

  /** ADMIN OPTION on the role: PostgreSQL 16+ requires it of a CREATEROLE master for roles it did not create. */
  public async prepareMasterFor(username: string, master: string): Promise<void> {
    const [{ stmt }] = await this.pg.query<{ stmt: string }>('SELECT format(\'GRANT %I TO %I WITH ADMIN OPTION\', $1::text, $2::text) AS stmt', [username, master]);
    await this.pg.query(stmt);
  }

  public canLogin(username: string, password: string, dbname?: string): Promise<boolean> {
    return this.pg.canLogin(username, password, dbname);
  }

  public async setPassword(username: string, password: string): Promise<void> {
    await this.execFormatted('ALTER ROLE %I PASSWORD %L', username, password);
  }

  /** Every role's verifier, attributes and memberships (the roles it is a member of, with their options). */
  public async users(except: readonly string[] = []): Promise<Record<string, StoredUser>> {
    const rows = await this.pg.query<{ rolname: string; rolpassword: string | null; attributes: string[]; memberships: string[] }>(`
      SELECT a.rolname, a.rolpassword,
        ARRAY[format('login=%s createrole=%s createdb=%s superuser=%s inherit=%s replication=%s bypassrls=%s',
          a.rolcanlogin, a.rolcreaterole, a.rolcreatedb, a.rolsuper, a.rolinherit, a.rolreplication, a.rolbypassrls)] AS attributes,
        ARRAY(SELECT format('member of %I admin=%s', r.rolname, m.admin_option)
          FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
          WHERE m.member = a.oid AND NOT (r.rolname = ANY($1::text[])) ORDER BY 1) AS memberships
      FROM pg_catalog.pg_authid a WHERE NOT (a.rolname = ANY($1::text[])) ORDER BY a.rolname`, [[...except]]);
    return Object.fromEntries(rows.map((r) => [r.rolname, { credential: r.rolpassword, privileges: [...r.attributes, ...r.memberships] }]));
  }

  public async storedCredentials(username: string): Promise<string[]> {
    const rows = await this.pg.query<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1', [username]);
    return rows.map((r) => r.rolpassword ?? '');
  }

  public authorizedConnections(): Promise<ConformanceConnection[]> {
    return this.pg.authorizedConnections();
  }

  public secretJson(username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { engine: 'postgres', host: 'localhost', port: this.pg.port, username, password, dbname: 'postgres', ...extra };
  }

  public faultPoints(scheme: Scheme, _dialect?: DatabaseEngineFamily): string[] {
    return scheme === 'multi-user'
      ? ['postgres:begin', 'postgres:find-role', 'postgres:create-role', 'postgres:grant-role', 'postgres:commit', 'postgres:check-privileges', 'postgres:probe']
      : ['postgres:format-alter-role', 'postgres:alter-role', 'postgres:probe'];
  }

  public stop(): Promise<void> {
    return this.pg.stop();
  }

  /** Runs a statement whose identifier and literal the server quotes (format %I / %L). */
  private async execFormatted(template: string, identifier: string, literal: string): Promise<void> {
    const [{ stmt }] = await this.pg.query<{ stmt: string }>('SELECT format($1::text, $2::text, $3::text) AS stmt', [template, identifier, literal]);
    await this.pg.query(stmt);
  }
}

export const POSTGRES_CONFORMANCE: ConformanceServerFactory<PostgresConformanceServer> = {
  family: 'postgres',
  start: (options) => PostgresConformanceServer.start(options),
};

/** The name the conformance suite finds this engine's server by (test/lambda/conformance/rows.ts). */
export const CONFORMANCE_SERVER = POSTGRES_CONFORMANCE;
