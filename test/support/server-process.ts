import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ServerTlsOptions } from './server-tls';

/**
 * The process side of a throwaway test server, whatever the engine: temp dirs that later runs can tell abandoned,
 * a free port with a retry when another process takes it first, a readiness wait that notices the server exiting,
 * a shutdown that escalates to SIGKILL, and kill-on-exit hooks.
 */

/** Holds the pid of the Node process that owns a temp dir, so later runs can tell abandoned dirs. */
const OWNER_FILE = 'owner.pid';
const MAX_START_ATTEMPTS = 5;
const DEFAULT_LOG_TAIL_LINES = 30;

/** What every test server harness can be asked for; each says how it maps these onto its server. */
export interface TestServerOptions {
  /** TLS on (default) with a certificate for these names (default localhost and 127.0.0.1); `false` for no TLS. */
  readonly tls?: ServerTlsOptions | false;
  /** When true (default false), the server itself refuses plaintext logins. */
  readonly requireTls?: boolean;
  /** Extra server settings, applied after the harness's own (so they override them). */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** How long to wait for the server to accept the harness's login before giving up. */
  readonly readyTimeoutMs?: number;
}

/** How long a server gets to stop on its stop signal before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;

/** Synchronous kill-and-delete for every running server, used by the process 'exit' hook. */
const exitCleanups = new Set<() => void>();

export interface ServerProcessProps {
  /** What we spawned: the server, or a runuser wrapper around it. */
  readonly child: ChildProcess;
  /** The server's own pid (from its pid file). */
  readonly serverPid: number;
  /** The server's temp dir, deleted once it has stopped. */
  readonly tempDir: string;
  /** The server's shutdown signal, escalated to SIGKILL if it takes too long. */
  readonly stopSignal: NodeJS.Signals;
  /** What the exit hook sends when the owner exits without stop(): no time is left to wait for a shutdown. */
  readonly exitSignal: NodeJS.Signals;
}

/**
 * A started server's process and temp dir: stopped once (later calls share the first stop), and killed by an exit
 * hook if the process exits before that.
 */
export class ServerProcess {
  private readonly exitCleanup: () => void;
  private stopping?: Promise<void>;

