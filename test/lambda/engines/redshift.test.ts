import type { QueryConfig } from 'pg';
import { RedshiftSession, classify, redshift } from '../../../lambda/engines/redshift';
import { redshiftMd5Hash } from '../../../lambda/engines/redshift-password';
import { Deadline } from '../../../lambda/kit/deadline';
import { LoginFailedError } from '../../../lambda/kit/errors';
import type { DatabaseLogin, SessionKind, StepContext } from '../../../lambda/kit/types';

/**
 * Redshift's statements, checked without a Redshift cluster: the session runs over a scripted client that records each
 * statement (with its bound values) and answers by the first matching rule. The paths PostgreSQL can also run are run
 * against a real server in redshift-on-postgres.test.ts.
 */

/** What `pg` was asked to do by connect(): the test replaces the driver's Client. */
const pgCalls: { configs: any[]; statements: string[]; connectError?: Error } = { configs: [], statements: [] };
jest.mock('pg', () => ({
  Client: class {
    constructor(config: unknown) {
      pgCalls.configs.push(config);
    }
    public on(): void {}
    public async connect(): Promise<void> {
      if (pgCalls.connectError) throw pgCalls.connectError;
    }
    public async query(config: { text: string }): Promise<{ rows: unknown[] }> {
      pgCalls.statements.push(config.text);
      return { rows: [] };
    }
    public async end(): Promise<void> {}
  },
}));

const ctx = (env: NodeJS.ProcessEnv = {}): StepContext => ({
  secretArn: 'arn', token: 't', deadline: new Deadline(() => 60_000), secrets: undefined as never, env,
});
const login = (extra: Partial<DatabaseLogin> = {}): DatabaseLogin => ({
  host: 'cluster.abc123.eu-west-1.redshift.amazonaws.com', port: 5439, username: 'app', password: 'Pw1', dbname: 'dev', tls: 'verify-full', ...extra,
});

/** PostgreSQL's quote_ident for the names used here (lower-case plain names stay bare; others are double-quoted). */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

type Rule = [RegExp, unknown[] | Error];

/** The sources of the privileges statement, by kind (each answered by the rules for its view). */
const SOURCES: Record<string, string> = {
  database: 'FROM pg_catalog.svv_database_privileges',
  schema: 'FROM pg_catalog.svv_schema_privileges',
  table: 'FROM pg_catalog.svv_relation_privileges',
  column: 'FROM pg_catalog.svv_column_privileges',
  function: 'FROM pg_catalog.svv_function_privileges',
  default: 'FROM pg_catalog.svv_default_privileges',
  role: 'FROM pg_catalog.svv_user_grants',
  group: 'FROM pg_catalog.pg_group g, pg_catalog.pg_user u',
};

class ScriptedClient {
  public readonly statements: string[] = [];
  public readonly configs: QueryConfig[] = [];
  constructor(private readonly rules: Rule[], private readonly quote: (name: string) => string = quoteIdent) {}
  public async query(config: QueryConfig): Promise<{ rows: unknown[] }> {
    this.configs.push(config);
    const values = config.values ?? [];
    const line = values.length > 0 ? `${config.text} -- ${JSON.stringify(values)}` : config.text;
    this.statements.push(line);
    if (config.text.startsWith('SELECT pg_catalog.quote_ident(')) {
      return { rows: [Object.fromEntries(values.map((v, i) => [`q${i}`, this.quote(String(v))]))] };
    }
    // the statements that read two users at once are answered one user (and one source) at a time by the rules
    if (/ IN \(\$1, \$2\)/.test(config.text)) {
      const names = [...new Set(values.map(String))];
      if (config.text.startsWith('SELECT usename, usesuper, usecreatedb FROM pg_catalog.pg_user')) {
        return { rows: names.flatMap((n) => this.answer(`SELECT usename, usesuper, usecreatedb FROM pg_catalog.pg_user WHERE usename = $1 -- ${JSON.stringify([n])}`)) };
      }
      return {
        rows: names.flatMap((n) => Object.entries(SOURCES).flatMap(([k, from]) => {
          expect(config.text).toContain(from);
          return this.answer(`SELECT ... ${from} WHERE ... -- ${JSON.stringify([n])}`).map((row) => ({ ...(row as object), u: n, k }));
        })),
      };
    }
    return { rows: this.answer(line) };
  }
  private answer(line: string): unknown[] {
    const rule = this.rules.find(([pattern]) => pattern.test(line));
    const result = rule?.[1] ?? [];
    if (result instanceof Error) throw result;
    return result;
  }
  public async end(): Promise<void> {}
  /** Statements that change something (no reads, no quoting). */
  public writes(): string[] {
    return this.statements.filter((s) => !/^SELECT /.test(s));
  }
}

