import * as http from 'http';
import * as https from 'https';
import { caBundle } from './ca-bundle';
import { ERROR_CODES, RotationError } from './errors';
import { TLS_ERROR_CODE } from './tls-errors';
import type { StepContext } from './types';
import { OAUTH_ENV } from '../../src/private/contract';

/** The largest response body read; token and discovery answers are a few KB. */
export const MAX_RESPONSE_BYTES = 256 * 1024;

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** What the call is, for messages (`the token endpoint`): never a URL with a query or a value. */
  readonly what: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** A failed call to an identity provider: the message names the call and the HTTP status or error code, nothing else. */
export class ProviderError extends RotationError {
  constructor(message: string, cause?: unknown, public readonly status?: number, public readonly oauthError?: string) {
    super(ERROR_CODES.OAUTH_PROVIDER_ERROR, message, cause);
    this.name = 'ProviderError';
  }
}

/**
 * Checks a URL the handler is about to send a credential to: https only; `http://` only to a loopback address and only
 * when ROTATION_OAUTH_ALLOW_LOOPBACK_HTTP is `true` (tests). No credentials or fragment in it.
 */
export function checkEndpointUrl(value: string, what: string, env: NodeJS.ProcessEnv): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RotationError(ERROR_CODES.INVALID_SECRET_VALUE, `${what} is not an absolute URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const httpAllowed = env[OAUTH_ENV.ALLOW_LOOPBACK_HTTP] === 'true' && loopback;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpAllowed)) {
    throw new RotationError(ERROR_CODES.INVALID_SECRET_VALUE, `${what} must be an https URL`);
  }
  if (url.username || url.password || url.hash) {
    throw new RotationError(ERROR_CODES.INVALID_SECRET_VALUE, `${what} must not contain credentials or a fragment`);
  }
  return url;
}

/**
 * One HTTP exchange, bounded by the step's deadline. Certificates and host names are verified (with the function's CA
 * bundle when set); redirects are not followed (a credential must reach only the URL it was meant for); the body is
 * capped. Failures carry the call's name and a redacted cause, never the URL's query, a header or the body.
 */
export async function httpRequest(request: HttpRequest, ctx: StepContext): Promise<HttpResponse> {
  const url = checkEndpointUrl(request.url, request.what, ctx.env);
  const ca = caBundle(ctx.env);
  return ctx.deadline.run(request.what, (signal) => new Promise<HttpResponse>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const req = transport.request(url, {
      method: request.method,
      headers: {
        'accept': 'application/json',
        'user-agent': 'cdk-secrets-platform-rotation',
        ...request.headers,
        ...(body ? { 'content-length': String(body.length) } : {}),
      },
      signal,
      ...(url.protocol === 'https:' ? { ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' as const } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          res.destroy();
          reject(new ProviderError(`${request.what} answered more than ${MAX_RESPONSE_BYTES} bytes`, undefined, res.statusCode));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => reject(transportError(request.what, err)));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        contentType: String(res.headers['content-type'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      }));
    });
    req.on('error', (err) => reject(transportError(request.what, err)));
    req.end(body);
  }));
}

/** TLS verification failures get their own code: no plaintext retry ever follows. */
function transportError(what: string, err: unknown): RotationError {
  if (err instanceof RotationError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && TLS_ERROR_CODE.test(code)) {
    return new RotationError(ERROR_CODES.TLS_FAILED, `${what}: the TLS certificate or host name was not verified`, err);
  }
  if ((err as { name?: unknown })?.name === 'AbortError') {
    return new ProviderError(`${what} was aborted`, err);
  }
  // a connection that never opened is marked with status 0: no request reached the provider (requestHadNoEffect)
  return new ProviderError(`${what} could not be reached`, err, typeof code === 'string' && NOT_CONNECTED.has(code) ? 0 : undefined);
}

/** The JSON object of a response, or a ProviderError naming the call (the body itself is never echoed). */
export function jsonObject(response: HttpResponse, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    throw new ProviderError(`${what} answered HTTP ${response.status} without a JSON body`, undefined, response.status);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProviderError(`${what} answered HTTP ${response.status} with JSON that is not an object`, undefined, response.status);
  }
  return parsed as Record<string, unknown>;
}

/** `application/x-www-form-urlencoded` as RFC 6749 appendix B defines it (space as `+`). */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A form body from its fields (absent fields left out). */
export function formBody(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`)
    .join('&');
}

/** HTTP Basic credentials of RFC 6749 section 2.3.1: each part form-urlencoded first, then `id:secret` in Base64. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${formEncode(user)}:${formEncode(password)}`, 'utf8').toString('base64')}`;
}

/** Connection errors that mean no request left the function. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether a failed request certainly had no effect at the provider: it answered with an HTTP error status (an OAuth
 * error response issues nothing), or the connection or TLS handshake never completed. A timeout, a reset or a success
 * answer with an unusable body may have taken effect.
 */
export function requestHadNoEffect(err: unknown): boolean {
  if (!(err instanceof RotationError)) return false;
  if (err instanceof ProviderError) return err.status !== undefined && (err.status === 0 || err.status >= 300);
  if (err.code === ERROR_CODES.TLS_FAILED || err.code === ERROR_CODES.OAUTH_INVALID_GRANT || err.code === ERROR_CODES.LOGIN_FAILED) return true;
  return false;
}
