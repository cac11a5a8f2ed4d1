import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { rotatorFunctionIds } from '../../src/private/contract';

/* eslint-disable no-bitwise -- zip headers and CRC-32 are bit fields */

/**
 * scripts/bundle-zips.js: every rotation bundle as a deterministic Lambda deployment package beside its manifest. The
 * zips are read back here with a reader of this file's own (central directory, local headers, CRC-32), not with the
 * writer's code.
 */
const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'bundle-zips.js');
const ASSETS = path.join(ROOT, 'assets');
const ZIPS = path.join(ROOT, 'zip');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { zipFiles, bundleFiles, tableCrc32 } = require(SCRIPT) as {
  zipFiles(files: Array<{ name: string; data: Buffer }>): Buffer;
  bundleFiles(dir: string): Array<{ name: string; data: Buffer }>;
  tableCrc32(data: Buffer): number;
};

const rotators = rotatorFunctionIds().filter((id) => fs.existsSync(path.join(ASSETS, id, 'index.js')));

interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
  readonly crc: number;
  readonly dosTime: number;
  readonly dosDate: number;
  /** Unix mode from the upper 16 bits of the external attributes. */
  readonly mode: number;
  readonly method: number;
}

/** Reads a zip as unzip does: end of central directory, each central entry, its local header, the data; checks CRC-32. */
function readZip(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd).toBe(zip.length - 22);
  const count = zip.readUInt16LE(eocd + 10);
  const directorySize = zip.readUInt32LE(eocd + 12);
  let at = zip.readUInt32LE(eocd + 16);
  expect(at + directorySize).toBe(eocd);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    expect(zip.readUInt32LE(localOffset)).toBe(0x04034b50);
    expect(zip.toString('utf8', localOffset + 30, localOffset + 30 + zip.readUInt16LE(localOffset + 26))).toBe(name);
    expect(zip.readUInt32LE(localOffset + 14)).toBe(crc);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    const data = method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
    expect(data.length).toBe(size);
    expect(crc32(data)).toBe(crc);
    entries.push({ name, data, crc, method, mode, dosTime: zip.readUInt16LE(at + 12), dosDate: zip.readUInt16LE(at + 14) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** CRC-32 (ISO 3309, as zip uses it), bit by bit: independent of zlib.crc32, which the writer uses. */
function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function filesOf(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/')).sort();
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-zips-test-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('there are rotation bundles to pack, the database ones at least', () => {
  expect(rotators).toEqual(expect.arrayContaining(['postgres-single-user', 'mysql-multi-user', 'documentdb-single-user']));
});

test('zip/ holds a zip and a manifest for every rotation bundle and nothing else; assets/ holds no zip', () => {
  const expected = rotators.flatMap((id) => [`${id}.manifest.json`, `${id}.zip`]).sort();
  expect(fs.readdirSync(ZIPS).filter((f) => !f.endsWith('.tmp')).sort()).toEqual(expected);
  // the overdue check is a monitoring function, not a rotation function: no package
  expect(fs.existsSync(path.join(ZIPS, 'rotation-overdue-check.zip'))).toBe(false);
  // what lambda.Code.fromAsset(assets/<id>) uploads stays the bundle alone
  expect(filesOf(ASSETS).filter((f) => f.endsWith('.zip') || f.endsWith('.manifest.json'))).toEqual([]);
});

test.each(rotators)('%s.zip holds every file of assets/%s at its root, CRC-checked, with fixed times and permissions', (id) => {
  const entries = readZip(fs.readFileSync(path.join(ZIPS, `${id}.zip`)));
  const dir = path.join(ASSETS, id);
  // the bundle, its source map and the lazily loaded modules beside it, sorted by name
  expect(entries.map((e) => e.name)).toEqual(filesOf(dir).filter((f) => !f.endsWith('.tmp')));
  expect(entries.map((e) => e.name)).toContain('index.js');
  for (const entry of entries) {
    expect(entry.data.equals(fs.readFileSync(path.join(dir, entry.name)))).toBe(true);
    expect(entry.method).toBe(8);
    expect(entry.mode).toBe(0o100644);
    // 1980-01-01 00:00:00
    expect([entry.dosDate, entry.dosTime]).toEqual([(1 << 5) | 1, 0]);
  }
});

test('the manifest names its zip with the zip\'s base64 SHA-256 (Terraform\'s filebase64sha256)', () => {
  for (const id of rotators) {
    const manifest = JSON.parse(fs.readFileSync(path.join(ZIPS, `${id}.manifest.json`), 'utf8'));
    const zip = fs.readFileSync(path.join(ZIPS, `${id}.zip`));
    expect(manifest.zipFile).toBe(`${id}.zip`);
    expect(manifest.zipSha256).toBe(crypto.createHash('sha256').update(zip).digest('base64'));
  }
});

test('the bundle unpacked from each zip loads on its own and exports handler', () => {
  for (const id of rotators) {
    const dir = path.join(tmp, 'unpacked', id);
    for (const entry of readZip(fs.readFileSync(path.join(ZIPS, `${id}.zip`)))) {
      fs.mkdirSync(path.dirname(path.join(dir, entry.name)), { recursive: true });
      fs.writeFileSync(path.join(dir, entry.name), entry.data);
    }
    // a process of its own, as Lambda loads it; the AWS SDK v3 comes from the runtime there and from node_modules here
    const type = execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(path.join(dir, 'index.js'))}).handler)`], {
      env: { PATH: process.env.PATH, NODE_PATH: path.join(ROOT, 'node_modules') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(type).toBe('function');
  }
}, 300_000);

test('the same bundle gives the same bytes: built twice, and as shipped', () => {
  const outs = ['a', 'b'].map((name) => path.join(tmp, `out-${name}`));
  for (const out of outs) {
    execFileSync(process.execPath, [SCRIPT, '--out', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  }
  const [a, b] = outs;
  expect(fs.readdirSync(a).sort()).toEqual(fs.readdirSync(b).sort());
  for (const file of fs.readdirSync(a)) {
    expect({ file, same: fs.readFileSync(path.join(a, file)).equals(fs.readFileSync(path.join(b, file))) }).toEqual({ file, same: true });
    expect({ file, same: fs.readFileSync(path.join(a, file)).equals(fs.readFileSync(path.join(ZIPS, file))) }).toEqual({ file, same: true });
  }
}, 300_000);

test('neither modification times, permissions nor the order files were written in change a zip', () => {
  const one = path.join(tmp, 'one');
  const two = path.join(tmp, 'two');
  fs.mkdirSync(path.join(one, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(two, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(one, 'index.js'), 'exports.handler = async () => 1;\n');
  fs.writeFileSync(path.join(one, 'sub', 'side.js'), 'module.exports = 2;\n');
  fs.writeFileSync(path.join(one, 'a.js'), 'module.exports = 3;\n');
  // the other way round, later, with other permissions
  fs.writeFileSync(path.join(two, 'a.js'), 'module.exports = 3;\n', { mode: 0o600 });
  fs.writeFileSync(path.join(two, 'sub', 'side.js'), 'module.exports = 2;\n', { mode: 0o700 });
  fs.writeFileSync(path.join(two, 'index.js'), 'exports.handler = async () => 1;\n');
  fs.utimesSync(path.join(two, 'index.js'), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
  // another process's partial file is not part of the bundle
  fs.writeFileSync(path.join(two, 'index.js.123.tmp'), 'partial');

  const zipOne = zipFiles(bundleFiles(one));
  expect(zipFiles(bundleFiles(two)).equals(zipOne)).toBe(true);
  expect(readZip(zipOne).map((e) => [e.name, e.data.toString()])).toEqual([
    ['a.js', 'module.exports = 3;\n'],
    ['index.js', 'exports.handler = async () => 1;\n'],
    ['sub/side.js', 'module.exports = 2;\n'],
  ]);
  // and a changed byte does change it
  fs.writeFileSync(path.join(two, 'a.js'), 'module.exports = 4;\n');
  expect(zipFiles(bundleFiles(two)).equals(zipOne)).toBe(false);
});

test('unzip agrees, where it is installed', () => {
  const unzip = ['/usr/bin/unzip', '/bin/unzip'].find((p) => fs.existsSync(p));
  if (unzip === undefined) return;
  const zip = path.join(ZIPS, `${rotators[0]}.zip`);
  expect(execFileSync(unzip, ['-t', zip], { encoding: 'utf8' })).toMatch(/No errors detected/);
  expect(execFileSync(unzip, ['-Z', zip], { encoding: 'utf8' })).toMatch(/-rw-r--r-- .* unx .* defN 80-Jan-01 00:00 index\.js\n/);
});

test('without zlib.crc32 (Node.js 20 before 20.15) the writer computes the same CRC-32 itself', () => {
  const data = [Buffer.alloc(0), Buffer.from('123456789'), fs.readFileSync(path.join(ASSETS, rotators[0], 'index.js'))];
  // the check value of CRC-32 (ISO 3309) for "123456789"
  expect(tableCrc32(data[1])).toBe(0xcbf43926);
  expect(data.map((d) => tableCrc32(d))).toEqual(data.map((d) => crc32(d)));
});
