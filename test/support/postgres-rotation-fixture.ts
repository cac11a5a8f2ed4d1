import { POSTGRES_CONFORMANCE, PostgresConformanceServer } from './postgres-conformance-server';
import type { PostgresServer, PostgresServerOptions } from './postgres-server';
import { RotationFixture } from './rotation-fixture';

export { MANUAL_ARN, functionArn } from './rotation-fixture';

/**
 * The rotation fixture on a real PostgreSQL, with what the PostgreSQL-only tests use besides the conformance
 * interface: the server itself (`pg`), roles with attributes, ADMIN OPTION and role verifiers.
 */
export class PostgresRotationFixture extends RotationFixture<PostgresConformanceServer> {
  public static async start(pgOptions: PostgresServerOptions = {}): Promise<PostgresRotationFixture> {
    const [server, sm, rds] = await RotationFixture.startParts(POSTGRES_CONFORMANCE, pgOptions);
    return new PostgresRotationFixture(server, sm, rds);
  }

  public get pg(): PostgresServer {
    return this.server.pg;
  }

  /** Creates a login role (or one with other `options`); the name is quoted by the server, so any name works. */
  public async createRole(username: string, password: string, options = 'LOGIN'): Promise<void> {
    await this.server.createUser(username, password, options);
  }

  /** Lets `master` grant `role` to others (PostgreSQL 16+ requires it of a CREATEROLE master for roles it did not create). */
  public async grantAdminOption(role: string, master: string): Promise<void> {
    await this.server.prepareMasterFor(role, master);
  }

  /** Changes a role's password behind the rotation's back (a restore, an operator). */
  public async setPassword(username: string, password: string): Promise<void> {
    await this.server.setPassword(username, password);
  }

  /** The stored password verifiers of every role other than `except`, to prove no other user was altered. */
  public async verifiers(except: string[] = []): Promise<Record<string, string | null>> {
    const users = await this.server.users(except);
    return Object.fromEntries(Object.entries(users).map(([name, user]) => [name, user.credential]));
  }
}
