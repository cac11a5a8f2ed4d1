import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RotationCode, RotationEngine } from '../../src';

/** The error `fn` throws, with its stable code. */
function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}

const ROOT = path.resolve(__dirname, '..', '..');

describe('RotationCode', () => {
  afterEach(() => jest.restoreAllMocks());

  test('bundled engines use assets/<id> of the package', () => {
    const root = path.resolve(__dirname, '..', '..');
    expect(RotationCode.bundlePath(RotationEngine.POSTGRES_SINGLE_USER)).toBe(path.join(root, 'assets', 'postgres-single-user'));
    expect(RotationCode.bundlePath(RotationEngine.POSTGRES_MULTI_USER)).toBe(path.join(root, 'assets', 'postgres-multi-user'));
    const code = RotationCode.forEngine(RotationEngine.POSTGRES_SINGLE_USER);
    expect(code).toBeInstanceOf(lambda.AssetCode);
    expect((code as lambda.AssetCode).path).toBe(path.join(root, 'assets', 'postgres-single-user'));
  });

  test('a missing bundle tells the user to run the bundle task', () => {
    const fs = jest.requireActual<typeof import('fs')>('fs');
    const realExists = fs.existsSync;
    jest.spyOn(fs, 'existsSync').mockImplementation((p) => (String(p).endsWith(path.join('postgres-multi-user', 'index.js')) ? false : realExists(p)));
    expect(() => RotationCode.forEngine(RotationEngine.POSTGRES_MULTI_USER))
      .toThrow(/bundled handler for engine 'postgres-multi-user' is missing .*Run `npx projen bundle`/);
  });

  test('custom engines return their own code', () => {
    const code = lambda.Code.fromInline('exports.handler = async () => {}');
    const engine = RotationEngine.custom({ id: 'custom', code });
    expect(RotationCode.forEngine(engine)).toBe(code);
    expect(() => RotationCode.bundlePath(engine)).toThrow(/custom engine and has no bundled handler/);
  });

  test('bundled engines have a deployment package and a manifest in zip/ of the package, outside their asset directory', () => {
    const engine = RotationEngine.MYSQL_MULTI_USER;
    expect(RotationCode.zipPath(engine)).toBe(path.join(ROOT, 'zip', 'mysql-multi-user.zip'));
    expect(RotationCode.manifestPath(engine)).toBe(path.join(ROOT, 'zip', 'mysql-multi-user.manifest.json'));
    expect(RotationCode.zipPath(engine).startsWith(RotationCode.bundlePath(engine) + path.sep)).toBe(false);
  });

  test('the manifest is typed and names the engine, its handler and the runtime', () => {
    for (const engine of [RotationEngine.POSTGRES_SINGLE_USER, RotationEngine.DOCUMENTDB_MULTI_USER]) {
      const manifest = RotationCode.manifest(engine);
      expect(manifest.schemaVersion).toBe(RotationCode.MANIFEST_SCHEMA_VERSION);
      expect(manifest.functionId).toBe(engine.id);
      expect(manifest.handler).toBe(engine.handler);
      expect(manifest.zipFile).toBe(path.basename(RotationCode.zipPath(engine)));
      expect(manifest.runtime).toMatch(/^nodejs\d+\.x$/);
      expect(manifest.environment.map((v) => v.name)).toContain('ROTATION_PASSWORD_POLICY');
      expect(manifest.invokePermission.principal).toBe('secretsmanager.amazonaws.com');
      expect(manifest.policyDocument.Statement.length).toBeGreaterThan(3);
    }
  });

  test('custom engines have no package or manifest: a clear error with its code', () => {
    const engine = RotationEngine.custom({ id: 'custom', code: lambda.Code.fromInline('exports.handler = async () => {}') });
    for (const fn of [() => RotationCode.zipPath(engine), () => RotationCode.manifestPath(engine), () => RotationCode.manifest(engine)]) {
      const error = errorOf(fn);
      expect(error.code).toBe('ROTATION_CODE_CUSTOM_ENGINE');
      expect(error.message).toMatch(/engine 'custom' is a custom engine and has no bundled handler/);
    }
  });

  test('a missing package or manifest tells the user to run the bundle task', () => {
    const fs = jest.requireActual<typeof import('fs')>('fs');
    const realExists = fs.existsSync;
    jest.spyOn(fs, 'existsSync').mockImplementation((p) => (String(p).includes(`${path.sep}zip${path.sep}postgres-multi-user.`) ? false : realExists(p)));
    const engine = RotationEngine.POSTGRES_MULTI_USER;
    for (const fn of [() => RotationCode.zipPath(engine), () => RotationCode.manifest(engine)]) {
      const error = errorOf(fn);
      expect(error.code).toBe('ROTATION_CODE_FILE_MISSING');
      expect(error.message).toMatch(/postgres-multi-user\.(zip|manifest\.json) of engine 'postgres-multi-user' is missing\. Run `npx projen bundle`/);
    }
    expect(RotationCode.zipPath(RotationEngine.POSTGRES_SINGLE_USER)).toMatch(/postgres-single-user\.zip$/);
  });

  test('a manifest that is not JSON, of another version or of another engine is refused with its cause', () => {
    const fs = jest.requireActual<typeof import('fs')>('fs');
    const realRead = fs.readFileSync;
    let contents = '';
    jest.spyOn(fs, 'readFileSync').mockImplementation(((p: import('fs').PathOrFileDescriptor, o?: any) =>
      (String(p).endsWith('postgres-single-user.manifest.json') ? contents : realRead(p, o))) as typeof fs.readFileSync);

    contents = '{"schemaVersion": 1,';
    const notJson = errorOf(() => RotationCode.manifest(RotationEngine.POSTGRES_SINGLE_USER));
    expect(notJson.code).toBe('ROTATION_CODE_INVALID_MANIFEST');
    expect(notJson.message).toMatch(/is not readable JSON; rebuild it with `npx projen bundle`/);
    expect(notJson.cause).toBeInstanceOf(SyntaxError);

    const real = JSON.parse(realRead(path.join(ROOT, 'zip', 'postgres-single-user.manifest.json'), 'utf8'));
    for (const wrong of [{ ...real, schemaVersion: 2 }, { ...real, functionId: 'postgres-multi-user' }, [real]]) {
      contents = JSON.stringify(wrong);
      const error = errorOf(() => RotationCode.manifest(RotationEngine.POSTGRES_SINGLE_USER));
      expect(error.code).toBe('ROTATION_CODE_INVALID_MANIFEST');
      expect(error.message).toMatch(/is not a version 1 manifest of engine 'postgres-single-user'/);
    }
    contents = JSON.stringify(real);
    expect(RotationCode.manifest(RotationEngine.POSTGRES_SINGLE_USER)).toEqual(real);
  });
});
