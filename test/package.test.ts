import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as os from 'os';
import * as path from 'path';
import { FUNCTION_IDS, MONITORING_FUNCTION_IDS, rotatorFunctionIds } from '../src/private/contract';

/**
 * The npm tarball is what users install. `npm pack` runs the prepack hook (bundles, and a compile when the compiled
 * library is missing or stale), and the installed package synthesizes an app whose rotation functions carry the
 * bundles, with no source checkout around.
 */
const ROOT = path.join(__dirname, '..');
let dir: string;
let tarball: string;
let files: string[];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'package-test-'));
  execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  tarball = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}, 300_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds every handler bundle (and each rotator as a zip with its manifest), the compiled library, its manifest, the rotation kit and docs', () => {
  for (const id of [...rotatorFunctionIds(), ...Object.values(MONITORING_FUNCTION_IDS)]) expect(files).toContain(`assets/${id}/index.js`);
  for (const id of rotatorFunctionIds()) expect(files).toEqual(expect.arrayContaining([`zip/${id}.zip`, `zip/${id}.manifest.json`]));
  expect(files).toEqual(expect.arrayContaining(['lib/index.js', 'lib/index.d.ts', '.jsii', 'README.md', 'API.md', 'docs/rotation.md', 'docs/security.md']));
  expect(files).toEqual(expect.arrayContaining(['kit/index.js', 'kit/index.d.ts', 'kit/types/lambda/kit/public.d.ts']));
});

test('the tarball holds no sources, tests or development files', () => {
  const unwanted = files.filter((f) => /^(src|lambda|test|integ|examples|bench|scripts|projenrc|\.ci|\.projen)\//.test(f) || /\.ts$/.test(f) && !f.endsWith('.d.ts'));
  expect(unwanted).toEqual([]);
});

test('installed into a throwaway app, the package synthesizes rotation functions whose code is the shipped bundles', () => {
  const app = path.join(dir, 'app');
  const installed = path.join(app, 'node_modules', 'cdk-secrets-platform');
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  // the peer dependencies an app brings itself
  for (const peer of ['aws-cdk-lib', 'constructs']) fs.symlinkSync(path.join(ROOT, 'node_modules', peer), path.join(app, 'node_modules', peer));
  fs.writeFileSync(path.join(app, 'app.js'), `
    const { App, Stack } = require('aws-cdk-lib');
    const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
    const { RotationEngine, SecretRotation } = require('cdk-secrets-platform');
    const app = new App({ outdir: 'cdk.out' });
    const stack = new Stack(app, 'Throwaway');
    const master = new secretsmanager.Secret(stack, 'Master');
    new SecretRotation(stack, 'Single', { secret: new secretsmanager.Secret(stack, 'A'), engine: RotationEngine.POSTGRES_SINGLE_USER });
    new SecretRotation(stack, 'Multi', { secret: new secretsmanager.Secret(stack, 'B'), engine: RotationEngine.POSTGRES_MULTI_USER, masterSecret: master });
    app.synth();
  `);
  execFileSync(process.execPath, ['app.js'], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] });

  const out = path.join(app, 'cdk.out');
  const staged = fs.readdirSync(out).filter((d) => d.startsWith('asset.')).map((d) => path.join(out, d, 'index.js')).filter((f) => fs.existsSync(f));
  const stagedCode = staged.map((f) => fs.readFileSync(f, 'utf8'));
  for (const id of [FUNCTION_IDS.POSTGRES_SINGLE_USER, FUNCTION_IDS.POSTGRES_MULTI_USER]) {
    const shipped = fs.readFileSync(path.join(installed, 'assets', id, 'index.js'), 'utf8');
    expect(shipped.length).toBeGreaterThan(10_000);
    expect(stagedCode).toContain(shipped);
  }
});

/** The tarball unpacked as `node_modules/cdk-secrets-platform` of a new app directory; returns the app directory. */
function installInto(name: string): string {
  const app = path.join(dir, name);
  const installed = path.join(app, 'node_modules', 'cdk-secrets-platform');
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  return app;
}

test('the kit requires nothing but Node.js built-ins and the AWS SDK: users install no database driver', () => {
  const kit = fs.readFileSync(path.join(installInto('kit-requires'), 'node_modules', 'cdk-secrets-platform', 'kit', 'index.js'), 'utf8');
  const required = [...kit.matchAll(/\brequire\(\s*(["'`])([^"'`]+)\1\s*\)/g)].map((m) => m[2]);
  const builtins = new Set(builtinModules);
  expect(required.filter((m) => !m.startsWith('@aws-sdk/') && !builtins.has(m.replace(/^node:/, '')))).toEqual([]);
  expect(required).toContain('@aws-sdk/client-secrets-manager');
  // nothing loaded any other way
  expect(kit).not.toMatch(/\bimport\s*\(|\brequire\(\s*[^"'`\s]/);
});

test('an app importing cdk-secrets-platform/kit type-checks against the shipped declarations and runs against the shipped bundle', () => {
  const app = installInto('kit-consumer');
  // what an app installs for its own tests: the AWS SDK (the Lambda runtime has it) and Node.js types
  for (const scope of ['@aws-sdk', '@types']) fs.symlinkSync(path.join(ROOT, 'node_modules', scope), path.join(app, 'node_modules', scope));
  fs.writeFileSync(path.join(app, 'rotator.ts'), `
    import { ERROR_CODES, InvalidSecretValueError, RotationError, RotatorContext, createCustomRotationHandler } from 'cdk-secrets-platform/kit';

    interface ApiKey { readonly url: string; readonly api_key: string }

    const lines: string[] = [];
    export const handler = createCustomRotationHandler<ApiKey>({
      name: 'consumer',
      field: 'api_key',
      parse: (fields, role) => {
        if (typeof fields.url !== 'string') throw new InvalidSecretValueError(role, 'url must be a string');
        return { url: fields.url, api_key: String(fields.api_key) };
      },
      async setPending({ pending, ctx }: { pending: ApiKey; ctx: RotatorContext }) {
        await ctx.call('set', async () => pending.url);
      },
      async testPending() {},
    }, { log: (line) => lines.push(line) });

    handler({ Step: 'nope' }, { getRemainingTimeInMillis: () => 10_000 }).then(
      () => process.exit(1),
      (err: unknown) => {
        const code = err instanceof RotationError ? err.code : undefined;
        console.log(JSON.stringify({ code, known: code === ERROR_CODES.INVALID_EVENT, line: JSON.parse(lines[0]) }));
      },
    );
  `);
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      module: 'node16',
      moduleResolution: 'node16',
      target: 'ES2022',
      lib: ['es2022'],
      types: ['node'],
      outDir: 'out',
      // the shipped declarations themselves are checked too
      skipLibCheck: false,
    },
    files: ['rotator.ts'],
  }));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = JSON.parse(execFileSync(process.execPath, ['out/rotator.js'], { cwd: app, encoding: 'utf8' }));
  expect(out).toEqual({
    code: 'INVALID_EVENT',
    known: true,
    line: expect.objectContaining({ outcome: 'failed', errorCode: 'INVALID_EVENT', engine: 'consumer' }),
  });
}, 120_000);
