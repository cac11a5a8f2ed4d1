import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RotationEngine } from './rotation-engine';

/**
 * An environment variable of a bundled rotation handler, as its manifest states it.
 */
export interface RotationBundleEnvironmentVariable {
  /** The variable's name, for example `ROTATION_PASSWORD_POLICY`. */
  readonly name: string;

  /** Whether the handler fails every rotation without it. */
  readonly required: boolean;

  /** What the variable means. */
  readonly description: string;

  /** What happens when the variable is unset. */
  readonly whenUnset: string;

  /**
   * Who reads it: `handler` (the bundle) or `runtime` (Node.js itself, for example `NODE_EXTRA_CA_CERTS`).
   */
  readonly readBy: string;

  /**
   * The value `RotationFunction` sets by default; set the same on a function you deploy yourself.
   *
   * @default - `RotationFunction` does not set it unless an option asks for it
   */
  readonly recommendedValue?: string;
}

/**
 * A placeholder in a manifest's policy document and invoke permission, written `${Name}`.
 */
export interface RotationBundlePlaceholder {
  /** The name between `${` and `}`, for example `Partition`. */
  readonly name: string;

  /** What to put in its place. */
  readonly description: string;
}

/**
 * The permission that lets Secrets Manager invoke a rotation function (`AWS::Lambda::Permission`,
 * `aws_lambda_permission`), with placeholders.
 */
export interface RotationBundleInvokePermission {
  /** Always `lambda:InvokeFunction`. */
  readonly action: string;

  /** The service principal, `secretsmanager.amazonaws.com`. */
  readonly principal: string;

  /** The account whose secrets may invoke the function (`aws:SourceAccount`). */
  readonly sourceAccount: string;

  /** The secrets that may invoke the function (`aws:SourceArn`). */
  readonly sourceArn: string;

  /** The same permission as a statement of the function's resource policy (IAM JSON). */
  readonly statement: { [key: string]: any };
}

/**
 * What a bundled rotation handler needs to run outside CDK (AWS SAM, Terraform, the console): the contents of
 * `<package>/zip/<engine id>.manifest.json`, beside the handler's deployment package `<engine id>.zip`.
 *
 * Every value is what `RotationFunction` uses for the same engine; the build computes it from the construct itself.
 * Strings in `policyDocument` and `invokePermission` hold placeholders (`${Partition}`, `${Region}`, `${AccountId}`,
 * `${FunctionName}`, ...), each described in `placeholders`. The syntax is Terraform's `templatefile`.
 */
export interface RotationBundleManifest {
  /** The version of this format; a change that breaks readers raises it. */
  readonly schemaVersion: number;

  /** The engine id, which is also the bundle id (`RotationEngine.<X>.id`). */
  readonly functionId: string;

  /** What the function rotates, for a description. */
  readonly description: string;

  /** The deployment package's file name, beside the manifest. */
  readonly zipFile: string;

  /** Base64 SHA-256 of the deployment package (Lambda's `CodeSha256`, Terraform's `filebase64sha256`). */
  readonly zipSha256: string;

  /** The Lambda handler (`index.handler`). */
  readonly handler: string;

  /** The Lambda runtime `RotationFunction` uses, for example `nodejs24.x`. */
  readonly runtime: string;

  /** The instruction set architectures `RotationFunction` uses. */
  readonly architectures: string[];

  /** The timeout of one invocation (one rotation step) `RotationFunction` uses by default, in seconds. */
  readonly timeoutSeconds: number;

  /** The memory `RotationFunction` gives the function, in MB. */
  readonly memorySizeMb: number;

  /** The reserved concurrency `RotationFunction` uses by default. */
  readonly reservedConcurrentExecutions: number;

  /** The X-Ray tracing mode (`Active`). */
  readonly tracingMode: string;

  /** Every environment variable the bundle reads, and `NODE_EXTRA_CA_CERTS` for the runtime. */
  readonly environment: RotationBundleEnvironmentVariable[];

  /** Every placeholder used in `policyDocument` and `invokePermission`. */
  readonly placeholders: RotationBundlePlaceholder[];

  /**
   * The function's identity policy as IAM JSON (`Version`, `Statement`), with placeholders: the statements of the
   * customer-managed policy `RotationFunction` creates, outside a VPC.
   */
  readonly policyDocument: { [key: string]: any };

  /** The permission Secrets Manager needs to invoke the function. */
  readonly invokePermission: RotationBundleInvokePermission;
}

/** The stable codes of the errors `RotationCode` throws. */
const ERROR_CODES = {
  CUSTOM_ENGINE: 'ROTATION_CODE_CUSTOM_ENGINE',
  FILE_MISSING: 'ROTATION_CODE_FILE_MISSING',
  INVALID_MANIFEST: 'ROTATION_CODE_INVALID_MANIFEST',
} as const;

