import { spawn } from 'child_process';
import * as path from 'path';

export interface SnippetRun {
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from the script's last output to its exit; undefined when it did not exit within the limit. */
  readonly exitAfterOutputMs?: number;
  /** The signal that ended the script, if one did. */
  readonly signal?: NodeJS.Signals | null;
}

/**
 * Runs a TypeScript snippet in a fresh node process (cwd: the repository) and waits for it to exit on its own,
 * which it does only when nothing it started is still open. Killed, and reported as not exited, after
 * `silenceLimitMs` without output. How a test proves what a harness leaves behind when its owner ends.
 */
export async function runSnippet(script: string, env: NodeJS.ProcessEnv, silenceLimitMs: number): Promise<SnippetRun> {
  const root = path.join(__dirname, '..', '..');
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    env: { ...process.env, ...env, TS_NODE_PROJECT: path.join(root, 'test', 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let lastOutput = Date.now();
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    lastOutput = Date.now();
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    lastOutput = Date.now();
  });
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(Date.now() - lastOutput)));
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<undefined>((resolve) => {
    timer = setInterval(() => {
      if (Date.now() - lastOutput >= silenceLimitMs) resolve(undefined);
    }, 100);
  });
  const exitAfterOutputMs = await Promise.race([exited, silence]);
  clearInterval(timer);
  if (exitAfterOutputMs === undefined) {
    child.kill('SIGKILL');
    await exited;
  }
  return { stdout, stderr, exitAfterOutputMs, signal: child.signalCode };
}

/** The snippet's stdout as one JSON value a line. */
export function jsonLines(run: SnippetRun): unknown[] {
  return run.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}
