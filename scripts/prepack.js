#!/usr/bin/env node
// npm's prepack hook (npm pack, npm publish, installs from git): the tarball must always hold the handler bundles,
// the rotation kit (kit/) and a compiled library. Bundling is cheap and always runs; the jsii compile runs only when
// its output is missing or older than a source file, so `npm pack` right after `npm test` does not compile twice.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const projen = (task) => execFileSync('npx', ['projen', task], { cwd: ROOT, stdio: 'inherit' });

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
  }
  return newest;
}

function compiledIsCurrent() {
  const manifest = path.join(ROOT, '.jsii');
  if (!fs.existsSync(manifest) || !fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) return false;
  return fs.statSync(manifest).mtimeMs >= newestMtime(path.join(ROOT, 'src'));
}

// the bundles and the published kit (`cdk-secrets-platform/kit`) always: projen's compile task is jsii alone (the
// pre-compile task that also builds them runs only in `build`)
projen('bundle');
projen('kit');
if (!compiledIsCurrent()) projen('compile');