/** An error with a stable `code` (one of {@link ERROR_CODES}) and, where one exists, the error that caused it. */
class RotationCodeError extends Error {
  public readonly code: string;

  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RotationCodeError';
    this.code = code;
  }
}

/**
 * The rotation handler code for an engine: as `lambda.Code` for your own function, as a directory, or as a deployment
 * package (zip) with a manifest for AWS SAM and Terraform.
 */
export class RotationCode {
  /** The version of the manifest format this library writes and reads (`RotationBundleManifest.schemaVersion`). */
  public static readonly MANIFEST_SCHEMA_VERSION = 1;

  /**
   * The directory holding the engine's bundled handler (`index.js`, handler `index.handler`).
   *
   * `<package>/assets/<engine id>`: the same path from `src/` under ts-jest and from `lib/` in the published package.
   *
   * @param engine a bundled engine, for example `RotationEngine.POSTGRES_SINGLE_USER`
   */
  public static bundlePath(engine: RotationEngine): string {
    assertBundled('bundlePath', engine);
    return path.join(packageRoot(), 'assets', engine.id);
  }

  /**
   * The engine's deployment package: `<package>/zip/<engine id>.zip`, the bundle directory's files at the zip's root
   * (handler `index.handler`). Built with the bundles; the same bundle always gives the same bytes.
   *
   * The zips live outside `assets/`, so `lambda.Code.fromAsset(RotationCode.bundlePath(engine))` never uploads them.
   *
   * @param engine a bundled engine, for example `RotationEngine.POSTGRES_SINGLE_USER`
   */
  public static zipPath(engine: RotationEngine): string {
    assertBundled('zipPath', engine);
    return existingFile('zipPath', engine, path.join(packageRoot(), 'zip', `${engine.id}.zip`));
  }

  /**
   * The path of the engine's manifest, `<package>/zip/<engine id>.manifest.json` ({@link RotationBundleManifest}).
   *
   * @param engine a bundled engine, for example `RotationEngine.POSTGRES_SINGLE_USER`
   */
  public static manifestPath(engine: RotationEngine): string {
    assertBundled('manifestPath', engine);
    return existingFile('manifestPath', engine, path.join(packageRoot(), 'zip', `${engine.id}.manifest.json`));
  }

  /**
   * What the engine's handler needs to run outside CDK: runtime, handler, settings, environment, IAM policy and the
   * invoke permission for Secrets Manager, as `RotationFunction` sets them.
   *
   * @param engine a bundled engine, for example `RotationEngine.POSTGRES_SINGLE_USER`
   */
  public static manifest(engine: RotationEngine): RotationBundleManifest {
    const file = RotationCode.manifestPath(engine);
    let parsed: any;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new RotationCodeError(ERROR_CODES.INVALID_MANIFEST, `RotationCode.manifest: ${file} is not readable JSON; `
        + 'rebuild it with `npx projen bundle`', err);
    }
    if (parsed === null || typeof parsed !== 'object' || parsed.schemaVersion !== RotationCode.MANIFEST_SCHEMA_VERSION
      || parsed.functionId !== engine.id) {
      throw new RotationCodeError(ERROR_CODES.INVALID_MANIFEST, `RotationCode.manifest: ${file} is not a version `
        + `${RotationCode.MANIFEST_SCHEMA_VERSION} manifest of engine '${engine.id}'; rebuild it with \`npx projen bundle\``);
    }
    return parsed as RotationBundleManifest;
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
      throw new RotationCodeError(ERROR_CODES.FILE_MISSING, `RotationCode.forEngine: the bundled handler for engine '${engine.id}' `
        + `is missing (${entry}). Run \`npx projen bundle\` (or \`node scripts/bundle.js\`) to build assets/ from lambda/ before synthesizing.`);
    }
    return lambda.Code.fromAsset(dir);
  }

  private constructor() {}
}

/** `<package>`: the same from `src/rotation` under ts-jest and from `lib/rotation` in the published package. */
function packageRoot(): string {
  return path.join(__dirname, '..', '..');
}

function assertBundled(method: string, engine: RotationEngine): void {
  if (!engine.isBundled) {
    throw new RotationCodeError(ERROR_CODES.CUSTOM_ENGINE, `RotationCode.${method}: engine '${engine.id}' is a custom engine and has `
      + 'no bundled handler; deploy its code as you built it');
  }
}

function existingFile(method: string, engine: RotationEngine, file: string): string {
  if (!fs.existsSync(file)) {
    throw new RotationCodeError(ERROR_CODES.FILE_MISSING, `RotationCode.${method}: ${file} of engine '${engine.id}' is missing. `
      + 'Run `npx projen bundle` (it builds assets/ and zip/ from lambda/) in a source checkout; an installed package always has it.');
  }
  return file;
}
