import type { OAuthCredential } from './oauth-secret';
import { ClientSecretAdapterContract, HttpAdapterRequestContract, OAUTH_ENV } from '../../src/private/contract';
import { ConfusedDeputyError, ERROR_CODES, RotationError } from '../kit/errors';
import { ProviderError, basicAuthorization, checkEndpointUrl, httpRequest, jsonObject } from '../kit/http';
import { hasControlCharacter } from '../kit/secret-fields';
import type { StepContext } from '../kit/types';

/**
 * How the client-secret rotator reaches an identity provider's client administration. Write another by implementing
 * this interface: `client` adapters register a secret the handler generated (`addSecret`, idempotent) and, when the
 * provider keeps several secrets valid, retire one at a given time (`retireSecret`, idempotent); `provider` adapters have
 * the provider issue the secret (`issueSecret`: what is safe to repeat first, then the one call that is not).
 */
export interface ClientSecretAdapter {
  readonly secretSource: 'client' | 'provider';
  /** Whether the provider keeps the previous secret valid beside the new one (an overlap is possible). */
  readonly concurrentSecrets: boolean;
  /** The fields the admin secret must hold. */
  readonly adminFields: readonly string[];
  addSecret?(req: SecretRequest): Promise<void>;
  retireSecret?(req: SecretRequest & { readonly notAfter: Date }): Promise<void>;
  issueSecret?(req: IssueRequest): Promise<() => Promise<IssuedSecret>>;
}

/** The admin secret's fields, read from its AWSCURRENT JSON. */
export type AdminCredential = Readonly<Record<string, string>>;

export interface SecretRequest {
  readonly clientId: string;
  readonly secret: string;
  readonly admin: AdminCredential;
  readonly ctx: StepContext;
}

export interface IssueRequest {
  readonly current: OAuthCredential;
  readonly admin: AdminCredential;
  readonly ctx: StepContext;
}

export interface IssuedSecret {
  readonly clientSecret: string;
  /** A registration access token the provider rotated with the secret; kept with the client secret from then on. */
  readonly registrationAccessToken?: string;
}

/** The adapter of ROTATION_OAUTH_CLIENT_SECRET_ADAPTER; unset means RFC 7592. */
export function adapterFromEnv(env: NodeJS.ProcessEnv): ClientSecretAdapter {
  const raw = env[OAUTH_ENV.CLIENT_SECRET_ADAPTER];
  if (raw === undefined || raw === '') return rfc7592Adapter();
  let config: ClientSecretAdapterContract;
  try {
    config = JSON.parse(raw);
  } catch {
    throw configError('is not JSON');
  }
  if (config?.type === 'rfc7592') return rfc7592Adapter();
  if (config?.type === 'http') {
    if (config.auth !== 'bearer' && config.auth !== 'basic') throw configError('auth must be bearer or basic');
    checkTemplate(config.add, 'add');
    checkTemplate(config.retire, 'retire');
    return httpAdapter(config);
  }
  throw configError('type must be rfc7592 or http');
}

function configError(problem: string): RotationError {
  return new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${OAUTH_ENV.CLIENT_SECRET_ADAPTER} ${problem}`);
}

const PLACEHOLDER = /\{(client_id|client_secret|not_after|not_after_epoch)\}/g;
const ANY_PLACEHOLDER = /\{[^{}]*\}/g;

function checkTemplate(request: HttpAdapterRequestContract | undefined, name: string): void {
  if (typeof request !== 'object' || request === null) throw configError(`${name} must be an object`);
  if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method)) throw configError(`${name}.method must be POST, PUT, PATCH or DELETE`);
  if (typeof request.url !== 'string') throw configError(`${name}.url must be a string`);
  // a secret in a URL ends up in access logs and proxies
  if (request.url.includes('{client_secret}')) throw configError(`${name}.url must not contain {client_secret}`);
  // the values come from the rotated secret: a placeholder in the authority would let its writer choose where the admin
  // credential goes
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(request.url)?.[1];
  if (authority === undefined || authority.includes('{')) throw configError(`${name}.url must name its host without placeholders`);
  const unknown = (text: string) => (text.match(ANY_PLACEHOLDER) ?? []).some((p) => !p.match(PLACEHOLDER));
  if (unknown(request.url)) throw configError(`${name}.url has an unknown placeholder`);
  if (request.body !== undefined) {
    if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) throw configError(`${name}.body must be an object`);
    for (const v of Object.values(request.body)) {
      if (typeof v !== 'string' || unknown(v)) throw configError(`${name}.body values must be strings with known placeholders`);
    }
  }
}

/**
 * A provider API that keeps several secrets per client: `add` registers the handler's secret beside the current one,
 * `retire` makes one stop working at `not_after`. 2xx is success; a retire answered 404 finds the secret already gone.
 */
function httpAdapter(config: Extract<ClientSecretAdapterContract, { type: 'http' }>): ClientSecretAdapter {
  const send = async (request: HttpAdapterRequestContract, what: string, values: Record<string, string>, req: SecretRequest, gone404: boolean) => {
    const fill = (text: string, encode: (v: string) => string) => text.replace(PLACEHOLDER, (_, name: string) => encode(values[name]));
    const url = fill(request.url, encodeURIComponent);
    checkEndpointUrl(url, `the ${what} URL`, req.ctx.env);
    const headers: Record<string, string> = {
      authorization: config.auth === 'bearer'
        ? `Bearer ${req.admin.token}`
        : basicAuthorization(req.admin.username, req.admin.password),
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(Object.fromEntries(Object.entries(request.body).map(([k, v]) => [k, fill(v, (x) => x)])));
    }
    const response = await httpRequest({ method: request.method, url, headers, body, what: `the provider's ${what} call` }, req.ctx);
    if (response.status >= 200 && response.status < 300) return;
    if (gone404 && response.status === 404) return;
    if (response.status === 401 || response.status === 403) {
      throw new ProviderError(`the provider's ${what} call refused the admin credential (HTTP ${response.status})`, undefined, response.status);
    }
    throw new ProviderError(`the provider's ${what} call answered HTTP ${response.status}`, undefined, response.status);
  };
  return {
    secretSource: 'client',
    concurrentSecrets: true,
    adminFields: config.auth === 'bearer' ? ['token'] : ['username', 'password'],
    addSecret: (req) => send(config.add, 'add-secret', { client_id: req.clientId, client_secret: req.secret, not_after: '', not_after_epoch: '' }, req, false),
    retireSecret: (req) => send(config.retire, 'retire-secret', {
      client_id: req.clientId,
      client_secret: req.secret,
      not_after: req.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      not_after_epoch: String(Math.floor(req.notAfter.getTime() / 1000)),
    }, req, true),
  };
}

