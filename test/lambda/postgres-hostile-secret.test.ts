import { Client } from 'pg';
import { FUNCTION_IDS, FunctionId } from '../../src/private/contract';
import { PostgresRotationFixture, functionArn } from '../support/postgres-rotation-fixture';
import { withEnv } from '../support/rotation-harness';

/**
 * docs/security.md, invariants 11 and 19, where they are PostgreSQL's own: whoever can write an application secret must
 * not be able to steer the objects a session opened with the master credential resolves, run more than a read-only
 * probe, or have a user that is merely named like a clone treated as one. The engine-neutral rules (control
 * characters, the master's transport, transport bound to AWSCURRENT, target checks in every step, fields carried over)
 * run for every engine in the conformance suite (conformance/).
 */
let f: PostgresRotationFixture;
let master: { arn: string; username: string; password: string };

beforeAll(async () => {
  f = await PostgresRotationFixture.start();
  master = await f.createMaster();
});

afterAll(async () => {
  await f?.stop();
});

afterEach(() => {
  delete process.env.ROTATION_PROBE_QUERY;
});

const SINGLE = FUNCTION_IDS.POSTGRES_SINGLE_USER;
const MULTI = FUNCTION_IDS.POSTGRES_MULTI_USER;

function lastLine(arn: string, step?: string): Record<string, unknown> | undefined {
  return f.capture.stepLines.reverse().find((l) => l.secretArn === arn && (step === undefined || l.step === step));
}

/** A login role and its secret; for alternating users the master may grant it (ADMIN OPTION on PostgreSQL 16+). */
async function newApp(id: FunctionId, extra: Record<string, unknown> = {}, username = f.unique('hostile_')): Promise<{ arn: string; username: string; password: string }> {
  const password = f.canary();
  await f.createRole(username, password);
  if (id === MULTI) await f.grantAdminOption(username, master.username);
  const arn = await f.createSecret(f.secretJson(username, password, { ...(id === MULTI ? { masterarn: master.arn } : {}), ...extra }));
  return { arn, username, password };
}

/** Connections the server authorized for `user` after `since` connections. */
async function loginsOf(user: string, since: number): Promise<Array<{ database: string; ssl: boolean }>> {
  return (await f.pg.authorizedConnections()).slice(since).filter((c) => c.user === user);
}

async function connectionCount(): Promise<number> {
  return (await f.pg.authorizedConnections()).length;
}

describe('the master\'s session is the master\'s (invariant 19)', () => {
  const ARN = functionArn(MULTI);

  describe('an application user that owns its database and sets a trap in it', () => {
    let owner: { username: string; password: string; dbname: string };

    /** Objects named like pg_catalog's `=` for name comparisons, ahead of pg_catalog on the database's search_path. */
    beforeAll(async () => {
      const username = f.unique('owner_');
      const password = f.canary();
      const dbname = `${username}_db`;
      await f.createRole(username, password, 'LOGIN');
      await f.grantAdminOption(username, master.username);
      await f.pg.query(`CREATE DATABASE ${dbname} OWNER ${username}`);
      await f.pg.query(`SET ROLE ${username};
        CREATE SCHEMA trap;
        CREATE TABLE trap.calls (who name);
        GRANT USAGE ON SCHEMA trap TO PUBLIC;
        CREATE FUNCTION trap.eq_name(a name, b name) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
          AS $$ BEGIN INSERT INTO trap.calls VALUES (session_user); RETURN a::text OPERATOR(pg_catalog.=) b::text; END $$;
        CREATE FUNCTION trap.eq_text(a name, b text) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
          AS $$ BEGIN INSERT INTO trap.calls VALUES (session_user); RETURN a::text OPERATOR(pg_catalog.=) b; END $$;
        CREATE OPERATOR trap.= (LEFTARG = name, RIGHTARG = name, FUNCTION = trap.eq_name);
        CREATE OPERATOR trap.= (LEFTARG = name, RIGHTARG = text, FUNCTION = trap.eq_text);
        ALTER DATABASE ${dbname} SET search_path = trap, pg_catalog;
        RESET ROLE;`, [], dbname);
      owner = { username, password, dbname };
    });

    async function trapCalls(): Promise<string[]> {
      return (await f.pg.query<{ who: string }>('SELECT who FROM trap.calls', [], owner.dbname)).map((r) => r.who);
    }

    test('the trap is armed: a master session with the database\'s settings runs the owner\'s operator', async () => {
      const login = { host: 'localhost', port: f.pg.port, user: master.username, password: master.password, database: owner.dbname };
      const client = new Client({ ...login, ssl: { ca: f.pg.caCertPem, servername: 'localhost' } });
      await client.connect();
      try {
        await client.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [owner.username]);
      } finally {
        await client.end();
      }
      expect(await trapCalls()).toContain(master.username);
      await f.pg.query('TRUNCATE trap.calls', [], owner.dbname);
    });

    test('a master secret naming that database: the master session resolves nothing the owner made', async () => {
      const masterHere = await f.createSecret(f.secretJson(master.username, master.password, { dbname: owner.dbname }));
      const arn = await f.createSecret(f.secretJson(owner.username, owner.password, { dbname: owner.dbname, masterarn: masterHere }));
      const before = await connectionCount();
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
      expect(await loginsOf(master.username, before)).toEqual(expect.arrayContaining([expect.objectContaining({ database: owner.dbname })]));
      expect(await trapCalls()).not.toContain(master.username);
      // and back to the original user: the master sets the owner's own password in the same database
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
      expect(await trapCalls()).not.toContain(master.username);
    });

    test('a master secret without dbname: the master connects to postgres, never to the application\'s database', async () => {
      const masterNoDb = await f.createSecret({ engine: 'postgres', host: 'localhost', port: f.pg.port, username: master.username, password: master.password });
      const username = f.unique('guest_');
      const password = f.canary();
      await f.createRole(username, password);
      await f.grantAdminOption(username, master.username);
      const arn = await f.createSecret(f.secretJson(username, password, { dbname: owner.dbname, masterarn: masterNoDb }));
      const before = await connectionCount();
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
      const logins = await loginsOf(master.username, before);
      expect(logins.length).toBeGreaterThan(0);
      expect(logins.map((c) => c.database)).toEqual(logins.map(() => 'postgres'));
      expect(await trapCalls()).not.toContain(master.username);
    });
  });
});