function session(rules: Rule[], kind: SessionKind = 'master', quote?: (name: string) => string) {
  const client = new ScriptedClient(rules, quote);
  return { session: new RedshiftSession(client, ctx(), kind), client };
}

const PASSWORD = 'CANARYpw1Xyz';
const user = (usename: string, usesuper = false, usecreatedb = false) => [{ usename, usesuper, usecreatedb }];
const forUser = (view: string, name: string) => new RegExp(`FROM pg_catalog\\.${view}\\b.* -- \\[${JSON.stringify(name).replace(/[[\]\\]/g, '\\$&')}\\]$`);

/** The original `app` holds one privilege of every kind the handler copies. */
function originalRules(name = 'app'): Rule[] {
  return [
    [forUser('pg_user', name), user(name, false, true)],
    [forUser('svv_database_privileges', name), [{ a: 'dev', p: 'CREATE', g: false, s: 'DATABASE' }]],
    [forUser('svv_schema_privileges', name), [{ a: 'sales', p: 'USAGE', g: false, s: 'SCHEMA' }]],
    [forUser('svv_relation_privileges', name), [{ a: 'sales', b: 'orders', p: 'SELECT', g: false }]],
    [forUser('svv_column_privileges', name), [{ a: 'sales', b: 'orders', c: 'email', p: 'UPDATE' }]],
    [forUser('svv_default_privileges', name), [
      { a: 'etl', b: 'sales', o: 'RELATION', p: 'SELECT', g: false },
      { a: 'etl', b: null, o: 'FUNCTION', p: 'EXECUTE', g: false },
    ]],
    [forUser('svv_user_grants', name), [{ a: 'analyst', g: false }]],
    [/FROM pg_catalog\.pg_group g.* -- \["app"\]$/, [{ a: 'readers' }]],
  ];
}

describe('the dialect', () => {
  test('Redshift\'s defaults: port 5439, database dev, user names of 127 bytes, passwords of 32 without / @ " \' \\ :', () => {
    expect(redshift).toMatchObject({
      family: 'redshift',
      engines: ['redshift'],
      defaultPort: 5439,
      defaultDbname: 'dev',
      maxUsernameLength: 127,
      usernameLengthUnit: 'bytes',
      cloneSuffix: '_clone',
      alternateCheckedBy: 'master',
    });
    expect(redshift.defaultPasswordPolicy).toMatchObject({ passwordLength: 32, excludeCharacters: '/@"\'\\:', requireEachIncludedType: true });
  });
});

