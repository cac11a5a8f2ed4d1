import { KeyObject, createPrivateKey, randomBytes, sign } from 'crypto';
import type { OAuthCredential } from './oauth-secret';
import { OAUTH_AUTH_METHODS, OAUTH_SECRET_FIELDS } from '../../src/private/contract';
import { ERROR_CODES, InvalidSecretValueError, LoginFailedError, RotationError } from '../kit/errors';
import { ProviderError, basicAuthorization, checkEndpointUrl, formBody, httpRequest, jsonObject } from '../kit/http';
import type { SecretRole, StepContext } from '../kit/types';

/** What a token endpoint answered, checked: an access token of type Bearer, maybe a refresh token and a lifetime. */
export interface TokenResponse {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Seconds, when the provider said. */
  readonly expiresIn?: number;
}

/** An OAuth error response, kept as its `error` code only (the description may echo what was sent). */
export class OAuthErrorResponse extends Error {
  constructor(public readonly code: string) {
    super(code);
    this.name = 'OAuthErrorResponse';
  }
}

/** The endpoints OpenID Connect discovery gives (OIDC Discovery 1.0 section 3). */
export interface ProviderEndpoints {
  readonly tokenEndpoint: string;
  readonly userinfoEndpoint?: string;
}

/**
 * The token endpoint of a secret: its `token_endpoint`, or discovery at `<issuer>/.well-known/openid-configuration`,
 * whose `issuer` must be exactly the secret's (OIDC Discovery 4.3: a document for another issuer is refused).
 */
