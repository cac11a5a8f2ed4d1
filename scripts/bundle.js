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
    // smaller bundles load faster at every cold start; names stay readable in errors (err.name, class names) and the
    // source map beside the bundle maps stack traces back (NODE_OPTIONS=--enable-source-maps)
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  // the map first, so a bundle never points at a map that is not there yet
  const outputs = [...result.outputFiles].sort((a, b) => Number(a.path === outfile) - Number(b.path === outfile));
  for (const output of outputs) {
    const partial = `${output.path}.${process.pid}.tmp`;
    fs.writeFileSync(partial, output.contents);
    fs.renameSync(partial, output.path);
  }
  const size = outputs.find((f) => f.path === outfile).contents.length;
  console.log(`assets/${id}/index.js ${(size / 1024).toFixed(1)} KiB`);
}

// bundles of entries that no longer exist must not ship
for (const stale of fs.readdirSync(assetsDir).filter((d) => !entries.includes(d))) {
  fs.rmSync(path.join(assetsDir, stale), { recursive: true, force: true });
}