describe('an alternate is an alternate (invariant 11)', () => {
  const ARN = functionArn(MULTI);

  test('a current user named <x>_clone that is not a member of <x> is refused; <x> keeps its password', async () => {
    const victim = f.unique('victim_');
    await f.createRole(victim, f.canary());
    await f.grantAdminOption(victim, master.username);
    // the attacker has a working login whose name merely ends in _clone
    const { arn } = await newApp(MULTI, {}, `${victim}_clone`);
    const verifiers = await f.verifiers();
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(lastLine(arn)).toMatchObject({
      errorCode: 'CONFUSED_DEPUTY',
      errorMessage: 'Refusing to rotate: the current user is named like the clone of the pending user but is not a member of it',
    });
    expect(await f.verifiers()).toEqual(verifiers);
  });

  test('an existing <x>_clone with an attribute the handler never grants is not given a new password', async () => {
    const { arn, username } = await newApp(MULTI);
    await f.createRole(`${username}_clone`, f.canary(), 'LOGIN CREATEDB');
    const verifiers = await f.verifiers();
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(lastLine(arn)).toMatchObject({ errorCode: 'CONFUSED_DEPUTY' });
    expect(await f.verifiers()).toEqual(verifiers);
  });
});

describe('the probe (ROTATION_PROBE_QUERY) is one statement in a read-only transaction', () => {
  async function probeRotation(probe: string): Promise<{ arn: string; outcome: Awaited<ReturnType<typeof f.rotate>> }> {
    const { arn, username } = await newApp(SINGLE);
    await f.pg.query(`GRANT CREATE ON SCHEMA public TO ${username}`);
    process.env.ROTATION_PROBE_QUERY = probe;
    const outcome = await f.rotate(arn, functionArn(SINGLE));
    delete process.env.ROTATION_PROBE_QUERY;
    return { arn, outcome };
  }

  async function tableExists(name: string): Promise<boolean> {
    return (await f.pg.query('SELECT 1 FROM pg_catalog.pg_class WHERE relname = $1', [name])).length > 0;
  }

  test('a probe that writes fails and its write is not kept', async () => {
    const table = f.unique('probe_wrote_');
    const { arn, outcome } = await probeRotation(`CREATE TABLE public.${table} (v int)`);
    expect(outcome).toMatchObject({ status: 'failed', step: 'testSecret' });
    expect(lastLine(arn)).toMatchObject({ errorCode: 'DATABASE_ERROR', causeCode: expect.stringContaining('(25006)') });
    expect(await tableExists(table)).toBe(false);
  });

  test('a second statement is refused, not run', async () => {
    const table = f.unique('probe_second_');
    const { arn, outcome } = await probeRotation(`SELECT 1; COMMIT; CREATE TABLE public.${table} (v int)`);
    expect(outcome).toMatchObject({ status: 'failed', step: 'testSecret' });
    expect(lastLine(arn)).toMatchObject({ errorCode: 'DATABASE_ERROR', causeCode: expect.stringContaining('(42601)') });
    expect(await tableExists(table)).toBe(false);
  });

  test('a probe that exceeds its time bound fails with TIMEOUT', async () => {
    const { arn } = await newApp(SINGLE);
    const token = await f.beginManualRotation(arn);
    for (const Step of ['createSecret', 'setSecret']) await f.invoke(SINGLE, { Step, SecretId: arn, ClientRequestToken: token });
    // only testSecret runs under the short bound, so nothing but the probe can run into it on a busy machine
    const restore = withEnv({ ROTATION_CALL_TIMEOUT_MS: '2000', ROTATION_PROBE_QUERY: 'SELECT pg_catalog.pg_sleep(10)' });
    try {
      // whichever bound fires first (the server's statement_timeout, the driver's, the kit's), the code is TIMEOUT
      await expect(f.invoke(SINGLE, { Step: 'testSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      restore();
    }
  });

  test('a read-only probe of the application\'s data passes', async () => {
    const { outcome } = await probeRotation('SELECT count(*) FROM pg_catalog.pg_roles');
    expect(outcome).toMatchObject({ status: 'succeeded' });
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
