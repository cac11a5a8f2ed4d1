import * as mysql from 'mysql2';
import { ConformanceConnection, ConformanceServer, ConformanceServerFactory, Scheme, StoredUser } from './conformance-server';
import { MariaDbServer, MariaDbServerOptions } from './mariadb-server';
import type { DatabaseEngineFamily } from '../../src/private/contract';

/** The database the suite's application users may use; the master passes their grants on to clones. */
const APP_DATABASE = 'conformance';
/** What an application user may do: enough to make a clone's grants worth comparing. */
const APP_PRIVILEGES = `SELECT, INSERT ON ${mysql.escapeId(APP_DATABASE)}.*`;
/** Accounts are for any client host: the server sees the tests (and the handlers) as 127.0.0.1. */
const ACCOUNT_HOST = '%';

/**
 * The conformance server interface over a real MariaDB ({@link MariaDbServer}, reachable as `db`). Users are accounts
 * on `%` with SELECT and INSERT on one database. The master is what an RDS master gives a rotation: CREATE USER,
 * read access to the grant tables (to find an account's host and read its grants), and the application's privileges
 * WITH GRANT OPTION so it may pass them on; nothing more.
 *
 * Account names and passwords are quoted by the driver (mysql2's escape): MariaDB binds neither in CREATE USER,
 * ALTER USER or GRANT.
 */
export class MariaDbConformanceServer implements ConformanceServer {
  public static async start(options: MariaDbServerOptions = {}): Promise<MariaDbConformanceServer> {
    const db = await MariaDbServer.start(options);
    try {
      await db.query(`CREATE DATABASE ${mysql.escapeId(APP_DATABASE)}`);
    } catch (err) {
      await db.stop();
      throw err;
    }
    return new MariaDbConformanceServer(db);
  }

  public readonly family = 'mariadb';
  public readonly storedPasswordForm = { name: 'a mysql_native_password hash', pattern: /^\*[0-9A-F]{40}$/ };
  public readonly sqlInjectionName = 'x\'; DROP USER root; --';
  public readonly otherDatabase = 'mysql';
  public readonly failingProbe = 'SELECT * FROM mysql.no_such_table';

  private constructor(public readonly db: MariaDbServer) {}

  public get version(): string {
    return this.db.version;
  }

  public get port(): number {
    return this.db.port;
  }

  public get caCertPath(): string | undefined {
    return this.db.caCertPath;
  }

  public get superuser(): { readonly username: string; readonly password: string } {
    return this.db.superuser;
  }

  public async createUser(username: string, password: string): Promise<void> {
    await this.db.query(`CREATE USER ${account(username)} IDENTIFIED BY ${mysql.escape(password)}`);
    await this.db.query(`GRANT ${APP_PRIVILEGES} TO ${account(username)}`);
  }

  public async createMaster(username: string, password: string): Promise<void> {
    await this.db.query(`CREATE USER ${account(username)} IDENTIFIED BY ${mysql.escape(password)}`);
    await this.db.query(`GRANT CREATE USER ON *.* TO ${account(username)}`);
    await this.db.query(`GRANT SELECT ON ${mysql.escapeId('mysql')}.* TO ${account(username)}`);
    await this.db.query(`GRANT ${APP_PRIVILEGES} TO ${account(username)} WITH GRANT OPTION`);
  }

  /** Nothing per user: the master already holds every application privilege with GRANT OPTION. */
  public async prepareMasterFor(_username: string, _master: string): Promise<void> {}

  public canLogin(username: string, password: string, dbname?: string): Promise<boolean> {
    return this.db.canLogin(username, password, dbname);
  }

  public async setPassword(username: string, password: string): Promise<void> {
    await this.db.query(`ALTER USER ${account(username)} IDENTIFIED BY ${mysql.escape(password)}`);
  }

  /** Every account's authentication string and plugin, and its SHOW GRANTS lines (which name the account itself). */
  public async users(except: readonly string[] = []): Promise<Record<string, StoredUser>> {
    const rows = await this.db.query<{ User: string; Host: string; credential: string; plugin: string }>(
      'SELECT User, Host, authentication_string AS credential, plugin FROM mysql.user WHERE is_role = ? ORDER BY User, Host', ['N']);
    const users: Record<string, StoredUser> = {};
    for (const row of rows.filter((r) => !except.includes(r.User))) {
      const grants = await this.db.query<Record<string, string>>(`SHOW GRANTS FOR ${account(row.User, row.Host)}`);
      users[`${row.User}@${row.Host}`] = {
        credential: row.credential === '' ? null : row.credential,
        privileges: [`plugin ${row.plugin}`, ...grants.map((g) => String(Object.values(g)[0])).sort()],
      };
    }
    return users;
  }

  public async storedCredentials(username: string): Promise<string[]> {
    const rows = await this.db.query<{ credential: string }>('SELECT authentication_string AS credential FROM mysql.user WHERE User = ?', [username]);
    return rows.map((r) => r.credential);
  }

  public async authorizedConnections(): Promise<ConformanceConnection[]> {
    return (await this.db.authorizedConnections()).map(({ user, database, ssl }) => ({ user, database, ssl }));
  }

  public secretJson(username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { engine: 'mariadb', host: 'localhost', port: this.db.port, username, password, ...extra };
  }

  public faultPoints(scheme: Scheme, dialect: DatabaseEngineFamily = this.family): string[] {
    return scheme === 'multi-user'
      ? [`${dialect}:find-account`, `${dialect}:show-grants`, `${dialect}:create-user`, `${dialect}:grant`, `${dialect}:alter-user`, `${dialect}:probe`]
      : [`${dialect}:set-own-password`, `${dialect}:probe`];
  }

  public stop(): Promise<void> {
    return this.db.stop();
  }
}

/** `'user'@'host'`, quoted by the driver. */
function account(user: string, host: string = ACCOUNT_HOST): string {
  return `${mysql.escape(user)}@${mysql.escape(host)}`;
}

export const MARIADB_CONFORMANCE: ConformanceServerFactory<MariaDbConformanceServer> = {
  family: 'mariadb',
  start: (options) => MariaDbConformanceServer.start(options),
};

/** The name the conformance suite finds this engine's server by (test/lambda/conformance/rows.ts). */
export const CONFORMANCE_SERVER = MARIADB_CONFORMANCE;
