import { spawnSync } from 'child_process';
import { generateKeyPairSync, KeyObject } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processesMentioning } from '../processes';
import { createTestCertificates } from '../tls';
import { publicJwk, signClientAssertion } from './client-assertion';
import { basicAuthorization, FORM_CONTENT_TYPE, formBody, httpsRequest, HttpsResponse } from './https-client';
import { OidcServer, OidcServerError, startOidcServer } from './oidc-server';

// Characters that change meaning without RFC 6749 2.3.1's form-urlencoding before Base64: `:` splits id from secret,
// `+` decodes to a space and `%` starts an escape. oidc-provider only accepts printable ASCII in ids and secrets.
const BASIC_ID = 'svc:reports %41+x y';
const BASIC_SECRET = 'pa:ss%25 w+rd%';
const POST_ID = 'post-client';
const POST_SECRET = 'post-secret-value';
const RSA_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const EC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const OTHER_EC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

describe('startOidcServer', () => {
  let server: OidcServer;

  beforeAll(async () => {
    server = await startOidcServer({
      clients: [
        { client_id: BASIC_ID, client_secret: BASIC_SECRET },
        { client_id: POST_ID, client_secret: POST_SECRET, token_endpoint_auth_method: 'client_secret_post' },
        {
          client_id: 'jwt-rs256',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [publicJwk(RSA_KEY, 'rsa-1', 'RS256')] },
        },
        {
          client_id: 'jwt-es256',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [publicJwk(EC_KEY, 'ec-1', 'ES256')] },
        },
        { client_id: 'public-app', token_endpoint_auth_method: 'none' },
      ],
      registration: true,
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  function tokenRequest(fields: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpsResponse> {
    return httpsRequest({
      url: server.tokenEndpoint,
      method: 'POST',
      headers: { 'content-type': FORM_CONTENT_TYPE, ...headers },
      body: formBody(fields),
      ca: server.caCertPem,
    });
  }

  test('discovery names the issuer on localhost, verified against the throwaway CA', async () => {
    const response = await httpsRequest({ url: server.discoveryUrl, ca: server.caCertPem });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      issuer: server.issuer,
      token_endpoint: server.tokenEndpoint,
      userinfo_endpoint: server.userinfoEndpoint,
      grant_types_supported: expect.arrayContaining(['refresh_token', 'client_credentials']),
      token_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
    });
    expect(server.issuer).toMatch(/^https:\/\/localhost:\d+$/);
    expect(fs.readFileSync(server.caCertPath, 'utf8')).toBe(server.caCertPem);
  });

  test('a client that trusts another CA refuses the connection', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-other-ca-'));
    try {
      const other = await createTestCertificates(dir, { hostnames: ['localhost'] });
      await expect(httpsRequest({ url: server.discoveryUrl, ca: other.caCertPem }))
        .rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('client_secret_basic: id and secret are form-urlencoded before Base64', async () => {
    const ok = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basicAuthorization(BASIC_ID, BASIC_SECRET) });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });

    // The same credentials Base64-encoded without form-urlencoding: the server decodes `+` and `%xx` and finds
    // another id or secret.
    const raw = `Basic ${Buffer.from(`${BASIC_ID}:${BASIC_SECRET}`).toString('base64')}`;
    const refused = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: raw });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.json?.error).toMatch(/invalid_client|invalid_request/);

    expect(await server.clientAuthWorks(BASIC_ID, BASIC_SECRET)).toBe(true);
    expect(await server.clientAuthWorks(BASIC_ID, `${BASIC_SECRET}x`)).toBe(false);
  });

  test('client_secret_post authenticates with the secret in the body, and only with the right one', async () => {
    const ok = await tokenRequest({ grant_type: 'client_credentials', client_id: POST_ID, client_secret: POST_SECRET });
    expect(ok.status).toBe(200);
    const wrong = await tokenRequest({ grant_type: 'client_credentials', client_id: POST_ID, client_secret: 'not-it' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: 'invalid_client' });
    expect(await server.clientAuthWorks(POST_ID, POST_SECRET)).toBe(true);
    expect(await server.clientAuthWorks(POST_ID, 'not-it')).toBe(false);
  });

  test.each([
    ['RS256', 'jwt-rs256', RSA_KEY, 'rsa-1'],
    ['ES256', 'jwt-es256', EC_KEY, 'ec-1'],
  ] as const)('private_key_jwt with an %s assertion signed here', async (algorithm, clientId, key: KeyObject, keyId) => {
    const assertion = (privateKey: KeyObject, audience = server.tokenEndpoint) => signClientAssertion({
      clientId, audience, privateKey, algorithm, keyId,
    });
    const fields = (value: string) => ({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: value,
    });
    expect((await tokenRequest(fields(assertion(key)))).status).toBe(200);
    expect((await tokenRequest(fields(assertion(key, server.issuer)))).status).toBe(200);
    const forged = await tokenRequest(fields(algorithm === 'ES256'
      ? assertion(OTHER_EC_KEY)
      : signClientAssertion({ clientId, audience: server.tokenEndpoint, privateKey: otherRsaKey(), algorithm, keyId })));
    expect(forged.status).toBe(401);
    expect(forged.json).toMatchObject({ error: 'invalid_client' });
  });

  test('refresh: rotation consumes the old token, the new access token works at userinfo, one exchange recorded', async () => {
    const first = await server.mintRefreshToken(POST_ID, { accountId: 'alice' });
    expect(await server.refreshTokenState(first)).toBe('active');
    const before = (await server.tokenRequests()).length;

    const response = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first, client_id: POST_ID, client_secret: POST_SECRET });
    expect(response.status).toBe(200);
    const { refresh_token: second, access_token: accessToken } = response.json;
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);
    expect(await server.refreshTokenState(first)).toBe('consumed');
    expect(await server.refreshTokenState(second)).toBe('active');
    expect((await server.tokenRequests()).slice(before)).toEqual([
      { clientId: POST_ID, grantType: 'refresh_token', outcome: 'success' },
    ]);

    const userinfo = await httpsRequest({
      url: server.userinfoEndpoint,
      headers: { authorization: `Bearer ${accessToken}` },
      ca: server.caCertPem,
    });
    expect(userinfo.status).toBe(200);
    expect(userinfo.json).toEqual({ sub: 'alice' });
    const noToken = await httpsRequest({ url: server.userinfoEndpoint, headers: { authorization: 'Bearer nope' }, ca: server.caCertPem });
    expect(noToken.status).toBe(401);

    const introspection = await httpsRequest({
      url: server.introspectionEndpoint,
      method: 'POST',
      headers: { 'content-type': FORM_CONTENT_TYPE },
      body: formBody({ token: accessToken, client_id: POST_ID, client_secret: POST_SECRET }),
      ca: server.caCertPem,
    });
    expect(introspection.json).toMatchObject({ active: true, sub: 'alice', client_id: POST_ID });
  });

  test('replaying a consumed refresh token revokes the whole chain', async () => {
    const first = await server.mintRefreshToken(BASIC_ID);
    const auth = { authorization: basicAuthorization(BASIC_ID, BASIC_SECRET) };
    const rotated = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first }, auth);
    expect(rotated.status).toBe(200);
    const second: string = rotated.json.refresh_token;
    expect(await server.grantRevoked(second)).toBe(false);

    const replay = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first }, auth);
    expect(replay.status).toBe(400);
    expect(replay.json).toMatchObject({ error: 'invalid_grant' });
    expect(await server.grantRevoked(second)).toBe(true);
    expect(await server.refreshTokenState(second)).toBe('unknown');
    const newest = await tokenRequest({ grant_type: 'refresh_token', refresh_token: second }, auth);
    expect(newest.json).toMatchObject({ error: 'invalid_grant' });

    const records = await server.tokenRequests();
    expect(records.slice(-3)).toEqual([
      { clientId: BASIC_ID, grantType: 'refresh_token', outcome: 'success' },
      { clientId: BASIC_ID, grantType: 'refresh_token', outcome: 'error', error: 'invalid_grant' },
      { clientId: BASIC_ID, grantType: 'refresh_token', outcome: 'error', error: 'invalid_grant' },
    ]);
  });

  test('a public client refreshes with its id only', async () => {
    const token = await server.mintRefreshToken('public-app');
    const response = await tokenRequest({ grant_type: 'refresh_token', refresh_token: token, client_id: 'public-app' });
    expect(response.status).toBe(200);
    expect(response.json.refresh_token).not.toBe(token);
  });

  test('a refresh token of another client is refused', async () => {
    const token = await server.mintRefreshToken('public-app');
    const response = await tokenRequest({ grant_type: 'refresh_token', refresh_token: token, client_id: POST_ID, client_secret: POST_SECRET });
    expect(response.json).toMatchObject({ error: 'invalid_grant' });
    expect(await server.refreshTokenState(token)).toBe('active');
  });

  test('RFC 7592: every PUT issues a new client secret and the old one stops working', async () => {
    const client = await server.registerClient();
    expect(client.registration_client_uri).toBe(`${server.registrationEndpoint}/${client.client_id}`);
    expect(await server.clientAuthWorks(client.client_id, client.client_secret)).toBe(true);

    const read = await httpsRequest({
      url: client.registration_client_uri,
      headers: { authorization: `Bearer ${client.registration_access_token}` },
      ca: server.caCertPem,
    });
    expect(read.status).toBe(200);
    expect(read.json.client_secret).toBe(client.client_secret);

    const updated = await updateClient(server.caCertPem, client.registration_client_uri, client.registration_access_token, read.json);
    expect(updated.status).toBe(200);
    const newSecret: string = updated.json.client_secret;
    expect(newSecret).toEqual(expect.any(String));
    expect(newSecret).not.toBe(client.client_secret);
    expect(updated.json.registration_access_token).toBe(client.registration_access_token);
    expect(await server.clientAuthWorks(client.client_id, client.client_secret)).toBe(false);
    expect(await server.clientAuthWorks(client.client_id, newSecret)).toBe(true);

    const wrongToken = await updateClient(server.caCertPem, client.registration_client_uri, 'not-a-token', read.json);
    expect(wrongToken.status).toBe(401);

    const deleted = await httpsRequest({
      url: client.registration_client_uri,
      method: 'DELETE',
      headers: { authorization: `Bearer ${client.registration_access_token}` },
      ca: server.caCertPem,
    });
    expect(deleted.status).toBe(204);
    expect(await server.clientAuthWorks(client.client_id, newSecret)).toBe(false);
    expect(server.logs()).not.toContain(newSecret);
  });

  test('the log holds the token requests but no credentials', async () => {
    const logs = server.logs();
    expect(logs).toMatch(/listening on 127\.0\.0\.1:/);
    expect(logs).toMatch(/token refresh_token client=post-client success/);
    for (const secret of [BASIC_SECRET, POST_SECRET]) expect(logs).not.toContain(secret);
  });
});

