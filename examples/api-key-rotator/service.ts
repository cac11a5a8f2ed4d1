/**
 * The service whose API key the example rotator rotates: an HTTP API that accepts a key in either of two slots, A and
 * B, both valid at once, so clients on the old key keep working while the other slot gets a new one. An admin API,
 * behind its own token, sets a slot's key. The tests and the demo run it on 127.0.0.1; it never logs.
 *
 * - `GET /v1/whoami` with `x-api-key: <key>`: 200 `{"slot":"A"}` for a key in a slot, 401 otherwise
 * - `PUT /admin/keys/<A|B>` with `authorization: Bearer <admin token>` and `{"key":"..."}`: 204, 401 without the token
 */
import { timingSafeEqual } from 'crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'http';
import { AddressInfo } from 'net';

export type Slot = 'A' | 'B';

export interface ApiKeyServiceOptions {
  /** The admin API's bearer token. */
  readonly adminToken: string;
  /** The keys the slots start with (a slot without a key accepts nothing). */
  readonly keys?: Partial<Record<Slot, string>>;
}

/** One request the service answered: what a test checks the rotation against. */
export interface ServedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

const MAX_BODY_BYTES = 4096;

export class ApiKeyService {
  /** Starts the service on 127.0.0.1 on a free port. */
  public static async start(options: ApiKeyServiceOptions): Promise<ApiKeyService> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new ApiKeyService(server, options);
  }

  /** `http://127.0.0.1:<port>` */
  public readonly url: string;
  /** Every request answered, in order (methods, paths and statuses only). */
  public readonly requests: ServedRequest[] = [];
  private readonly keys: Record<Slot, string | undefined>;

  private constructor(private readonly server: Server, private readonly options: ApiKeyServiceOptions) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.keys = { A: options.keys?.A, B: options.keys?.B };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req).then(
        ({ status, body }) => this.answer(req, res, status, body),
        () => this.answer(req, res, 400),
      );
    });
  }

  /** The slot that accepts `key`, if any (what `GET /v1/whoami` answers, without a request). */
  public slotOf(key: string): Slot | undefined {
    return (['A', 'B'] as const).find((slot) => this.keys[slot] !== undefined && same(this.keys[slot]!, key));
  }

  public async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'GET' && url.pathname === '/v1/whoami') {
      const key = req.headers['x-api-key'];
      const slot = typeof key === 'string' ? this.slotOf(key) : undefined;
      return slot ? { status: 200, body: { slot } } : { status: 401 };
    }
    const admin = /^\/admin\/keys\/([AB])$/.exec(url.pathname);
    if (req.method === 'PUT' && admin) {
      const auth = req.headers.authorization;
      if (typeof auth !== 'string' || !same(auth, `Bearer ${this.options.adminToken}`)) return { status: 401 };
      const parsed = JSON.parse(body) as { key?: unknown };
      if (typeof parsed.key !== 'string' || parsed.key.length < 16) return { status: 400 };
      this.keys[admin[1] as Slot] = parsed.key;
      return { status: 204 };
    }
    return { status: 404 };
  }

  private answer(req: IncomingMessage, res: ServerResponse, status: number, body?: unknown): void {
    this.requests.push({ method: req.method ?? '', path: new URL(req.url ?? '/', this.url).pathname, status });
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(text);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Compares credentials in constant time (for equal lengths). */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
