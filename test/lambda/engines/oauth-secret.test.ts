import { generateKeyPairSync, createPublicKey, verify } from 'crypto';
import { parseOAuthSecret, sameClient } from '../../../lambda/engines/oauth-secret';
import { clientAssertion } from '../../../lambda/engines/oauth-token-client';

/** The OAuth secret JSON is untrusted: each field is checked by name, never echoed. */
const base = { client_id: 'app', client_secret: 'CANARY-s-1', token_endpoint: 'https://idp.example.com/token', refresh_token: 'CANARY-r-2' };
const parse = (o: Record<string, unknown>) => parseOAuthSecret(JSON.stringify(o), 'current');

describe('parseOAuthSecret', () => {
  test('a complete secret: basic by default with a client secret, none without', () => {
    expect(parse(base)).toMatchObject({ clientId: 'app', authMethod: 'client_secret_basic', refreshToken: 'CANARY-r-2' });
    expect(parse({ ...base, client_secret: undefined })).toMatchObject({ authMethod: 'none' });
  });

  test.each([
    ['neither endpoint nor issuer', { ...base, token_endpoint: undefined }, 'exactly one of token_endpoint and issuer'],
    ['both endpoint and issuer', { ...base, issuer: 'https://idp.example.com' }, 'exactly one of token_endpoint and issuer'],
    ['a CR LF in client_id (would split an HTTP header)', { ...base, client_id: 'app\r\nX-Evil: 1' }, 'client_id must not contain control characters'],
    ['a control character in the refresh token', { ...base, refresh_token: 'CANARY\u0000x' }, 'refresh_token must not contain control characters'],
    ['an unknown auth_method', { ...base, auth_method: 'tls_client_auth' }, 'auth_method must be one of'],
    ['client_secret_post without a secret', { ...base, client_secret: undefined, auth_method: 'client_secret_post' }, 'client_secret is required'],
    ['private_key_jwt without a key', { ...base, auth_method: 'private_key_jwt' }, 'private_key is required'],
    ['expires_at that is not an integer', { ...base, expires_at: '1700000000' }, 'expires_at must be a non-negative integer'],
    ['a scope with a quote', { ...base, scope: 'read "write"' }, 'scope must be scope tokens'],
    ['a field of 20,000 characters', { ...base, refresh_token: 'x'.repeat(20_000) }, 'refresh_token must be at most 16384 characters'],
  ])('refuses %s, naming the field and never the value', (_, value, message) => {
    let thrown: Error | undefined;
    try {
      parse(value);
    } catch (err) {
      thrown = err as Error;
    }
    expect(thrown?.message).toContain(message);
    expect(thrown?.message).not.toContain('CANARY');
  });

  test('duplicate member names are refused (parsers disagree on which wins)', () => {
    expect(() => parseOAuthSecret('{"client_id":"a","client_id":"b","token_endpoint":"https://x"}', 'pending')).toThrow(/more than once/);
  });
});

describe('sameClient', () => {
  const current = parse(base);
  test.each([
    ['client_id', { client_id: 'other' }],
    ['token_endpoint', { token_endpoint: 'https://evil.example.com/token' }],
    ['auth method', { auth_method: 'client_secret_post' }],
    ['scope', { scope: 'admin' }],
    ['admin secret', { adminsecretarn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:other' }],
  ])('a pending value with another %s is refused', (_, change) => {
    expect(sameClient(current, parse({ ...base, ...change }))).toBeDefined();
  });

  test('only the rotated credential may differ', () => {
    expect(sameClient(current, parse({ ...base, refresh_token: 'CANARY-new', access_token: 'CANARY-a', expires_at: 1 }))).toBeUndefined();
  });
});

describe('private_key_jwt assertion', () => {
  test.each([
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey],
  ])('%s: signed with the key, for the token endpoint, one minute, iss = sub = client id', (alg, key) => {
    const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
    const cred = parse({ ...base, auth_method: 'private_key_jwt', private_key: pem, key_id: 'k1' });
    const jwt = clientAssertion(cred, 'https://idp.example.com/token', 1_700_000_000);
    const [h, p, sig] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg, typ: 'JWT', kid: 'k1' });
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toMatchObject({
      iss: 'app', sub: 'app', aud: 'https://idp.example.com/token', iat: 1_700_000_000, exp: 1_700_000_060,
    });
    const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey(key), dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
    expect(ok).toBe(true);
  });

  test('a 1024-bit RSA key is refused', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const cred = parse({ ...base, auth_method: 'private_key_jwt', private_key: pem });
    expect(() => clientAssertion(cred, 'https://idp.example.com/token')).toThrow(/RSA key of 2048 bits or more/);
  });
});
