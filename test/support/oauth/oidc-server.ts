import { ChildProcess, fork } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { processesMentioning } from '../processes';
import { signal, sweepAbandonedDirs, withOwnedTempDir } from '../server-process';
import { createTestCertificates } from '../tls';
import { basicAuthorization, FORM_CONTENT_TYPE, formBody, httpsRequest } from './https-client';

/**
 * oidc-provider (a certified OpenID Connect server, npm `oidc-provider`) on HTTPS for the OAuth rotators' tests. It is
 * ESM only, which ts-jest cannot load in-process, so it runs in a child process (oidc-provider-process.mjs) that this
 * file starts, talks to over the IPC channel, and stops.
 */

const CHILD_SCRIPT = path.join(__dirname, 'oidc-provider-process.mjs');
const TEMP_PREFIX = 'oidc-server-';
const DEFAULT_START_TIMEOUT_MS = 20_000;
const CALL_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
/** The child's output kept for logs(); older output is dropped first. */
const MAX_LOG_CHARS = 256 * 1024;
const STDERR_TAIL_LINES = 20;

export type OidcAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface OidcClientSpec {
  readonly client_id: string;
  /** @default no secret (for `private_key_jwt` and `none`) */
  readonly client_secret?: string;
  /** @default 'client_secret_basic' */
  readonly token_endpoint_auth_method?: OidcAuthMethod;
  /**
   * @default ['refresh_token', 'authorization_code', 'client_credentials'], without client_credentials for `none`
   */
  readonly grant_types?: readonly string[];
  /** Public keys for `private_key_jwt` (a JWK Set). @default none */
  readonly jwks?: { readonly keys: readonly object[] };
  /** Space-separated scopes the client may ask for. @default any scope the server knows */
  readonly scope?: string;
}

export interface OidcServerOptions {
  readonly clients: readonly OidcClientSpec[];
  /** Whether every refresh-token exchange issues a new refresh token and consumes the presented one. @default true */
  readonly rotateRefreshToken?: boolean;
  /** Dynamic client registration and RFC 7592 registration management. @default false */
  readonly registration?: boolean;
  /** With `registration`: every RFC 7592 PUT issues a new client_secret, and the old one stops working. @default true */
  readonly registrationRotatesSecret?: boolean;
  /** With `registration`: every RFC 7592 PUT also replaces the registration access token. @default false */
  readonly rotateRegistrationAccessToken?: boolean;
  /** How long the child may take to listen. @default 20 s */
  readonly startTimeoutMs?: number;
}

export interface TokenRequestRecord {
  /** The client as the server identified it; absent when the request named none. */
  readonly clientId?: string;
  /** `grant_type` of the request; empty when it had none. */
  readonly grantType: string;
  readonly outcome: 'success' | 'error';
  /** The OAuth error code of a failed request. */
  readonly error?: string;
}

export type RefreshTokenState = 'active' | 'consumed' | 'unknown';

export interface RegisteredClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly registration_access_token: string;
  readonly registration_client_uri: string;
  /** Everything the registration response held (the client's metadata). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type OidcServerErrorCode =
  | 'OIDC_SERVER_START_FAILED'
  | 'OIDC_SERVER_CALL_FAILED'
  | 'OIDC_SERVER_CLOSED'
  | 'OIDC_SERVER_REQUEST_FAILED';

export class OidcServerError extends Error {
  constructor(readonly code: OidcServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OidcServerError';
  }
}

/** Starts oidc-provider on `https://localhost:<random port>`; reject leaves no process and no files behind. */
export async function startOidcServer(options: OidcServerOptions): Promise<OidcServer> {
  // Dirs of runs that were killed before close(); their children exited with the IPC channel, normally.
  await sweepAbandonedDirs(TEMP_PREFIX, async (dir) => {
    for (const line of processesMentioning(dir)) signal(Number(line.split(':')[0]), 'SIGKILL');
  });
  return withOwnedTempDir(TEMP_PREFIX, (tempDir) => startIn(tempDir, options));
}

