import { redshift } from '../../../lambda/engines/redshift';
import { Deadline } from '../../../lambda/kit/deadline';
import type { DatabaseLogin, StepContext } from '../../../lambda/kit/types';
import { ENV } from '../../../src/private/contract';
import { RedshiftConformanceServer } from '../../support/redshift-conformance-server';

/**
 * The Redshift conformance stand-in (PostgreSQL with md5 authentication and Redshift's SVV privilege views): the views
 * have the columns the Redshift Database Developer Guide gives them, their rows are true for PostgreSQL's objects, and
 * the dialect's privilege copy through them gives a clone what the catalogs say the original holds.
 */

let server: RedshiftConformanceServer;

beforeAll(async () => {
  server = await RedshiftConformanceServer.start();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const ctx = (): StepContext => ({
  secretArn: 'arn', token: 't', deadline: new Deadline(() => 60_000), secrets: undefined as never, env: { [ENV.TLS_CA_BUNDLE]: server.caCertPath },
});
const login = (username: string, password: string): DatabaseLogin => ({
  host: 'localhost', port: server.port, username, password, dbname: 'dev', tls: 'verify-full',
});
const dev = <T = any>(sql: string, params: unknown[] = []) => server.pg.query<T>(sql, params, 'dev');

let counter = 0;
async function newUser(prefix = 'views_'): Promise<{ username: string; password: string }> {
  counter += 1;
  const user = { username: `${prefix}${counter}`, password: `Start${counter}Pw9x` };
  await server.createUser(user.username, user.password);
  return user;
}

/** The documented columns of each view, in order, with their types. */
const DOCUMENTED: Record<string, Array<[string, string]>> = {
  svv_database_privileges: [['database_name', 'text'], ['privilege_type', 'text'], ['identity_id', 'integer'], ['identity_name', 'text'],
    ['identity_type', 'text'], ['admin_option', 'boolean'], ['privilege_scope', 'text']],
  svv_schema_privileges: [['namespace_name', 'text'], ['privilege_type', 'text'], ['identity_id', 'integer'], ['identity_name', 'text'],
    ['identity_type', 'text'], ['admin_option', 'boolean'], ['privilege_scope', 'text']],
  svv_relation_privileges: [['namespace_name', 'text'], ['relation_name', 'text'], ['privilege_type', 'text'], ['identity_id', 'integer'],
    ['identity_name', 'text'], ['identity_type', 'text'], ['admin_option', 'boolean']],
  svv_column_privileges: [['namespace_name', 'text'], ['relation_name', 'text'], ['column_name', 'text'], ['privilege_type', 'text'],
    ['identity_id', 'integer'], ['identity_name', 'text'], ['identity_type', 'text']],
  svv_function_privileges: [['namespace_name', 'text'], ['function_name', 'text'], ['argument_types', 'text'], ['privilege_type', 'text'],
    ['identity_id', 'integer'], ['identity_name', 'text'], ['identity_type', 'text'], ['admin_option', 'boolean']],
  svv_default_privileges: [['schema_name', 'text'], ['object_type', 'text'], ['owner_id', 'integer'], ['owner_name', 'text'],
    ['owner_type', 'text'], ['privilege_type', 'text'], ['grantee_id', 'integer'], ['grantee_name', 'text'], ['grantee_type', 'text'],
    ['admin_option', 'boolean']],
  svv_user_grants: [['user_id', 'integer'], ['user_name', 'text'], ['role_id', 'integer'], ['role_name', 'text'], ['admin_option', 'boolean']],
};

describe('the SVV views', () => {
  test.each(Object.entries(DOCUMENTED))('%s has the documented columns, in order, in pg_catalog of dev and postgres', async (view, columns) => {
    for (const database of ['dev', 'postgres']) {
      const rows = await server.pg.query<{ attname: string; type: string }>(`
        SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = ('pg_catalog.' || $1)::regclass AND a.attnum > 0 ORDER BY a.attnum`, [view], database);
      expect(rows.map((r) => [r.attname, r.type])).toEqual(columns);
    }
  });

  test('an application user\'s privileges appear as the documented rows', async () => {
    const { username } = await newUser();
    const q = (view: string, columns: string) => dev(`SELECT ${columns} FROM pg_catalog.${view} WHERE identity_name = $1 ORDER BY 1, 2, 3`, [username]);
    expect(await q('svv_database_privileges', 'database_name, privilege_type, identity_type, admin_option, privilege_scope')).toEqual([
      { database_name: 'dev', privilege_type: 'TEMPORARY', identity_type: 'user', admin_option: false, privilege_scope: 'DATABASE' },
    ]);
    expect(await q('svv_schema_privileges', 'namespace_name, privilege_type, identity_type, admin_option, privilege_scope')).toEqual([
      { namespace_name: 'app', privilege_type: 'USAGE', identity_type: 'user', admin_option: false, privilege_scope: 'SCHEMA' },
    ]);
    expect(await q('svv_relation_privileges', 'namespace_name, relation_name, privilege_type, admin_option')).toEqual([
      { namespace_name: 'app', relation_name: 'items', privilege_type: 'INSERT', admin_option: false },
      { namespace_name: 'app', relation_name: 'items', privilege_type: 'SELECT', admin_option: false },
    ]);
    expect(await q('svv_column_privileges', 'namespace_name, relation_name, column_name, privilege_type')).toEqual([
      { namespace_name: 'app', relation_name: 'items', column_name: 'note', privilege_type: 'UPDATE' },
    ]);
    expect(await dev('SELECT schema_name, object_type, owner_name, owner_type, privilege_type, grantee_type, admin_option '
      + 'FROM pg_catalog.svv_default_privileges WHERE grantee_name = $1', [username])).toEqual([
      { schema_name: 'app', object_type: 'RELATION', owner_name: 'app_owner', owner_type: 'user', privilege_type: 'SELECT', grantee_type: 'user', admin_option: false },
    ]);
    expect(await dev('SELECT count(*)::int AS n FROM pg_catalog.svv_user_grants WHERE user_name = $1', [username])).toEqual([{ n: 0 }]);
  });

  test('ids are the catalogs\' own; a grant option, a group grantee, PUBLIC and a function grant read as Redshift words them', async () => {
    const { username } = await newUser();
    await dev(`GRANT DELETE ON app.items TO ${username} WITH GRANT OPTION`);
    await dev('CREATE FUNCTION app.twice(integer, text) RETURNS integer LANGUAGE sql AS \'SELECT 2 * $1\'');
    await dev(`GRANT EXECUTE ON FUNCTION app.twice(integer, text) TO ${username}`);
    await dev('GRANT SELECT ON app.items TO app_readers, PUBLIC');
    try {
      const [{ oid }] = await dev('SELECT oid::int AS oid FROM pg_catalog.pg_roles WHERE rolname = $1', [username]);
      expect(await dev('SELECT identity_id, admin_option FROM pg_catalog.svv_relation_privileges WHERE identity_name = $1 AND privilege_type = \'DELETE\'', [username]))
        .toEqual([{ identity_id: oid, admin_option: true }]);
      expect(await dev('SELECT identity_name, identity_type, identity_id FROM pg_catalog.svv_relation_privileges '
        + 'WHERE relation_name = \'items\' AND privilege_type = \'SELECT\' AND identity_type <> \'user\' ORDER BY 1')).toEqual([
        { identity_name: 'app_readers', identity_type: 'group', identity_id: expect.any(Number) },
        { identity_name: 'public', identity_type: 'public', identity_id: 0 },
      ]);
      expect(await dev('SELECT namespace_name, function_name, argument_types, privilege_type FROM pg_catalog.svv_function_privileges WHERE identity_name = $1', [username]))
        .toEqual([{ namespace_name: 'app', function_name: 'twice', argument_types: 'integer, text', privilege_type: 'EXECUTE' }]);
    } finally {
      await dev('REVOKE SELECT ON app.items FROM app_readers, PUBLIC');
      await dev('DROP FUNCTION app.twice(integer, text)');
    }
  });

  test('an owner\'s implicit rights are not listed as granted', async () => {
    const rows = await dev('SELECT identity_name FROM pg_catalog.svv_relation_privileges WHERE relation_name = \'items\' AND identity_name = \'app_owner\'');
    expect(rows).toEqual([]);
  });
});

describe('the dialect\'s privilege copy on the stand-in', () => {
  test('a clone made by the master holds exactly the original\'s privileges; one revoked is found out of sync', async () => {
    const original = await newUser('orig_');
    const masterPassword = 'Master1Pw9x';
    await server.createMaster('views_master', masterPassword);
    const master = await redshift.connect(login('views_master', masterPassword), ctx(), 'master');
    try {
      expect(await master.upsertAlternate(`${original.username}_clone`, original.username, 'Clone1Pw9xyz')).toBe('created');
      await master.checkAlternate(original.username, `${original.username}_clone`);
    } finally {
      await master.close();
    }
    const clone = `${original.username}_clone`;
    expect(await server.canLogin(clone, 'Clone1Pw9xyz', 'dev')).toBe(true);
    // as the catalogs report them (not through the views the dialect read)
    const users = await server.users();
    expect(users[original.username].privileges.length).toBeGreaterThan(6);
    expect(users[clone].privileges).toEqual(users[original.username].privileges);

    await dev(`REVOKE UPDATE (note) ON app.items FROM ${clone}`);
    const again = await redshift.connect(login('views_master', masterPassword), ctx(), 'master');
    try {
      await expect(again.checkAlternate(original.username, clone)).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC' });
      // the next rotation's setSecret gives it back
      expect(await again.upsertAlternate(clone, original.username, 'Clone2Pw9xyz')).toBe('updated');
      await again.checkAlternate(original.username, clone);
    } finally {
      await again.close();
    }
  });

  test.each([
    ['a superuser', (u: string) => `ALTER USER ${u} SUPERUSER`],
    ['a function privilege', (u: string) => `GRANT EXECUTE ON FUNCTION app.refused_${u}() TO ${u}`],
    ['a table privilege WITH GRANT OPTION', (u: string) => `GRANT DELETE ON app.items TO ${u} WITH GRANT OPTION`],
  ])('an original holding %s is refused before any change, read through the views', async (_what, grant) => {
    const original = await newUser('refused_');
    await dev(`CREATE FUNCTION app.refused_${original.username}() RETURNS integer LANGUAGE sql AS 'SELECT 1'`);
    await dev(grant(original.username));
    await server.createMaster('refusing_master', 'Master1Pw9x').catch(() => undefined);
    const before = await server.users();
    const master = await redshift.connect(login('refusing_master', 'Master1Pw9x'), ctx(), 'master');
    try {
      await expect(master.upsertAlternate(`${original.username}_clone`, original.username, 'Clone1Pw9xyz')).rejects.toMatchObject({ code: 'UNSUPPORTED_ACCOUNT' });
    } finally {
      await master.close();
    }
    expect(await server.users()).toEqual(before);
  });
});
