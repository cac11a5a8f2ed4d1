import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ClientSecretAdapterContract } from '../../src/private/contract';
import { ClientSecretIdp, startClientSecretIdp } from '../support/oauth/client-secret-idp';
import { OidcServer, startOidcServer } from '../support/oauth/oidc-server';
import { OAuthRotationFixture } from '../support/oauth-rotation-fixture';
import { SimulatedCrash, setFaultHook, withEnv } from '../support/rotation-harness';

/**
 * The shipped oauth-client-secret bundle. The http adapter against the smallest test identity provider that keeps
 * several secrets per client with an expiry (oidc-provider keeps one); the RFC 7592 adapter against oidc-provider's
 * registration management, configured to issue a new secret on every update.
 */
const ID = 'oauth-client-secret' as const;
const ADMIN_TOKEN = 'CANARY-admin-token-7';
const OVERLAP_SECONDS = 3600;

let idp: ClientSecretIdp;
let oidc: OidcServer;
let f: OAuthRotationFixture;
let adminArn: string;
let basicAdminArn: string;

function httpAdapter(auth: 'bearer' | 'basic' = 'bearer'): string {
  const config: ClientSecretAdapterContract = {
    type: 'http',
    auth,
    add: { method: 'POST', url: `${idp.adminBaseUrl}/clients/{client_id}/secrets`, body: { client_secret: '{client_secret}' } },
    retire: { method: 'POST', url: `${idp.adminBaseUrl}/clients/{client_id}/secrets/retire`, body: { client_secret: '{client_secret}', not_after: '{not_after}' } },
  };
  return JSON.stringify(config);
}

beforeAll(async () => {
  idp = await startClientSecretIdp({
    clients: ['svc-a', 'svc-b', 'svc-c', 'svc-e', 'svc-f', 'svc-g', 'svc-h',
      ...['PutSecretValue', 'provider-secret-added', 'UpdateSecretVersionStage', 'provider-secret-retired'].map((p) => `crash-${p}`)]
      .map((id) => ({ client_id: id, secrets: [`CANARY-first-${id}`] })),
    adminToken: ADMIN_TOKEN,
    adminUser: 'admin:user',
    adminPassword: 'CANARY-admin pass%',
  });
  oidc = await startOidcServer({ clients: [], registration: true, registrationRotatesSecret: true, rotateRegistrationAccessToken: true });
  f = await OAuthRotationFixture.start([idp, oidc], {
    ROTATION_OAUTH_CLIENT_SECRET_ADAPTER: httpAdapter(),
    ROTATION_OAUTH_OVERLAP_SECONDS: String(OVERLAP_SECONDS),
  });
  f.secret(ADMIN_TOKEN);
  f.secret('CANARY-admin pass%');
  adminArn = await f.createSecret({ token: ADMIN_TOKEN });
  basicAdminArn = await f.createSecret({ username: 'admin:user', password: 'CANARY-admin pass%' });
});

afterAll(async () => {
  setFaultHook(undefined);
  await f?.stop();
  await idp?.close();
  await oidc?.close();
});

/** The provider's clock runs ahead only within a test: the handlers compute not_after from the real clock. */
function advance(ms: number): void {
  idp.advance(ms);
}

/** Sets the provider's clock back to the real one. */
function rewind(): void {
  idp.resetClock();
}

afterEach(() => {
  setFaultHook(undefined);
  rewind();
});

async function clientSecret(clientId: string, extra: Record<string, unknown> = {}): Promise<string> {
  return f.createSecret({
    client_id: clientId,
    client_secret: f.secret(`CANARY-first-${clientId}`),
    token_endpoint: idp.tokenEndpoint,
    auth_method: 'client_secret_basic',
    adminsecretarn: adminArn,
    ...extra,
  });
}