describe('TLS options passed to pg', () => {
  beforeEach(() => {
    pgCalls.configs.length = 0;
    pgCalls.statements.length = 0;
    pgCalls.connectError = Object.assign(new Error('CANARY'), { code: '28P01' });
  });

  test('the chain and the host name are verified by default', async () => {
    await expect(redshift.connect(login(), ctx())).rejects.toBeInstanceOf(LoginFailedError);
    expect(pgCalls.configs[0]).toMatchObject({
      host: 'cluster.abc123.eu-west-1.redshift.amazonaws.com',
      port: 5439,
      database: 'dev',
      user: 'app',
      ssl: { rejectUnauthorized: true, servername: 'cluster.abc123.eu-west-1.redshift.amazonaws.com' },
    });
  });

  test('tls: disabled is the only way to plaintext', async () => {
    await expect(redshift.connect(login({ tls: 'disabled' }), ctx())).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
    expect(pgCalls.configs[0].ssl).toBe(false);
  });

  test('a rejected credential is LOGIN_FAILED in Redshift\'s words; the driver\'s message is not kept', async () => {
    const err = await redshift.connect(login(), ctx()).catch((e) => e);
    expect(err.message).toBe('Redshift rejected the credential');
    expect(JSON.stringify({ m: err.message, c: err.cause?.message })).not.toContain('CANARY');
  });

  test('the master\'s session pins search_path before anything else', async () => {
    pgCalls.connectError = undefined;
    const s = await redshift.connect(login(), ctx(), 'master');
    await s.close();
    expect(pgCalls.statements).toEqual(['SELECT pg_catalog.set_config(\'search_path\', \'pg_catalog, pg_temp\', false)']);
  });
});

describe('single user: the user sets its own password as the MD5 form', () => {
  test('salted with the name the server reports; the password appears in no statement and no bound value', async () => {
    const { session: s, client } = session([[/^SELECT session_user/, [{ session_name: 'app' }]]], 'application');
    await s.setOwnPassword('app', PASSWORD);
    expect(client.statements).toEqual([
      'SELECT session_user AS session_name',
      'SELECT pg_catalog.quote_ident($1) AS q0 -- ["app"]',
      `ALTER USER app PASSWORD '${redshiftMd5Hash(PASSWORD, 'app')}'`,
    ]);
    expect(client.statements.join('\n')).not.toContain('CANARY');
  });

  test('a name Redshift folded (the secret says App, the server stores app) is salted as stored', async () => {
    const { session: s, client } = session([[/^SELECT session_user/, [{ session_name: 'app' }]]], 'application');
    await s.setOwnPassword('App', PASSWORD);
    expect(client.statements).toContain(`ALTER USER app PASSWORD '${redshiftMd5Hash(PASSWORD, 'app')}'`);
  });

  test('a password that breaks Redshift\'s rules is refused before any statement', async () => {
    const { session: s, client } = session([], 'application');
    await expect(s.setOwnPassword('app', 'CANARY-no-digit')).rejects.toMatchObject({ code: 'INVALID_CONFIGURATION', message: expect.stringContaining('must contain a digit') });
    expect(client.statements).toEqual([]);
  });

  test('a hostile name is quoted by the server, passed as a bound value', async () => {
    const hostile = 'a"; DROP USER admin; --';
    const { session: s, client } = session([[/^SELECT session_user/, [{ session_name: hostile }]]], 'application');
    await s.setOwnPassword(hostile, PASSWORD);
    expect(client.statements[1]).toBe(`SELECT pg_catalog.quote_ident($1) AS q0 -- ${JSON.stringify([hostile])}`);
    expect(client.statements[2]).toBe(`ALTER USER "a""; DROP USER admin; --" PASSWORD '${redshiftMd5Hash(PASSWORD, hostile)}'`);
  });

  test('a quoted identifier of an unexpected shape is refused, never run', async () => {
    const { session: s, client } = session([[/^SELECT session_user/, [{ session_name: 'app' }]]], 'application', () => 'app PASSWORD NULL');
    await expect(s.setOwnPassword('app', PASSWORD)).rejects.toMatchObject({ code: 'DATABASE_ERROR' });
    expect(client.writes()).toEqual([]);
  });
});

