import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import { promises as fs } from 'fs';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import * as path from 'path';
import { sweepAbandonedDirs, withOwnedTempDir } from '../server-process';
import { createTestCertificates } from '../tls';

/**
 * The smallest identity provider that shows what oidc-provider cannot: a client with several valid secrets at once,
 * each with an optional end of validity (`not_after`), added and retired through an admin API, and a clock the test
 * moves. It answers a client_credentials token endpoint and a resource a probe can call with the access token.
 * Plain Node `https` in this process, on 127.0.0.1 with a certificate from a throwaway CA.
 */

const BIND_ADDRESS = '127.0.0.1';
const TEMP_PREFIX = 'client-secret-idp-';
const MAX_BODY_BYTES = 64 * 1024;
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const SECRETS_PATH = /^\/admin\/clients\/([^/]+)\/secrets$/;
const RETIRE_PATH = /^\/admin\/clients\/([^/]+)\/secrets\/retire$/;

export interface IdpSecretSeed {
  readonly client_secret: string;
  /** When the secret stops working. @default never */
  readonly not_after?: Date;
}

export interface IdpClientSeed {
  readonly client_id: string;
  /** The client's secrets at start. @default none */
  readonly secrets?: readonly (string | IdpSecretSeed)[];
}

export interface ClientSecretIdpOptions {
  readonly clients: readonly IdpClientSeed[];
  /** Admin API bearer token. @default none: bearer authentication is refused */
  readonly adminToken?: string;
  /** Admin API Basic user (form-urlencoded, then Base64, as RFC 6749 2.3.1). @default none: Basic is refused */
  readonly adminUser?: string;
  /** Admin API Basic password. @default none */
  readonly adminPassword?: string;
  /** Most valid secrets a client may hold at once. @default 5 */
  readonly maxSecretsPerClient?: number;
  /** Lifetime of the access tokens the token endpoint issues. @default 3600 */
  readonly accessTokenTtlSeconds?: number;
}

export interface IdpRequestRecord {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly status: number;
}

export type ClientSecretIdpErrorCode = 'IDP_START_FAILED' | 'IDP_INVALID_SEED';

export class ClientSecretIdpError extends Error {
  constructor(readonly code: ClientSecretIdpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientSecretIdpError';
  }
}

interface StoredSecret {
  /** SHA-256 of the secret: equal lengths for timingSafeEqual, and no plain secret kept longer than needed. */
  readonly digest: Buffer;
  /** Clock time (ms) from which the secret no longer works; undefined: never. */
  notAfter?: number;
}

interface IssuedToken {
  readonly clientId: string;
  readonly expiresAt: number;
}

/** What a handler answers; bodies are JSON. */
interface Reply {
  readonly status: number;
  readonly body?: object;
  readonly headers?: Record<string, string>;
}

class HttpFailure extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

/** Starts the identity provider on `https://localhost:<random port>`. */
export async function startClientSecretIdp(options: ClientSecretIdpOptions): Promise<ClientSecretIdp> {
  const idp = new ClientSecretIdp(options);
  // Dirs of runs that were killed before close() (the server died with its process; only files remain).
  await sweepAbandonedDirs(TEMP_PREFIX, async () => undefined);
  return withOwnedTempDir(TEMP_PREFIX, (tempDir) => listenIn(idp, tempDir));
}

/** Certificates in `tempDir`, then listen; on failure closes the server (withOwnedTempDir then deletes the dir). */
async function listenIn(idp: ClientSecretIdp, tempDir: string): Promise<ClientSecretIdp> {
  try {
    const certificates = await createTestCertificates(path.join(tempDir, 'tls'), {
      hostnames: ['localhost'],
      ipAddresses: [BIND_ADDRESS],
    });
    const [key, cert] = await Promise.all([fs.readFile(certificates.serverKeyPath), fs.readFile(certificates.serverCertPath)]);
    await idp.listen(tempDir, { key, cert }, certificates.caCertPath, certificates.caCertPem);
    return idp;
  } catch (err) {
    await idp.close();
    throw err instanceof ClientSecretIdpError ? err : new ClientSecretIdpError('IDP_START_FAILED', `the identity provider did not start: ${(err as Error).message}`, { cause: err });
  }
}

export class ClientSecretIdp {
  private readonly secrets = new Map<string, StoredSecret[]>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly records: IdpRequestRecord[] = [];
  private readonly logLines: string[] = [];
  private readonly faults = new Map<string, number[]>();
  private readonly maxSecrets: number;
  private readonly tokenTtlMs: number;
  private clockOffsetMs = 0;
  private server?: https.Server;
  private tempDir?: string;
  private port = 0;
  private closing?: Promise<void>;
  private ca?: { path: string; pem: string };

