import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RotationEngine } from './rotation-engine';

/**
 * The rotation handler code for an engine, as `lambda.Code` for your own function or as a directory for SAM or Terraform.
 */
export class RotationCode {
  /**
   * The directory holding the engine's bundled handler (`index.js`, handler `index.handler`).
   *
   * `<package>/assets/<engine id>`: the same path from `src/` under ts-jest and from `lib/` in the published package.
   *
   * @param engine a bundled engine, for example `RotationEngine.POSTGRES_SINGLE_USER`
   */
  public static bundlePath(engine: RotationEngine): string {
    if (!engine.isBundled) {
      throw new Error(`RotationCode.bundlePath: engine '${engine.id}' is a custom engine and has no bundled handler`);
    }
    return path.join(__dirname, '..', '..', 'assets', engine.id);
  }

  /**
   * The handler code for an engine: the bundled handler for built-in engines, the given code for custom ones.
   *
   * @param engine the rotation engine
   */
  public static forEngine(engine: RotationEngine): lambda.Code {
    if (!engine.isBundled) {
      return engine._code!;
    }
    const dir = RotationCode.bundlePath(engine);
    const entry = path.join(dir, 'index.js');
    if (!fs.existsSync(entry)) {
      throw new Error(`RotationCode.forEngine: the bundled handler for engine '${engine.id}' is missing (${entry}). `
        + 'Run `npx projen bundle` (or `node scripts/bundle.js`) to build assets/ from lambda/ before synthesizing.');
    }
    return lambda.Code.fromAsset(dir);
  }

  private constructor() {}
}
