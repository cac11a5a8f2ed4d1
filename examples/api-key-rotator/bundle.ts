/**
 * Bundles the example rotator (rotator.ts) with esbuild at synth, as an app that installed the package would bundle its
 * own: CommonJS for Node.js 20, the AWS SDK left to the Lambda runtime. In this repository the rotator's import of
 * `cdk-secrets-platform/kit` is mapped to the kit's source by an esbuild `alias` (the typecheck maps it by
 * examples/tsconfig.json `paths`); an app with the package installed needs neither and gets `kit/index.js`.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');
/** The user's rotator. */
export const ROTATOR_SOURCE = path.join(__dirname, 'rotator.ts');

/**
 * Bundles rotator.ts into `<dir>/index.js` and returns the directory (for `lambda.Code.fromAsset`). The directory is
 * named by the bundle's content (under node_modules/.cache), so every synth of the same code gets the same asset and concurrent synths (parallel
 * test workers) write identical files; each file is written beside, then renamed, so no reader sees half of it.
 */
export function bundleRotator(): string {
  const result = esbuild.buildSync({
    entryPoints: [ROTATOR_SOURCE],
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    external: ['@aws-sdk/*'],
    alias: { 'cdk-secrets-platform/kit': path.join(ROOT, 'lambda', 'kit', 'public.ts') },
  });
  const code = result.outputFiles[0].contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  // inside the checkout, so the AWS SDK resolves from node_modules when tests and the demo load the bundle
  const dir = path.join(ROOT, 'node_modules', '.cache', 'cdk-secrets-platform-examples', `api-key-rotator-${hash}`);
  const file = path.join(dir, 'index.js');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, file);
  }
  return dir;
}