  /** @internal use startClientSecretIdp() */
  constructor(private readonly options: ClientSecretIdpOptions) {
    this.maxSecrets = options.maxSecretsPerClient ?? 5;
    this.tokenTtlMs = (options.accessTokenTtlSeconds ?? 3600) * 1000;
    for (const client of options.clients) {
      const seeds = (client.secrets ?? []).map((seed) => typeof seed === 'string' ? { client_secret: seed } : seed);
      if (seeds.length > this.maxSecrets) {
        throw new ClientSecretIdpError('IDP_INVALID_SEED', `client ${client.client_id} has more than ${this.maxSecrets} secrets`);
      }
      this.secrets.set(client.client_id, seeds.map((seed) => ({ digest: digest(seed.client_secret), notAfter: seed.not_after?.getTime() })));
    }
  }

  /** @internal */
  async listen(tempDir: string, tls: https.ServerOptions, caCertPath: string, caCertPem: string): Promise<void> {
    this.tempDir = tempDir;
    this.ca = { path: caCertPath, pem: caCertPem };
    const server = https.createServer(tls, (req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, BIND_ADDRESS, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
  }

  get baseUrl(): string {
    return `https://localhost:${this.port}`;
  }

  get tokenEndpoint(): string {
    return `${this.baseUrl}/token`;
  }

  /** Admin routes are `${adminBaseUrl}/clients/{client_id}/secrets` and `.../secrets/retire`. */
  get adminBaseUrl(): string {
    return `${this.baseUrl}/admin`;
  }

  /** GET with `Authorization: Bearer <access token>`: 200 while the token is one of ours and not expired. */
  get resourceUrl(): string {
    return `${this.baseUrl}/resource`;
  }

  get caCertPath(): string {
    return this.ca!.path;
  }

  get caCertPem(): string {
    return this.ca!.pem;
  }

  /** The identity provider's clock: real time plus whatever advance() added. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** Moves the clock forward: secrets reach their not_after, access tokens expire. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('the clock only moves forward');
    this.clockOffsetMs += ms;
  }

  /**
   * Sets the clock back to the real one, between tests: a handler computes `not_after` from the real clock, so a clock
   * left ahead would retire every new secret at once.
   */
  resetClock(): void {
    this.clockOffsetMs = 0;
  }

  /** Secrets of the client that work now. */
  secretCount(clientId: string): number {
    return this.liveSecrets(clientId)?.length ?? 0;
  }

  /** Whether `secret` authenticates `clientId` now, asked without HTTP. */
  secretWorks(clientId: string, secret: string): boolean {
    return this.matches(clientId, secret);
  }

  /** Every request, in order: method, path, status; never bodies or headers. */
  requests(): IdpRequestRecord[] {
    return [...this.records];
  }

  /** The server's own log lines (requests and why they failed), one per line; never credentials. */
  logs(): string {
    return this.logLines.map((line) => `${line}\n`).join('');
  }

  /**
   * Answers the next request to `path` (without query, percent-encoding as sent) with `status`, whatever it asks.
   * Calls queue up.
   */
  failNext(requestPath: string, status: number): void {
    const queue = this.faults.get(requestPath) ?? [];
    queue.push(status);
    this.faults.set(requestPath, queue);
  }

  /** Stops listening, ends open connections and deletes the temp dir; later calls share the first close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const server = this.server;
      if (server?.listening) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      if (this.tempDir) await fs.rm(this.tempDir, { recursive: true, force: true });
    })();
    return this.closing;
  }

  private nowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** The client's secrets that still work (expired ones are dropped); undefined for an unknown client. */
  private liveSecrets(clientId: string): StoredSecret[] | undefined {
    const stored = this.secrets.get(clientId);
    if (!stored) return undefined;
    const now = this.nowMs();
    // In place: callers hold on to the array and add to it.
    for (let i = stored.length - 1; i >= 0; i--) {
      const notAfter = stored[i].notAfter;
      if (notAfter !== undefined && now >= notAfter) stored.splice(i, 1);
    }
    return stored;
  }

  /** Compares against every secret of the client, without stopping at the first match. */
  private matches(clientId: string, secret: string): boolean {
    const candidate = digest(secret);
    let found = false;
    for (const stored of this.liveSecrets(clientId) ?? []) {
      found = timingSafeEqual(stored.digest, candidate) || found;
    }
    return found;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const method = req.method ?? 'GET';
    let requestPath: string;
    try {
      requestPath = new URL(req.url ?? '/', 'https://localhost').pathname;
    } catch {
      // Thrown here it would be an uncaught exception in the test's own process.
      requestPath = '(malformed)';
    }
    const finish = (reply: Reply) => {
      this.records.push({ method, path: requestPath, status: reply.status });
      this.log(`${method} ${requestPath} ${reply.status}${reply.body && 'error' in reply.body ? ` ${(reply.body as { error: string }).error}` : ''}`);
      const body = reply.body === undefined ? undefined : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'cache-control': 'no-store',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...reply.headers,
      });
      res.end(body);
    };
    const fault = this.faults.get(requestPath)?.shift();
    if (fault !== undefined) {
      req.resume();
      finish({ status: fault, body: { error: 'injected_fault' } });
      return;
    }
    this.route(req, method, requestPath).then(finish, (err: unknown) => {
      if (err instanceof HttpFailure) {
        finish(err.reply);
      } else {
        this.log(`${method} ${requestPath} failed: ${(err as Error)?.name}`);
        finish({ status: 500, body: { error: 'server_error' } });
      }
    });
  }