  constructor(private readonly props: ServerProcessProps) {
    this.exitCleanup = () => this.killSync();
    registerExitCleanup(this.exitCleanup);
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * Stops the server and deletes its temp dir. `closeClients` runs alongside the shutdown, not before it: closing
   * a pool waits for its queries, which the shutdown ends.
   */
  stop(closeClients: () => Promise<unknown> = async () => undefined): Promise<void> {
    this.stopping ??= this.shutdown(closeClients);
    return this.stopping;
  }

  private async shutdown(closeClients: () => Promise<unknown>): Promise<void> {
    unregisterExitCleanup(this.exitCleanup);
    const clientsClosed = closeClients().catch(() => undefined);
    const { child, serverPid, stopSignal, tempDir } = this.props;
    await terminate(child, serverPid, stopSignal, STOP_TIMEOUT_MS);
    await clientsClosed;
    await fs.promises.rm(tempDir, { recursive: true, force: true });
  }

  private killSync(): void {
    signal(this.props.serverPid, this.props.exitSignal);
    try {
      fs.rmSync(this.props.tempDir, { recursive: true, force: true });
    } catch {
      // Best effort while the process exits.
    }
  }
}

/**
 * Runs `use` with a new temp dir in os.tmpdir() named `<prefix>XXXXXX`, marked as ours until this process dies.
 * If `use` rejects, the dir is deleted: a failed start leaves nothing behind.
 */
export async function withOwnedTempDir<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    await fs.promises.writeFile(path.join(dir, OWNER_FILE), String(process.pid));
    return await use(dir);
  } catch (err) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Deletes `<prefix>*` temp dirs whose owning process died without stop() or its 'exit' hook (which never runs
 * inside jest's sandboxed `process`). Their servers normally went down with the owner (parent-death signal);
 * `killLeftover` stops one that did not (possible without setpriv) before its dir goes.
 */
export async function sweepAbandonedDirs(prefix: string, killLeftover: (dir: string) => Promise<void>): Promise<void> {
  const tmp = os.tmpdir();
  const names = (await fs.promises.readdir(tmp).catch(() => [])).filter((name) => name.startsWith(prefix));
  await Promise.all(names.map(async (name) => {
    const dir = path.join(tmp, name);
    const owner = Number(await fs.promises.readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => ''));
    // No owner file yet: another process may be creating it right now.
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) return;
    await killLeftover(dir).catch(() => undefined);
    await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

/** Reads a pid file (the server's own, since a runuser wrapper is not the server). */
export async function readPidFile(file: string): Promise<number> {
  const content = await fs.promises.readFile(file, 'utf8');
  const pid = Number(content.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`Unexpected pid file ${file}: ${content}`);
  return pid;
}

export interface LaunchAttempt<T> {
  /** Starts the server on `port` and resolves once it accepts logins; stops what it started before rejecting. */
  readonly start: (port: number) => Promise<T>;
  /** Whether a failed start's log says the port was taken, so another port is worth a try. */
  readonly portTaken: (logTail: string) => boolean;
  readonly logPath: string;
  /** Names the server in the error, e.g. `MariaDB (/usr)`. */
  readonly description: string;
  /** Removes secrets from the log tail before it goes into the error. */
  readonly redact?: (text: string) => string;
}

/**
 * Starts a server on a free port, trying another port when a process took the chosen one between the probe and
 * the server binding it. A failed start rejects with the last lines of the server's log.
 */
export async function launchOnFreePort<T>(attempt: LaunchAttempt<T>, host: string): Promise<T> {
  for (let n = 1; ; n++) {
    const port = await freePort(host);
    try {
      return await attempt.start(port);
    } catch (err) {
      const tail = await logTail(attempt.logPath);
      if (n < MAX_START_ATTEMPTS && attempt.portTaken(tail)) continue;
      const redact = attempt.redact ?? ((text: string) => text);
      throw new Error(redact(`${attempt.description} did not start: ${(err as Error).message}\n`
        + `--- last lines of the server log ---\n${tail}`));
    }
  }
}

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface SpawnOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Receives the server's stdout and stderr (created or truncated). */
  readonly logPath: string;
}

/** Spawns a server with its output in a log file; the child does not hold the event loop open (terminate re-refs). */
export function spawnLogged(argv: readonly string[], options: SpawnOptions): ChildProcess {
  const logFd = fs.openSync(options.logPath, 'w');
  try {
    const [command, ...args] = argv;
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', logFd, logFd] });
    child.on('error', () => undefined); // surfaces as the child having exited, see waitUntilReady()
    child.unref();
    return child;
  } finally {
    fs.closeSync(logFd); // the child has its own copy
  }
}

/** Retries `probe` until it resolves; rejects when the child (`name` in the error) exits or the time is up. */
export async function waitUntilReady(
  child: ChildProcess, name: string, probe: () => Promise<void>, timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode})`);
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err; // refused or "starting up" until the server is ready
    }
    await sleep(50);
  }
  throw new Error(`not ready after ${timeoutMs / 1000} s: ${(lastError as Error | undefined)?.message}`);
}

/** `stopSignal` to the server, then SIGKILL to it and the child if it has not exited within `timeoutMs`. */
export async function terminate(
  child: ChildProcess, serverPid: number | undefined, stopSignal: NodeJS.Signals, timeoutMs = STOP_TIMEOUT_MS,
): Promise<void> {
  if (hasExited(child)) return;
  child.ref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(serverPid, stopSignal);
  if (await settlesWithin(exited, timeoutMs)) return;
  signal(serverPid, 'SIGKILL');
  signal(child.pid, 'SIGKILL');
  await settlesWithin(exited, timeoutMs);
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

export function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function logTail(logPath: string, lines = DEFAULT_LOG_TAIL_LINES): Promise<string> {
  const log = await fs.promises.readFile(logPath, 'utf8').catch(() => '');
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs `cleanup` (synchronous: kill the server, delete its dir) if the process exits before it is unregistered. */
function registerExitCleanup(cleanup: () => void): void {
  if (exitCleanups.size === 0 && !process.listeners('exit').includes(runExitCleanups)) {
    process.on('exit', runExitCleanups);
  }
  exitCleanups.add(cleanup);
}

function unregisterExitCleanup(cleanup: () => void): void {
  exitCleanups.delete(cleanup);
}

function runExitCleanups(): void {
  for (const cleanup of exitCleanups) cleanup();
  exitCleanups.clear();
}