describe('refresh without rotation', () => {
  test('rotateRefreshToken: false returns the same refresh token; registration is off by default', async () => {
    const server = await startOidcServer({
      clients: [{ client_id: 'c', client_secret: 's3cret', token_endpoint_auth_method: 'client_secret_post' }],
      rotateRefreshToken: false,
    });
    try {
      const token = await server.mintRefreshToken('c');
      const response = await httpsRequest({
        url: server.tokenEndpoint,
        method: 'POST',
        headers: { 'content-type': FORM_CONTENT_TYPE },
        body: formBody({ grant_type: 'refresh_token', refresh_token: token, client_id: 'c', client_secret: 's3cret' }),
        ca: server.caCertPem,
      });
      expect(response.status).toBe(200);
      expect(response.json.refresh_token).toBe(token);
      expect(await server.refreshTokenState(token)).toBe('active');

      // Registration is off by default: no endpoint, and registerClient() says so.
      await expect(server.registerClient()).rejects.toMatchObject({ code: 'OIDC_SERVER_REQUEST_FAILED' });
      const post = await httpsRequest({
        url: server.registrationEndpoint,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        ca: server.caCertPem,
      });
      expect(post.status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('registration management (RFC 7592)', () => {
  test('without secret rotation, a PUT keeps the secret; with token rotation, it replaces the access token', async () => {
    const server = await startOidcServer({
      clients: [],
      registration: true,
      registrationRotatesSecret: false,
      rotateRegistrationAccessToken: true,
    });
    try {
      const client = await server.registerClient({ token_endpoint_auth_method: 'client_secret_post' });
      const updated = await updateClient(server.caCertPem, client.registration_client_uri, client.registration_access_token, client.metadata);
      expect(updated.status).toBe(200);
      expect(updated.json.client_secret).toBe(client.client_secret);
      expect(updated.json.registration_access_token).not.toBe(client.registration_access_token);
      expect(await server.clientAuthWorks(client.client_id, client.client_secret)).toBe(true);
      const stale = await updateClient(server.caCertPem, client.registration_client_uri, client.registration_access_token, client.metadata);
      expect(stale.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe('process lifecycle', () => {
  /** oidc-provider children of this process (not of other test files that may run beside this one). */
  function ourChildren(): string[] {
    return processesMentioning('oidc-provider-process.mjs').filter((line) => parentOf(Number(line.split(':')[0])) === process.pid);
  }

  /** Runs `use` with os.tmpdir() pointing at a fresh folder, so what a failed start leaves there is ours alone. */
  async function inPrivateTmp(use: () => Promise<void>): Promise<string[]> {
    const previous = process.env.TMPDIR;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-private-tmp-'));
    process.env.TMPDIR = dir;
    try {
      await use();
      return fs.readdirSync(dir);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('close() stops the child, deletes the temp dir, and can be called again', async () => {
    const server = await startOidcServer({ clients: [] });
    const pid = server.pid!;
    expect(processesMentioning(server.directory)).toHaveLength(1);
    expect(isRunning(pid)).toBe(true);

    await Promise.all([server.close(), server.close()]);
    expect(isRunning(pid)).toBe(false);
    expect(processesMentioning(server.directory)).toEqual([]);
    expect(fs.existsSync(server.directory)).toBe(false);
    await server.close();
    await expect(server.tokenRequests()).rejects.toMatchObject({ code: 'OIDC_SERVER_CLOSED' });
  });

  test('the child exits by itself when its IPC channel closes (the parent died)', async () => {
    const server = await startOidcServer({ clients: [] });
    try {
      const pid = server.pid!;
      (server as unknown as { child: { disconnect(): void } }).child.disconnect();
      await waitFor(() => !isRunning(pid), 5_000);
      expect(isRunning(pid)).toBe(false);
    } finally {
      await server.close();
    }
  });

  test('a failed start rejects promptly with the stderr tail and leaves nothing behind', async () => {
    let error: unknown;
    const started = Date.now();
    const left = await inPrivateTmp(async () => {
      // client_secret_post without a secret: oidc-provider refuses the client.
      error = await startOidcServer({
        clients: [{ client_id: 'broken', token_endpoint_auth_method: 'client_secret_post' }],
      }).then(() => undefined, (err: unknown) => err);
    });
    expect(error).toBeInstanceOf(OidcServerError);
    expect(error).toMatchObject({ code: 'OIDC_SERVER_START_FAILED' });
    expect((error as Error).message).toMatch(/exited[\s\S]*client_secret/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(left).toEqual([]);
    expect(ourChildren()).toEqual([]);
  });

  test('a start deletes the temp dirs of runs killed before close()', async () => {
    const deadPid = spawnSync('true').pid!;
    let abandoned = '';
    let live = '';
    const left = await inPrivateTmp(async () => {
      abandoned = fs.mkdtempSync(path.join(os.tmpdir(), 'oidc-server-'));
      fs.writeFileSync(path.join(abandoned, 'owner.pid'), String(deadPid));
      live = fs.mkdtempSync(path.join(os.tmpdir(), 'oidc-server-'));
      fs.writeFileSync(path.join(live, 'owner.pid'), String(process.pid));
      const server = await startOidcServer({ clients: [] });
      await server.close();
      expect(fs.existsSync(abandoned)).toBe(false);
      expect(fs.existsSync(live)).toBe(true);
      fs.rmSync(live, { recursive: true });
    });
    expect(left).toEqual([]);
  });

  test('a child that never gets ready is killed after the start timeout', async () => {
    let error: unknown;
    const left = await inPrivateTmp(async () => {
      error = await startOidcServer({ clients: [], startTimeoutMs: 1 }).then(() => undefined, (err: unknown) => err);
    });
    expect(error).toMatchObject({ code: 'OIDC_SERVER_START_FAILED', message: expect.stringMatching(/not ready after/) });
    expect(left).toEqual([]);
    expect(ourChildren()).toEqual([]);
  });
});

/** An RFC 7592 PUT of the client's metadata, without the fields a client must not send back. */
async function updateClient(serverCa: string, uri: string, token: string, metadata: Record<string, unknown>): Promise<HttpsResponse> {
  const body = { ...metadata };
  for (const field of ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at', 'client_secret']) {
    delete body[field];
  }
  return httpsRequest({
    url: uri,
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'authorization': `Bearer ${token}` },
    body: JSON.stringify(body),
    ca: serverCa,
  });
}

let otherRsa: KeyObject | undefined;
function otherRsaKey(): KeyObject {
  otherRsa ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return otherRsa;
}

function parentOf(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are state, then ppid.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // exited meanwhile
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}
