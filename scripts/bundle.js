#!/usr/bin/env node
// Bundles every handler entry `lambda/handlers/<id>.ts` into `assets/<id>/index.js` (the code that ships and that tests run).
// Each file is replaced atomically (written beside, then renamed), so a test that loads a bundle while another
// process re-bundles (npm pack's prepack during the test run) never reads a half-written file.
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const handlersDir = path.join(root, 'lambda', 'handlers');
const assetsDir = path.join(root, 'assets');

const entries = fs.readdirSync(handlersDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

for (const id of entries) {
  const outfile = path.join(assetsDir, id, 'index.js');
  const result = esbuild.buildSync({
    entryPoints: [path.join(handlersDir, `${id}.ts`)],
    outfile,
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // every Node.js Lambda runtime ships SDK v3; tests resolve it from node_modules
    external: ['@aws-sdk/*', 'pg-native'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  const { contents } = result.outputFiles.find((f) => f.path === outfile);
  const partial = `${outfile}.${process.pid}.tmp`;
  fs.writeFileSync(partial, contents);
  fs.renameSync(partial, outfile);
  console.log(`assets/${id}/index.js ${(contents.length / 1024).toFixed(1)} KiB`);
}

// bundles of entries that no longer exist must not ship
for (const stale of fs.readdirSync(assetsDir).filter((d) => !entries.includes(d))) {
  fs.rmSync(path.join(assetsDir, stale), { recursive: true, force: true });
}
