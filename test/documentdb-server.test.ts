import { once } from 'events';
import * as fs from 'fs';
import * as net from 'net';
import { MongoClient, MongoClientOptions, MongoServerError } from 'mongodb';
import { documentDbOptions } from './support/documentdb-conformance-server';
import { DocumentDbServer } from './support/documentdb-server';

/** Small enough that a test that waits for one stays quick, large enough for a loaded machine. */
const SELECTION_TIMEOUT_MS = 5_000;
/** Far above every timeout the driver is given in these tests; only a hang exceeds it. */
const HANG_BOUND_MS = 20_000;

const CLIENT_OPTIONS: MongoClientOptions = { serverSelectionTimeoutMS: SELECTION_TIMEOUT_MS, connectTimeoutMS: SELECTION_TIMEOUT_MS };

/** Connects with the real driver, runs `fn`, always closes. */
async function withClient<T>(uri: string, fn: (client: MongoClient) => Promise<T>, options: MongoClientOptions = {}): Promise<T> {
  const client = new MongoClient(uri, { ...CLIENT_OPTIONS, ...options });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Runs one admin command as `username`/`password` (authSource admin) and returns the reply. */
function adminCommand(server: DocumentDbServer, login: { username: string; password: string }, command: Record<string, unknown>) {
  return withClient(server.uri(login), (client) => client.db('admin').command(command));
}

/** The error a call rejected with; a call that succeeds fails the test. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: number; codeName?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('DocumentDbServer with TLS', () => {
  let server: DocumentDbServer;
  const app = { username: 'app', password: 'app-password-1' };
  const admin = { username: 'useradmin', password: 'admin-password-1' };

  beforeAll(async () => {
    server = await DocumentDbServer.start({
      users: [
        { user: app.username, password: app.password, roles: [{ role: 'readWrite', db: 'orders' }] },
        { user: admin.username, password: admin.password, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
      ],
    });
  });
  afterAll(() => server?.stop());
  afterEach(() => expect(server.connectionFailures()).toEqual([]));

  test('describes itself as a replica-set primary of rs0 with wire version 7', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.address).toBe(`localhost:${server.port}`);
    expect(fs.readFileSync(server.caCertPath!, 'utf8')).toBe(server.caCertPem);
    const hello = await withClient(server.uri(), (client) => client.db('admin').command({ hello: 1 }));
    expect(hello).toMatchObject({
      isWritablePrimary: true,
      setName: 'rs0',
      hosts: [server.address],
      primary: server.address,
      me: server.address,
      maxWireVersion: 7,
      ok: 1,
    });
    const buildInfo = await withClient(server.uri(), (client) => client.db('admin').command({ buildInfo: 1 }));
    expect(buildInfo).toMatchObject({ version: '4.0.0', ok: 1 });
  });

  test('SCRAM-SHA-256 is negotiated by default and logs in over TLS', async () => {
    const before = server.logins().length;
    await expect(adminCommand(server, app, { ping: 1 })).resolves.toMatchObject({ ok: 1 });
    const [login] = server.logins().slice(before);
    expect(login).toEqual({ user: 'app', db: 'admin', mechanism: 'SCRAM-SHA-256', tls: true, connectionId: expect.any(Number) });
    // The connection's handshake came as a legacy OP_QUERY ismaster; the login and the commands as OP_MSG (the
    // driver's connect() pings once to prove the credentials, then the test's own ping).
    expect(server.commands().filter((c) => c.connectionId === login.connectionId).map((c) => `${c.opCode} ${c.command}`))
      .toEqual(['OP_QUERY ismaster', 'OP_MSG saslStart', 'OP_MSG saslContinue', 'OP_MSG ping', 'OP_MSG ping']);
  });

  test('SCRAM-SHA-1 logs in when asked for, and by default for a user that has only SHA-1 (DocumentDB 4.0)', async () => {
    const before = server.logins().length;
    const uri = `${server.uri(app)}&authMechanism=SCRAM-SHA-1`;
    await expect(withClient(uri, (c) => c.db('admin').command({ ping: 1 }))).resolves.toMatchObject({ ok: 1 });
    server.addUser({ user: 'legacy', password: 'legacy-password', roles: [], mechanisms: ['SCRAM-SHA-1'] });
    await expect(adminCommand(server, { username: 'legacy', password: 'legacy-password' }, { ping: 1 })).resolves.toMatchObject({ ok: 1 });
    expect(server.logins().slice(before).map((l) => `${l.user}:${l.mechanism}`)).toEqual(['app:SCRAM-SHA-1', 'legacy:SCRAM-SHA-1']);
  });

  test('a wrong password is refused with AuthenticationFailed (18), with both mechanisms', async () => {
    const before = server.logins().length;
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1']) {
      const uri = `${server.uri({ ...app, password: 'wrong-password' })}&authMechanism=${mechanism}`;
      const error = await failure(withClient(uri, (c) => c.db('admin').command({ ping: 1 })));
      expect(error).toBeInstanceOf(MongoServerError);
      expect(error).toMatchObject({ code: 18, codeName: 'AuthenticationFailed', message: 'Authentication failed.' });
    }
    expect(server.logins().length).toBe(before);
  });

  test('a missing user is refused like a wrong password', async () => {
    const error = await failure(adminCommand(server, { username: 'nobody', password: 'app-password-1' }, { ping: 1 }));
    expect(error).toMatchObject({ code: 18, codeName: 'AuthenticationFailed' });
    // The right password in the wrong authSource is a missing user too.
    const wrongSource = server.uri({ ...app, authSource: 'orders' });
    await expect(withClient(wrongSource, (c) => c.db('admin').command({ ping: 1 }))).rejects.toMatchObject({ code: 18 });
  });

  test('without authentication only the handshake, ping and buildInfo run: other commands get Unauthorized (13)', async () => {
    const uri = `mongodb://${server.address}/?replicaSet=rs0&retryWrites=false&tls=true&tlsCAFile=${server.caCertPath}`;
    await withClient(uri, async (client) => {
      await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
      const error = await failure(client.db('admin').command({ usersInfo: 1 }));
      expect(error).toMatchObject({ code: 13, codeName: 'Unauthorized', message: 'command usersInfo requires authentication' });
      await expect(client.db('admin').command({ createUser: 'x', pwd: 'x-password', roles: [] })).rejects.toMatchObject({ code: 13 });
    });
    expect(server.user('x')).toBeUndefined();
  });

  test('an unknown command gets CommandNotFound (59)', async () => {
    await expect(adminCommand(server, app, { frobnicate: 1 })).rejects.toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });

  test('a user without user-admin rights cannot create users or change its roles, but can change its own password', async () => {
    server.addUser({ user: 'self', password: 'self-password-1', roles: [{ role: 'read', db: 'orders' }] });
    const self = { username: 'self', password: 'self-password-1' };
    await withClient(server.uri(self), async (client) => {
      const adminDb = client.db('admin');
      await expect(adminDb.command({ createUser: 'intruder', pwd: 'intruder-pw', roles: [] }))
        .rejects.toMatchObject({ code: 13, codeName: 'Unauthorized' });
      await expect(adminDb.command({ updateUser: 'self', roles: ['root'] })).rejects.toMatchObject({ code: 13 });
      await expect(adminDb.command({ updateUser: 'self', pwd: 'x', roles: [] })).rejects.toMatchObject({ code: 13 });
      await expect(adminDb.command({ updateUser: 'app', pwd: 'stolen-password' })).rejects.toMatchObject({ code: 13 });
      await expect(adminDb.command({ usersInfo: 'app' })).rejects.toMatchObject({ code: 13 });
      // Its own user is visible to it.
      await expect(adminDb.command({ usersInfo: 'self' })).resolves.toMatchObject({
        users: [{ user: 'self', db: 'admin', roles: [{ role: 'read', db: 'orders' }] }],
      });
      await expect(adminDb.command({ updateUser: 'self', pwd: 'self-password-2' })).resolves.toMatchObject({ ok: 1 });
    });
    expect(server.user('intruder')).toBeUndefined();
    expect(server.user('self')!.roles).toEqual([{ role: 'read', db: 'orders' }]);
    expect(server.verifyPassword('app', 'admin', app.password)).toBe(true);
    expect(server.verifyPassword('self', 'admin', 'self-password-2')).toBe(true);
    expect(server.verifyPassword('self', 'admin', 'self-password-1')).toBe(false);
    // The new password logs in with both mechanisms; the old one no longer does.
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1']) {
      const uri = `${server.uri({ username: 'self', password: 'self-password-2' })}&authMechanism=${mechanism}`;
      await expect(withClient(uri, (c) => c.db('admin').command({ ping: 1 }))).resolves.toMatchObject({ ok: 1 });
    }
    await expect(adminCommand(server, self, { ping: 1 })).rejects.toMatchObject({ code: 18 });
  });

  test('a user admin creates a user with roles, updates its password and roles, grants, revokes and drops it', async () => {
    await withClient(server.uri(admin), async (client) => {
      const adminDb = client.db('admin');
      await adminDb.command({ createUser: 'svc', pwd: 'svc-password-1', roles: [{ role: 'read', db: 'orders' }, 'clusterMonitor'] });
      expect(server.verifyPassword('svc', 'admin', 'svc-password-1')).toBe(true);
      const info = await adminDb.command({ usersInfo: { user: 'svc', db: 'admin' } });
      expect(info.users).toEqual([{
        _id: 'admin.svc',
        userId: expect.anything(),
        user: 'svc',
        db: 'admin',
        roles: [{ role: 'read', db: 'orders' }, { role: 'clusterMonitor', db: 'admin' }],
        mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
      }]);
      await expect(adminDb.command({ createUser: 'svc', pwd: 'other-password', roles: [] }))
        .rejects.toMatchObject({ code: 51003 });
      await expect(adminDb.command({ createUser: 'bad', pwd: 'bad-password', roles: ['notARole'] }))
        .rejects.toMatchObject({ code: 31, codeName: 'RoleNotFound' });

      await adminDb.command({ updateUser: 'svc', pwd: 'svc-password-2', roles: [{ role: 'readWrite', db: 'orders' }] });
      expect(server.verifyPassword('svc', 'admin', 'svc-password-2')).toBe(true);
      expect(server.verifyPassword('svc', 'admin', 'svc-password-1')).toBe(false);
      expect(server.user('svc')!.roles).toEqual([{ role: 'readWrite', db: 'orders' }]);

      await adminDb.command({ grantRolesToUser: 'svc', roles: [{ role: 'read', db: 'audit' }, { role: 'readWrite', db: 'orders' }] });
      expect(server.user('svc')!.roles).toEqual([{ role: 'readWrite', db: 'orders' }, { role: 'read', db: 'audit' }]);
      await adminDb.command({ revokeRolesFromUser: 'svc', roles: [{ role: 'readWrite', db: 'orders' }] });
      expect((await adminDb.command({ usersInfo: 'svc' })).users[0].roles).toEqual([{ role: 'read', db: 'audit' }]);

      await adminDb.command({ dropUser: 'svc' });
      await expect(adminDb.command({ usersInfo: 'svc' })).resolves.toMatchObject({ users: [] });
      await expect(adminDb.command({ updateUser: 'svc', pwd: 'svc-password-3' })).rejects.toMatchObject({ code: 11, codeName: 'UserNotFound' });
      await expect(adminDb.command({ dropUser: 'svc' })).rejects.toMatchObject({ code: 11 });
    });
    expect(server.user('svc')).toBeUndefined();
    expect(server.commands().filter((c) => c.command === 'updateUser' && c.ok).map((c) => c.authenticatedAs))
      .toContainEqual(['useradmin@admin']);
  });

  test('userAdmin on one database manages users there, and nowhere else', async () => {
    server.addUser({ user: 'ordersadmin', password: 'orders-admin-pw', roles: [{ role: 'userAdmin', db: 'orders' }] });
    const login = { username: 'ordersadmin', password: 'orders-admin-pw' };
    await withClient(server.uri(login), async (client) => {
      await client.db('orders').command({ createUser: 'reader', pwd: 'reader-password', roles: ['read'] });
      await expect(client.db('admin').command({ createUser: 'x', pwd: 'x-password', roles: [] })).rejects.toMatchObject({ code: 13 });
      // Granting a role on another database needs user-admin rights there too.
      await expect(client.db('orders').command({ grantRolesToUser: 'reader', roles: [{ role: 'root', db: 'admin' }] }))
        .rejects.toMatchObject({ code: 13 });
    });
    expect(server.user('reader', 'orders')!.roles).toEqual([{ role: 'read', db: 'orders' }]);
    // A user of another database logs in with that authSource.
    const uri = server.uri({ username: 'reader', password: 'reader-password', authSource: 'orders' });
    await expect(withClient(uri, (c) => c.db('orders').command({ ping: 1 }))).resolves.toMatchObject({ ok: 1 });
    expect(server.logins().at(-1)).toMatchObject({ user: 'reader', db: 'orders' });
  });

  test('a client that trusts no certificate for that host name fails verification', async () => {
    const other = await DocumentDbServer.start({ tls: { hostnames: ['db.example.invalid'] } });
    try {
      const error = await failure(withClient(other.uri(), (c) => c.db('admin').command({ ping: 1 }), { serverSelectionTimeoutMS: 2_000 }));
      expect(error.name).toBe('MongoServerSelectionError');
      expect(error.message).toMatch(/does not match certificate's altnames/);
      expect(other.logins()).toEqual([]);
      // every attempt counts, the refused handshakes too
      expect(other.connectionsAccepted).toBeGreaterThan(0);
    } finally {
      await other.stop();
    }
  });
});

describe('DocumentDbServer when frozen', () => {
  let server: DocumentDbServer;
  beforeEach(async () => {
    server = await DocumentDbServer.start();
  });
  afterEach(() => server?.stop());

  test('a new client gives up at its server selection timeout', async () => {
    server.freeze();
    const started = Date.now();
    const error = await failure(withClient(server.uri(), (c) => c.db('admin').command({ ping: 1 }), {
      serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000,
    }));
    expect(error.name).toBe('MongoServerSelectionError');
    expect(Date.now() - started).toBeLessThan(HANG_BOUND_MS);
    expect(server.logins()).toEqual([]);
  });

  test('a connected client\'s command times out at its socket timeout', async () => {
    await withClient(server.uri(), async (client) => {
      await client.db('admin').command({ ping: 1 });
      server.freeze();
      const error = await failure(client.db('admin').command({ ping: 1 }));
      expect(error.name).toBe('MongoNetworkTimeoutError');
    }, { socketTimeoutMS: 1_000 });
  });

  test('stop() ends connections that would stay open forever', async () => {
    server.freeze();
    // A raw TCP peer never gives up by itself: stop() resolves only if the server closes it.
    const raw = net.connect(server.port, server.host);
    raw.on('error', () => undefined);
    await once(raw, 'connect');
    const closed = once(raw, 'close');
    expect(server.openConnections).toBe(1);
    await server.stop();
    await closed;
    expect(server.openConnections).toBe(0);
  });
});

describe('DocumentDbServer without TLS', () => {
  test('is plaintext only when asked, and records the transport of each login', async () => {
    const plain = await DocumentDbServer.start({ tls: false });
    try {
      expect(plain.caCertPath).toBeUndefined();
      expect(plain.uri()).not.toContain('tls=true');
      await expect(withClient(plain.uri(), (c) => c.db('admin').command({ ping: 1 }))).resolves.toMatchObject({ ok: 1 });
      expect(plain.logins()).toEqual([expect.objectContaining({ user: 'master', tls: false })]);
    } finally {
      await plain.stop();
    }
    const tlsServer = await DocumentDbServer.start();
    try {
      // A plaintext client cannot talk to the default (TLS) server.
      const plaintextUri = tlsServer.uri().replace(/&tls=true&tlsCAFile=[^&]*/, '');
      await expect(withClient(plaintextUri, (c) => c.db('admin').command({ ping: 1 }), { serverSelectionTimeoutMS: 1_500 }))
        .rejects.toMatchObject({ name: 'MongoServerSelectionError' });
      expect(tlsServer.logins()).toEqual([]);
    } finally {
      await tlsServer.stop();
    }
  });

  test('closes a connection that sends bytes that are not a message, and keeps serving others', async () => {
    const server = await DocumentDbServer.start({ tls: false });
    try {
      const raw = net.connect(server.port, server.host);
      raw.on('error', () => undefined);
      await once(raw, 'connect');
      const closed = once(raw, 'close');
      // A length field far beyond maxMessageSizeBytes: the server must not wait to buffer it.
      const header = Buffer.alloc(16);
      header.writeInt32LE(0x7fffffff, 0);
      raw.write(header);
      await closed;
      expect(server.connectionFailures().map((e) => e.message)).toEqual(['invalid message length 2147483647']);
      await expect(withClient(server.uri(), (c) => c.db('admin').command({ ping: 1 }))).resolves.toMatchObject({ ok: 1 });
    } finally {
      await server.stop();
    }
  });

  test('offers only SCRAM-SHA-1 when asked to, as DocumentDB 4.0 does', async () => {
    const server = await DocumentDbServer.start({ tls: false, mechanisms: ['SCRAM-SHA-1'] });
    try {
      // The driver asks which mechanisms the user has and picks SCRAM-SHA-1.
      await withClient(server.uri(), async (client) => {
        await client.db('admin').command({ createUser: 'svc', pwd: 'svc-password-1', roles: [] });
        await expect(client.db('admin').command({ createUser: 'svc2', pwd: 'svc-password-2', roles: [], mechanisms: ['SCRAM-SHA-256'] }))
          .rejects.toMatchObject({ code: 2, codeName: 'BadValue' });
      });
      expect(server.user('svc')!.mechanisms).toEqual(['SCRAM-SHA-1']);
      expect(server.logins().map((l) => l.mechanism)).toEqual(['SCRAM-SHA-1']);
      const sha256 = `${server.uri({ username: 'svc', password: 'svc-password-1' })}&authMechanism=SCRAM-SHA-256`;
      await expect(withClient(sha256, (c) => c.db('admin').command({ ping: 1 })))
        .rejects.toMatchObject({ code: 334, codeName: 'MechanismUnavailable' });
    } finally {
      await server.stop();
    }
  });

  test('reports the configured wire version, e.g. 13 for DocumentDB 5.0', async () => {
    const server = await DocumentDbServer.start({ tls: false, maxWireVersion: 13 });
    try {
      const reply = await withClient(server.uri(), (c) => c.db('admin').command({ buildInfo: 1 }));
      expect(reply).toMatchObject({ version: '5.0.0' });
      const hello = await withClient(server.uri(), (c) => c.db('admin').command({ hello: 1 }));
      expect(hello.maxWireVersion).toBe(13);
    } finally {
      await server.stop();
    }
  });
});

