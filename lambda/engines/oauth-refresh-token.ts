import { OAuthCredential, parseOAuthSecret, sameClient } from './oauth-secret';
import { providerEndpoints, requestToken } from './oauth-token-client';
import { OAUTH_ENV, OAUTH_SECRET_FIELDS, defaultPasswordPolicy, DEFAULT_EXCLUDE_CHARACTERS } from '../../src/private/contract';
import { ConfusedDeputyError, ERROR_CODES, InvalidSecretValueError, LoginFailedError, RotationError } from '../kit/errors';
import { ProviderError, checkEndpointUrl, httpRequest } from '../kit/http';
import { withChangedMembers } from '../kit/secret-json';
import type { CredentialEngine, StepContext } from '../kit/types';

const F = OAUTH_SECRET_FIELDS;

/**
 * OAuth 2.0 refresh tokens (RFC 6749 section 6). createSecret makes the one refresh exchange of the rotation and the kit
 * stores its result at once (an exchange guarded by a mark: `lambda/kit/exchange.ts`); setSecret has nothing to do;
 * testSecret and finishSecret prove the new access token at a protected URL without refreshing again. AWSPREVIOUS is
 * never read: its refresh token is consumed (or revoked) and must not be presented.
 */
export const oauthRefreshToken: CredentialEngine<OAuthCredential> = {
  name: 'oauth-refresh-token',
  // never used: the pending value comes from the provider, not from GetRandomPassword
  defaultPasswordPolicy: defaultPasswordPolicy(DEFAULT_EXCLUDE_CHARACTERS.common),
  parse(value, role) {
    const cred = parseOAuthSecret(value, role);
    if (cred.refreshToken === undefined) throw new InvalidSecretValueError(role, `${F.REFRESH_TOKEN} must be a non-empty string`);
    return cred;
  },
  async exchangePending(current, ctx) {
    // discovery is safe to repeat, so it runs before the exchange is marked
    const { tokenEndpoint } = await providerEndpoints(current, ctx);
    return async () => {
      const tokens = await requestToken(current, tokenEndpoint, {
        grant_type: 'refresh_token',
        refresh_token: current.refreshToken,
      }, ctx, 'the refresh exchange').catch((err) => {
        if (err instanceof LoginFailedError) throw new LoginFailedError('The token endpoint refused the client\'s authentication', err.cause);
        throw err;
      });
      return withChangedMembers(current.source, {
        // a provider that does not rotate refresh tokens answers none: the current one stays valid (RFC 6749 section 6)
        [F.REFRESH_TOKEN]: tokens.refreshToken ?? current.refreshToken,
        [F.ACCESS_TOKEN]: tokens.accessToken,
        ...(tokens.expiresIn !== undefined ? { [F.EXPIRES_AT]: Math.floor(Date.now() / 1000) + tokens.expiresIn } : {}),
      });
    };
  },
  checkTarget(current, pending) {
    const problem = sameClient(current, pending);
    if (problem) throw new ConfusedDeputyError(problem);
  },
  async setPending() {
    return 'nothing-to-set';
  },
  async testPending(pending, ctx, current) {
    if (current && current.refreshToken === pending.refreshToken && current.accessToken === pending.accessToken) {
      // a copy of AWSCURRENT: the service's check of a rotation configured with RotateImmediately false. No exchange made
      // it (every exchange answers a new access token) and its access token may long have expired, so the check is the
      // configuration's: the endpoints resolve and there is a URL to prove a new token at. Promoting it changes nothing.
      await probeUrl(pending, ctx);
      // without a probe URL, finding the userinfo endpoint already resolved the provider's endpoints
      if (ctx.env[OAUTH_ENV.PROBE_URL]) await providerEndpoints(pending, ctx);
      return;
    }
    await probeAccessToken(pending, ctx);
  },
};

/**
 * Proves an access token at a protected resource: ROTATION_OAUTH_PROBE_URL, else the discovered userinfo endpoint. Any
 * 2xx proves it; 401/403 fail PENDING_TEST_FAILED; no URL to probe at all is a configuration error, since a rotation
 * that cannot prove its result must not promote it.
 */
export async function probeAccessToken(pending: OAuthCredential, ctx: StepContext): Promise<void> {
  if (!pending.accessToken) {
    throw new RotationError(ERROR_CODES.PENDING_TEST_FAILED, `The pending value holds no ${F.ACCESS_TOKEN}`);
  }
  const url = await probeUrl(pending, ctx);
  const what = 'the access-token probe';
  const response = await httpRequest({ method: 'GET', url, headers: { authorization: `Bearer ${pending.accessToken}` }, what }, ctx);
  if (response.status >= 200 && response.status < 300) return;
  if (response.status === 401 || response.status === 403) {
    throw new RotationError(ERROR_CODES.PENDING_TEST_FAILED, `The new access token was refused (HTTP ${response.status})`);
  }
  throw new ProviderError(`${what} answered HTTP ${response.status}`, undefined, response.status);
}

/** Where an access token is proved: ROTATION_OAUTH_PROBE_URL, else the discovered userinfo endpoint (a discovery then). */
async function probeUrl(cred: OAuthCredential, ctx: StepContext): Promise<string> {
  const configured = ctx.env[OAUTH_ENV.PROBE_URL];
  if (configured) {
    checkEndpointUrl(configured, OAUTH_ENV.PROBE_URL, ctx.env);
    return configured;
  }
  const endpoints = await providerEndpoints(cred, ctx);
  if (endpoints.userinfoEndpoint === undefined) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION,
      `Nothing to prove the new access token at: set ${OAUTH_ENV.PROBE_URL}, or name an issuer whose discovery has a userinfo_endpoint`);
  }
  return endpoints.userinfoEndpoint;
}
