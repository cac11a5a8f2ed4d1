import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { ASSETS_DIR } from '../support/rotation-harness';

/**
 * The DocumentDB bundles parse connection strings with mongodb-connection-string-url on Node.js's built-in WHATWG URL
 * instead of the whatwg-url package (scripts/bundle.js, whatwg-url-builtin). Built here with that plugin, the parser
 * must read every connection string as the original does; the shipped bundles must not contain whatwg-url or tr46.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { whatwgUrlBuiltin } = require('../../scripts/bundle.js');
const ROOT = path.join(__dirname, '..', '..');

type Parser = new (uri: string) => {
  hosts: string[]; pathname: string; username: string; password: string; isSRV: boolean; searchParams: URLSearchParams; toString(): string;
};

let bundled: Parser;
/** The original, as the driver resolves it (a dependency of mongodb, not of this project). */
const ORIGINAL_PATH = require.resolve('mongodb-connection-string-url', { paths: [path.dirname(require.resolve('mongodb'))] });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const original: Parser = require(ORIGINAL_PATH).default;

beforeAll(async () => {
  const result = await esbuild.build({
    stdin: { contents: `module.exports = require(${JSON.stringify(ORIGINAL_PATH)});`, resolveDir: ROOT },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    plugins: [whatwgUrlBuiltin],
    metafile: true,
  });
  expect(Object.keys(result.metafile!.inputs).filter((f) => /whatwg-url[\\/]|tr46/.test(f))).toEqual([]);
  const module = { exports: {} as { default: Parser } };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('module', 'exports', 'require', result.outputFiles[0].text)(module, module.exports, require);
  bundled = module.exports.default;
});

function read(Parser: Parser, uri: string) {
  try {
    const cs = new Parser(uri);
    return {
      hosts: cs.hosts,
      pathname: cs.pathname,
      username: cs.username,
      password: cs.password,
      isSRV: cs.isSRV,
      params: [...cs.searchParams.entries()],
      text: cs.toString(),
    };
  } catch (err) {
    return { error: (err as Error).name };
  }
}

test.each([
  'mongodb://docdb.cluster-abc.eu-west-1.docdb.amazonaws.com:27017/?replicaSet=rs0&retryWrites=false',
  'mongodb://127.0.0.1:40123/',
  'mongodb://[::1]:27017/admin?tls=true',
  'mongodb://host-a:1,host-b:2,host-c/?readPreference=secondaryPreferred',
  'mongodb://user%40x:p%3Ass@h:27017/db?authSource=admin&authMechanism=SCRAM-SHA-1',
  'mongodb+srv://cluster.example.com/?retryWrites=false',
  'mongodb://BÜCHER.example:27017/',
  'mongodb://xn--bcher-kva.example/',
  'mongodb://h/?a=1&a=2&b=%20x+y',
  'mongodb://h:notaport/',
  'mongodb://h/?tls=true#frag',
  'mongodb://h/path/with spaces',
  'mongodb://user:p@ss@h/',
  'postgres://h/',
])('%s reads the same with the built-in URL as with whatwg-url', (uri) => {
  expect(read(bundled, uri)).toEqual(read(original, uri));
});

test.each(['documentdb-single-user', 'documentdb-multi-user'])('%s bundles neither whatwg-url nor tr46', (id) => {
  const map = JSON.parse(fs.readFileSync(path.join(ASSETS_DIR, id, 'index.js.map'), 'utf8'));
  expect(map.sources.filter((s: string) => /node_modules\/(whatwg-url|tr46|webidl-conversions)\//.test(s))).toEqual([]);
  expect(map.sources.some((s: string) => s.includes('node_modules/mongodb-connection-string-url/'))).toBe(true);
});
