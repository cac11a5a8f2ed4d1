#!/usr/bin/env node
// Runs jest with JSON results and ends the run with a plain `N passed, N failed` line read from them.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const resultsFile = path.join('test-reports', 'jest-results.json');
fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
fs.rmSync(resultsFile, { force: true });

// --ci: never write snapshots, so drift fails instead of being recorded
const args = ['--ci', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)];
const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], { stdio: 'inherit' });

let summary = '0 passed, 0 failed';
let status = jest.status ?? 1;
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
console.log(summary);
process.exit(status);
