import * as fs from 'fs';
import { App, Stack } from 'aws-cdk-lib';

/** The recorder of test/support/cdk-out-cleanup.ts (jest's setupFilesAfterEnv) sees every App's temporary outdir. */
test('an App without an outdir synthesizes into a recorded folder, which the file\'s afterAll removes', () => {
  const dirs = (globalThis as unknown as Record<symbol, { dirs: Set<string> } | undefined>)[Symbol.for('cdk-secrets-platform.test.cdkOutDirs')];
  expect(dirs).toBeDefined();
  const app = new App();
  new Stack(app, 'Stack');
  const outdir = app.synth().directory;
  expect(fs.existsSync(outdir)).toBe(true);
  expect([...dirs!.dirs]).toContain(outdir);
});
