// oidc-provider (ESM only) as a child process of the test that started it: ts-jest cannot import it in-process.
// Protocol over the IPC channel (see oidc-server.ts):
//   parent -> child  { type: 'start', config }             once, first
//   child  -> parent { type: 'ready', port }                HTTPS is listening and the provider is built
//   parent -> child  { type: 'call', id, op, args }         test-side operations on the provider's models
//   child  -> parent { type: 'result', id, ok, value | message }
// argv[2] is the parent's temp dir: it only marks this process so a test can find it in /proc.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import Provider from 'oidc-provider';

const BIND_ADDRESS = '127.0.0.1';
const ROTATE_SECRET_POLICY = 'rotate-client-secret';

let server;
let provider;
/** Every token endpoint request, in order; no credentials, only who asked for what and how it ended. */
const tokenRequests = [];
/** Refresh token value -> grant id, so a test can ask about a grant after its tokens were deleted. */
const grantOfRefreshToken = new Map();

function log(line) {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function shutdown(code) {
  // Open keep-alive sockets would keep close() waiting; the parent only waits for our exit.
  server?.closeAllConnections?.();
  server?.close();
  process.exit(code);
}

// The parent died or dropped us: nobody will ever stop this server otherwise.
process.on('disconnect', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

process.on('message', (message) => {
  if (message?.type === 'start' && !server) {
    start(message.config).catch((err) => {
      // error_description says which setting is wrong (oidc-provider puts no values in it).
      process.stderr.write(`start failed: ${err?.name}: ${err?.message} ${err?.error_description ?? ''}\n${err?.stack ?? ''}\n`);
      shutdown(1);
    });
  } else if (message?.type === 'call') {
    call(message.op, message.args ?? []).then(
      (value) => reply({ type: 'result', id: message.id, ok: true, value }),
      (err) => reply({ type: 'result', id: message.id, ok: false, message: String(err?.message ?? err) }),
    );
  }
});

function reply(message) {
  if (process.connected) process.send(message);
}

async function start(config) {
  const tls = { key: readFileSync(config.keyPath), cert: readFileSync(config.certPath) };
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  server = https.createServer(tls, (req, res) => handler(req, res));
  // The issuer names the port, so the port must be known before the provider is built.
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, BIND_ADDRESS, resolve);
  });
  const { port } = server.address();
  provider = new Provider(`https://localhost:${port}`, configuration(config));
  provider.on('server_error', (_ctx, err) => log(`server_error: ${err?.message}`));
  provider.on('refresh_token.saved', (token) => grantOfRefreshToken.set(token.jti, token.grantId));
  provider.use(recordTokenRequests);
  // oidc-provider validates static clients on first use; a broken spec should fail the start, not a later request.
  for (const spec of config.clients) await provider.Client.find(spec.client_id);
  handler = provider.callback();
  log(`listening on ${BIND_ADDRESS}:${port}`);
  reply({ type: 'ready', port });
}

