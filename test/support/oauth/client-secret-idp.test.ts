import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import { ClientSecretIdp, ClientSecretIdpError, startClientSecretIdp } from './client-secret-idp';
import { basicAuthorization, FORM_CONTENT_TYPE, formBody, httpsRequest, HttpsResponse } from './https-client';

// RFC 6749 2.3.1 form-urlencodes id and secret before Base64; these survive only if both sides do it (and the
// non-ASCII ones only if both sides use UTF-8).
const TRICKY_ID = 'svc:Zürich %41+x y';
const TRICKY_SECRET = 'pä:ss%25 w+rd€ ok';
const ADMIN_TOKEN = 'admin-bearer-token-value';
const ADMIN_USER = 'ops:admin';
const ADMIN_PASSWORD = 'p%w+d: ß';
const MINUTE = 60_000;

describe('startClientSecretIdp', () => {
  let idp: ClientSecretIdp;

  beforeAll(async () => {
    idp = await startClientSecretIdp({
      clients: [
        { client_id: TRICKY_ID, secrets: [TRICKY_SECRET] },
        { client_id: 'app', secrets: ['secret-a'] },
        { client_id: 'limits', secrets: ['l1'] },
        { client_id: 'empty' },
      ],
      adminToken: ADMIN_TOKEN,
      adminUser: ADMIN_USER,
      adminPassword: ADMIN_PASSWORD,
      accessTokenTtlSeconds: 300,
    });
  });

  afterAll(async () => {
    await idp?.close();
  });

  function token(fields: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpsResponse> {
    return httpsRequest({
      url: idp.tokenEndpoint,
      method: 'POST',
      headers: { 'content-type': FORM_CONTENT_TYPE, ...headers },
      body: formBody(fields),
      ca: idp.caCertPem,
    });
  }

  function basicToken(id: string, secret: string): Promise<HttpsResponse> {
    return token({ grant_type: 'client_credentials' }, { authorization: basicAuthorization(id, secret) });
  }

  function admin(
    route: string, body: unknown, authorization: string | null = `Bearer ${ADMIN_TOKEN}`,
  ): Promise<HttpsResponse> {
    return httpsRequest({
      url: `${idp.adminBaseUrl}${route}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ca: idp.caCertPem,
    });
  }

  const secretsOf = (clientId: string) => `/clients/${encodeURIComponent(clientId)}/secrets`;

  test('client_secret_basic: Base64 of the form-urlencoded id and secret, non-ASCII included', async () => {
    expect(idp.baseUrl).toMatch(/^https:\/\/localhost:\d+$/);
    const ok = await basicToken(TRICKY_ID, TRICKY_SECRET);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });

    // Without the form-urlencoding, `+` and `%25` decode to something else and `:` splits the id.
    const raw = `Basic ${Buffer.from(`${TRICKY_ID}:${TRICKY_SECRET}`, 'utf8').toString('base64')}`;
    const refused = await token({ grant_type: 'client_credentials' }, { authorization: raw });
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({ error: 'invalid_client' });
    expect(refused.headers['www-authenticate']).toMatch(/^Basic/);
    expect(idp.secretWorks(TRICKY_ID, TRICKY_SECRET)).toBe(true);
  });

  test('client_secret_post, and the token endpoint\'s refusals', async () => {
    expect((await token({ grant_type: 'client_credentials', client_id: 'app', client_secret: 'secret-a' })).status).toBe(200);
    const wrong = await token({ grant_type: 'client_credentials', client_id: 'app', client_secret: 'secret-b' });
    expect([wrong.status, wrong.json]).toEqual([401, { error: 'invalid_client' }]);
    const unknownClient = await token({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'secret-a' });
    expect(unknownClient.status).toBe(401);
    const none = await token({ grant_type: 'client_credentials' });
    expect([none.status, none.json?.error]).toEqual([401, 'invalid_client']);
    const both = await token({ grant_type: 'client_credentials', client_secret: 'secret-a' }, { authorization: basicAuthorization('app', 'secret-a') });
    expect([both.status, both.json?.error]).toEqual([400, 'invalid_request']);
    const grant = await token({ grant_type: 'password', client_id: 'app', client_secret: 'secret-a' });
    expect([grant.status, grant.json?.error]).toEqual([400, 'unsupported_grant_type']);
    const noGrant = await token({ client_id: 'app', client_secret: 'secret-a' });
    expect([noGrant.status, noGrant.json?.error]).toEqual([400, 'invalid_request']);
    const json = await httpsRequest({
      url: idp.tokenEndpoint,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'app', client_secret: 'secret-a' }),
      ca: idp.caCertPem,
    });
    expect([json.status, json.json?.error]).toEqual([400, 'invalid_request']);
    const get = await httpsRequest({ url: idp.tokenEndpoint, ca: idp.caCertPem });
    expect(get.status).toBe(405);
  });

  test('several secrets at once; a retired one works until its not_after on the IdP clock', async () => {
    expect(await admin(secretsOf('app'), { client_secret: 'secret-b' })).toMatchObject({ status: 201, json: { secret_count: 2 } });
    // Adding it again succeeds again (the rotator may repeat a step).
    expect(await admin(secretsOf('app'), { client_secret: 'secret-b' })).toMatchObject({ status: 200, json: { secret_count: 2 } });
    expect((await basicToken('app', 'secret-a')).status).toBe(200);
    expect((await basicToken('app', 'secret-b')).status).toBe(200);

    const notAfter = new Date(idp.now().getTime() + 10 * MINUTE).toISOString();
    expect((await admin(`${secretsOf('app')}/retire`, { client_secret: 'secret-a', not_after: notAfter })).status).toBe(204);
    expect(idp.secretCount('app')).toBe(2);
    idp.advance(9 * MINUTE);
    expect((await basicToken('app', 'secret-a')).status).toBe(200);
    idp.advance(MINUTE);
    expect((await basicToken('app', 'secret-a')).status).toBe(401);
    expect((await basicToken('app', 'secret-b')).status).toBe(200);
    expect(idp.secretWorks('app', 'secret-a')).toBe(false);
    expect(idp.secretCount('app')).toBe(1);

    // A not_after of now revokes at once; seconds since the epoch work too; an unknown secret is already gone.
    expect(await admin(secretsOf('app'), { client_secret: 'secret-c' })).toMatchObject({ status: 201 });
    const nowEpoch = String(Math.floor(idp.now().getTime() / 1000));
    expect((await admin(`${secretsOf('app')}/retire`, { client_secret: 'secret-c', not_after: nowEpoch })).status).toBe(204);
    expect(idp.secretWorks('app', 'secret-c')).toBe(false);
    expect((await admin(`${secretsOf('app')}/retire`, { client_secret: 'never-added', not_after: notAfter })).status).toBe(204);
    expect(idp.secretCount('app')).toBe(1);

    // Retiring never extends a secret's life.
    const soon = new Date(idp.now().getTime() + MINUTE).toISOString();
    const later = new Date(idp.now().getTime() + 60 * MINUTE).toISOString();
    await admin(`${secretsOf('app')}/retire`, { client_secret: 'secret-b', not_after: soon });
    await admin(`${secretsOf('app')}/retire`, { client_secret: 'secret-b', not_after: later });
    idp.advance(MINUTE);
    expect(idp.secretWorks('app', 'secret-b')).toBe(false);
  });

  test('admin API limits: at most five secrets, unknown clients, malformed requests', async () => {
    for (const n of [2, 3, 4, 5]) expect((await admin(secretsOf('limits'), { client_secret: `l${n}` })).status).toBe(201);
    const sixth = await admin(secretsOf('limits'), { client_secret: 'l6' });
    expect([sixth.status, sixth.json?.error]).toEqual([409, 'too_many_secrets']);
    expect(idp.secretCount('limits')).toBe(5);
    // A slot frees up once a secret is revoked.
    expect((await admin(`${secretsOf('limits')}/retire`, { client_secret: 'l1', not_after: '1970-01-01T00:00:00Z' })).status).toBe(204);
    expect((await admin(secretsOf('limits'), { client_secret: 'l6' })).status).toBe(201);

    expect((await admin(secretsOf('nobody'), { client_secret: 'x' })).status).toBe(404);
    expect((await admin(`${secretsOf('nobody')}/retire`, { client_secret: 'x', not_after: '2030-01-01T00:00:00Z' })).status).toBe(404);
    expect(await admin(secretsOf('empty'), '{not json')).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    expect((await admin(secretsOf('empty'), { client_secret: 42 })).status).toBe(400);
    expect((await admin(`${secretsOf('empty')}/retire`, { client_secret: 'x', not_after: 'tomorrow' })).status).toBe(400);
    const huge = await admin(secretsOf('empty'), { client_secret: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(idp.secretCount('empty')).toBe(0);
  });

  test('admin API authentication: bearer or Basic (form-urlencoded, then Base64), nothing else', async () => {
    const route = secretsOf('empty');
    const body = { client_secret: 'e1' };
    expect((await admin(route, body, null)).status).toBe(401);
    expect((await admin(route, body, 'Bearer wrong-token')).status).toBe(401);
    expect((await admin(route, body, basicAuthorization(ADMIN_USER, 'wrong'))).status).toBe(401);
    expect((await admin(route, body, basicAuthorization('someone', ADMIN_PASSWORD))).status).toBe(401);
    const raw = `Basic ${Buffer.from(`${ADMIN_USER}:${ADMIN_PASSWORD}`, 'utf8').toString('base64')}`;
    expect((await admin(route, body, raw)).status).toBe(401);
    expect(idp.secretCount('empty')).toBe(0);

    expect((await admin(route, body, basicAuthorization(ADMIN_USER, ADMIN_PASSWORD))).status).toBe(201);
    expect((await admin(route, { client_secret: 'e2' }, `Bearer ${ADMIN_TOKEN}`)).status).toBe(201);
    expect(idp.secretCount('empty')).toBe(2);
  });

  test('the resource accepts this server\'s access tokens until they expire', async () => {
    const issued = await basicToken(TRICKY_ID, TRICKY_SECRET);
    const probe = (value: string) => httpsRequest({ url: idp.resourceUrl, headers: { authorization: `Bearer ${value}` }, ca: idp.caCertPem });
    expect(await probe(issued.json.access_token)).toMatchObject({ status: 200, json: { client_id: TRICKY_ID } });
    expect((await probe('forged-token')).status).toBe(401);
    idp.advance(300_000);
    expect((await probe(issued.json.access_token)).status).toBe(401);
  });

  test('failNext answers the next request to a path with the status, once; requests() records no bodies', async () => {
    idp.failNext('/token', 503);
    idp.failNext('/admin/clients/app/secrets', 500);
    const before = idp.requests().length;
    expect((await basicToken(TRICKY_ID, TRICKY_SECRET)).status).toBe(503);
    expect((await basicToken(TRICKY_ID, TRICKY_SECRET)).status).toBe(200);
    expect((await admin(secretsOf('app'), { client_secret: 'after-fault' })).status).toBe(500);
    expect(idp.secretWorks('app', 'after-fault')).toBe(false);
    expect(idp.requests().slice(before)).toEqual([
      { method: 'POST', path: '/token', status: 503 },
      { method: 'POST', path: '/token', status: 200 },
      { method: 'POST', path: '/admin/clients/app/secrets', status: 500 },
    ]);
  });

  test('a request line that is no URL is answered, not thrown in the test process', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1', port: Number(new URL(idp.baseUrl).port), path: '//[', servername: 'localhost', ca: idp.caCertPem, agent: false,
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(404);
  });

  test('its log lines and records hold no secret', () => {
    const text = JSON.stringify([idp.logs(), idp.requests()]);
    expect(idp.logs().split('\n').length).toBeGreaterThan(10);
    expect(idp.logs()).toMatch(/POST \/token 401 invalid_client/);
    for (const secret of [TRICKY_SECRET, 'secret-a', 'secret-b', ADMIN_TOKEN, ADMIN_PASSWORD, encodeURIComponent(TRICKY_SECRET)]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('lifecycle', () => {
  test('close() stops listening, deletes the temp dir, and can be called again', async () => {
    const idp = await startClientSecretIdp({ clients: [{ client_id: 'c', secrets: ['s'] }] });
    const port = Number(new URL(idp.baseUrl).port);
    const tempDir = (idp as unknown as { tempDir: string }).tempDir;
    expect(fs.existsSync(tempDir)).toBe(true);
    expect(fs.readFileSync(idp.caCertPath, 'utf8')).toBe(idp.caCertPem);
    await Promise.all([idp.close(), idp.close()]);
    await idp.close();
    expect(fs.existsSync(tempDir)).toBe(false);
    await expect(connects(port)).resolves.toBe(false);
  });

  test('seed secrets with a not_after, and too many seeds refused', async () => {
    expect(() => new ClientSecretIdp({ clients: [{ client_id: 'c', secrets: ['1', '2', '3'] }], maxSecretsPerClient: 2 }))
      .toThrow(ClientSecretIdpError);
    const idp = await startClientSecretIdp({
      clients: [{ client_id: 'c', secrets: ['plain', { client_secret: 'ending', not_after: new Date(Date.now() + MINUTE) }] }],
    });
    try {
      expect(idp.secretCount('c')).toBe(2);
      idp.advance(MINUTE);
      expect(idp.secretWorks('c', 'ending')).toBe(false);
      expect(idp.secretWorks('c', 'plain')).toBe(true);
    } finally {
      await idp.close();
    }
  });
});

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
