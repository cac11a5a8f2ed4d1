import { promises as fs } from 'fs';
import * as path from 'path';
import { redshift } from '../../../lambda/engines/redshift';
import { redshiftMd5Hash } from '../../../lambda/engines/redshift-password';
import { singleUser } from '../../../lambda/kit/database';
import { Deadline } from '../../../lambda/kit/deadline';
import type { DatabaseLogin, StepContext } from '../../../lambda/kit/types';
import { ENV } from '../../../src/private/contract';
import { PostgresServer } from '../../support/postgres-server';

/**
 * The Redshift dialect against a real PostgreSQL server, on the paths where PostgreSQL accepts Redshift's SQL and wire
 * behaviour: a login over verified TLS through the same `pg` options, the user's own password set as the MD5 form
 * (`ALTER USER ... PASSWORD 'md5...'`, which PostgreSQL stores as given whatever password_encryption says), the master
 * setting the original's password in a transaction, and the read-only probe.
 *
 * The server authenticates with `md5` (pg_hba.conf rewritten below) as Redshift does by default: under `scram-sha-256`
 * PostgreSQL cannot log in a user whose stored password is an MD5 hash.
 *
 * This server is a plain PostgreSQL: it has none of Redshift's privilege views (SVV_DATABASE_PRIVILEGES and the
 * others), so the creation of a clone, which reads every privilege before its first change, fails here. The conformance
 * stand-in (test/support/redshift-conformance-server.ts, tested in redshift-system-views.test.ts) adds those views and
 * runs the privilege copy end to end; role memberships (`GRANT ROLE r TO u` is Redshift's syntax) stay covered
 * statement by statement in redshift.test.ts.
 */

let server: PostgresServer;

beforeAll(async () => {
  server = await PostgresServer.start();
  await fs.writeFile(path.join(server.dataDir, 'pg_hba.conf'),
    ['127.0.0.1/32', '::1/128'].map((address) => `host all all ${address} md5`).join('\n') + '\n');
  await server.query('SELECT pg_reload_conf()');
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const ctx = (env: NodeJS.ProcessEnv = { [ENV.TLS_CA_BUNDLE]: server.caCertPath }): StepContext => ({
  secretArn: 'arn', token: 't', deadline: new Deadline(() => 60_000), secrets: undefined as never, env,
});
let counter = 0;
async function createUser(password: string): Promise<string> {
  counter += 1;
  const name = `rs_app_${counter}`;
  await server.query(`CREATE USER ${name} PASSWORD '${redshiftMd5Hash(password, name)}'`);
  return name;
}
const login = (username: string, password: string): DatabaseLogin => ({
  host: server.host,
  port: server.port,
  username,
  password,
  dbname: 'postgres',
  tls: 'verify-full',
});

describe('the Redshift dialect on PostgreSQL', () => {
  test('logs in over TLS that verifies the chain and the address', async () => {
    const name = await createUser('Start1pw');
    const session = await redshift.connect(login(name, 'Start1pw'), ctx());
    await session.probe('SELECT 1');
    await session.close();
    expect((await server.authorizedConnections()).filter((c) => c.user === name)).toEqual([{ user: name, database: 'postgres', ssl: true }]);
  });

  test('a server certificate from a CA the function does not trust is TLS_FAILED, never plaintext', async () => {
    const name = await createUser('Start1pw');
    await expect(redshift.connect(login(name, 'Start1pw'), ctx({}))).rejects.toMatchObject({ code: 'TLS_FAILED' });
    expect((await server.authorizedConnections()).filter((c) => c.user === name)).toEqual([]);
  });

  test('a wrong password is LOGIN_FAILED', async () => {
    const name = await createUser('Start1pw');
    await expect(redshift.connect(login(name, 'Wrong1pw'), ctx())).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
  });

  test('the user sets its own password as the MD5 form; the new one logs in, the old one no longer', async () => {
    const name = await createUser('Start1pw');
    const session = await redshift.connect(login(name, 'Start1pw'), ctx());
    await session.setOwnPassword(name, 'Next1pwXyz');
    await session.close();
    const [row] = await server.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [name]);
    expect(row.rolpassword).toBe(redshiftMd5Hash('Next1pwXyz', name));
    expect(await server.canLogin(name, 'Next1pwXyz')).toBe(true);
    expect(await server.canLogin(name, 'Start1pw')).toBe(false);
  });

  test('the master sets the original\'s password (the pair swinging back) in a transaction, as the MD5 form', async () => {
    const name = await createUser('Start1pw');
    const master = await redshift.connect(login(server.superuser.username, server.superuser.password), ctx(), 'master');
    expect(await master.upsertAlternate(name, name, 'Next1pwXyz')).toBe('updated');
    await master.close();
    const [row] = await server.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [name]);
    expect(row.rolpassword).toBe(redshiftMd5Hash('Next1pwXyz', name));
    expect(await server.canLogin(name, 'Next1pwXyz')).toBe(true);
  });

  test('a clone is not created when the privileges cannot be read: every read comes before the first change', async () => {
    const name = await createUser('Start1pw');
    const master = await redshift.connect(login(server.superuser.username, server.superuser.password), ctx(), 'master');
    // PostgreSQL has no SVV_DATABASE_PRIVILEGES: the read fails, as a failed read on Redshift would
    await expect(master.upsertAlternate(`${name}_clone`, name, 'Next1pwXyz')).rejects.toMatchObject({ code: 'DATABASE_ERROR' });
    await master.close();
    expect(await server.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${name}_clone`])).toEqual([]);
  });

  test('the probe runs read-only: a write is refused and not kept', async () => {
    const name = await createUser('Start1pw');
    await server.query(`CREATE TABLE ${name}_t (x int)`);
    await server.query(`GRANT INSERT ON ${name}_t TO ${name}`);
    const session = await redshift.connect(login(name, 'Start1pw'), ctx());
    await expect(session.probe(`INSERT INTO ${name}_t VALUES (1)`)).rejects.toMatchObject({ code: 'DATABASE_ERROR', cause: { code: '25006' } });
    await session.close();
    expect(await server.query(`SELECT * FROM ${name}_t`)).toEqual([]);
  });

  test('the kit\'s single-user scheme over the dialect: setSecret changes the password, a retry finds it set, testSecret logs in', async () => {
    const name = await createUser('Start1pw');
    const engine = singleUser(redshift);
    const json = (password: string) => JSON.stringify({ engine: 'redshift', host: server.host, port: server.port, username: name, password, dbname: 'postgres' });
    const current = engine.parse(json('Start1pw'), 'current');
    const pending = engine.parse(json('Next1pwXyz'), 'pending');
    engine.checkTarget(current, pending, 'setSecret');
    const args = { current, pending, previous: async () => undefined, ctx: ctx() };
    expect(await engine.setPending(args)).toBe('password-changed');
    expect(await engine.setPending(args)).toBe('already-set');
    await engine.testPending(pending, ctx());
    expect(await server.canLogin(name, 'Start1pw')).toBe(false);
  });
});