describe('alternating users: the master creates or updates the clone', () => {
  test('a new clone: created with the MD5 form, then given every privilege of the original, in one transaction', async () => {
    const { session: s, client } = session(originalRules());
    expect(await s.upsertAlternate('app_clone', 'app', PASSWORD)).toBe('created');
    expect(client.writes()).toEqual([
      'BEGIN',
      `CREATE USER app_clone PASSWORD '${redshiftMd5Hash(PASSWORD, 'app_clone')}'`,
      'ALTER USER app_clone CREATEDB',
      'GRANT CREATE ON DATABASE dev TO app_clone',
      'GRANT USAGE ON SCHEMA sales TO app_clone',
      'GRANT SELECT ON sales.orders TO app_clone',
      'GRANT UPDATE (email) ON sales.orders TO app_clone',
      'ALTER DEFAULT PRIVILEGES FOR USER etl IN SCHEMA sales GRANT SELECT ON TABLES TO app_clone',
      'ALTER DEFAULT PRIVILEGES FOR USER etl GRANT EXECUTE ON FUNCTIONS TO app_clone',
      'GRANT ROLE analyst TO app_clone',
      'ALTER GROUP readers ADD USER app_clone',
      'COMMIT',
    ]);
    expect(client.statements.join('\n')).not.toContain('CANARY');
  });

  test('an existing clone: a new password and only the privileges it lacks; nothing revoked', async () => {
    const { session: s, client } = session([
      [forUser('pg_user', 'app_clone'), user('app_clone', false, true)],
      [forUser('svv_relation_privileges', 'app_clone'), [{ a: 'sales', b: 'orders', p: 'SELECT', g: false }, { a: 'sales', b: 'extra', p: 'DELETE', g: false }]],
      [forUser('svv_user_grants', 'app_clone'), [{ a: 'analyst', g: false }]],
      ...originalRules(),
    ]);
    expect(await s.upsertAlternate('app_clone', 'app', PASSWORD)).toBe('updated');
    expect(client.writes()).toEqual([
      'BEGIN',
      `ALTER USER app_clone PASSWORD '${redshiftMd5Hash(PASSWORD, 'app_clone')}'`,
      'GRANT CREATE ON DATABASE dev TO app_clone',
      'GRANT USAGE ON SCHEMA sales TO app_clone',
      'GRANT UPDATE (email) ON sales.orders TO app_clone',
      'ALTER DEFAULT PRIVILEGES FOR USER etl IN SCHEMA sales GRANT SELECT ON TABLES TO app_clone',
      'ALTER DEFAULT PRIVILEGES FOR USER etl GRANT EXECUTE ON FUNCTIONS TO app_clone',
      'ALTER GROUP readers ADD USER app_clone',
      'COMMIT',
    ]);
  });

  test('the pair swinging back: the original\'s own password, salted with its stored name, no grants', async () => {
    const { session: s, client } = session(originalRules());
    expect(await s.upsertAlternate('app', 'app', PASSWORD)).toBe('updated');
    expect(client.writes()).toEqual(['BEGIN', `ALTER USER app PASSWORD '${redshiftMd5Hash(PASSWORD, 'app')}'`, 'COMMIT']);
  });

  test('a clone name in capitals is created quoted and salted as given: Redshift keeps the case of a quoted user name', async () => {
    const { session: s, client } = session([[forUser('pg_user', 'AppUser'), user('AppUser')]]);
    expect(await s.upsertAlternate('AppUser_clone', 'AppUser', PASSWORD)).toBe('created');
    expect(client.writes()).toEqual(['BEGIN', `CREATE USER "AppUser_clone" PASSWORD '${redshiftMd5Hash(PASSWORD, 'AppUser_clone')}'`, 'COMMIT']);
  });

  test('hostile object and user names are quoted by the server', async () => {
    const name = 'o\'brien "x"';
    const { session: s, client } = session([
      [forUser('pg_user', name), user(name)],
      [forUser('svv_relation_privileges', name), [{ a: 'We"ird', b: 't; DROP TABLE x', p: 'SELECT', g: false }]],
    ]);
    await s.upsertAlternate(`${name}_clone`, name, PASSWORD);
    expect(client.writes()).toEqual([
      'BEGIN',
      `CREATE USER "o'brien ""x""_clone" PASSWORD '${redshiftMd5Hash(PASSWORD, `${name}_clone`)}'`,
      'GRANT SELECT ON "We""ird"."t; DROP TABLE x" TO "o\'brien ""x""_clone"',
      'COMMIT',
    ]);
  });

  test('a refused GRANT (42501) is MASTER_NOT_PERMITTED and the transaction is rolled back', async () => {
    const denied = Object.assign(new Error('CANARY permission denied'), { code: '42501' });
    const { session: s, client } = session([[/^GRANT ROLE/, denied], ...originalRules()]);
    const err = await s.upsertAlternate('app_clone', 'app', PASSWORD).catch((e) => e);
    expect(err).toMatchObject({ code: 'MASTER_NOT_PERMITTED' });
    expect(err.message).not.toContain('CANARY');
    expect(client.statements.slice(-1)).toEqual(['ROLLBACK']);
    expect(client.writes()).not.toContain('COMMIT');
  });
});