/** Members of a client's metadata a client must not send back in an update (RFC 7592 section 2.2). */
const READ_ONLY_METADATA = ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at', 'client_secret'];

/**
 * OAuth 2.0 Dynamic Client Registration Management (RFC 7592): the admin secret holds the client's
 * `registration_client_uri` and `registration_access_token`. The handler reads the client's metadata (GET) and sends it
 * back unchanged (PUT); a provider that rotates secrets on update answers a new `client_secret` (RFC 7592 section 2.2
 * allows it) and the old one stops working at once: the protocol knows one secret per client, so there is no overlap.
 */
function rfc7592Adapter(): ClientSecretAdapter {
  return {
    secretSource: 'provider',
    concurrentSecrets: false,
    adminFields: ['registration_client_uri', 'registration_access_token'],
    async issueSecret({ current, admin, ctx }) {
      const uri = admin.registration_client_uri;
      checkEndpointUrl(uri, 'registration_client_uri', ctx.env);
      // a rotated token travels with the client secret: the newest one is the value's own
      const token = current.registrationAccessToken ?? admin.registration_access_token;
      const headers = { authorization: `Bearer ${token}` };
      const read = await httpRequest({ method: 'GET', url: uri, headers, what: 'the client read (RFC 7592)' }, ctx);
      if (read.status !== 200) {
        throw new ProviderError(`the client read (RFC 7592) answered HTTP ${read.status}`, undefined, read.status);
      }
      const metadata = jsonObject(read, 'the client read (RFC 7592)');
      if (metadata.client_id !== current.clientId) throw new ConfusedDeputyError('the registration_client_uri names another client');
      const update = Object.fromEntries(Object.entries(metadata).filter(([k]) => !READ_ONLY_METADATA.includes(k)));
      return async () => {
        const what = 'the client update (RFC 7592)';
        const written = await httpRequest({
          method: 'PUT', url: uri, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(update), what,
        }, ctx);
        if (written.status !== 200) throw new ProviderError(`${what} answered HTTP ${written.status}`, undefined, written.status);
        const answer = jsonObject(written, what);
        const secret = answer.client_secret;
        if (typeof secret !== 'string' || !/^[\x21-\x7E]{1,4096}$/.test(secret)) throw new ProviderError(`${what} answered no usable client_secret`);
        if (secret === current.clientSecret) {
          throw new ProviderError(`${what} kept the current client_secret: the provider does not issue a new secret on update`);
        }
        const rotated = answer.registration_access_token;
        return {
          clientSecret: secret,
          registrationAccessToken: typeof rotated === 'string' && rotated !== token && /^[\x21-\x7E]{1,4096}$/.test(rotated) ? rotated : undefined,
        };
      };
    },
  };
}

/** The admin secret's fields the adapter needs, each a non-empty string without control characters. */
export function adminCredential(value: string | undefined, adapter: ClientSecretAdapter): AdminCredential {
  const refuse = (problem: string) => new RotationError(ERROR_CODES.MASTER_NOT_RESOLVED, `The admin secret ${problem}`);
  if (value === undefined) throw refuse('has no value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw refuse('is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refuse('is not a JSON object');
  const out: Record<string, string> = {};
  for (const field of adapter.adminFields) {
    const v = (parsed as Record<string, unknown>)[field];
    if (typeof v !== 'string' || v.length === 0 || hasControlCharacter(v)) throw refuse(`must hold ${field} as a non-empty string`);
    out[field] = v;
  }
  return out;
}