describe('http adapter (several secrets per client)', () => {
  test('the new secret works; the previous one is accepted during the overlap and refused after it', async () => {
    const arn = await clientSecret('svc-a');
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
    const current = (await f.value(arn)).client_secret;
    expect(current).not.toBe('CANARY-first-svc-a');
    expect(current).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(idp.secretWorks('svc-a', current)).toBe(true);
    expect(idp.secretWorks('svc-a', 'CANARY-first-svc-a')).toBe(true);
    advance((OVERLAP_SECONDS - 60) * 1000);
    expect(idp.secretWorks('svc-a', 'CANARY-first-svc-a')).toBe(true);
    advance(120 * 1000);
    expect(idp.secretWorks('svc-a', 'CANARY-first-svc-a')).toBe(false);
    expect(idp.secretWorks('svc-a', current)).toBe(true);
  });

  test('three rotations in a row: each previous secret is retired after its overlap; at most two are valid at once', async () => {
    const arn = await clientSecret('svc-b', { auth_method: 'client_secret_post' });
    const seen = ['CANARY-first-svc-b'];
    for (let i = 0; i < 3; i++) {
      expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
      seen.push((await f.value(arn)).client_secret);
      expect(idp.secretCount('svc-b')).toBeLessThanOrEqual(2);
      advance((OVERLAP_SECONDS + 1) * 1000);
      expect(idp.secretCount('svc-b')).toBe(1);
    }
    expect(seen.map((s) => idp.secretWorks('svc-b', s))).toEqual([false, false, false, true]);
  });

  test('an admin API with Basic authentication (form-urlencoded, then Base64)', async () => {
    const restore = withEnv({ ROTATION_OAUTH_CLIENT_SECRET_ADAPTER: httpAdapter('basic') });
    try {
      const arn = await clientSecret('svc-c', { adminsecretarn: basicAdminArn });
      expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(idp.secretWorks('svc-c', (await f.value(arn)).client_secret)).toBe(true);
    } finally {
      restore();
    }
  });

  test.each([
    // [fault point, whether finishSecret's retire ran (a crash after the promotion skips it: the retry finds the token current)]
    ['PutSecretValue', true],
    ['provider-secret-added', true],
    ['UpdateSecretVersionStage', false],
    ['provider-secret-retired', true],
  ])('a crash after %s, then the service retries: one new secret, the previous one valid for the overlap', async (point, retired) => {
    const clientId = `crash-${point}`;
    const arn = await clientSecret(clientId);
    let crashed = false;
    setFaultHook((p) => {
      if (p === point && !crashed) {
        crashed = true;
        throw new SimulatedCrash(p);
      }
    });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 2 });
    setFaultHook(undefined);
    expect(crashed).toBe(true);
    const current = (await f.value(arn)).client_secret;
    expect(idp.secretCount(clientId)).toBe(2);
    expect(idp.secretWorks(clientId, current)).toBe(true);
    expect(idp.secretWorks(clientId, `CANARY-first-${clientId}`)).toBe(true);
    advance((OVERLAP_SECONDS + 1) * 1000);
    expect(idp.secretWorks(clientId, `CANARY-first-${clientId}`)).toBe(!retired);
    // a skipped retire is made up by the next rotation's setSecret
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(idp.secretWorks(clientId, `CANARY-first-${clientId}`)).toBe(false);
  });

  test('a retire that fails leaves the new secret current, fails OAUTH_SECRET_NOT_RETIRED, and the next rotation retires it', async () => {
    const arn = await clientSecret('svc-e');
    idp.failNext('/admin/clients/svc-e/secrets/retire', 500);
    idp.failNext('/admin/clients/svc-e/secrets/retire', 500);
    idp.failNext('/admin/clients/svc-e/secrets/retire', 500);
    await f.rotate(arn, ID);
    expect(f.capture.stepLines.some((l) => l.secretArn === arn && l.errorCode === 'OAUTH_SECRET_NOT_RETIRED')).toBe(true);
    const second = (await f.value(arn)).client_secret;
    expect(second).not.toBe('CANARY-first-svc-e');
    advance((OVERLAP_SECONDS + 1) * 1000);
    expect(idp.secretWorks('svc-e', 'CANARY-first-svc-e')).toBe(true);
    // the next rotation's setSecret retires AWSPREVIOUS at the end of its overlap (counted from the last rotation)
    rewind();
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded' });
    const third = (await f.value(arn)).client_secret;
    expect(idp.secretWorks('svc-e', 'CANARY-first-svc-e')).toBe(true);
    advance((OVERLAP_SECONDS + 1) * 1000);
    expect([idp.secretWorks('svc-e', 'CANARY-first-svc-e'), idp.secretWorks('svc-e', second), idp.secretWorks('svc-e', third)])
      .toEqual([false, false, true]);
  });

  test('an admin credential the provider refuses fails at setSecret with OAUTH_PROVIDER_ERROR; nothing is promoted', async () => {
    const wrongAdmin = await f.createSecret({ token: 'CANARY-wrong-admin-1' });
    const arn = await clientSecret('svc-f', { adminsecretarn: wrongAdmin });
    expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(f.lastLine(arn)).toMatchObject({ errorCode: 'OAUTH_PROVIDER_ERROR' });
    expect((await f.value(arn)).client_secret).toBe('CANARY-first-svc-f');
    expect(idp.secretCount('svc-f')).toBe(1);
  });

  test('a pending value naming another admin secret or client is refused (CONFUSED_DEPUTY)', async () => {
    const arn = await clientSecret('svc-g');
    const token = await f.beginManualRotation(arn);
    await f.sm.client().send(new PutSecretValueCommand({
      SecretId: arn,
      ClientRequestToken: token,
      VersionStages: ['AWSPENDING'],
      SecretString: JSON.stringify({ ...(await f.value(arn)), client_secret: 'CANARY-pending-9', adminsecretarn: basicAdminArn }),
    }));
    for (const Step of ['setSecret', 'testSecret', 'finishSecret']) {
      await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
    }
    expect(idp.secretCount('svc-g')).toBe(1);
  });

  test('without an overlap setting the http adapter refuses to run (INVALID_CONFIGURATION)', async () => {
    const restore = withEnv({ ROTATION_OAUTH_OVERLAP_SECONDS: undefined });
    try {
      const arn = await clientSecret('svc-h');
      expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'setSecret' });
      expect(f.lastLine(arn)).toMatchObject({ errorCode: 'INVALID_CONFIGURATION' });
    } finally {
      restore();
    }
  });
});

