import { documentdb } from '../../../lambda/engines/documentdb';
import { alternatingUsers, singleUser } from '../../../lambda/kit/database';
import { Deadline } from '../../../lambda/kit/deadline';
import type { DatabaseCredential, DatabaseLogin, DatabaseSession, StepContext } from '../../../lambda/kit/types';
import { ENV } from '../../../src/private/contract';
import { DocumentDbServer, ScramMechanism } from '../../support/documentdb-server';

/**
 * The DocumentDB dialect with the real `mongodb` driver against the DocumentDB test server, as DocumentDB 4.0 (wire
 * version 7, SCRAM-SHA-1 only) and DocumentDB 5.0 (wire version 13, SCRAM-SHA-256 besides).
 */

jest.setTimeout(60_000);

interface Variant {
  readonly name: string;
  readonly maxWireVersion: number;
  readonly mechanisms: ScramMechanism[];
  readonly expected: ScramMechanism;
}

const VARIANTS: Variant[] = [
  { name: 'DocumentDB 4.0 (wire 7, SCRAM-SHA-1 only)', maxWireVersion: 7, mechanisms: ['SCRAM-SHA-1'], expected: 'SCRAM-SHA-1' },
  { name: 'DocumentDB 5.0 (wire 13, SCRAM-SHA-256)', maxWireVersion: 13, mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'], expected: 'SCRAM-SHA-256' },
];

const APP_ROLES = [{ role: 'readWrite', db: 'app' }, { role: 'read', db: 'reports' }];

describe.each(VARIANTS)('the DocumentDB dialect on $name', ({ maxWireVersion, mechanisms, expected }) => {
  let server: DocumentDbServer;
  let counter = 0;

  beforeAll(async () => {
    server = await DocumentDbServer.start({ maxWireVersion, mechanisms });
  });

  afterAll(async () => {
    await server?.stop();
  });

  // every session a test opens is closed even when the test fails half way, so no client outlives its test
  const opened: DatabaseSession[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  async function open(...args: Parameters<typeof documentdb.connect>): Promise<DatabaseSession> {
    const session = await documentdb.connect(...args);
    opened.push(session);
    return session;
  }

  const ctx = (env: NodeJS.ProcessEnv = { [ENV.TLS_CA_BUNDLE]: server.caCertPath }, callTimeoutMs = 20_000): StepContext => ({
    secretArn: 'arn', token: 't', deadline: new Deadline(() => 60_000, callTimeoutMs), secrets: undefined as never, env,
  });
  const login = (username: string, password: string, host = 'localhost'): DatabaseLogin => ({
    host, port: server.port, username, password, dbname: 'admin', tls: 'verify-full',
  });
  const masterLogin = () => login(server.master.username, server.master.password);
  function newUser(password: string, roles = APP_ROLES): string {
    counter += 1;
    const user = `app_${counter}`;
    server.addUser({ user, password, roles });
    return user;
  }

  test('logs in over verified TLS with the mechanism the server offers', async () => {
    const user = newUser('Start-pw-1');
    const session = await open(login(user, 'Start-pw-1'), ctx());
    await session.probe('ping');
    await session.close();
    const logins = server.logins().filter((l) => l.user === user);
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((l) => l.tls && l.mechanism === expected && l.db === 'admin')).toBe(true);
  });

  test('the user changes its own password; the new one logs in, the old one no longer', async () => {
    const user = newUser('Start-pw-1');
    const session = await open(login(user, 'Start-pw-1'), ctx());
    await session.setOwnPassword(user, 'Next-pw-22');
    await session.close();
    expect(server.verifyPassword(user, 'admin', 'Next-pw-22')).toBe(true);
    expect(server.user(user)?.roles).toEqual(APP_ROLES);
    await expect(documentdb.connect(login(user, 'Start-pw-1'), ctx())).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
  });

  test('a wrong password is LOGIN_FAILED, and so is a user that does not exist', async () => {
    const user = newUser('Start-pw-1');
    await expect(documentdb.connect(login(user, 'Wrong-pw-1'), ctx())).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
    await expect(documentdb.connect(login('nobody_here', 'Wrong-pw-1'), ctx())).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
  });

  test('the master creates the clone with the original\'s roles', async () => {
    const user = newUser('Start-pw-1');
    const master = await open(masterLogin(), ctx(), 'master');
    expect(await master.upsertAlternate(`${user}_clone`, user, 'Clone-pw-1')).toBe('created');
    await master.checkAlternate(user, `${user}_clone`);
    await master.close();
    expect(server.user(`${user}_clone`)?.roles).toEqual(APP_ROLES);
    expect(server.verifyPassword(`${user}_clone`, 'admin', 'Clone-pw-1')).toBe(true);
  });

  test('an existing clone gets the original\'s roles again and a new password; the roles it has stay', async () => {
    const user = newUser('Start-pw-1');
    server.addUser({ user: `${user}_clone`, password: 'Old-clone-1', roles: [APP_ROLES[1]] });
    const master = await open(masterLogin(), ctx(), 'master');
    await expect(master.checkAlternate(user, `${user}_clone`)).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC' });
    expect(await master.upsertAlternate(`${user}_clone`, user, 'Clone-pw-2')).toBe('updated');
    await master.checkAlternate(user, `${user}_clone`);
    await master.close();
    expect(new Set(server.user(`${user}_clone`)?.roles.map((r) => `${r.role}@${r.db}`))).toEqual(new Set(['readWrite@app', 'read@reports']));
    expect(server.verifyPassword(`${user}_clone`, 'admin', 'Clone-pw-2')).toBe(true);
    const commands = server.commands().filter((c) => ['grantRolesToUser', 'updateUser', 'revokeRolesFromUser'].includes(c.command)).map((c) => c.command);
    expect(commands.slice(-2)).toEqual(['grantRolesToUser', 'updateUser']);
  });

  test('a clone with a role the original lacks is refused before any change', async () => {
    const user = newUser('Start-pw-1');
    server.addUser({ user: `${user}_clone`, password: 'Old-clone-1', roles: [...APP_ROLES, { role: 'root', db: 'admin' }] });
    const master = await open(masterLogin(), ctx(), 'master');
    await expect(master.upsertAlternate(`${user}_clone`, user, 'Clone-pw-3')).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
    await expect(master.assertAlternateOf(`${user}_clone`, user)).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
    await master.close();
    expect(server.verifyPassword(`${user}_clone`, 'admin', 'Old-clone-1')).toBe(true);
  });

  test('an original that does not exist is refused and nothing is created', async () => {
    const master = await open(masterLogin(), ctx(), 'master');
    await expect(master.upsertAlternate('ghost_clone', 'ghost', 'Clone-pw-4')).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
    await master.close();
    expect(server.user('ghost_clone')).toBeUndefined();
  });

  test('a "master" without user-administration rights is MASTER_NOT_PERMITTED', async () => {
    const user = newUser('Start-pw-1');
    const weak = newUser('Weak-pw-1');
    const session = await open(login(weak, 'Weak-pw-1'), ctx(), 'master');
    await expect(session.upsertAlternate(`${user}_clone`, user, 'Clone-pw-5')).rejects.toMatchObject({ code: 'MASTER_NOT_PERMITTED', cause: { code: '13' } });
    await session.close();
  });

  test('a certificate for another host name is TLS_FAILED, and no login happens', async () => {
    const other = await DocumentDbServer.start({ maxWireVersion, mechanisms, tls: { hostnames: ['elsewhere.example'] } });
    try {
      const target = { ...login(other.master.username, other.master.password), port: other.port };
      const attempt = documentdb.connect(target, ctx({ [ENV.TLS_CA_BUNDLE]: other.caCertPath }, 3_000));
      await expect(attempt).rejects.toMatchObject({ code: 'TLS_FAILED' });
      expect(other.logins()).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  test('a refused certificate ends the attempt at the first failure instead of a retry per heartbeat until the bound', async () => {
    const other = await DocumentDbServer.start({ maxWireVersion, mechanisms, tls: { hostnames: ['elsewhere.example'] } });
    try {
      const target = { ...login(other.master.username, other.master.password), port: other.port };
      // a bound of 20 s: the driver would try again every half second until it ran out
      await expect(documentdb.connect(target, ctx({ [ENV.TLS_CA_BUNDLE]: other.caCertPath }, 20_000))).rejects.toMatchObject({ code: 'TLS_FAILED' });
      expect(other.connectionsAccepted).toBeGreaterThan(0);
      expect(other.connectionsAccepted).toBeLessThanOrEqual(2);
      expect(other.logins()).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  test('a CA the function does not trust is TLS_FAILED', async () => {
    const user = newUser('Start-pw-1');
    await expect(documentdb.connect(login(user, 'Start-pw-1'), ctx({}, 3_000))).rejects.toMatchObject({ code: 'TLS_FAILED' });
  });

  test('a server without TLS closes the handshake: TLS_FAILED, not TIMEOUT, and no plaintext login', async () => {
    const plain = await DocumentDbServer.start({ maxWireVersion, mechanisms, tls: false });
    try {
      const target = { ...login(plain.master.username, plain.master.password), port: plain.port };
      await expect(documentdb.connect(target, ctx(undefined, 3_000))).rejects.toMatchObject({ code: 'TLS_FAILED' });
      expect(plain.refusedTlsHandshakes).toBeGreaterThan(0);
      expect(plain.logins()).toEqual([]);
    } finally {
      await plain.stop();
    }
  });

  test.each([['a comma', 'app,user'], ['an equals sign', 'app=user'], ['both', 'x,n=master']])(
    'a user name with %s is INVALID_SECRET_VALUE before any connection (the driver cannot authenticate it)', async (_what, username) => {
      const commands = server.commands().length;
      await expect(documentdb.connect(login(username, 'Start-pw-1'), ctx())).rejects.toMatchObject({
        code: 'INVALID_SECRET_VALUE',
        message: 'The database secret value is invalid: username must not contain "," or "=" (the mongodb driver cannot authenticate such a user)',
      });
      expect(server.commands().slice(commands)).toEqual([]);
    });

  test('a frozen server fails the call within its bound, with TIMEOUT', async () => {
    const frozen = await DocumentDbServer.start({ maxWireVersion, mechanisms });
    try {
      const user = 'app';
      frozen.addUser({ user, password: 'Start-pw-1', roles: APP_ROLES });
      const context = ctx({ [ENV.TLS_CA_BUNDLE]: frozen.caCertPath }, 1_500);
      const l = { ...login(user, 'Start-pw-1'), port: frozen.port };
      const session = await open(l, context);
      frozen.freeze();
      const started = Date.now();
      await expect(session.setOwnPassword(user, 'Next-pw-22')).rejects.toMatchObject({ code: 'TIMEOUT' });
      await session.close();
      await expect(documentdb.connect(l, context)).rejects.toMatchObject({ code: 'TIMEOUT' });
      // generous: the bound is 1.5 s per call; this only proves the calls did not hang
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await frozen.stop();
    }
  });

  test('no password appears in any error, its cause or its string form', async () => {
    const user = newUser('Canary-pw-Original');
    const failures: unknown[] = [];
    const collect = (p: Promise<unknown>) => p.then(() => failures.push(new Error('resolved')), (e) => failures.push(e));
    await collect(documentdb.connect(login(user, 'Canary-pw-Wrong'), ctx()));
    await collect(documentdb.connect(login(user, 'Canary-pw-Original'), ctx({}, 3_000)));
    const weak = await open(login(user, 'Canary-pw-Original'), ctx(), 'master');
    await collect(weak.upsertAlternate(`${user}_clone`, user, 'Canary-pw-Clone'));
    await weak.close();
    expect(failures).toHaveLength(3);
    for (const f of failures) {
      const text = [String(f), JSON.stringify(f), (f as Error).stack, String((f as Error).cause), JSON.stringify((f as Error).cause)].join('\n');
      expect(text).not.toMatch(/Canary-pw/);
      expect(text).not.toMatch(/Authentication failed|not authorized|altnames/);
    }
  });

  test('the driver logs nothing, even when MONGODB_LOG_ALL asks it to', async () => {
    const user = newUser('Canary-pw-Log');
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    process.env.MONGODB_LOG_ALL = 'debug';
    try {
      const session = await open(login(user, 'Canary-pw-Log'), ctx());
      await session.setOwnPassword(user, 'Canary-pw-Next');
      await session.close();
    } finally {
      delete process.env.MONGODB_LOG_ALL;
      spy.mockRestore();
    }
    expect(written).toEqual([]);
  });

  test('directConnection must be a boolean; true connects without discovery', async () => {
    const user = newUser('Start-pw-1');
    const engine = singleUser(documentdb);
    const json = (extra: Record<string, unknown>) => JSON.stringify({ engine: 'mongo', host: 'localhost', port: server.port, username: user, password: 'Start-pw-1', ...extra });
    const bad = engine.parse(json({ directConnection: 'yes' }), 'current');
    await expect(documentdb.connect(bad, ctx())).rejects.toMatchObject({ code: 'INVALID_SECRET_VALUE' });
    const direct = engine.parse(json({ directConnection: true }), 'current');
    const session = await open(direct, ctx());
    await session.probe('ping');
    await session.close();
  });

  test('a host that is not a host name is refused before connecting', async () => {
    await expect(documentdb.connect(login('u', 'p', 'evil.example,localhost'), ctx())).rejects.toMatchObject({ code: 'INVALID_SECRET_VALUE' });
  });

  test('the kit\'s single-user scheme: setSecret changes the password, a retry finds it set, testSecret logs in', async () => {
    const user = newUser('Start-pw-1');
    const engine = singleUser(documentdb);
    const json = (password: string) => JSON.stringify({ engine: 'docdb', host: 'localhost', port: server.port, username: user, password });
    const current = engine.parse(json('Start-pw-1'), 'current');
    const pending = engine.parse(json('Next-pw-22'), 'pending');
    engine.checkTarget(current, pending, 'setSecret');
    const args = { current, pending, previous: async () => undefined, ctx: ctx() };
    expect(await engine.setPending(args)).toBe('password-changed');
    expect(await engine.setPending(args)).toBe('already-set');
    await engine.testPending(pending, ctx());
    expect(server.verifyPassword(user, 'admin', 'Start-pw-1')).toBe(false);
  });

  test('the kit\'s alternating-users scheme: the clone is created, tested, and the pair swings back', async () => {
    const user = newUser('Start-pw-1');
    const engine = alternatingUsers(documentdb);
    const masterarn = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:master';
    const masterJson = JSON.stringify({ engine: 'mongo', host: 'localhost', port: server.port, username: server.master.username, password: server.master.password });
    const secrets = { getValue: async () => masterJson } as never;
    const context: StepContext = { ...ctx(), secrets };
    const json = (username: string, password: string) => JSON.stringify({ engine: 'mongo', host: 'localhost', port: server.port, username, password, masterarn });
    const current = engine.parse(json(user, 'Start-pw-1'), 'current');
    const pending = engine.parse(await engine.nextValue!(current, 'Clone-pw-6', context), 'pending');
    expect(pending.username).toBe(`${user}_clone`);
    engine.checkTarget(current, pending, 'setSecret');
    expect(await engine.setPending({ current, pending, previous: async () => undefined, ctx: context })).toBe('created');
    await engine.testPending(pending, context);
    expect(server.user(`${user}_clone`)?.roles).toEqual(APP_ROLES);
    // next rotation: current is the clone, pending the original
    const back = engine.parse(await engine.nextValue!(pending as DatabaseCredential, 'Back-pw-7', context), 'pending');
    expect(back.username).toBe(user);
    expect(await engine.setPending({ current: pending, pending: back, previous: async () => undefined, ctx: context })).toBe('updated');
    await engine.testPending(back, context);
    expect(server.verifyPassword(user, 'admin', 'Back-pw-7')).toBe(true);
    expect(server.user(user)?.roles).toEqual(APP_ROLES);
  });
});
