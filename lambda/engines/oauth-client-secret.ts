import { adapterFromEnv, adminCredential, AdminCredential, ClientSecretAdapter } from './client-secret-adapters';
import { OAuthCredential, parseOAuthSecret, sameClient } from './oauth-secret';
import { providerEndpoints, requestToken } from './oauth-token-client';
import { OAUTH_AUTH_METHODS, OAUTH_ENV, OAUTH_SECRET_FIELDS, PasswordPolicyContract } from '../../src/private/contract';
import { ConfusedDeputyError, ERROR_CODES, InvalidSecretValueError, LoginFailedError, RotationError } from '../kit/errors';
import { faultPoint } from '../kit/fault-points';
import { withChangedMembers } from '../kit/secret-json';
import { AWSPREVIOUS } from '../kit/secrets-client';
import type { CredentialEngine, StepContext } from '../kit/types';

const F = OAUTH_SECRET_FIELDS;

/** Client secrets the handler generates: 64 letters and digits (nothing a form encoder or a shell could mangle). */
export const CLIENT_SECRET_POLICY: PasswordPolicyContract = {
  passwordLength: 64,
  excludeCharacters: '',
  excludePunctuation: true,
  excludeUppercase: false,
  excludeLowercase: false,
  excludeNumbers: false,
  includeSpace: false,
  requireEachIncludedType: true,
};

/** The longest overlap accepted (a year); the constructs refuse one as long as the rotation period. */
const MAX_OVERLAP_SECONDS = 366 * 24 * 3600;

/** ROTATION_OAUTH_OVERLAP_SECONDS; required when the provider keeps several secrets, 0 (and only 0) otherwise. */
export function overlapSeconds(env: NodeJS.ProcessEnv, adapter: ClientSecretAdapter): number {
  const raw = env[OAUTH_ENV.OVERLAP_SECONDS];
  if (raw === undefined || raw === '') {
    if (!adapter.concurrentSecrets) return 0;
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${OAUTH_ENV.OVERLAP_SECONDS} is required by this client-secret adapter`);
  }
  const seconds = /^[0-9]{1,8}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(seconds) || seconds > MAX_OVERLAP_SECONDS) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${OAUTH_ENV.OVERLAP_SECONDS} must be a decimal integer from 0 to ${MAX_OVERLAP_SECONDS}`);
  }
  if (seconds > 0 && !adapter.concurrentSecrets) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${OAUTH_ENV.OVERLAP_SECONDS} must be 0: this adapter's provider keeps one secret per client`);
  }
  return seconds;
}

/**
 * OAuth 2.0 client secrets. With a provider that keeps several secrets (a `client` adapter), createSecret generates the
 * new secret, setSecret adds it at the provider while the current one stays valid, testSecret proves it with a real
 * client-credentials token request, and finishSecret, after the promotion, retires the previous secret at
 * `now + overlap`. A retire that failed is retried by the next rotation's setSecret for AWSPREVIOUS. With a provider
 * that issues the secret (RFC 7592), createSecret has it issued once (marked like a refresh exchange) and stores it.
 * No step ever retires the secret it authenticates with.
 */
export const oauthClientSecret: CredentialEngine<OAuthCredential> = {
  name: 'oauth-client-secret',
  defaultPasswordPolicy: CLIENT_SECRET_POLICY,
  parse(value, role) {
    const cred = parseOAuthSecret(value, role);
    if (cred.authMethod !== OAUTH_AUTH_METHODS.CLIENT_SECRET_BASIC && cred.authMethod !== OAUTH_AUTH_METHODS.CLIENT_SECRET_POST) {
      throw new InvalidSecretValueError(role, `${F.AUTH_METHOD} must be ${OAUTH_AUTH_METHODS.CLIENT_SECRET_BASIC} or ${OAUTH_AUTH_METHODS.CLIENT_SECRET_POST}`);
    }
    if (cred.adminSecretArn === undefined) throw new InvalidSecretValueError(role, `${F.ADMIN_SECRET_ARN} must be a non-empty string`);
    return cred;
  },
  nextValue(current, password) {
    return withChangedMembers(current.source, { [F.CLIENT_SECRET]: password });
  },
  usesExchange: (ctx) => adapterFromEnv(ctx.env).secretSource === 'provider',
  exchangePending: (current, ctx) => issueWithProvider(current, ctx),
  checkTarget(current, pending) {
    const problem = sameClient(current, pending);
    if (problem) throw new ConfusedDeputyError(problem);
  },
  async setPending({ current, pending, ctx }) {
    const adapter = adapterFromEnv(ctx.env);
    overlapSeconds(ctx.env, adapter);
    if (adapter.secretSource === 'provider') return 'nothing-to-set';
    if (await authenticates(pending, ctx)) return 'already-set';
    const admin = await readAdmin(current, adapter, ctx);
    await retireLeftover(current, pending, adapter, admin, ctx);
    await adapter.addSecret!({ clientId: pending.clientId, secret: pending.clientSecret!, admin, ctx });
    await faultPoint('provider-secret-added');
    return 'secret-added';
  },
  async testPending(pending, ctx) {
    if (!await authenticates(pending, ctx)) {
      throw new RotationError(ERROR_CODES.PENDING_TEST_FAILED, 'The pending client secret does not obtain a token');
    }
  },
  async afterPromote(previous, promoted, ctx) {
    const adapter = adapterFromEnv(ctx.env);
    if (!adapter.concurrentSecrets || previous.clientSecret === promoted.clientSecret) return;
    const notAfter = new Date(Date.now() + overlapSeconds(ctx.env, adapter) * 1000);
    await retire(previous, adapter, ctx, notAfter);
  },
};