describe('RFC 7592 adapter (oidc-provider registration management)', () => {
  const rfc7592 = () => withEnv({ ROTATION_OAUTH_CLIENT_SECRET_ADAPTER: JSON.stringify({ type: 'rfc7592' }), ROTATION_OAUTH_OVERLAP_SECONDS: '0' });

  async function registered(): Promise<{ arn: string; clientId: string; first: string }> {
    const client = await oidc.registerClient();
    f.secret(client.client_secret);
    f.secret(client.registration_access_token);
    const admin = await f.createSecret({
      registration_client_uri: client.registration_client_uri, registration_access_token: client.registration_access_token,
    });
    const arn = await f.createSecret({
      client_id: client.client_id, client_secret: client.client_secret, issuer: oidc.issuer, auth_method: 'client_secret_basic', adminsecretarn: admin,
    });
    return { arn, clientId: client.client_id, first: client.client_secret };
  }

  test('the provider issues the new secret; it works, the old one stops at once; a rotated registration token is kept', async () => {
    const restore = rfc7592();
    try {
      const { arn, clientId, first } = await registered();
      for (let i = 0; i < 2; i++) {
        expect(await f.rotate(arn, ID)).toMatchObject({ status: 'succeeded', attempts: 1 });
      }
      const current = await f.value(arn);
      expect(current.client_secret).not.toBe(first);
      expect(typeof current.registration_access_token).toBe('string');
      expect(await oidc.clientAuthWorks(clientId, current.client_secret)).toBe(true);
      expect(await oidc.clientAuthWorks(clientId, first)).toBe(false);
    } finally {
      restore();
    }
  });

  test('a crash between the provider issuing the secret and the store fails OAUTH_EXCHANGE_INTERRUPTED, no second update', async () => {
    const restore = rfc7592();
    const fast = withEnv({ ROTATION_CALL_TIMEOUT_MS: '500' });
    try {
      const { arn } = await registered();
      let crashed = false;
      setFaultHook((p) => {
        if (p === 'exchanged' && !crashed) {
          crashed = true;
          throw new SimulatedCrash(p);
        }
      });
      expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed', step: 'createSecret', attempts: 3 });
      expect(f.lastLine(arn, 'createSecret')).toMatchObject({ errorCode: 'OAUTH_EXCHANGE_INTERRUPTED' });
    } finally {
      fast();
      restore();
    }
  });

  test('an overlap with the RFC 7592 adapter is refused (INVALID_CONFIGURATION): the protocol keeps one secret', async () => {
    const restore = withEnv({ ROTATION_OAUTH_CLIENT_SECRET_ADAPTER: JSON.stringify({ type: 'rfc7592' }), ROTATION_OAUTH_OVERLAP_SECONDS: '60' });
    try {
      const { arn } = await registered();
      expect(await f.rotate(arn, ID)).toMatchObject({ status: 'failed' });
      expect(f.lastLine(arn)).toMatchObject({ errorCode: 'INVALID_CONFIGURATION' });
    } finally {
      restore();
    }
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no client secret, admin credential, token or Authorization header in any log line or error', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(20);
  expect(f.leaks()).toEqual([]);
  expect(f.capture.text).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}|Bearer [\x21-\x7e]{8,}/);
});
