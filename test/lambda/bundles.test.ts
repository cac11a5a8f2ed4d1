import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { RotationEngine } from '../../src';
import { FUNCTION_IDS } from '../../src/private/contract';
import { ASSETS_DIR } from '../support/rotation-harness';

/** What a bundle loads at init is what every cold start pays for; a module only some paths use loads on those paths. */
const ROOT = path.join(__dirname, '..', '..');

/** The modules under node_modules that a fresh Node process has loaded after requiring the bundle. */
function loadedAtInit(id: string): string[] {
  const script = `require(${JSON.stringify(path.join(ASSETS_DIR, id, 'index.js'))});`
    + 'process.stdout.write(JSON.stringify(Object.keys(require.cache)));';
  // the SDK resolves from the project's node_modules, as it resolves from the runtime's in Lambda
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') }, encoding: 'utf8' });
  return (JSON.parse(out) as string[]).filter((f) => f.includes('node_modules'));
}

test.each(Object.values(FUNCTION_IDS))('%s does not load the RDS client at init', (id) => {
  const loaded = loadedAtInit(id);
  expect(loaded.some((f) => f.includes('@aws-sdk/client-secrets-manager'))).toBe(true);
  expect(loaded.filter((f) => f.includes('@aws-sdk/client-rds'))).toEqual([]);
});

test('every function id of the contract has one handler entry, one bundle and one RotationEngine static; nothing else exists', () => {
  const ids = Object.values(FUNCTION_IDS).sort();
  const entries = fs.readdirSync(path.join(ROOT, 'lambda', 'handlers')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  const bundles = fs.readdirSync(ASSETS_DIR).filter((d) => fs.existsSync(path.join(ASSETS_DIR, d, 'index.js'))).sort();
  const statics = Object.values(RotationEngine).filter((e): e is RotationEngine => e instanceof RotationEngine).map((e) => e.id).sort();
  expect({ entries, bundles, statics }).toEqual({ entries: ids, bundles: ids, statics: ids });
});
