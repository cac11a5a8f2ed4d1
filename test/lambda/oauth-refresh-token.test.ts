import { generateKeyPairSync } from 'crypto';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { OAUTH_EXCHANGE_TAG } from '../../src/private/contract';
import { publicJwk } from '../support/oauth/client-assertion';
import { basicAuthorization, formBody, httpsRequest } from '../support/oauth/https-client';
import { OidcServer, startOidcServer } from '../support/oauth/oidc-server';
import { OAuthRotationFixture, oauthFunctionArn } from '../support/oauth-rotation-fixture';
import { SimulatedCrash, setFaultHook, withEnv } from '../support/rotation-harness';

/**
 * The shipped oauth-refresh-token bundle against oidc-provider (a real OpenID Connect server) that rotates refresh
 * tokens and detects reuse: a refresh token presented twice makes it revoke the whole grant, so any second exchange of
 * one rotation would break the chain and fail the next rotation with OAUTH_INVALID_GRANT.
 */
const ID = 'oauth-refresh-token' as const;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (key: typeof rsa.privateKey) => key.export({ format: 'pem', type: 'pkcs8' }).toString();

/** A client id and secret with what RFC 6749 2.3.1's form-urlencoding before Base64 must survive. */
const TRICKY_ID = 'app:one%two+three four';
const TRICKY_SECRET = 'CANARY-s3cr:et%2B+with space&';

let oidc: OidcServer;
let f: OAuthRotationFixture;

beforeAll(async () => {
  oidc = await startOidcServer({
    clients: [
      { client_id: 'basic-app', client_secret: 'CANARY-basic-secret-1', token_endpoint_auth_method: 'client_secret_basic' },
      { client_id: TRICKY_ID, client_secret: TRICKY_SECRET, token_endpoint_auth_method: 'client_secret_basic' },
      { client_id: 'post-app', client_secret: 'CANARY-post-secret-2', token_endpoint_auth_method: 'client_secret_post' },
      { client_id: 'public-app', token_endpoint_auth_method: 'none' },
      { client_id: 'rsa-app', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk(rsa.privateKey, 'rsa-1', 'RS256')] } },
      { client_id: 'ec-app', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk(ec.privateKey, 'ec-1', 'ES256')] } },
    ],
  });
  f = await OAuthRotationFixture.start([oidc]);
  for (const s of ['CANARY-basic-secret-1', TRICKY_SECRET, 'CANARY-post-secret-2', pem(rsa.privateKey), pem(ec.privateKey)]) f.secret(s);
});

afterAll(async () => {
  setFaultHook(undefined);
  await f?.stop();
  await oidc?.close();
});

afterEach(() => setFaultHook(undefined));

/** A number JSON.parse would round (stands for an application field written by hand). */
const BIG = '@BIG@';

/** A refresh-token secret of a client, with a fresh refresh token minted for it. */
async function secretFor(clientId: string, extra: Record<string, unknown> = {}, discovery = true): Promise<{ arn: string; token: string }> {
  const token = f.secret(await oidc.mintRefreshToken(clientId));
  const arn = await f.createSecret({
    client_id: clientId,
    ...(discovery ? { issuer: oidc.issuer } : { token_endpoint: oidc.tokenEndpoint }),
    refresh_token: token,
    ...extra,
  });
  return { arn, token };
}

/** Refresh-token exchanges the server saw for a client. */
async function exchanges(clientId: string): Promise<number> {
  return (await oidc.tokenRequests()).filter((r) => r.clientId === clientId && r.grantType === 'refresh_token').length;
}

describe('rotation', () => {
  test('one exchange per rotation: the new refresh and access tokens are stored, the old refresh token is consumed', async () => {
    const { arn, token } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1', auth_method: 'client_secret_basic', app_field: BIG });
    const before = await exchanges('basic-app');
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
    const current = await f.value(arn);
    expect(await exchanges('basic-app')).toBe(before + 1);
    expect(current.refresh_token).not.toBe(token);
    expect(await oidc.refreshTokenState(token)).toBe('consumed');
    expect(await oidc.refreshTokenState(current.refresh_token)).toBe('active');
    expect(typeof current.access_token).toBe('string');
    expect(current.expires_at).toBeGreaterThan(Date.now() / 1000);
    // fields rotation does not change are carried over as written (invariant 22)
    const raw = (await f.sm.client().send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!;
    expect(raw).toContain('"app_field":12345678901234567890');
    expect((await f.value(arn, { stage: 'AWSPREVIOUS' })).refresh_token).toBe(token);
  });

  test('three rotations in a row keep the chain: each makes exactly one exchange', async () => {
    // a token endpoint without discovery: the probe URL is configured
    const restore = withEnv({ ROTATION_OAUTH_PROBE_URL: oidc.userinfoEndpoint });
    try {
      const { arn } = await secretFor('post-app', { client_secret: 'CANARY-post-secret-2', auth_method: 'client_secret_post' }, false);
      const before = await exchanges('post-app');
      for (let i = 1; i <= 3; i++) {
        expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
        expect(await exchanges('post-app')).toBe(before + i);
      }
      expect(await oidc.refreshTokenState((await f.value(arn)).refresh_token)).toBe('active');
    } finally {
      restore();
    }
  });

  test.each([
    ['client_secret_basic with an id and secret that need form-urlencoding', TRICKY_ID, { client_secret: TRICKY_SECRET, auth_method: 'client_secret_basic' }],
    ['a public client (none)', 'public-app', { auth_method: 'none' }],
    ['private_key_jwt with an RSA key (RS256)', 'rsa-app', { auth_method: 'private_key_jwt', private_key: pem(rsa.privateKey), key_id: 'rsa-1' }],
    ['private_key_jwt with a P-256 key (ES256)', 'ec-app', { auth_method: 'private_key_jwt', private_key: pem(ec.privateKey), key_id: 'ec-1' }],
  ])('%s', async (_, clientId, extra) => {
    const { arn, token } = await secretFor(clientId, extra);
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await oidc.refreshTokenState(token)).toBe('consumed');
  });
});

