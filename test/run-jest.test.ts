import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processesMentioning } from './support/processes';

const RUN_JEST = path.join(__dirname, '..', 'scripts', 'run-jest.js');

interface Run {
  readonly status: number | null;
  readonly output: string;
  readonly seconds: number;
}

/**
 * Runs scripts/run-jest.js on a project of plain JavaScript tests in `dir` (its own config, no transform), from
 * `dir`, so its results file is not this run's.
 */
function runJestOn(dir: string, env: Record<string, string>): Promise<Run> {
  const config = JSON.stringify({ rootDir: dir, testMatch: ['<rootDir>/*.test.js'], transform: {}, testTimeout: 600_000 });
  const started = Date.now();
  const child = spawn(process.execPath, [RUN_JEST, '--config', config], { cwd: dir, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, output, seconds: (Date.now() - started) / 1000 })));
}

describe('scripts/run-jest.js', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-jest-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('fails a run whose jest does not exit after its results, and says why', async () => {
    // Run in band (one file), so the listening server is in jest's own process and keeps it alive.
    fs.writeFileSync(path.join(dir, 'leak.test.js'),
      "test('leaves a server listening', () => { require('net').createServer().listen(0, '127.0.0.1'); });\n");
    const run = await runJestOn(dir, { RUN_JEST_EXIT_GRACE_SECONDS: '1' });
    expect(run.status).toBe(1);
    expect(run.output).toContain('run-jest: jest did not exit within 1 s of finishing');
    expect(run.output.trimEnd().split('\n').pop()).toBe('1 passed, 0 failed');
    expect(run.seconds).toBeLessThan(20);
  });

  test('stops jest and every process it started when the run takes too long', async () => {
    // A test that starts a server-like child (named after `dir` so we can find it) and never finishes.
    fs.writeFileSync(path.join(dir, 'stuck.test.js'), [
      "test('never finishes', async () => {",
      `  require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ${JSON.stringify(dir)}]);`,
      '  await new Promise(() => {});',
      '});',
      '',
    ].join('\n'));
    const run = await runJestOn(dir, { RUN_JEST_TIMEOUT_SECONDS: '3' });
    expect(run.status).toBe(1);
    expect(run.output).toContain('run-jest: jest did not finish within 3 s');
    expect(run.seconds).toBeLessThan(20);
    expect(processesMentioning(dir)).toEqual([]);
  });

  test('passes a clean run through', async () => {
    fs.writeFileSync(path.join(dir, 'ok.test.js'), "test('passes', () => { expect(1).toBe(1); });\n");
    const run = await runJestOn(dir, {});
    expect(run.status).toBe(0);
    expect(run.output.trimEnd().split('\n').pop()).toBe('1 passed, 0 failed');
  });
});
