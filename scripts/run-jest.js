#!/usr/bin/env node
// Runs jest with JSON results and ends the run with a plain `N passed, N failed` line read from them.
// Never hangs: jest runs in its own process group (with the workers and test servers it starts), which is
// stopped when the run exceeds RUN_JEST_TIMEOUT_SECONDS (default 900) or when jest is still alive
// RUN_JEST_EXIT_GRACE_SECONDS (default 10) after writing its results (something a test started is still open).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const resultsFile = path.join('test-reports', 'jest-results.json');
const timeoutSeconds = positiveNumber('RUN_JEST_TIMEOUT_SECONDS', 900);
const exitGraceSeconds = positiveNumber('RUN_JEST_EXIT_GRACE_SECONDS', 10);
/** How long the group gets to shut down on SIGTERM (test servers stop cleanly) before SIGKILL. */
const TERM_GRACE_MS = 5_000;
const POLL_MS = 250;

function positiveNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) {
    console.error(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM to every process of the group, SIGKILL to what is left after TERM_GRACE_MS. */
async function stopGroup(pgid, firstSignal = 'SIGTERM') {
  signalGroup(pgid, firstSignal);
  const deadline = Date.now() + TERM_GRACE_MS;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(POLL_MS);
  signalGroup(pgid, 'SIGKILL');
}

/** Resolves with the reason to stop jest (overall timeout, no exit after results), or never. */
function watchdog(startedAt) {
  return new Promise((resolve) => {
    let resultsSeenAt;
    const timer = setInterval(() => {
      const now = Date.now();
      if (now - startedAt > timeoutSeconds * 1000) {
        resolve(`jest did not finish within ${timeoutSeconds} s (RUN_JEST_TIMEOUT_SECONDS)`);
      } else if (resultsSeenAt === undefined && fs.existsSync(resultsFile)) {
        resultsSeenAt = now;
      } else if (resultsSeenAt !== undefined && now - resultsSeenAt > exitGraceSeconds * 1000) {
        resolve(`jest did not exit within ${exitGraceSeconds} s of finishing: a test left something running `
          + '(an open server, socket or timer; find it with --detectOpenHandles)');
      }
    }, POLL_MS);
    timer.unref();
  });
}

/** Runs jest; resolves with its exit status, or 1 when it had to be stopped. */
async function runJest(args) {
  const startedAt = Date.now();
  // detached: jest leads a process group of its own, so stopping it reaches its workers and test servers too.
  const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...args], { stdio: 'inherit', detached: true });
  const exited = new Promise((resolve) => jest.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  // Ctrl-C and `timeout` signal our group, which jest's no longer is: pass the signal on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => void stopGroup(jest.pid, signal));
  }
  const outcome = await Promise.race([exited.then((status) => ({ status })), watchdog(startedAt).then((reason) => ({ reason }))]);
  if (outcome.reason === undefined) {
    // jest is gone; a server a test spawned and forgot must not outlive the run
    if (groupAlive(jest.pid)) await stopGroup(jest.pid);
    return outcome.status;
  }
  console.error(`\nrun-jest: ${outcome.reason}; stopping jest and everything it started`);
  await stopGroup(jest.pid);
  await exited;
  return 1;
}

function summarize(status) {
  let summary = '0 passed, 0 failed';
  try {
    const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    // a suite that failed outside its tests (load error, failing hook) counts as one failure
    const suiteOnlyFailures = results.testResults
      .filter((r) => r.status === 'failed' && !r.assertionResults.some((a) => a.status === 'failed')).length;
    summary = `${results.numPassedTests} passed, ${results.numFailedTests + suiteOnlyFailures} failed`;
    if (results.numPendingTests) summary += `, ${results.numPendingTests} skipped`;
    if (results.numTotalTests === 0) status = status || 1;
  } catch (err) {
    console.error(`could not read ${resultsFile}: ${err.message}`);
    status = status || 1;
  }
  return { summary, status };
}

async function main() {
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.rmSync(resultsFile, { force: true });
  // --ci: never write snapshots, so drift fails instead of being recorded
  const jestStatus = await runJest(['--ci', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)]);
  const { summary, status } = summarize(jestStatus);
  console.log(summary);
  process.exit(status);
}

void main();
