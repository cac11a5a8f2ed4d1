import * as fs from 'fs';
import * as path from 'path';
import { HELD_BACK, rows } from './rows';
import { BUNDLED_ENGINES, FunctionId } from '../../../src/private/contract';

/** The suite's own coverage: every bundled engine runs somewhere, and every family's file runs its family. */

test('every bundled engine has its row (on its own server or a stand-in); only the held-back ones are left out', () => {
  const expected = (Object.keys(BUNDLED_ENGINES) as FunctionId[])
    .filter((id) => !HELD_BACK[id] || process.env.CONFORMANCE_HELD_BACK === 'run');
  expect(rows().map((r) => r.id).sort()).toEqual(expected.sort());
});

test('every family with a bundled engine has its test file, which runs that family and nothing else; no other file exists', () => {
  const families = [...new Set(Object.values(BUNDLED_ENGINES).map((e) => e.family))].sort();
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.ts') && f !== path.basename(__filename)).sort();
  expect(files).toEqual(families.map((f) => `${f}.test.ts`).sort());
  for (const family of families) {
    const text = fs.readFileSync(path.join(__dirname, `${family}.test.ts`), 'utf8');
    expect(text.match(/conformanceSuite\('([a-z]+)'\)/g)).toEqual([`conformanceSuite('${family}')`]);
  }
});
