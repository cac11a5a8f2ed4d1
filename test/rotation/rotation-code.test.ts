import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RotationCode, RotationEngine } from '../../src';

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
});
