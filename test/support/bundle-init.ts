import { execFileSync } from 'child_process';
import * as path from 'path';
import { ASSETS_DIR } from './rotation-harness';

const ROOT = path.join(__dirname, '..', '..');

/** What a fresh Node process has loaded once it has required a bundle: what every cold start of the function pays for. */
export interface InitLoad {
  /** Files in `require.cache` (the bundle, files beside it, and modules from node_modules). */
  readonly files: readonly string[];
  /** Node's built-in modules loaded while requiring the bundle. */
  readonly builtins: readonly string[];
}

/** One fresh process per bundle and test file: the bundles do not change while a test file runs. */
const seen = new Map<string, InitLoad>();

/** Requires `assets/<id>/index.js` in a fresh Node process, the SDK resolvable from node_modules as in the Lambda runtime. */
export function initLoad(id: string): InitLoad {
  const known = seen.get(id);
  if (known) return known;
  const script = 'const before = new Set(process.moduleLoadList);'
    + `require(${JSON.stringify(path.join(ASSETS_DIR, id, 'index.js'))});`
    + 'process.stdout.write(JSON.stringify({ files: Object.keys(require.cache), '
    + 'builtins: process.moduleLoadList.filter((m) => !before.has(m)) }));';
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    encoding: 'utf8',
  });
  const load: InitLoad = JSON.parse(out);
  seen.set(id, load);
  return load;
}