/** Starts the child with its files in `tempDir`; on failure stops it (withOwnedTempDir then deletes the dir). */
async function startIn(tempDir: string, options: OidcServerOptions): Promise<OidcServer> {
  let child: ChildProcess | undefined;
  try {
    const output = new OutputBuffer();
    // Forked before the certificates exist, so that loading oidc-provider overlaps with openssl. execArgv: [] keeps
    // jest's or ts-node's flags out of a plain ESM child. The temp dir in argv marks the process.
    child = fork(CHILD_SCRIPT, [tempDir], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
      cwd: tempDir,
    });
    child.on('error', () => undefined); // a failed spawn also shows as an exit or a missing pid, see waitForReady
    child.stdout?.setEncoding('utf8').on('data', (text: string) => output.append(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      output.append(text);
      output.appendStderr(text);
    });
    const certificates = await createTestCertificates(path.join(tempDir, 'tls'), {
      hostnames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    // Secrets of static clients travel over IPC, never in argv or the environment (both readable in /proc).
    const port = await waitForReady(child, output, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, {
      certPath: certificates.serverCertPath,
      keyPath: certificates.serverKeyPath,
      clients: options.clients,
      rotateRefreshToken: options.rotateRefreshToken ?? true,
      registration: options.registration ?? false,
      rotateRegistrationAccessToken: options.rotateRegistrationAccessToken ?? false,
    });
    return new OidcServer(child, tempDir, port, certificates.caCertPath, certificates.caCertPem, output, {
      registration: options.registration ?? false,
      registrationRotatesSecret: options.registrationRotatesSecret ?? true,
    });
  } catch (err) {
    if (child) await stopChild(child);
    throw err;
  }
}

function waitForReady(child: ChildProcess, output: OutputBuffer, timeoutMs: number, config: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      cleanup();
      reject(new OidcServerError('OIDC_SERVER_START_FAILED',
        `oidc-provider did not start: ${reason}\n--- last lines of its stderr ---\n${output.stderrTail(STDERR_TAIL_LINES)}`));
    };
    const onMessage = (message: { type?: string; port?: number }) => {
      if (message?.type !== 'ready' || typeof message.port !== 'number') return;
      cleanup();
      resolve(message.port);
    };
    const onExit = (code: number | null, exitSignal: string | null) => {
      // Let the last stderr chunks arrive before quoting them.
      setImmediate(() => fail(`the process exited (code ${code}, signal ${exitSignal})`));
    };
    const onError = (err: Error) => fail(`could not run it: ${err.message}`);
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs / 1000} s`), timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
    // It may have died while the certificates were being made, before these listeners existed.
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      onExit(child.exitCode, child.signalCode);
      return;
    }
    child.send({ type: 'start', config }, (err) => {
      if (err) fail(`the start message was not delivered: ${err.message}`);
    });
  });
}

/** SIGTERM, then SIGKILL after STOP_TIMEOUT_MS; resolves once the child has exited and its pipes are closed. */
async function stopChild(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, STOP_TIMEOUT_MS);
  });
  await Promise.race([exited, killed]);
  clearTimeout(timer);
  await exited;
  if (child.connected) child.disconnect();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

class OutputBuffer {
  private text = '';
  private stderr = '';

  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-MAX_LOG_CHARS);
  }

  appendStderr(chunk: string): void {
    this.stderr = (this.stderr + chunk).slice(-MAX_LOG_CHARS);
  }

  all(): string {
    return this.text;
  }

  stderrTail(lines: number): string {
    return this.stderr.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

interface PendingCall {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface RegistrationSettings {
  readonly registration: boolean;
  readonly registrationRotatesSecret: boolean;
}

/** A running oidc-provider; close() stops it. */
export class OidcServer {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly userinfoEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly registrationEndpoint: string;
  readonly discoveryUrl: string;
  private readonly pending = new Map<number, PendingCall>();
  private nextCallId = 1;
  private closing?: Promise<void>;

  /** @internal use startOidcServer() */
  constructor(
    private readonly child: ChildProcess,
    private readonly tempDir: string,
    readonly port: number,
    readonly caCertPath: string,
    readonly caCertPem: string,
    private readonly output: OutputBuffer,
    private readonly settings: RegistrationSettings,
  ) {
    this.issuer = `https://localhost:${port}`;
    this.tokenEndpoint = `${this.issuer}/token`;
    this.userinfoEndpoint = `${this.issuer}/me`;
    this.introspectionEndpoint = `${this.issuer}/token/introspection`;
    this.registrationEndpoint = `${this.issuer}/reg`;
    this.discoveryUrl = `${this.issuer}/.well-known/openid-configuration`;
    child.on('message', (message: { type?: string; id?: number; ok?: boolean; value?: unknown; message?: string }) => {
      if (message?.type !== 'result' || typeof message.id !== 'number') return;
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      clearTimeout(call.timer);
      if (message.ok) call.resolve(message.value);
      else call.reject(new OidcServerError('OIDC_SERVER_CALL_FAILED', `oidc-provider: ${message.message}`));
    });
    child.once('exit', (code, exitSignal) => this.failPending(`oidc-provider exited (code ${code}, signal ${exitSignal})`));
    // A test that forgets close() must not keep jest alive; the child exits itself when our IPC channel closes.
    child.unref();
    child.channel?.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void })?.unref?.();
  }

  /** The child's pid, for a test that proves it is gone after close(). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The temp dir (certificates); it is in the child's command line, and gone after close(). */
  get directory(): string {
    return this.tempDir;
  }

  /** What the child wrote (its own log lines and oidc-provider's warnings); never credentials. */
  logs(): string {
    return this.output.all();
  }

  /**
   * A refresh token for `clientId` as an authorization-code grant would leave it (a grant with the scopes and a
   * refresh token on it), without the browser steps.
   */
  mintRefreshToken(clientId: string, options: { scope?: string; accountId?: string } = {}): Promise<string> {
    return this.call('mintRefreshToken', clientId, options) as Promise<string>;
  }

  /** Every request the token endpoint received, in order. */
  tokenRequests(): Promise<TokenRequestRecord[]> {
    return this.call('tokenRequests') as Promise<TokenRequestRecord[]>;
  }

  /** `unknown`: never issued, expired and deleted, or revoked with its grant. */
  refreshTokenState(token: string): Promise<RefreshTokenState> {
    return this.call('refreshTokenState', token) as Promise<RefreshTokenState>;
  }

  /** Whether the grant the refresh token belonged to is gone (what reuse detection does to the whole chain). */
  grantRevoked(token: string): Promise<boolean> {
    return this.call('grantRevoked', token) as Promise<boolean>;
  }

  /**
   * Registers a client through the real registration endpoint. Defaults: a confidential `client_credentials` client
   * with `client_secret_basic`. The registration access token it returns manages the client (RFC 7592).
   */
  async registerClient(metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
    if (!this.settings.registration) {
      throw new OidcServerError('OIDC_SERVER_REQUEST_FAILED', 'registration is off: start the server with registration: true');
    }
    const initialAccessToken = await this.call('createInitialAccessToken', this.settings.registrationRotatesSecret) as string;
    const response = await httpsRequest({
      url: this.registrationEndpoint,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'authorization': `Bearer ${initialAccessToken}` },
      body: JSON.stringify({
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        ...metadata,
      }),
      ca: this.caCertPem,
    });
    if (response.status !== 201) {
      throw new OidcServerError('OIDC_SERVER_REQUEST_FAILED',
        `registration answered ${response.status} ${response.json?.error ?? ''}`.trimEnd());
    }
    const body = response.json as Record<string, unknown>;
    return {
      client_id: body.client_id as string,
      client_secret: body.client_secret as string,
      registration_access_token: body.registration_access_token as string,
      registration_client_uri: body.registration_client_uri as string,
      metadata: body,
    };
  }

  /**
   * Whether `secret` authenticates `clientId` in a real client_credentials request, sent with the client's registered
   * method (basic or post). Throws on answers other than success and invalid_client.
   */
  async clientAuthWorks(clientId: string, secret: string): Promise<boolean> {
    const method = await this.call('clientAuthMethod', clientId) as string | undefined;
    if (method === undefined) return false; // no such client (any more)
    const post = method === 'client_secret_post';
    const response = await httpsRequest({
      url: this.tokenEndpoint,
      method: 'POST',
      headers: {
        'content-type': FORM_CONTENT_TYPE,
        ...(post ? {} : { authorization: basicAuthorization(clientId, secret) }),
      },
      body: formBody({
        grant_type: 'client_credentials',
        ...(post ? { client_id: clientId, client_secret: secret } : {}),
      }),
      ca: this.caCertPem,
    });
    if (response.status === 200) return true;
    if (response.json?.error === 'invalid_client') return false;
    throw new OidcServerError('OIDC_SERVER_REQUEST_FAILED',
      `client_credentials request answered ${response.status} ${response.json?.error ?? ''}`.trimEnd());
  }

  /** Stops the child (SIGTERM, then SIGKILL) and deletes the temp dir; later calls share the first close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.failPending('the server was closed');
      try {
        await stopChild(this.child);
      } finally {
        await fs.rm(this.tempDir, { recursive: true, force: true });
      }
    })();
    return this.closing;
  }

  private call(op: string, ...args: unknown[]): Promise<unknown> {
    if (this.closing) return Promise.reject(new OidcServerError('OIDC_SERVER_CLOSED', `${op}: the server is closed`));
    const id = this.nextCallId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OidcServerError('OIDC_SERVER_CALL_FAILED', `${op}: no answer after ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ type: 'call', id, op, args }, (err) => {
        if (!err) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new OidcServerError('OIDC_SERVER_CALL_FAILED', `${op}: not delivered`, { cause: err }));
      });
    });
  }

  private failPending(reason: string): void {
    for (const [id, call] of this.pending) {
      this.pending.delete(id);
      clearTimeout(call.timer);
      call.reject(new OidcServerError('OIDC_SERVER_CLOSED', reason));
    }
  }
}