  private async route(req: http.IncomingMessage, method: string, requestPath: string): Promise<Reply> {
    if (requestPath === '/token') {
      allow(method, 'POST');
      return this.token(req);
    }
    if (requestPath === '/resource') {
      allow(method, 'GET');
      return this.resource(req);
    }
    const retire = RETIRE_PATH.exec(requestPath);
    if (retire) {
      allow(method, 'POST');
      this.authenticateAdmin(req);
      return this.retireSecret(pathSegment(retire[1]), await readJson(req));
    }
    const add = SECRETS_PATH.exec(requestPath);
    if (add) {
      allow(method, 'POST');
      this.authenticateAdmin(req);
      return this.addSecret(pathSegment(add[1]), await readJson(req));
    }
    throw new HttpFailure({ status: 404, body: { error: 'not_found' } });
  }

  private async token(req: http.IncomingMessage): Promise<Reply> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const raw = await readBody(req);
    if (contentType !== FORM_CONTENT_TYPE) throw oauthError(400, 'invalid_request', 'the body must be form-urlencoded');
    const params = new URLSearchParams(raw);
    for (const name of ['grant_type', 'client_id', 'client_secret']) {
      if (params.getAll(name).length > 1) throw oauthError(400, 'invalid_request', `${name} is repeated`);
    }
    const { clientId, secret, basic } = clientCredentials(req.headers.authorization, params);
    if (!this.matches(clientId, secret)) {
      throw new HttpFailure({
        status: 401,
        body: { error: 'invalid_client' },
        headers: basic ? { 'www-authenticate': 'Basic realm="token"' } : undefined,
      });
    }
    const grantType = params.get('grant_type');
    if (!grantType) throw oauthError(400, 'invalid_request', 'grant_type is missing');
    if (grantType !== 'client_credentials') throw oauthError(400, 'unsupported_grant_type');
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { clientId, expiresAt: this.nowMs() + this.tokenTtlMs });
    return {
      status: 200,
      body: { access_token: accessToken, token_type: 'Bearer', expires_in: Math.floor(this.tokenTtlMs / 1000) },
    };
  }

  private async resource(req: http.IncomingMessage): Promise<Reply> {
    req.resume();
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const token = match ? this.tokens.get(match[1]) : undefined;
    if (!token || this.nowMs() >= token.expiresAt) {
      throw new HttpFailure({ status: 401, body: { error: 'invalid_token' }, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    }
    return { status: 200, body: { client_id: token.clientId } };
  }

  private authenticateAdmin(req: http.IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const { adminToken, adminUser, adminPassword } = this.options;
    let ok = false;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer && adminToken !== undefined) ok = safeEqual(bearer[1], adminToken);
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    if (basic && adminUser !== undefined && adminPassword !== undefined) {
      const decoded = decodeBasic(basic[1]);
      // Both compared every time: how long it takes must not tell whether the user name was right.
      const userOk = safeEqual(decoded?.id ?? '', adminUser);
      const passwordOk = safeEqual(decoded?.secret ?? '', adminPassword);
      ok = decoded !== undefined && userOk && passwordOk;
    }
    if (!ok) {
      req.resume();
      throw new HttpFailure({ status: 401, body: { error: 'unauthorized' }, headers: { 'www-authenticate': 'Bearer, Basic realm="admin"' } });
    }
  }

  private addSecret(clientId: string, body: Record<string, unknown>): Reply {
    const secret = body.client_secret;
    if (typeof secret !== 'string' || secret === '') throw badRequest('client_secret must be a non-empty string');
    const live = this.liveSecrets(clientId);
    if (!live) throw new HttpFailure({ status: 404, body: { error: 'unknown_client' } });
    if (this.matches(clientId, secret)) {
      // Already there: success again, and a retirement already scheduled for it stays scheduled.
      return { status: 200, body: { client_id: clientId, secret_count: live.length } };
    }
    if (live.length >= this.maxSecrets) {
      throw new HttpFailure({ status: 409, body: { error: 'too_many_secrets', error_description: `at most ${this.maxSecrets} secrets per client` } });
    }
    live.push({ digest: digest(secret) });
    return { status: 201, body: { client_id: clientId, secret_count: live.length } };
  }

  private retireSecret(clientId: string, body: Record<string, unknown>): Reply {
    const secret = body.client_secret;
    if (typeof secret !== 'string' || secret === '') throw badRequest('client_secret must be a non-empty string');
    const notAfter = parseNotAfter(body.not_after);
    const live = this.liveSecrets(clientId);
    if (!live) throw new HttpFailure({ status: 404, body: { error: 'unknown_client' } });
    const candidate = digest(secret);
    for (const stored of live) {
      // Retiring never extends a secret's life: an earlier end already set wins.
      if (timingSafeEqual(stored.digest, candidate)) stored.notAfter = Math.min(stored.notAfter ?? Infinity, notAfter);
    }
    this.liveSecrets(clientId); // a not_after of now or earlier revokes at once
    return { status: 204 };
  }

  private log(line: string): void {
    this.logLines.push(`${new Date(this.nowMs()).toISOString()} ${line}`);
  }
}

