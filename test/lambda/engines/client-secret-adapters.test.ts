import { adapterFromEnv, adminCredential } from '../../../lambda/engines/client-secret-adapters';
import { overlapSeconds } from '../../../lambda/engines/oauth-client-secret';

/** The handler checks its adapter configuration again: the construct's checks do not cover a function built without CDK. */
const request = (url: string, body: Record<string, string> = { client_secret: '{client_secret}' }) => ({ method: 'POST', url, body });
const env = (add: object, retire: object = request('https://idp.example.com/c/{client_id}/retire')) => ({
  ROTATION_OAUTH_CLIENT_SECRET_ADAPTER: JSON.stringify({ type: 'http', auth: 'bearer', add, retire }),
});

test('unset means RFC 7592: one secret per client, issued by the provider', () => {
  expect(adapterFromEnv({})).toMatchObject({ secretSource: 'provider', concurrentSecrets: false });
  expect(adapterFromEnv(env(request('https://idp.example.com/c/{client_id}/secrets')))).toMatchObject({ secretSource: 'client', concurrentSecrets: true });
});

test.each([
  ['a placeholder in the host', request('https://{client_id}.evil.example.com/secrets'), 'must name its host without placeholders'],
  ['a placeholder in the port', request('https://idp.example.com:{client_id}/secrets'), 'must name its host without placeholders'],
  ['the client secret in the URL', request('https://idp.example.com/c/{client_id}?s={client_secret}'), 'must not contain {client_secret}'],
  ['an unknown placeholder', request('https://idp.example.com/c/{tenant}'), 'unknown placeholder'],
  ['an unknown method', { method: 'GET', url: 'https://idp.example.com/c' }, 'method must be POST, PUT, PATCH or DELETE'],
  ['a body value that is not a string', { method: 'POST', url: 'https://idp.example.com/c', body: { n: 1 } }, 'body values must be strings'],
])('refuses %s (INVALID_CONFIGURATION)', (_, add, message) => {
  expect(() => adapterFromEnv(env(add))).toThrow(expect.objectContaining({ code: 'INVALID_CONFIGURATION', message: expect.stringContaining(message) }));
});

test('the overlap: required by an adapter that keeps several secrets, 0 only for RFC 7592, bounded', () => {
  const http = adapterFromEnv(env(request('https://idp.example.com/c/{client_id}/secrets')));
  expect(() => overlapSeconds({}, http)).toThrow(/is required/);
  expect(overlapSeconds({ ROTATION_OAUTH_OVERLAP_SECONDS: '3600' }, http)).toBe(3600);
  expect(() => overlapSeconds({ ROTATION_OAUTH_OVERLAP_SECONDS: '1e3' }, http)).toThrow(/decimal integer/);
  expect(overlapSeconds({}, adapterFromEnv({}))).toBe(0);
  expect(() => overlapSeconds({ ROTATION_OAUTH_OVERLAP_SECONDS: '60' }, adapterFromEnv({}))).toThrow(/must be 0/);
});

test('the admin secret must hold what the adapter needs; its values are never echoed', () => {
  const http = adapterFromEnv(env(request('https://idp.example.com/c/{client_id}/secrets')));
  expect(adminCredential('{"token":"CANARY-t"}', http)).toEqual({ token: 'CANARY-t' });
  for (const value of [undefined, 'CANARY-not-json', '["CANARY"]', '{"username":"CANARY-u"}', '{"token":"CANARY\\r\\nx"}']) {
    let message = '';
    try {
      adminCredential(value, http);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^The admin secret /);
    expect(message).not.toContain('CANARY');
  }
});
