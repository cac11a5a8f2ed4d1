import * as fs from 'fs';
import * as path from 'path';
import { RotationCode, RotationEngine } from '../../src';
import {
  BUNDLED_ENGINES, CLONE_SUFFIX, DATABASE_ENGINE_DEFAULTS, FUNCTION_IDS, MONITORING_FUNCTION_IDS, OAUTH_FUNCTION_IDS, SECRET_ENGINES,
  bundledEngineSpec, rotatorFunctionIds,
} from '../../src/private/contract';
import { initLoad } from '../support/bundle-init';
import { ASSETS_DIR } from '../support/rotation-harness';

/** What a bundle loads at init is what every cold start pays for; a module only some paths use loads on those paths. */
const ROOT = path.join(__dirname, '..', '..');

/** The modules under node_modules that a fresh Node process has loaded after requiring the bundle. */
function loadedAtInit(id: string): string[] {
  return initLoad(id).files.filter((f) => f.includes('node_modules'));
}

test.each(Object.values(FUNCTION_IDS))('%s does not load the RDS client at init', (id) => {
  const loaded = loadedAtInit(id);
  expect(loaded.some((f) => f.includes('@aws-sdk/client-secrets-manager'))).toBe(true);
  expect(loaded.filter((f) => f.includes('@aws-sdk/client-rds'))).toEqual([]);
});

test.each(Object.values(OAUTH_FUNCTION_IDS))('%s loads the Secrets Manager client at init and nothing else from node_modules', (id) => {
  const loaded = loadedAtInit(id);
  expect(loaded.some((f) => f.includes('@aws-sdk/client-secrets-manager'))).toBe(true);
  const packages = new Set(loaded.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)![1]));
  expect([...packages].filter((p) => !/^@(aws-sdk|smithy|aws|aws-crypto)\//.test(p) || p === '@aws-sdk/client-rds')).toEqual([]);
});

test('the overdue check loads the AWS SDK at init and nothing else from node_modules (no driver, no RDS client)', () => {
  const loaded = loadedAtInit(MONITORING_FUNCTION_IDS.OVERDUE_CHECK);
  expect(loaded.some((f) => f.includes('@aws-sdk/client-secrets-manager'))).toBe(true);
  const packages = new Set(loaded.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)![1]));
  expect([...packages].filter((p) => !/^@(aws-sdk|smithy|aws|aws-crypto)\//.test(p) || p === '@aws-sdk/client-rds')).toEqual([]);
});

describe('the engine registry is the one list of bundled engines', () => {
  const ids = Object.values(FUNCTION_IDS).sort();

  test('every function id has one registry entry, and nothing else has one', () => {
    expect(Object.keys(BUNDLED_ENGINES).sort()).toEqual(ids);
  });

  test('every registry entry, OAuth rotator and monitoring function has one handler entry and one bundle; no orphan entry or bundle exists', () => {
    const expected = [...rotatorFunctionIds(), ...Object.values(MONITORING_FUNCTION_IDS)].sort();
    const entries = fs.readdirSync(path.join(ROOT, 'lambda', 'handlers')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
    const bundles = fs.readdirSync(ASSETS_DIR).filter((d) => fs.existsSync(path.join(ASSETS_DIR, d, 'index.js'))).sort();
    expect({ entries, bundles }).toEqual({ entries: expected, bundles: expected });
  });

  test('monitoring function ids are not engine ids', () => {
    for (const id of Object.values(MONITORING_FUNCTION_IDS)) expect(Object.keys(BUNDLED_ENGINES)).not.toContain(id);
  });

  test('every registry entry is one RotationEngine static named after its id (MARIADB_MULTI_USER <-> mariadb-multi-user)', () => {
    const statics = Object.entries(RotationEngine)
      .filter((entry): entry is [string, RotationEngine] => entry[1] instanceof RotationEngine)
      .map(([name, engine]) => [name, engine.id]);
    const expected = Object.keys(BUNDLED_ENGINES).map((id) => [id.toUpperCase().replace(/-/g, '_'), id]);
    // the OAuth rotators are statics too, named like their ids
    const oauth = Object.entries(OAUTH_FUNCTION_IDS);
    expect(statics.sort()).toEqual([...expected, ...oauth].sort());
    // the contract's FUNCTION_IDS keys are the same names
    expect(Object.entries(FUNCTION_IDS).sort()).toEqual(expected.sort());
  });

  test.each(ids)('%s: the RotationEngine static is what the registry and its family say', (id) => {
    const engine = Object.values(RotationEngine).find((e): e is RotationEngine => e instanceof RotationEngine && e.id === id)!;
    const spec = bundledEngineSpec(id);
    expect(engine.isBundled).toBe(true);
    expect(engine.multiUser).toBe(spec.scheme === 'multi-user');
    expect(engine.secretEngines).toEqual([...SECRET_ENGINES[spec.family]]);
    expect(engine.defaultPort).toBe(DATABASE_ENGINE_DEFAULTS[spec.family].port);
    expect(spec.cloneSuffix).toBe(engine.multiUser ? CLONE_SUFFIX : undefined);
    expect(RotationCode.bundlePath(engine)).toBe(path.join(ASSETS_DIR, id));
  });
});
