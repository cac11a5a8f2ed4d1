#!/usr/bin/env node
// Bundles every handler entry `lambda/<id>.ts` into `assets/<id>/index.js` (the code that ships and that tests run).
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const lambdaDir = path.join(root, 'lambda');
const assetsDir = path.join(root, 'assets');

const entries = fs.readdirSync(lambdaDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

fs.rmSync(assetsDir, { recursive: true, force: true });
for (const id of entries) {
  esbuild.buildSync({
    entryPoints: [path.join(lambdaDir, `${id}.ts`)],
    outfile: path.join(assetsDir, id, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // every Node.js Lambda runtime ships SDK v3; tests resolve it from node_modules
    external: ['@aws-sdk/*', 'pg-native'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const size = fs.statSync(path.join(assetsDir, id, 'index.js')).size;
  console.log(`assets/${id}/index.js ${(size / 1024).toFixed(1)} KiB`);
}