function configuration(config) {
  // ES256 rather than RS256 for ID tokens: a P-256 key is made in a millisecond, an RSA key in up to a second.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'id-token-signing', use: 'sig', alg: 'ES256' };
  const registration = config.registration === true;
  return {
    clients: config.clients.map(clientMetadata),
    jwks: { keys: [signingKey] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    rotateRefreshToken: config.rotateRefreshToken !== false,
    scopes: ['openid', 'offline_access'],
    async findAccount(_ctx, sub) {
      return { accountId: sub, async claims() { return { sub }; } };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      registration: {
        enabled: registration,
        // Policies (how a PUT gets a new secret) only travel on adapter-backed initial access tokens.
        initialAccessToken: registration,
        policies: registration ? { [ROTATE_SECRET_POLICY]: rotateSecretOnUpdate } : undefined,
      },
      registrationManagement: {
        enabled: registration,
        rotateRegistrationAccessToken: config.rotateRegistrationAccessToken === true,
      },
    },
  };
}

/**
 * oidc-provider keeps a client's secret across RFC 7592 updates; this policy, carried from the initial access token
 * to the registration access token, replaces it on every update, which is what the client-secret rotator expects.
 */
async function rotateSecretOnUpdate(ctx, properties) {
  if (ctx.method !== 'PUT') return;
  properties.client_secret = randomBytes(32).toString('base64url');
  properties.client_secret_expires_at = 0;
}

function clientMetadata(spec) {
  const method = spec.token_endpoint_auth_method ?? 'client_secret_basic';
  const grantTypes = spec.grant_types ?? (method === 'none'
    ? ['refresh_token', 'authorization_code']
    : ['refresh_token', 'authorization_code', 'client_credentials']);
  const usesCode = grantTypes.includes('authorization_code');
  return {
    client_id: spec.client_id,
    ...(spec.client_secret !== undefined ? { client_secret: spec.client_secret } : {}),
    token_endpoint_auth_method: method,
    grant_types: grantTypes,
    response_types: usesCode ? ['code'] : [],
    redirect_uris: usesCode ? ['https://client.invalid/callback'] : [],
    ...(spec.jwks ? { jwks: spec.jwks } : {}),
    ...(spec.scope ? { scope: spec.scope } : {}),
  };
}

async function recordTokenRequests(ctx, next) {
  await next();
  if (ctx.method !== 'POST' || ctx.path !== '/token') return;
  const oidc = ctx.oidc;
  const clientId = oidc?.client?.clientId ?? oidc?.params?.client_id ?? basicClientId(ctx.headers.authorization);
  const failed = ctx.status >= 400;
  const record = {
    grantType: oidc?.params?.grant_type ?? '',
    outcome: failed ? 'error' : 'success',
    ...(clientId !== undefined ? { clientId } : {}),
    ...(failed ? { error: typeof ctx.body?.error === 'string' ? ctx.body.error : `http_${ctx.status}` } : {}),
  };
  tokenRequests.push(record);
  log(`token ${record.grantType || '-'} client=${record.clientId ?? '-'} ${record.outcome}${failed ? ` ${record.error}` : ''}`);
}

/** The client id of a Basic header (never the secret), for requests whose authentication failed. */
function basicClientId(header) {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

const operations = {
  async mintRefreshToken(clientId, options = {}) {
    const client = await provider.Client.find(clientId);
    if (!client) throw new Error(`unknown client ${clientId}`);
    const accountId = options.accountId ?? 'test-account';
    const scope = options.scope ?? 'openid offline_access';
    // What an authorization-code grant leaves behind: a grant holding the consented scopes and a refresh token on it.
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId,
      client,
      grantId,
      scope,
      gty: 'authorization_code',
      authTime: Math.floor(Date.now() / 1000),
      expiresWithSession: false,
    });
    const value = await token.save();
    grantOfRefreshToken.set(value, grantId);
    return value;
  },
  async tokenRequests() {
    return tokenRequests;
  },
  async refreshTokenState(value) {
    const token = await provider.RefreshToken.find(value, { ignoreExpiration: true });
    if (!token) return 'unknown';
    return token.consumed ? 'consumed' : 'active';
  },
  async grantRevoked(value) {
    const grantId = grantOfRefreshToken.get(value);
    if (!grantId) throw new Error('this server never issued that refresh token');
    return !(await provider.Grant.find(grantId));
  },
  async createInitialAccessToken(rotatesSecret) {
    const token = new provider.InitialAccessToken(rotatesSecret ? { policies: [ROTATE_SECRET_POLICY] } : {});
    return token.save();
  },
  async clientAuthMethod(clientId) {
    const client = await provider.Client.find(clientId);
    return client?.clientAuthMethod;
  },
};

async function call(op, args) {
  if (!provider) throw new Error('the provider has not started');
  if (!Object.hasOwn(operations, op)) throw new Error(`unknown operation ${op}`);
  return operations[op](...args);
}