function allow(method: string, expected: string): void {
  if (method !== expected) throw new HttpFailure({ status: 405, body: { error: 'method_not_allowed' }, headers: { allow: expected } });
}

function oauthError(status: number, error: string, description?: string): HttpFailure {
  return new HttpFailure({ status, body: { error, ...(description ? { error_description: description } : {}) } });
}

function badRequest(description: string): HttpFailure {
  return oauthError(400, 'invalid_request', description);
}

/**
 * Client authentication of a token request: Basic (RFC 6749 2.3.1: Base64, then form-urldecode id and secret) or
 * client_secret_post, never both.
 */
function clientCredentials(header: string | undefined, params: URLSearchParams): { clientId: string; secret: string; basic: boolean } {
  const postId = params.get('client_id');
  const postSecret = params.get('client_secret');
  if (header !== undefined) {
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (!match) throw oauthError(401, 'invalid_client', 'unsupported authorization scheme');
    if (postSecret !== null) throw oauthError(400, 'invalid_request', 'client authentication must use one method only');
    const decoded = decodeBasic(match[1]);
    if (!decoded) throw oauthError(400, 'invalid_request', 'malformed Basic credentials');
    if (postId !== null && postId !== decoded.id) throw oauthError(400, 'invalid_request', 'client_id does not match');
    return { clientId: decoded.id, secret: decoded.secret, basic: true };
  }
  if (postId === null || postSecret === null) throw oauthError(401, 'invalid_client', 'no client authentication');
  return { clientId: postId, secret: postSecret, basic: false };
}

/** Base64 `id:secret`, each part form-urlencoded; undefined when malformed. */
function decodeBasic(encoded: string): { id: string; secret: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { id: formDecode(text.slice(0, colon)), secret: formDecode(text.slice(colon + 1)) };
  } catch {
    return undefined; // a lone % is not form-urlencoded
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function pathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('malformed path');
  }
}

/** RFC 3339, or seconds since the epoch (a number or a string of digits, as a `{not_after_epoch}` template gives). */
function parseNotAfter(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value) * 1000;
  if (typeof value === 'string' && RFC3339.test(value)) {
    const ms = Date.parse(value.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return ms;
  }
  throw badRequest('not_after must be an RFC 3339 time or seconds since the epoch');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The body as text; 413 beyond MAX_BODY_BYTES (the rest is read and dropped, so the client gets the answer). */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) {
      reject(new HttpFailure({ status: 413, body: { error: 'request_too_large' } }));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        reject(new HttpFailure({ status: 413, body: { error: 'request_too_large' } }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
      done = true;
    });
    req.on('error', (err) => {
      if (!done) reject(err);
      done = true;
    });
  });
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest('the body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('the body must be a JSON object');
  return parsed as Record<string, unknown>;
}
