import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * scripts/run-lanes.js runs the checks before jest in parallel lanes. It is run here with a stand-in `npx` first on
 * PATH, which plays each "projen task" as told by its name: `ok-<ms>` sleeps and succeeds, `fail-<ms>` sleeps and
 * fails, and every task records its start and end in a log, so order, overlap and stopping are observable.
 */
const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'run-lanes.js');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-lanes-test-'));
  const fakeNpx = [
    '#!/bin/sh',
    '# npx projen <task>',
    'task="$2"',
    'echo "start $task" >> "$LANES_LOG"',
    'echo "output of $task"',
    'ms="${task#*-}"',
    'sleep "$(echo "$ms" | awk \'{ print $1 / 1000 }\')"',
    'echo "end $task" >> "$LANES_LOG"',
    'case "$task" in fail-*) exit 3 ;; esac',
    'exit 0',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'npx'), `${fakeNpx}\n`, { mode: 0o755 });
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function runLanes(...lanes: string[]) {
  const log = path.join(dir, `log-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(log, '');
  const started = Date.now();
  const result = spawnSync(process.execPath, [SCRIPT, ...lanes], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, LANES_LOG: log },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { ...result, elapsedMs: Date.now() - started, events: fs.readFileSync(log, 'utf8').trim().split('\n') };
}

test('lanes run at the same time, tasks within a lane one after the other; every task\'s output is printed', () => {
  const { status, stdout, events } = runLanes('ok-600 ok-10', 'ok-300');
  expect(status).toBe(0);
  // the second lane starts before the first lane's first task ends
  expect(events.indexOf('start ok-300')).toBeLessThan(events.indexOf('end ok-600'));
  // within a lane, the next task starts only after the previous one ended
  expect(events.indexOf('end ok-600')).toBeLessThan(events.indexOf('start ok-10'));
  for (const task of ['ok-600', 'ok-10', 'ok-300']) expect(stdout).toContain(`output of ${task}`);
  expect(stdout).toMatch(/lanes: ok-600, ok-10 passed/);
});

test('a lane\'s output is one block, never interleaved with another lane\'s', () => {
  const { stdout } = runLanes('ok-100 ok-100', 'ok-50 ok-200');
  const lines = stdout.split('\n').filter((l) => l.startsWith('output of') || l.startsWith('lanes:'));
  const laneOf = (line: string) => (/ok-50|ok-200/.test(line) ? 2 : 1);
  // each lane's lines are contiguous: at most one switch between lanes
  const switches = lines.slice(1).filter((line, i) => laneOf(line) !== laneOf(lines[i])).length;
  expect(switches).toBe(1);
});

test('the first failure stops the other lanes at once, skips their remaining tasks and sets the exit status', () => {
  const { status, stderr, events, elapsedMs } = runLanes('fail-100', 'ok-20000 ok-10');
  expect(status).toBe(3);
  expect(stderr).toContain("'fail-100' (lane 1) failed with status 3");
  // the long task was stopped, never finished, and the lane's next task never started
  expect(events).toContain('start ok-20000');
  expect(events).not.toContain('end ok-20000');
  expect(events).not.toContain('start ok-10');
  expect(elapsedMs).toBeLessThan(15_000);
});

test('a lane fails when any of its tasks fails, also a later one', () => {
  const { status, events } = runLanes('ok-10 fail-10 ok-10', 'ok-10');
  expect(status).toBe(3);
  // lane 1's third task never starts: 'ok-10' starts once in each lane, no more
  expect(events.filter((e) => e === 'start ok-10')).toHaveLength(2);
});

test('no lane or an empty lane is a usage error', () => {
  expect(runLanes().status).toBe(2);
  expect(runLanes('ok-10', ' ').status).toBe(2);
});
