import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Every `App` without an `outdir` synthesizes into a new `$TMPDIR/cdk.outXXXXXX` that aws-cdk-lib never removes: about
 * 500 folders, with copies of the handler bundles, per test run. This file (jest's setupFilesAfterEnv) records the
 * ones this test file's process creates and removes them after the file. Only its own: jest's workers run side by side.
 */
const RECORDER = Symbol.for('cdk-secrets-platform.test.cdkOutDirs');

interface Recorder {
  readonly dirs: Set<string>;
}

function recorder(): Recorder {
  const holder = globalThis as unknown as Record<symbol, Recorder | undefined>;
  const existing = holder[RECORDER];
  if (existing) return existing;
  const created: Recorder = { dirs: new Set() };
  holder[RECORDER] = created;
  // aws-cdk-lib creates the folder with fs.mkdtempSync(<tmpdir>/cdk.out); node's own fs object (not the import's
  // wrapper) is shared by every module registry of the worker, so one wrapper per worker sees them all
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs: typeof fs = require('fs');
  const original = nodeFs.mkdtempSync;
  nodeFs.mkdtempSync = ((prefix: string, options?: any) => {
    const dir = original(prefix, options) as string;
    if (path.basename(prefix) === 'cdk.out') created.dirs.add(dir);
    return dir;
  }) as typeof fs.mkdtempSync;
  return created;
}

const dirs = recorder().dirs;

afterAll(() => {
  for (const dir of dirs) {
    // a folder outside the temp folder is never touched
    if (path.dirname(dir) === fs.realpathSync(os.tmpdir()) || path.dirname(dir) === os.tmpdir()) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  dirs.clear();
});