describe('refusals: nothing is changed', () => {
  const refused = async (rules: Rule[], code: string) => {
    const { session: s, client } = session(rules);
    await expect(s.upsertAlternate('app_clone', 'app', PASSWORD)).rejects.toMatchObject({ code });
    return client;
  };

  test('a superuser original', async () => {
    const client = await refused([[forUser('pg_user', 'app'), user('app', true)], ...originalRules()], 'UNSUPPORTED_ACCOUNT');
    expect(client.writes()).toEqual([]);
  });

  test.each([
    ['a table privilege WITH GRANT OPTION', [forUser('svv_relation_privileges', 'app'), [{ a: 's', b: 't', p: 'SELECT', g: true }]]],
    ['a role WITH ADMIN OPTION', [forUser('svv_user_grants', 'app'), [{ a: 'analyst', g: true }]]],
    ['a function privilege', [forUser('svv_function_privileges', 'app'), [{ n: '1' }]]],
    ['a scoped schema privilege', [forUser('svv_schema_privileges', 'app'), [{ a: 's', p: 'SELECT', g: false, s: 'TABLES' }]]],
    ['a scoped database privilege', [forUser('svv_database_privileges', 'app'), [{ a: 'dev', p: 'USAGE', g: false, s: 'SCHEMAS' }]]],
    ['a privilege word outside the allow-list', [forUser('svv_relation_privileges', 'app'), [{ a: 's', b: 't', p: 'SELECT ON x TO public; --', g: false }]]],
    ['default privileges on an unknown object type', [forUser('svv_default_privileges', 'app'), [{ a: 'etl', b: null, o: 'MODEL', p: 'EXECUTE', g: false }]]],
  ] as Array<[string, Rule]>)('%s is UNSUPPORTED_ACCOUNT', async (_what, rule) => {
    const client = await refused([rule, ...originalRules()], 'UNSUPPORTED_ACCOUNT');
    expect(client.writes()).toEqual([]);
  });

  test('an existing clone that is a superuser is not the handler\'s clone', async () => {
    const client = await refused([[forUser('pg_user', 'app_clone'), user('app_clone', true)], ...originalRules()], 'CONFUSED_DEPUTY');
    expect(client.writes()).toEqual(['BEGIN', 'ROLLBACK']);
  });

  test('an original that does not exist', async () => {
    const client = await refused([], 'CONFUSED_DEPUTY');
    expect(client.writes()).toEqual([]);
  });

  test('a password that breaks Redshift\'s rules', async () => {
    const { session: s, client } = session(originalRules());
    await expect(s.upsertAlternate('app_clone', 'app', 'short')).rejects.toMatchObject({ code: 'INVALID_CONFIGURATION' });
    expect(client.statements).toEqual([]);
  });
});