/** The provider issues the secret: what the kit runs as a marked exchange (see `lambda/kit/exchange.ts`). */
async function issueWithProvider(current: OAuthCredential, ctx: StepContext): Promise<() => Promise<string>> {
  const adapter = adapterFromEnv(ctx.env);
  const admin = await readAdmin(current, adapter, ctx);
  const issue = await adapter.issueSecret!({ current, admin, ctx });
  return async () => {
    const issued = await issue();
    return withChangedMembers(current.source, {
      [F.CLIENT_SECRET]: issued.clientSecret,
      ...(issued.registrationAccessToken ? { [F.REGISTRATION_ACCESS_TOKEN]: issued.registrationAccessToken } : {}),
    });
  };
}

/** A real client-credentials token request with the credential: true when it obtains a token, false when refused. */
async function authenticates(cred: OAuthCredential, ctx: StepContext): Promise<boolean> {
  const { tokenEndpoint } = await providerEndpoints(cred, ctx);
  try {
    await requestToken(cred, tokenEndpoint, { grant_type: 'client_credentials' }, ctx, 'the client-credentials request');
    return true;
  } catch (err) {
    if (err instanceof LoginFailedError) return false;
    throw err;
  }
}

async function readAdmin(current: OAuthCredential, adapter: ClientSecretAdapter, ctx: StepContext): Promise<AdminCredential> {
  const arn = current.adminSecretArn!;
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.{1,512}$/.test(arn)) {
    throw new InvalidSecretValueError('current', `${F.ADMIN_SECRET_ARN} must be a Secrets Manager secret ARN`);
  }
  return adminCredential(await ctx.secrets.getValue(arn, { stage: 'AWSCURRENT' }), adapter);
}

/**
 * The secret before the current one (AWSPREVIOUS) is retired if a finishSecret could not: at the end of its overlap,
 * counted from the last finished rotation, or now if that has passed. Never current's or pending's own secret.
 */
async function retireLeftover(
  current: OAuthCredential, pending: OAuthCredential, adapter: ClientSecretAdapter, admin: AdminCredential, ctx: StepContext,
): Promise<void> {
  if (!adapter.concurrentSecrets) return;
  const value = await ctx.secrets.getValue(ctx.secretArn, { stage: AWSPREVIOUS });
  if (value === undefined) return;
  const previous = parseOAuthSecret(value, 'previous');
  if (previous.clientId !== current.clientId || !previous.clientSecret) return;
  if (previous.clientSecret === current.clientSecret || previous.clientSecret === pending.clientSecret) return;
  const meta = await ctx.secrets.describe(ctx.secretArn);
  const overlapEnd = (meta.lastRotatedDate?.getTime() ?? 0) + overlapSeconds(ctx.env, adapter) * 1000;
  await retire(previous, adapter, ctx, new Date(Math.max(Date.now(), overlapEnd)), admin);
}

async function retire(
  secret: OAuthCredential, adapter: ClientSecretAdapter, ctx: StepContext, notAfter: Date, admin?: AdminCredential,
): Promise<void> {
  try {
    const credential = admin ?? await readAdmin(secret, adapter, ctx);
    await adapter.retireSecret!({ clientId: secret.clientId, secret: secret.clientSecret!, admin: credential, notAfter, ctx });
  } catch (err) {
    if (err instanceof RotationError && err.code === ERROR_CODES.DEADLINE_EXCEEDED) throw err;
    throw new RotationError(ERROR_CODES.OAUTH_SECRET_NOT_RETIRED, 'The previous client secret could not be retired at the provider', err);
  }
  await faultPoint('provider-secret-retired');
}