describe('DocumentDbServer: what the conformance suite relies on', () => {
  let server: DocumentDbServer;
  const reader = { username: 'reader', password: 'reader-password-1' };
  const plainUser = { username: 'plain', password: 'plain-password-1' };

  beforeAll(async () => {
    server = await DocumentDbServer.start({
      users: [
        { user: reader.username, password: reader.password, roles: [{ role: 'read', db: 'orders' }] },
        { user: plainUser.username, password: plainUser.password, roles: [] },
      ],
    });
  });
  afterAll(() => server?.stop());
  afterEach(() => expect(server.connectionFailures()).toEqual([]));

  test('each login records the application name the client gave in its handshake', async () => {
    const before = server.logins().length;
    await withClient(server.uri(reader), (c) => c.db('admin').command({ ping: 1 }), { appName: 'orders-service' });
    await withClient(server.uri(reader), (c) => c.db('admin').command({ ping: 1 }));
    const logins = server.logins().slice(before);
    expect(logins.map((l) => l.appName)).toEqual(['orders-service', undefined]);
    expect(logins[1]).not.toHaveProperty('appName');
  });

  test('stored credentials are salted SCRAM keys per mechanism that change with the password and never hold it', async () => {
    server.addUser({ user: 'keys', password: 'keys-password-1', roles: [] });
    const first = server.storedCredentials('keys')!;
    expect(first).toHaveLength(2);
    expect(first[0]).toMatch(/^SCRAM-SHA-1\$10000:[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$/);
    expect(first[1]).toMatch(/^SCRAM-SHA-256\$15000:[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$/);
    expect(first.join(' ')).not.toContain('keys-password-1');
    server.setPassword('keys', 'admin', 'keys-password-2');
    const second = server.storedCredentials('keys')!;
    expect(second).toHaveLength(2);
    expect(second[0]).not.toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    expect(server.verifyPassword('keys', 'admin', 'keys-password-2')).toBe(true);
    expect(server.storedCredentials('nobody')).toBeUndefined();
  });

  test('connectionStatus runs for anyone; listCollections and dbStats need a role that reads the database', async () => {
    const unauthenticated = `mongodb://${server.address}/?replicaSet=rs0&retryWrites=false&tls=true&tlsCAFile=${server.caCertPath}`;
    await withClient(unauthenticated, async (client) => {
      await expect(client.db('admin').command({ connectionStatus: 1 })).resolves.toMatchObject({ authInfo: { authenticatedUsers: [] }, ok: 1 });
      await expect(client.db('orders').command({ dbStats: 1 })).rejects.toMatchObject({ code: 13, codeName: 'Unauthorized' });
      await expect(client.db('orders').command({ listCollections: 1 })).rejects.toMatchObject({ code: 13 });
    });
    await withClient(server.uri(reader), async (client) => {
      await expect(client.db('admin').command({ connectionStatus: 1 })).resolves.toMatchObject({
        authInfo: { authenticatedUsers: [{ user: 'reader', db: 'admin' }], authenticatedUserRoles: [{ role: 'read', db: 'orders' }] },
      });
      await expect(client.db('orders').command({ dbStats: 1 })).resolves.toMatchObject({ db: 'orders', collections: 0, ok: 1 });
      await expect(client.db('orders').command({ listCollections: 1 })).resolves.toMatchObject({ cursor: { id: 0, firstBatch: [] }, ok: 1 });
      // a role on orders reads nothing on admin
      await expect(client.db('admin').command({ dbStats: 1 })).rejects.toMatchObject({ code: 13, codeName: 'Unauthorized' });
      await expect(client.db('admin').command({ listCollections: 1 })).rejects.toMatchObject({ code: 13 });
    });
    // the master's root reads every database
    await withClient(server.uri(), (client) => expect(client.db('admin').command({ dbStats: 1 })).resolves.toMatchObject({ ok: 1 }));
  });

  test('without user-admin rights dropUser and grantRolesToUser are Unauthorized (13) and change nothing', async () => {
    await withClient(server.uri(reader), async (client) => {
      await expect(client.db('admin').command({ dropUser: 'plain' })).rejects.toMatchObject({ code: 13, codeName: 'Unauthorized' });
      await expect(client.db('admin').command({ grantRolesToUser: 'reader', roles: [{ role: 'root', db: 'admin' }] }))
        .rejects.toMatchObject({ code: 13 });
    });
    expect(server.user('plain')).toBeDefined();
    expect(server.user('reader')!.roles).toEqual([{ role: 'read', db: 'orders' }]);
  });

  test('endSessions needs authentication and ends only the caller\'s own sessions', async () => {
    await withClient(server.uri(reader), async (client) => {
      const session = client.startSession();
      const id = Buffer.from(session.id!.id.buffer).toString('hex');
      const open = () => server.sessions().filter((s) => s.id === id);
      try {
        await client.db('admin').command({ ping: 1 }, { session });
        expect(open()).toEqual([{ id, owner: 'reader@admin' }]);
        // another user naming reader's session id ends nothing of reader's
        await withClient(server.uri(plainUser), (other) => other.db('admin').command({ endSessions: [session.id] }));
        expect(open()).toEqual([{ id, owner: 'reader@admin' }]);
        await client.db('admin').command({ endSessions: [session.id] });
        expect(open()).toEqual([]);
      } finally {
        await session.endSession();
      }
    });
    const unauthenticated = `mongodb://${server.address}/?replicaSet=rs0&retryWrites=false&tls=true&tlsCAFile=${server.caCertPath}`;
    await withClient(unauthenticated, async (client) => {
      await expect(client.db('admin').command({ endSessions: [] })).rejects.toMatchObject({ code: 13, codeName: 'Unauthorized' });
    });
  });

  test('a SCRAM-SHA-1 user named with a comma never logs in with the driver, which digests the escaped name', async () => {
    // MongoDB digests "<name>:mongo:<password>" with the name itself; the driver digests the name as SCRAM escapes it
    server.addUser({ user: 'a,b', password: 'comma-password-1', roles: [], mechanisms: ['SCRAM-SHA-1'] });
    server.addUser({ user: 'c,d', password: 'comma-password-2', roles: [], mechanisms: ['SCRAM-SHA-256'] });
    await expect(adminCommand(server, { username: 'a,b', password: 'comma-password-1' }, { ping: 1 })).rejects.toMatchObject({ code: 18 });
    await expect(adminCommand(server, { username: 'c,d', password: 'comma-password-2' }, { ping: 1 })).resolves.toMatchObject({ ok: 1 });
    expect(server.verifyPassword('a,b', 'admin', 'comma-password-1')).toBe(true);
  });
});

describe('DocumentDbServer and plaintext', () => {
  test('preferTLS serves TLS and plaintext clients on one port and records the transport of each', async () => {
    const server = await DocumentDbServer.start({ tlsMode: 'preferTLS' });
    try {
      expect(server.tlsMode).toBe('preferTLS');
      await expect(adminCommand(server, server.master, { ping: 1 })).resolves.toMatchObject({ ok: 1 });
      const plaintextUri = server.uri().replace(/&tls=true&tlsCAFile=[^&]*/, '');
      await expect(withClient(plaintextUri, (c) => c.db('admin').command({ ping: 1 }))).resolves.toMatchObject({ ok: 1 });
      expect(server.logins().map((l) => l.tls)).toEqual([true, false]);
      expect(server.connectionFailures()).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  test('preferTLS still verifies: a client that does not trust the server\'s CA gets no login', async () => {
    const server = await DocumentDbServer.start({ tlsMode: 'preferTLS' });
    try {
      // TLS with the runtime's trust store only, which does not hold the test CA
      const untrusting = `${server.uri().replace(/&tls=true&tlsCAFile=[^&]*/, '')}&tls=true`;
      const error = await failure(withClient(untrusting, (c) => c.db('admin').command({ ping: 1 }), { serverSelectionTimeoutMS: 1_500 }));
      expect(error.name).toBe('MongoServerSelectionError');
      expect(error.message).toMatch(/certificate/);
      expect(server.logins()).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  test('a server without TLS closes a connection that opens with a TLS handshake, as MongoDB does', async () => {
    const server = await DocumentDbServer.start({ tls: false });
    try {
      const tlsUri = `${server.uri()}&tls=true`;
      const error = await failure(withClient(tlsUri, (c) => c.db('admin').command({ ping: 1 }), { serverSelectionTimeoutMS: 1_500 }));
      expect(error.name).toBe('MongoServerSelectionError');
      expect(error.message).toMatch(/before secure TLS connection was established/);
      expect(server.refusedTlsHandshakes).toBeGreaterThan(0);
      expect(server.connectionFailures()).toEqual([]);
      expect(server.logins()).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('the DocumentDB conformance server\'s options', () => {
  test('DocumentDB 4.0 by default (wire 7, SCRAM-SHA-1 only), with TLS and plaintext on one port unless TLS is required', () => {
    expect(documentDbOptions({}, {})).toEqual({ tls: undefined, tlsMode: 'preferTLS', maxWireVersion: 7, mechanisms: ['SCRAM-SHA-1'] });
    expect(documentDbOptions({ requireTls: true }, {})).toMatchObject({ tlsMode: 'requireTLS' });
    expect(documentDbOptions({ tls: { hostnames: ['db.other.example'], ipAddresses: [] } }, {}))
      .toMatchObject({ tls: { hostnames: ['db.other.example'], ipAddresses: [] } });
    expect(() => documentDbOptions({ tls: false, requireTls: true }, {})).toThrow('A DocumentDB test server without TLS cannot require TLS');
  });

  test('CONFORMANCE_DOCUMENTDB_VERSION=5.0 is wire 13 with both mechanisms; an unknown version or setting is refused, never ignored', () => {
    expect(documentDbOptions({}, { CONFORMANCE_DOCUMENTDB_VERSION: '5.0' })).toMatchObject({ maxWireVersion: 13, mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] });
    expect(() => documentDbOptions({}, { CONFORMANCE_DOCUMENTDB_VERSION: '3.6' })).toThrow('CONFORMANCE_DOCUMENTDB_VERSION must be one of 4.0, 5.0');
    expect(documentDbOptions({ settings: { maxWireVersion: 13, mechanisms: 'SCRAM-SHA-256' } }, {})).toMatchObject({ maxWireVersion: 13, mechanisms: ['SCRAM-SHA-256'] });
    expect(() => documentDbOptions({ settings: { max_connections: 10 } }, {})).toThrow('Unknown DocumentDB test server settings: max_connections');
  });
});