describe('no second exchange', () => {
  test('a crash right after the store, then the service retries: the stored value is used, no second exchange', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    const before = await exchanges('basic-app');
    let crashed = false;
    setFaultHook((point) => {
      if (point === 'PutSecretValue' && !crashed) {
        crashed = true;
        throw new SimulatedCrash(point);
      }
    });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(crashed).toBe(true);
    expect(await exchanges('basic-app')).toBe(before + 1);
    expect(await oidc.refreshTokenState((await f.value(arn)).refresh_token)).toBe('active');
  });

  test('a crash between the exchange and the store, then retries: no second exchange, OAUTH_EXCHANGE_INTERRUPTED', async () => {
    const restore = withEnv({ ROTATION_CALL_TIMEOUT_MS: '500' });
    try {
      const { arn, token } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
      const before = await exchanges('basic-app');
      let crashed = false;
      setFaultHook((point) => {
        if (point === 'exchanged' && !crashed) {
          crashed = true;
          throw new SimulatedCrash(point);
        }
      });
      const outcome = await f.rotate(arn, ID);
      expect(outcome).toMatchObject({ status: 'failed', step: 'createSecret', attempts: 3 });
      expect(f.lastLine(arn, 'createSecret')).toMatchObject({ errorCode: 'OAUTH_EXCHANGE_INTERRUPTED' });
      expect(await exchanges('basic-app')).toBe(before + 1);
      // nothing was stored and AWSCURRENT still holds the (now consumed) token: the operator must re-authorize
      expect((await f.value(arn)).refresh_token).toBe(token);
      expect(await oidc.refreshTokenState(token)).toBe('consumed');
    } finally {
      restore();
    }
  });

  test('testSecret and finishSecret prove the new access token without refreshing; duplicates change nothing', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    const token = await f.beginManualRotation(arn);
    const event = (Step: string) => ({ Step, SecretId: arn, ClientRequestToken: token });
    const before = await exchanges('basic-app');
    await f.invoke(ID, event('createSecret'));
    await f.invoke(ID, event('createSecret'));
    await f.invoke(ID, event('setSecret'));
    await f.invoke(ID, event('testSecret'));
    await f.invoke(ID, event('testSecret'));
    await f.invoke(ID, event('finishSecret'));
    await f.invoke(ID, event('finishSecret'));
    expect(await exchanges('basic-app')).toBe(before + 1);
    expect(await oidc.refreshTokenState((await f.value(arn)).refresh_token)).toBe('active');
  });

  test('concurrent duplicate createSecret invocations make one exchange', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    const token = await f.beginManualRotation(arn);
    const before = await exchanges('basic-app');
    const event = { Step: 'createSecret', SecretId: arn, ClientRequestToken: token };
    const results = await Promise.allSettled([f.invoke(ID, event), f.invoke(ID, event)]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    expect(await exchanges('basic-app')).toBe(before + 1);
  });

  test('the server itself catches a double exchange: replaying a consumed refresh token revokes the chain', async () => {
    const { arn, token } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded' });
    const rotated = (await f.value(arn)).refresh_token;
    // what a handler that refreshed twice would do: present the consumed token again
    const replay = await httpsRequest({
      url: oidc.tokenEndpoint,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'authorization': basicAuthorization('basic-app', 'CANARY-basic-secret-1') },
      body: formBody({ grant_type: 'refresh_token', refresh_token: token }),
      ca: oidc.caCertPem,
    });
    expect(replay.status).toBe(400);
    expect(await oidc.grantRevoked(rotated)).toBe(true);
    // the next rotation fails loudly with its own code, and stores nothing
    const outcome = await f.rotate(arn, ID);
    expect(outcome).toMatchObject({ status: 'failed', step: 'createSecret' });
    expect(f.lastLine(arn, 'createSecret')).toMatchObject({ errorCode: 'OAUTH_INVALID_GRANT' });
    expect((await f.value(arn)).refresh_token).toBe(rotated);
  });
});

