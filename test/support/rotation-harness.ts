import * as fs from 'fs';
import * as path from 'path';
import type { FunctionId } from '../../src/private/contract';

/** The handler signature of the bundles in assets/. */
export type BundledHandler = (event: unknown, context: LambdaContext) => Promise<void>;

export interface LambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/** Loads the bundle that ships (`assets/<id>/index.js`), never the TypeScript sources. */
export function loadBundledHandler(id: FunctionId): BundledHandler {
  const file = path.join(ASSETS_DIR, id, 'index.js');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npx projen bundle\` first`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file).handler as BundledHandler;
}

/** A Lambda context whose remaining time counts down from `budgetMs`. */
export function lambdaContext(budgetMs: number = 60_000): LambdaContext {
  const end = Date.now() + budgetMs;
  return { awsRequestId: `req-${Math.random().toString(36).slice(2)}`, getRemainingTimeInMillis: () => end - Date.now() };
}

/**
 * Records everything written to stdout, stderr and the console while active, plus every error text the tests
 * hand to it, so a test can prove no secret material reached any of them.
 */
export class OutputCapture {
  private chunks: string[] = [];
  private restore: Array<() => void> = [];

  public start(): void {
    const record = (text: unknown) => this.chunks.push(String(text));
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      // handler log lines (stdout) are kept out of the test report; anything else still shows
      const passThrough = stream === process.stderr;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        record(chunk);
        return passThrough ? (original as (...args: unknown[]) => boolean)(chunk, ...rest) : true;
      }) as typeof stream.write;
      this.restore.push(() => {
        stream.write = original as typeof stream.write;
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[method];
      console[method] = (...args: unknown[]) => {
        record(args.map((a) => (a instanceof Error ? describeError(a) : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      };
      this.restore.push(() => {
        console[method] = original;
      });
    }
  }

  public stop(): void {
    for (const undo of this.restore.reverse()) undo();
    this.restore = [];
  }

  /** Adds an error's message, stack, code and cause chain to the captured text. */
  public addError(err: unknown): void {
    this.chunks.push(describeError(err));
  }

  public get text(): string {
    return this.chunks.join('\n');
  }

  /** The structured step lines the handler wrote. */
  public get stepLines(): Array<Record<string, unknown>> {
    return this.text.split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"rotation step'))
      .map((l) => JSON.parse(l));
  }

  /** Values from `secrets` that appear anywhere in the captured text. */
  public leaked(secrets: Iterable<string>): string[] {
    const text = this.text;
    return [...secrets].filter((s) => s.length >= 6 && text.includes(s));
  }
}

/** Everything an error can carry into a log: message, stack, own enumerable properties and the cause chain. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof Error) {
      parts.push(e.name, e.message, String(e.stack));
      try {
        parts.push(JSON.stringify(e));
      } catch {
        parts.push('[unserializable]');
      }
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(typeof e === 'string' ? e : JSON.stringify(e));
      break;
    }
  }
  return parts.join('\n');
}

const FAULT_HOOK = Symbol.for('cdk-secrets-platform.fault-hook');

/** Registers the hook the bundled kit calls after every statement and every Secrets Manager write. */
export function setFaultHook(hook: ((point: string) => void | Promise<void>) | undefined): void {
  (globalThis as Record<symbol, unknown>)[FAULT_HOOK] = hook;
}

/** Thrown by a fault hook to stand for the function being killed right after a call. */
export class SimulatedCrash extends Error {
  constructor(point: string) {
    super(`simulated crash after ${point}`);
    this.name = 'SimulatedCrash';
  }
}

/** Sets environment variables for the duration of a test file and restores them after. */
export function withEnv(values: Record<string, string | undefined>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(values)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
