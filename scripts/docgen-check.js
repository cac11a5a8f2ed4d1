#!/usr/bin/env node
// Regenerates API.md from the jsii manifest and fails when the committed file was out of date, so the API reference
// users read (and Construct Hub renders) always matches the code. The file is rewritten either way: review and commit.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const target = path.resolve('API.md');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docgen-'));
try {
  const fresh = path.join(dir, 'API.md');
  const docgen = spawnSync(process.execPath, [require.resolve('jsii-docgen/bin/jsii-docgen'), '-o', fresh], { stdio: 'inherit' });
  if (docgen.status !== 0) process.exit(docgen.status ?? 1);
  const generated = fs.readFileSync(fresh, 'utf8');
  const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  if (committed === generated) {
    console.log('API.md is current');
  } else {
    fs.writeFileSync(target, generated);
    console.error('API.md was out of date with the jsii manifest; it has been regenerated: review and commit it');
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
