import * as net from 'net';
import { POSTGRES_CONFORMANCE, PostgresConformanceServer } from '../support/postgres-conformance-server';
import { PostgresRotationFixture, functionArn } from '../support/postgres-rotation-fixture';
import { PostgresServerOptions } from '../support/postgres-server';

/**
 * Invariant 8 (no transport downgrade) and 9 (bounded time) with the bundled handlers: a failed TLS check never
 * leads to plaintext or to a skipped host-name check; plaintext happens only on the secret's explicit opt-in.
 */
let f: PostgresRotationFixture;

beforeAll(async () => {
  f = await PostgresRotationFixture.start();
});

afterAll(async () => {
  await f?.stop();
});

async function server(options: PostgresServerOptions): Promise<PostgresConformanceServer> {
  return f.startServer(POSTGRES_CONFORMANCE, options);
}

/** A login role on `pg` and its secret pointing at `host:pg.port`. */
async function userOn(pg: PostgresConformanceServer, host: string, extra: Record<string, unknown> = {}): Promise<{ arn: string; username: string }> {
  return f.createUser({ host, ...extra }, f.unique('tls_'), pg);
}

function lastLine(arn: string): Record<string, unknown> | undefined {
  return f.capture.stepLines.reverse().find((l) => l.secretArn === arn);
}

async function withCaBundle<T>(path: string | undefined, run: () => Promise<T>): Promise<T> {
  const saved = process.env.ROTATION_TLS_CA_BUNDLE;
  if (path === undefined) delete process.env.ROTATION_TLS_CA_BUNDLE;
  else process.env.ROTATION_TLS_CA_BUNDLE = path;
  try {
    return await run();
  } finally {
    process.env.ROTATION_TLS_CA_BUNDLE = saved;
  }
}

describe.each(['postgres-single-user', 'postgres-multi-user'] as const)('%s', (id) => {
  const ARN = functionArn(id);

  test('a certificate for another host name fails with TLS_FAILED and no plaintext login is made', async () => {
    const other = await server({ tls: { hostnames: ['db.other.example'], ipAddresses: [] } });
    const { arn, username } = await userOn(other, 'localhost', id === 'postgres-multi-user' ? { masterarn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unused-AbCdEf' } : {});
    // the CA is trusted: only the host name is wrong
    const outcome = await withCaBundle(other.caCertPath, () => f.rotate(arn, ARN));
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(lastLine(arn)).toMatchObject({ errorCode: 'TLS_FAILED' });
    expect((await other.authorizedConnections()).filter((c) => c.user === username)).toEqual([]);
  });

  test('a certificate from an untrusted CA fails with TLS_FAILED', async () => {
    const untrusted = await server({});
    const { arn, username } = await userOn(untrusted, 'localhost', id === 'postgres-multi-user' ? { masterarn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unused-AbCdEf' } : {});
    // ROTATION_TLS_CA_BUNDLE still trusts only the fixture's CA
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed' });
    expect(lastLine(arn)).toMatchObject({ errorCode: 'TLS_FAILED' });
    expect((await untrusted.authorizedConnections()).filter((c) => c.user === username)).toEqual([]);
  });
});

describe('plaintext', () => {
  const ARN = functionArn('postgres-single-user');

  test('a server without TLS is refused unless the secret opts out explicitly; never a silent fallback', async () => {
    const plain = await server({ tls: false });
    const { arn, username } = await userOn(plain, 'localhost');
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed' });
    expect(lastLine(arn)).toMatchObject({ errorCode: 'TLS_FAILED' });
    expect((await plain.authorizedConnections()).filter((c) => c.user === username)).toEqual([]);
  });

  test('with tls: disabled in the secret, rotation runs in plaintext', async () => {
    const plain = await server({ tls: false });
    const { arn, username } = await userOn(plain, 'localhost', { tls: 'disabled' });
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const logins = (await plain.authorizedConnections()).filter((c) => c.user === username);
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((c) => !c.ssl)).toBe(true);
  });

  test('over TLS every login of the handler uses TLS', async () => {
    const { arn, username } = await userOn(f.server, 'localhost');
    const before = (await f.server.authorizedConnections()).length;
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const logins = (await f.server.authorizedConnections()).slice(before).filter((c) => c.user === username);
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((c) => c.ssl)).toBe(true);
  });
});

describe('bounded time (invariant 9)', () => {
  test('a database that accepts connections but never answers fails the step with TIMEOUT before the function times out', async () => {
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const port = (blackHole.address() as net.AddressInfo).port;
    try {
      const username = f.unique('hang_');
      const arn = await f.createSecret({ engine: 'postgres', host: 'localhost', port, username, password: f.canary(), dbname: 'postgres' });
      const token = await f.beginManualRotation(arn);
      process.env.ROTATION_CALL_TIMEOUT_MS = '500';
      await f.invoke('postgres-single-user', { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
      const started = Date.now();
      await expect(f.invoke('postgres-single-user', { Step: 'setSecret', SecretId: arn, ClientRequestToken: token }, 30_000))
        .rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(5_000);
      // with less time left than the call timeout, the remaining time is the bound
      process.env.ROTATION_CALL_TIMEOUT_MS = '20000';
      const started2 = Date.now();
      await expect(f.invoke('postgres-single-user', { Step: 'setSecret', SecretId: arn, ClientRequestToken: token }, 2_500))
        .rejects.toMatchObject({ code: expect.stringMatching(/^(TIMEOUT|DEADLINE_EXCEEDED)$/) });
      expect(Date.now() - started2).toBeLessThan(2_500);
    } finally {
      process.env.ROTATION_CALL_TIMEOUT_MS = '5000';
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    }
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