test('RotateImmediately false: the service\'s testSecret on a copy of AWSCURRENT passes without an exchange or a probe of an old token', async () => {
  const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1', access_token: 'CANARY-expired-access-1', expires_at: 1 });
  const before = await exchanges('basic-app');
  await f.sm.client().send(new RotateSecretCommand({
    SecretId: arn, RotationLambdaARN: oauthFunctionArn(ID), RotationRules: { ScheduleExpression: 'rate(4 hours)' }, RotateImmediately: false,
  }));
  expect(await f.sm.rotationSettled(arn)).toMatchObject({ kind: 'validation', status: 'succeeded' });
  expect(await exchanges('basic-app')).toBe(before);
  // a configuration with nowhere to prove a token fails the same check
  const noProbe = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' }, false);
  await f.sm.client().send(new RotateSecretCommand({
    SecretId: noProbe.arn, RotationLambdaARN: oauthFunctionArn(ID), RotationRules: { ScheduleExpression: 'rate(4 hours)' }, RotateImmediately: false,
  }));
  expect(await f.sm.rotationSettled(noProbe.arn)).toMatchObject({ kind: 'validation', status: 'failed' });
  expect(f.lastLine(noProbe.arn)).toMatchObject({ errorCode: 'INVALID_CONFIGURATION' });
});

describe('refusals', () => {
  test('an unknown refresh token fails OAUTH_INVALID_GRANT; the mark is cleared because nothing was consumed', async () => {
    const arn = await f.createSecret({ client_id: 'basic-app', client_secret: 'CANARY-basic-secret-1', issuer: oidc.issuer, refresh_token: 'CANARY-not-a-token-0' });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'createSecret', attempts: 3 });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'OAUTH_INVALID_GRANT' });
    const tags = (await f.sm.client().send(new DescribeSecretCommand({ SecretId: arn }))).Tags ?? [];
    expect(tags.find((t) => t.Key === OAUTH_EXCHANGE_TAG)?.Value).toBe('cleared');
  });

  test('a wrong client secret fails LOGIN_FAILED at the token endpoint', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-wrong-secret-9' });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'createSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'LOGIN_FAILED' });
  });

  test('events for unknown tokens and for another client change nothing and make no exchange', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    const before = await exchanges('basic-app');
    await expect(f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: 'f0000000-0000-4000-8000-000000000000' }))
      .rejects.toMatchObject({ code: 'UNKNOWN_VERSION' });
    expect(await exchanges('basic-app')).toBe(before);
  });

  test('replayed events of a finished rotation succeed and change nothing; another secret\'s token is refused', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    const other = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded' });
    const finished = f.sm.store.describeSecret({ SecretId: arn }).VersionIdsToStages as Record<string, string[]>;
    const token = Object.keys(finished).find((v) => finished[v].includes('AWSCURRENT'))!;
    const before = { value: await f.value(arn), exchanges: await exchanges('basic-app') };
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token });
      await expect(f.invoke(ID, { Step, SecretId: other.arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'UNKNOWN_VERSION' });
    }
    expect({ value: await f.value(arn), exchanges: await exchanges('basic-app') }).toEqual(before);
  });

  test('a pending value naming another client is refused in every step that uses it (CONFUSED_DEPUTY)', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' });
    const token = await f.beginManualRotation(arn);
    await f.sm.client().send(new PutSecretValueCommand({
      SecretId: arn,
      ClientRequestToken: token,
      VersionStages: ['AWSPENDING'],
      SecretString: JSON.stringify({ client_id: 'post-app', issuer: oidc.issuer, refresh_token: 'CANARY-x-1', access_token: 'CANARY-y-2' }),
    }));
    for (const Step of ['setSecret', 'testSecret', 'finishSecret']) {
      await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
    }
  });

  test('a token endpoint whose certificate is not trusted fails TLS_FAILED; nothing is sent in plaintext', async () => {
    const restore = withEnv({ ROTATION_TLS_CA_BUNDLE: undefined });
    try {
      const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' }, false);
      expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'createSecret' });
      expect(f.lastLine(arn)).toMatchObject({ errorCode: 'TLS_FAILED' });
    } finally {
      restore();
    }
  });

  test('an http:// token endpoint is refused without the explicit loopback opt-in', async () => {
    const arn = await f.createSecret({ client_id: 'basic-app', client_secret: 'CANARY-basic-secret-1', token_endpoint: oidc.tokenEndpoint.replace('https:', 'http:'), refresh_token: 'CANARY-z-3' });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'createSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'INVALID_SECRET_VALUE', errorMessage: expect.stringContaining('must be an https URL') });
  });

  test('without a probe URL and without discovery, testSecret refuses to promote an unproven token (INVALID_CONFIGURATION)', async () => {
    const { arn } = await secretFor('basic-app', { client_secret: 'CANARY-basic-secret-1' }, false);
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'testSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'INVALID_CONFIGURATION' });
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no refresh token, access token, client secret, key or Authorization header in any log line or error', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(20);
  expect(f.leaks()).toEqual([]);
  expect(f.capture.text).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}|Bearer [\x21-\x7e]{8,}|client_assertion=/);
});
