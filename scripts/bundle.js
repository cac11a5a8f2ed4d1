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

/**
 * pg picks its socket implementation at load: outside Cloudflare Workers it is `net.Socket` / `tls.connect`. On a runtime
 * without `navigator` (Node.js 20) its Workers check constructs a `Response`, which loads Node's internal fetch
 * implementation at init: tens of milliseconds of every cold start for nothing. The bundle gets the Node.js branch only.
 * The original is checked first, so a pg release that changes the module fails the build instead of breaking sockets.
 */
const pgNodeStreams = {
  name: 'pg-node-streams',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const original = fs.readFileSync(args.path, 'utf8');
      for (const expected of ['getNodejsStreamFuncs', 'getStream,', 'getSecureStream,', 'isCloudflareRuntime']) {
        if (!original.includes(expected)) {
          throw new Error(`${args.path} no longer has ${expected}: review the pg-node-streams plugin in scripts/bundle.js`);
        }
      }
      return {
        loader: 'js',
        contents: [
          "'use strict';",
          "const net = require('net');",
          "const tls = require('tls');",
          'module.exports = { getStream: () => new net.Socket(), getSecureStream: (options) => tls.connect(options) };',
        ].join('\n'),
      };
    });
  },
};

async function bundle(id) {
  const outfile = path.join(assetsDir, id, 'index.js');
  const result = await esbuild.build({
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
    plugins: [pgNodeStreams],
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

async function main() {
  for (const id of entries) await bundle(id);
  // bundles of entries that no longer exist must not ship
  for (const stale of fs.readdirSync(assetsDir).filter((d) => !entries.includes(d))) {
    fs.rmSync(path.join(assetsDir, stale), { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