describe('an alternate is an alternate; the clone keeps the original\'s privileges', () => {
  const cloneRules = (extra: Rule[] = []): Rule[] => [
    ...extra,
    [forUser('pg_user', 'app_clone'), user('app_clone', false, true)],
    ...originalRules('app_clone').slice(1),
    [/FROM pg_catalog\.pg_group g.* -- \["app_clone"\]$/, [{ a: 'readers' }]],
    ...originalRules(),
  ];

  test('a clone holding exactly the original\'s privileges is its alternate and in sync', async () => {
    const { session: s } = session(cloneRules());
    await expect(s.assertAlternateOf('app_clone', 'app')).resolves.toBeUndefined();
    await expect(s.checkAlternate('app', 'app_clone')).resolves.toBeUndefined();
  });

  test('both users are found in one statement and their privileges read in one, the names bound, never in the SQL', async () => {
    const { session: s, client } = session(cloneRules());
    await s.checkAlternate('app', 'app_clone');
    expect(client.statements).toEqual([
      'SELECT usename, usesuper, usecreatedb FROM pg_catalog.pg_user WHERE usename IN ($1, $2) -- ["app","app_clone"]',
      expect.stringMatching(/^SELECT identity_name AS u, 'database' AS k, .* UNION ALL .* -- \["app","app_clone"\]$/),
    ]);
    expect(client.configs[1].text).not.toContain('app');
  });

  test('a current user named like a clone that holds more than the original is refused', async () => {
    const { session: s } = session(cloneRules([[forUser('svv_relation_privileges', 'app_clone'), [{ a: 'hr', b: 'salaries', p: 'SELECT', g: false }]]]));
    await expect(s.assertAlternateOf('app_clone', 'app')).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
  });

  test('a superuser named like a clone is refused', async () => {
    const { session: s } = session(cloneRules([[forUser('pg_user', 'app_clone'), user('app_clone', true)]]));
    await expect(s.assertAlternateOf('app_clone', 'app')).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
  });

  test('a clone missing a privilege is PRIVILEGES_OUT_OF_SYNC', async () => {
    const { session: s } = session(cloneRules([[forUser('svv_user_grants', 'app_clone'), []]]));
    await expect(s.checkAlternate('app', 'app_clone')).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC', message: expect.stringContaining('1 privilege(s) missing') });
  });

  test('a clone without the original\'s CREATEDB is PRIVILEGES_OUT_OF_SYNC', async () => {
    const { session: s } = session(cloneRules([[forUser('pg_user', 'app_clone'), user('app_clone')]]));
    await expect(s.checkAlternate('app', 'app_clone')).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC' });
  });
});

describe('the probe', () => {
  test('one statement over the extended protocol, in a read-only transaction that is rolled back', async () => {
    const { session: s, client } = session([], 'application');
    await s.probe('SELECT count(*) FROM sales.orders');
    expect(client.statements).toEqual(['BEGIN READ ONLY', 'SELECT count(*) FROM sales.orders', 'ROLLBACK']);
    expect(client.configs[1]).toMatchObject({ queryMode: 'extended' });
  });
});

describe('classify', () => {
  const withCode = (code: string) => Object.assign(new Error('CANARY-driver-message'), { code });
  test.each([
    ['a rejected password', 'LOGIN_FAILED', withCode('28P01'), 'application'],
    ['a refused GRANT in the master\'s session', 'MASTER_NOT_PERMITTED', withCode('42501'), 'master'],
    ['a refused statement in an application session', 'DATABASE_ERROR', withCode('42501'), 'application'],
    ['statement_timeout', 'TIMEOUT', withCode('57014'), 'application'],
    ['a certificate for another host', 'TLS_FAILED', withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'application'],
  ] as Array<[string, string, Error, SessionKind]>)('%s is %s', (_what, code, err, kind) => {
    const classified = classify(err, 'x', kind);
    expect(classified.code).toBe(code);
    expect(JSON.stringify({ m: classified.message, c: classified.cause?.message })).not.toContain('CANARY');
    expect(classified.message).not.toContain('PostgreSQL');
  });
});
