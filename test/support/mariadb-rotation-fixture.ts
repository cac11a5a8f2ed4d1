import { escape } from 'mysql2';
import type { LocalRds } from './local-rds';
import type { LocalSecretsManager } from './local-secrets-manager';
import { MARIADB_CONFORMANCE, MariaDbConformanceServer } from './mariadb-conformance-server';
import { MariaDbServer, MariaDbServerOptions } from './mariadb-server';
import { RotationFixture } from './rotation-fixture';

export { functionArn } from './rotation-fixture';

export const MYSQL_FAMILY_IDS = ['mysql-single-user', 'mysql-multi-user', 'mariadb-single-user', 'mariadb-multi-user'] as const;
export type MysqlFamilyId = typeof MYSQL_FAMILY_IDS[number];

/** The secret's `engine` for a bundle: the mysql-* bundles get MySQL secrets (their SQL runs on MariaDB too). */
export function engineOf(id: MysqlFamilyId): string {
  return id.startsWith('mysql') ? 'mysql' : 'mariadb';
}

/** An account name quoted by the driver, for the tests' own statements. */
export function account(user: string, host = '%'): string {
  return `${escape(user)}@${escape(host)}`;
}

/**
 * The shared rotation fixture on a real MariaDB, plus what the MySQL-family handler tests need beyond the conformance
 * interface: accounts on a given host with given privileges, the grants and hosts of an account, and secrets that
 * name another port (a relay in front of the server).
 */
export class MariaDbRotationFixture extends RotationFixture<MariaDbConformanceServer> {
  public static async start(options: MariaDbServerOptions = {}): Promise<MariaDbRotationFixture> {
    const [server, sm, rds] = await RotationFixture.startParts(MARIADB_CONFORMANCE, options);
    return new MariaDbRotationFixture(server, sm, rds);
  }

  /** The host name the server's certificate was issued for (resolves to the server's loopback address). */
  public readonly host = 'localhost';
  /** The port secrets name (a relay's, when a test puts one in front of the server). */
  public port: number;

  private constructor(server: MariaDbConformanceServer, sm: LocalSecretsManager, rds: LocalRds) {
    super(server, sm, rds);
    this.port = server.port;
  }

  public get db(): MariaDbServer {
    return this.server.db;
  }

  /** CREATE USER with a password (quoted by the driver, so any name works), on `host`. */
  public async createAccount(user: string, password: string, host = '%', extra = ''): Promise<void> {
    await this.db.query(`CREATE USER ${account(user, host)} IDENTIFIED BY ${escape(password)} ${extra}`);
  }

  /** A master like RDS's (every privilege with GRANT OPTION, on '%'), or with `privileges` only, and its secret. */
  public async createPrivilegedMaster(username = 'rotation_master', privileges = 'ALL PRIVILEGES ON *.*'): Promise<{ arn: string; password: string }> {
    const password = this.canary();
    await this.createAccount(username, password);
    await this.db.query(`GRANT ${privileges} TO ${account(username)} WITH GRANT OPTION`);
    return { arn: await this.createSecret(this.dbSecret('mariadb', username, password)), password };
  }

  /** A database secret naming the fixture's host and {@link port}. */
  public dbSecret(engine: string, username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { engine, host: this.host, port: this.port, username, password, ...extra };
  }

  /** The hosts of every account named `user`. */
  public async hosts(user: string): Promise<string[]> {
    const rows = await this.db.query<{ Host: string }>('SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host', [user]);
    return rows.map((r) => r.Host);
  }

  /** SHOW GRANTS with the grantee replaced, sorted: equal for two accounts with the same grants. */
  public async grants(user: string, host = '%'): Promise<string[]> {
    const rows = await this.db.query<Record<string, string>>(`SHOW GRANTS FOR ${account(user, host)}`);
    return rows.map((r) => Object.values(r)[0])
      // the grantee replaced; of what follows it only the grant's own option kept (MariaDB appends account properties)
      .map((line) => line.replace(/ (TO|FROM|FOR) `(?:[^`]|``)*`@`(?:[^`]|``)*`(.*)$/,
        (_m, keyword: string, tail: string) => ` ${keyword} <grantee>${/WITH (GRANT|ADMIN) OPTION/.exec(tail)?.[0].replace(/^/, ' ') ?? ''}`))
      .filter((line) => line !== 'GRANT USAGE ON *.* TO <grantee>')
      .sort();
  }

  /** Authentication strings of every account but `except`, to prove no other account was altered. */
  public async authStrings(except: string[] = []): Promise<Record<string, string>> {
    const rows = await this.db.query<{ User: string; Host: string; a: string }>(
      'SELECT User, Host, authentication_string AS a FROM mysql.user ORDER BY User, Host');
    return Object.fromEntries(rows.filter((r) => !except.includes(r.User)).map((r) => [`${r.User}@${r.Host}`, String(r.a)]));
  }
}