export async function providerEndpoints(cred: OAuthCredential, ctx: StepContext): Promise<ProviderEndpoints> {
  if (cred.tokenEndpoint !== undefined) {
    checkEndpointUrl(cred.tokenEndpoint, OAUTH_SECRET_FIELDS.TOKEN_ENDPOINT, ctx.env);
    return { tokenEndpoint: cred.tokenEndpoint };
  }
  const issuer = cred.issuer!;
  checkEndpointUrl(issuer, OAUTH_SECRET_FIELDS.ISSUER, ctx.env);
  const what = 'OpenID discovery';
  const response = await httpRequest({ method: 'GET', url: `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, what }, ctx);
  if (response.status !== 200) throw new ProviderError(`${what} answered HTTP ${response.status}`, undefined, response.status);
  const doc = jsonObject(response, what);
  if (doc.issuer !== issuer) throw new ProviderError(`${what} describes another issuer`, undefined, response.status);
  if (typeof doc.token_endpoint !== 'string') throw new ProviderError(`${what} names no token_endpoint`, undefined, response.status);
  checkEndpointUrl(doc.token_endpoint, 'the discovered token_endpoint', ctx.env);
  let userinfoEndpoint: string | undefined;
  if (typeof doc.userinfo_endpoint === 'string') {
    checkEndpointUrl(doc.userinfo_endpoint, 'the discovered userinfo_endpoint', ctx.env);
    userinfoEndpoint = doc.userinfo_endpoint;
  }
  return { tokenEndpoint: doc.token_endpoint, userinfoEndpoint };
}

/**
 * A token request (RFC 6749 section 3.2) with the client's authentication: `client_secret_basic` (id and secret each
 * form-urlencoded, then Base64: RFC 6749 section 2.3.1), `client_secret_post`, `private_key_jwt` (RFC 7523, a fresh
 * assertion per request) or `none` (public clients send only `client_id`).
 *
 * An `invalid_grant` answer throws OAUTH_INVALID_GRANT, `invalid_client` (or HTTP 401) throws LoginFailedError, anything
 * else unusable throws ProviderError; each keeps only the OAuth error code or the HTTP status.
 */
export async function requestToken(
  cred: OAuthCredential, tokenEndpoint: string, grant: Record<string, string | undefined>, ctx: StepContext, what: string,
): Promise<TokenResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const fields: Record<string, string | undefined> = { ...grant, scope: cred.scope, audience: cred.audience };
  switch (cred.authMethod) {
    case OAUTH_AUTH_METHODS.CLIENT_SECRET_BASIC:
      headers.authorization = basicAuthorization(cred.clientId, cred.clientSecret!);
      break;
    case OAUTH_AUTH_METHODS.CLIENT_SECRET_POST:
      fields.client_id = cred.clientId;
      fields.client_secret = cred.clientSecret;
      break;
    case OAUTH_AUTH_METHODS.PRIVATE_KEY_JWT:
      fields.client_id = cred.clientId;
      fields.client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
      fields.client_assertion = clientAssertion(cred, tokenEndpoint);
      break;
    default:
      fields.client_id = cred.clientId;
  }
  const response = await httpRequest({ method: 'POST', url: tokenEndpoint, headers, body: formBody(fields), what }, ctx);
  if (response.status === 200) return tokenResponse(jsonObject(response, what), what);
  let code: string | undefined;
  try {
    const error = jsonObject(response, what).error;
    if (typeof error === 'string' && /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(error)) code = error;
  } catch {
    // no JSON error body: the status says it all
  }
  if (code === 'invalid_grant') {
    throw new RotationError(ERROR_CODES.OAUTH_INVALID_GRANT, `${what} refused the grant (invalid_grant)`, new OAuthErrorResponse(code));
  }
  if (code === 'invalid_client' || response.status === 401) {
    throw new LoginFailedError(`${what} refused the client's authentication`, new OAuthErrorResponse(code ?? `HTTP_${response.status}`));
  }
  throw new ProviderError(`${what} answered HTTP ${response.status}${code ? ` (${code})` : ''}`,
    new OAuthErrorResponse(code ?? `HTTP_${response.status}`), response.status, code);
}

/** The checked fields of a successful token response (RFC 6749 section 5.1). */
function tokenResponse(body: Record<string, unknown>, what: string): TokenResponse {
  const token = (field: string, required: boolean): string | undefined => {
    const v = body[field];
    if (v === undefined && !required) return undefined;
    // stored in the secret and later sent in headers: printable ASCII only, bounded
    if (typeof v !== 'string' || !/^[\x21-\x7E]{1,8192}$/.test(v)) throw new ProviderError(`${what} answered an unusable ${field}`);
    return v;
  };
  const accessToken = token('access_token', true)!;
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new ProviderError(`${what} answered a token_type other than Bearer`);
  }
  const expires = body.expires_in;
  const expiresIn = typeof expires === 'number' && Number.isFinite(expires) && expires > 0 ? Math.floor(expires) : undefined;
  return { accessToken, refreshToken: token('refresh_token', false), expiresIn };
}

/** RFC 7523 client assertion: iss = sub = client id, aud = the token endpoint, one minute, a fresh jti. */
export function clientAssertion(cred: OAuthCredential, audience: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const key = privateKeyOf(cred.privateKey!, 'current');
  const alg = signingAlgorithm(key);
  const header = { alg, typ: 'JWT', ...(cred.keyId ? { kid: cred.keyId } : {}) };
  const payload = {
    iss: cred.clientId, sub: cred.clientId, aud: audience, jti: randomBytes(16).toString('hex'), iat: nowSeconds, exp: nowSeconds + 60,
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${signature.toString('base64url')}`;
}

function privateKeyOf(pem: string, role: SecretRole): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new InvalidSecretValueError(role, `${OAUTH_SECRET_FIELDS.PRIVATE_KEY} is not a PEM private key`);
  }
}

/** RS256 for RSA keys of 2048 bits or more, ES256 for P-256 keys; nothing else. */
function signingAlgorithm(key: KeyObject): 'RS256' | 'ES256' {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) return 'RS256';
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
  throw new InvalidSecretValueError('current', `${OAUTH_SECRET_FIELDS.PRIVATE_KEY} must be an RSA key of 2048 bits or more or an EC P-256 key`);
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
