import * as https from 'https';

/** How long one request to a local test server may take before it counts as hung. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface HttpsRequest {
  readonly url: string;
  /** @default 'GET' */
  readonly method?: string;
  /** @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** @default no body */
  readonly body?: string;
  /** PEM of the only CA trusted for this request; the host name is verified against the certificate too. */
  readonly ca: string;
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: any;
}

/**
 * One HTTPS request that trusts only `ca` and keeps no connection open afterwards (no agent), so a test that ends
 * right after it leaves no socket behind.
 */
export function httpsRequest(request: HttpsRequest): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const req = https.request(request.url, {
      method: request.method ?? 'GET',
      headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      ca: request.ca,
      agent: false,
      timeout: REQUEST_TIMEOUT_MS,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: parseJson(text) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${request.method ?? 'GET'} ${new URL(request.url).pathname} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** application/x-www-form-urlencoded serialization of one value (spaces as `+`), as RFC 6749 appendix B asks. */
export function formEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice('v='.length);
}

/** An `application/x-www-form-urlencoded` body. */
export function formBody(fields: Readonly<Record<string, string>>): string {
  return new URLSearchParams(Object.entries(fields)).toString();
}

/**
 * RFC 6749 section 2.3.1: client id and secret are each form-urlencoded, joined by `:`, then Base64-encoded. Without
 * the first step, a `:` in the id or a `%` or `+` in the secret reaches the server as something else.
 */
export function basicAuthorization(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
