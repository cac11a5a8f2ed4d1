#!/usr/bin/env node
// Packs every rotation bundle `assets/<id>/` into a Lambda deployment package `zip/<id>.zip` and writes its manifest
// `zip/<id>.manifest.json` (src/private/bundle-manifest.ts), for AWS SAM and Terraform users. Runs after
// scripts/bundle.js (the `bundle` task).
//
// The zips live outside assets/ so that `lambda.Code.fromAsset(assets/<id>)` never uploads them, and so that
// scripts/bundle.js, which removes whatever in assets/ is not a bundle, never removes them while tests read them.
//
// A zip is deterministic: the same files give the same bytes (entries sorted by name, a fixed time stamp, fixed
// permissions, no extra fields), so its hash changes only when the code does. Each file is replaced atomically.
//
// Usage: node scripts/bundle-zips.js [--out DIR] [--assets DIR]
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');
const zlib = require('zlib');

const root = path.resolve(__dirname, '..');

/** 1980-01-01 00:00:00, the earliest time a zip entry can state (MS-DOS date and time, both fields). */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** Unix regular file, rw-r--r--: Lambda needs the files readable by the runtime's user, whatever the build's umask. */
const EXTERNAL_ATTRIBUTES = ((0o100644 << 16) >>> 0);
/** Made by Unix (3), zip specification 2.0 (deflate). */
const VERSION_MADE_BY = (3 << 8) | 20;
const VERSION_NEEDED = 20;
/** Bit 11: names are UTF-8. */
const FLAGS = 0x0800;
const DEFLATE = 8;

let crcTable;

/** CRC-32 (ISO 3309, as zip uses it), table-driven: for Node.js 20 before 20.15, which has no zlib.crc32. */
function tableCrc32(data) {
  crcTable ??= Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** zlib's CRC-32 where Node.js has it; the package supports every Node.js 20, and so does its build. */
const crc32 = typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : tableCrc32;

/**
 * A zip archive of the given files (`name` relative, `/`-separated; `data` a Buffer), in the given order. Writes a
 * local header and deflated data per file, then the central directory. No zip64: a bundle is far below 4 GiB.
 */
function zipFiles(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = zlib.deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(FLAGS, 6);
    local.writeUInt16LE(DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(FLAGS, 8);
    central.writeUInt16LE(DEFLATE, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    // extra field, comment, disk number, internal attributes: none
    central.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * Every file of a bundle directory (the bundle, its source map and the lazily loaded modules beside it), sorted by
 * name. Another process's half-written `.tmp` files are not part of the bundle.
 */
function bundleFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'))
    .sort()
    .map((name) => ({ name, data: fs.readFileSync(path.join(dir, ...name.split('/'))) }));
}

function writeAtomically(file, contents) {
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, contents);
  fs.renameSync(partial, file);
}

/**
 * src/private/bundle-manifest.ts and what it imports, compiled by esbuild into one module that is never written: the
 * manifests come from the same construct code that deploys the functions, before jsii compiles lib/. Its file name sits
 * at the depth of src/<dir>/, so RotationCode's paths (`__dirname/../../assets`) hold.
 */
function loadManifestBuilder() {
  const esbuild = require('esbuild');
  const filename = path.join(root, 'src', 'private', 'bundle-manifest.build.js');
  const result = esbuild.buildSync({
    entryPoints: [path.join(root, 'src', 'private', 'bundle-manifest.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile: filename,
    logLevel: 'warning',
  });
  const mod = new Module(filename, module);
  mod.filename = filename;
  mod.paths = Module._nodeModulePaths(path.dirname(filename));
  mod._compile(result.outputFiles[0].text, filename);
  return mod.exports;
}

function parseArgs(argv) {
  const options = { out: path.join(root, 'zip'), assets: path.join(root, 'assets') };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in options) || argv[i + 1] === undefined) throw new Error(`usage: bundle-zips.js [--out DIR] [--assets DIR] (got ${argv[i]})`);
    options[key] = path.resolve(argv[i + 1]);
  }
  return options;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const builder = loadManifestBuilder();
  const { rotatorFunctionIds } = builder;
  fs.mkdirSync(options.out, { recursive: true });
  const written = new Set();
  const missing = [];
  // every rotator whose bundle exists: a handler added to lambda/handlers/ is packed without a change here
  for (const id of rotatorFunctionIds().filter((fid) => fs.existsSync(path.join(options.assets, fid, 'index.js')))) {
    const zip = zipFiles(bundleFiles(path.join(options.assets, id)));
    let manifest;
    try {
      manifest = builder.buildBundleManifest(id, {
        fileName: `${id}.zip`,
        sha256: crypto.createHash('sha256').update(zip).digest('base64'),
      });
    } catch (err) {
      // a bundle whose engine is not registered yet is not packed (the bundle-zips test fails on it); anything else stops
      if (err.code !== 'BUNDLE_MANIFEST_NO_ENGINE') throw err;
      missing.push(id);
      continue;
    }
    writeAtomically(path.join(options.out, `${id}.zip`), zip);
    writeAtomically(path.join(options.out, `${id}.manifest.json`), `${JSON.stringify(manifest, null, 2)}\n`);
    written.add(`${id}.zip`).add(`${id}.manifest.json`);
    console.log(`zip/${id}.zip ${(zip.length / 1024).toFixed(1)} KiB`);
  }
  // packages of bundles that no longer exist must not ship (another process's `.tmp` files are left to it)
  for (const stale of fs.readdirSync(options.out).filter((f) => !written.has(f) && !f.endsWith('.tmp'))) {
    fs.rmSync(path.join(options.out, stale), { force: true });
  }
  for (const id of missing) {
    console.warn(`bundle-zips: assets/${id} has no RotationEngine with id '${id}'; no zip or manifest was written for it`);
  }
}

module.exports = { zipFiles, bundleFiles, tableCrc32 };
if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}
