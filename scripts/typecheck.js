#!/usr/bin/env node
// Type-checks every directory that has its own tsconfig.json and at least one TypeScript file (src/ is jsii's job).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dirs = process.argv.slice(2);

function hasTypeScript(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'cdk.out') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() ? hasTypeScript(full) : entry.name.endsWith('.ts')) return true;
  }
  return false;
}

let failed = false;
for (const dir of dirs) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(path.join(abs, 'tsconfig.json')) || !hasTypeScript(abs)) {
    console.log(`typecheck ${dir}: no sources`);
    continue;
  }
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', path.join(dir, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
  console.log(`typecheck ${dir}: ${tsc.status === 0 ? 'ok' : 'FAILED'}`);
  failed = failed || tsc.status !== 0;
}
process.exit(failed ? 1 : 0);
