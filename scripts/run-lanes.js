#!/usr/bin/env node
// Runs projen tasks in parallel lanes: each argument is one lane, a space-separated list of tasks run one after the
// other (`node scripts/run-lanes.js "typecheck eslint" "compile docgen:check integ"`). The checks before jest are each
// single-threaded, so two lanes use both cores of a two-core machine instead of one.
// A lane's output is held and printed as one block when the lane ends, so lanes never interleave. The first lane to
// fail stops the others (their whole process groups) and the script exits with its status; nothing is left running.
'use strict';
const { spawn } = require('child_process');

const lanes = process.argv.slice(2).map((arg) => arg.split(/\s+/).filter(Boolean));
if (lanes.length === 0 || lanes.some((tasks) => tasks.length === 0)) {
  console.error('usage: run-lanes.js "<task> <task>..." "<task>..."');
  process.exit(2);
}

const running = new Set();
let failed = false;

/** Runs one task in its own process group, appending its output to `out`; resolves with its exit status. */
function runTask(task, out) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['projen', task], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => out.push(chunk));
    child.on('error', (err) => {
      out.push(Buffer.from(`${task}: ${err.message}\n`));
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

function stopOthers() {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

async function runLane(tasks, index) {
  const out = [];
  const start = Date.now();
  for (const task of tasks) {
    if (failed) return 0;
    const status = await runTask(task, out);
    if (status !== 0) {
      if (failed) return 0; // stopped because another lane failed first: its report is the one that matters
      failed = true;
      stopOthers();
      process.stdout.write(Buffer.concat(out));
      console.error(`lanes: '${task}' (lane ${index + 1}) failed with status ${status}; the other lanes were stopped`);
      return status;
    }
  }
  process.stdout.write(Buffer.concat(out));
  console.log(`lanes: ${tasks.join(', ')} passed in ${((Date.now() - start) / 1000).toFixed(0)} s`);
  return 0;
}

for (const name of ['SIGINT', 'SIGTERM']) {
  process.on(name, () => {
    failed = true;
    stopOthers();
    process.exit(130);
  });
}

Promise.all(lanes.map(runLane)).then((statuses) => {
  process.exitCode = statuses.find((s) => s !== 0) ?? 0;
});
