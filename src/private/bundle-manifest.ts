import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ENV, OAUTH_ENV, OAUTH_FUNCTION_IDS, FUNCTION_IDS, RotatorFunctionId } from './contract';
import { RUNTIME_CA_BUNDLE } from './rotation-function-settings';
import {
  RotationBundleEnvironmentVariable, RotationBundleInvokePermission, RotationBundleManifest, RotationBundlePlaceholder, RotationCode,
} from '../rotation/rotation-code';
import { RotationEngine } from '../rotation/rotation-engine';
import { RotationFunction } from '../rotation/rotation-function';

// the build script (scripts/bundle-zips.js) loads this module alone
export { rotatorFunctionIds } from './contract';

/**
 * The manifest of a bundled rotation handler (`zip/<id>.manifest.json`): what AWS SAM and Terraform users need to deploy
 * `zip/<id>.zip` as `RotationFunction` would. Runtime, settings, IAM and the invoke permission are read from a
 * `RotationFunction` of the engine built here, so they cannot differ from what the constructs deploy; the environment
 * each handler reads is stated in this file (a test scans every built bundle against it).
 */

/** What one environment variable means, whoever reads it. */
interface VariableDoc {
  readonly description: string;
  readonly whenUnset: string;
  readonly readBy: 'handler' | 'runtime';
}

/** Node.js reads it at start-up; `RotationFunction` sets it so database TLS trusts the Amazon RDS CAs. */
export const NODE_EXTRA_CA_CERTS = 'NODE_EXTRA_CA_CERTS';

const VARIABLES: { readonly [name: string]: VariableDoc } = {
  [ENV.PASSWORD_POLICY]: {
    description: 'How new passwords (database users) or client secrets (OAuth client-secret http adapter) are generated: JSON of the '
      + 'GetRandomPassword fields (passwordLength, excludeCharacters, excludePunctuation, '
      + 'excludeUppercase, excludeLowercase, excludeNumbers, includeSpace, requireEachIncludedType). Any other field or value '
      + 'fails with INVALID_CONFIGURATION, never the default.',
    whenUnset: 'the engine\'s default policy (recommendedValue)',
    readBy: 'handler',
  },
  [ENV.TLS_CA_BUNDLE]: {
    description: 'Absolute path, inside the function, of a PEM bundle of CAs trusted for TLS; unreadable: INVALID_CONFIGURATION.',
    whenUnset: 'the runtime\'s trust store (with NODE_EXTRA_CA_CERTS)',
    readBy: 'handler',
  },
  [ENV.PROBE_QUERY]: {
    description: 'What testSecret runs with the pending credential: one SQL statement in a read-only transaction that is rolled back '
      + '(MySQL and MariaDB: a query only); DocumentDB: the name of one read-only command (ping, connectionStatus, '
      + 'listCollections, dbStats, buildInfo).',
    whenUnset: 'SELECT 1 (DocumentDB: ping)',
    readBy: 'handler',
  },
  [ENV.CALL_TIMEOUT_MS]: {
    description: 'Upper bound of one network call (connect, query, API call) in milliseconds, a decimal integer from 100 to 900000; '
      + 'at most the invocation\'s remaining time.',
    whenUnset: '10000',
    readBy: 'handler',
  },
  [ENV.USERNAME_LENGTH_LIMIT]: {
    description: 'The longest user name the server accepts, for a server that allows another length than its engine and version '
      + 'imply; a decimal integer from 1 to 1024, counted as the engine counts (bytes or characters).',
    whenUnset: 'the engine\'s limit',
    readBy: 'handler',
  },
  [OAUTH_ENV.OVERLAP_SECONDS]: {
    description: 'Seconds the previous client secret stays valid after finishSecret made the new one current (0: retired at once), a '
      + 'decimal integer; more than 0 only with the http adapter.',
    whenUnset: '0 with RFC 7592; with the http adapter every rotation fails with INVALID_CONFIGURATION (it is required there)',
    readBy: 'handler',
  },
  [OAUTH_ENV.CLIENT_SECRET_ADAPTER]: {
    description: 'JSON of how the identity provider registers and retires client secrets: {"type":"rfc7592"} or an "http" adapter '
      + '(add and retire request templates, auth "bearer" or "basic").',
    whenUnset: 'RFC 7592 Dynamic Client Registration Management ({"type":"rfc7592"})',
    readBy: 'handler',
  },
  [OAUTH_ENV.PROBE_URL]: {
    description: 'An https URL testSecret sends a GET to with the new access token as a Bearer token; any 2xx proves it.',
    whenUnset: 'the OpenID Connect userinfo_endpoint from discovery when the secret names an issuer; otherwise testSecret fails with '
      + 'INVALID_CONFIGURATION',
    readBy: 'handler',
  },
  [OAUTH_ENV.ALLOW_LOOPBACK_HTTP]: {
    description: 'true lets the handler reach http:// endpoints on a loopback address; for tests only, leave it unset.',
    whenUnset: 'https only',
    readBy: 'handler',
  },
  [NODE_EXTRA_CA_CERTS]: {
    description: `Extra CAs Node.js trusts; ${RUNTIME_CA_BUNDLE} is the Lambda runtime's bundle that holds the Amazon RDS CAs.`,
    whenUnset: 'Node.js trusts only its built-in CAs: TLS to RDS, Aurora or Redshift fails with TLS_FAILED (never a plaintext retry)',
    readBy: 'runtime',
  },
};

/** What every database handler reads; alternating users (clone names) and the MySQL family also read the user-name limit. */
const DATABASE_ENVIRONMENT = [ENV.PASSWORD_POLICY, ENV.TLS_CA_BUNDLE, ENV.PROBE_QUERY, ENV.CALL_TIMEOUT_MS];
const database = (readsUsernameLimit: boolean) => [...DATABASE_ENVIRONMENT, ...(readsUsernameLimit ? [ENV.USERNAME_LENGTH_LIMIT] : [])]
  .map((name) => ({ name, required: false }));

/**
 * The environment variables each bundled rotation handler reads, and whether it fails without them: the one place that
 * states it. Typed over every rotator id, so a new function id does not compile without its entry.
 */
export const BUNDLE_ENVIRONMENT: { readonly [id in RotatorFunctionId]: ReadonlyArray<{ readonly name: string; readonly required: boolean }> } = {
  [FUNCTION_IDS.POSTGRES_SINGLE_USER]: database(false),
  [FUNCTION_IDS.POSTGRES_MULTI_USER]: database(true),
  // the MySQL family's single-user handlers check the user name against the server's limit too
  [FUNCTION_IDS.MYSQL_SINGLE_USER]: database(true),
  [FUNCTION_IDS.MYSQL_MULTI_USER]: database(true),
  [FUNCTION_IDS.MARIADB_SINGLE_USER]: database(true),
  [FUNCTION_IDS.MARIADB_MULTI_USER]: database(true),
  [FUNCTION_IDS.REDSHIFT_SINGLE_USER]: database(false),
  [FUNCTION_IDS.REDSHIFT_MULTI_USER]: database(true),
  [FUNCTION_IDS.DOCUMENTDB_SINGLE_USER]: database(false),
  [FUNCTION_IDS.DOCUMENTDB_MULTI_USER]: database(true),
  [OAUTH_FUNCTION_IDS.OAUTH_REFRESH_TOKEN]: [
    { name: ENV.TLS_CA_BUNDLE, required: false },
    { name: ENV.CALL_TIMEOUT_MS, required: false },
    { name: OAUTH_ENV.PROBE_URL, required: false },
    { name: OAUTH_ENV.ALLOW_LOOPBACK_HTTP, required: false },
  ],
  [OAUTH_FUNCTION_IDS.OAUTH_CLIENT_SECRET]: [
    { name: ENV.PASSWORD_POLICY, required: false },
    { name: ENV.TLS_CA_BUNDLE, required: false },
    { name: ENV.CALL_TIMEOUT_MS, required: false },
    { name: OAUTH_ENV.OVERLAP_SECONDS, required: false },
    { name: OAUTH_ENV.CLIENT_SECRET_ADAPTER, required: false },
    { name: OAUTH_ENV.ALLOW_LOOPBACK_HTTP, required: false },
  ],
};

/**
 * Variables a bundle's code names but never reads for that function, each with the reason; the manifest leaves them out
 * and the bundle scan accepts them.
 */
export const LINKED_BUT_NOT_READ: { readonly [id in RotatorFunctionId]?: ReadonlyArray<{ readonly name: string; readonly why: string }> } = {
  [OAUTH_FUNCTION_IDS.OAUTH_REFRESH_TOKEN]: [{
    name: ENV.PASSWORD_POLICY,
    why: 'the rotation protocol reads it only for engines that generate the pending value; a refresh-token rotation exchanges it',
  }],
};

/** Placeholders of the policy document and the invoke permission, with what replaces them. */
const PLACEHOLDERS: { readonly [name: string]: string } = {
  Partition: 'The partition of the function\'s account and region, for example aws.',
  Region: 'The function\'s region, for example eu-west-1.',
  AccountId: 'The function\'s account id.',
  UrlSuffix: 'The domain suffix of the partition, for example amazonaws.com.',
  FunctionName: 'The function\'s name (a literal: the policy names the function before it exists).',
  DeadLetterQueueArn: 'The ARN of the function\'s dead-letter queue; without one, drop the statements that name it.',
  EncryptionKeyArn: 'The ARN of the KMS key that encrypts the dead-letter queue (and logs and environment); without one, drop the '
    + 'statements that name it.',
  MasterSecretArn: 'The full ARN of a master secret (alternating users) or of the identity provider\'s admin secret (OAuth client '
    + 'secrets); one resource per such secret.',
};

/** Stands for a master secret while the policy is built; replaced by `${MasterSecretArn}`. */
const MASTER_SECRET_SENTINEL = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:bundle-manifest-master-AbCdEf';

/** The error the manifest build throws, with a stable code. */
export class BundleManifestError extends Error {
  constructor(public readonly code: 'BUNDLE_MANIFEST_NO_ENGINE' | 'BUNDLE_MANIFEST_UNKNOWN_VALUE', message: string) {
    super(message);
    this.name = 'BundleManifestError';
  }
}

/** The bundled `RotationEngine.<X>` whose id is `id`, or undefined when there is none (yet). */
export function bundledEngineById(id: string): RotationEngine | undefined {
  return Object.values(RotationEngine)
    .find((e): e is RotationEngine => e instanceof RotationEngine && e.isBundled && e.id === id);
}

/** The environment a bundled handler reads, documented (without the values `RotationFunction` sets). */
export function bundleEnvironment(id: RotatorFunctionId): RotationBundleEnvironmentVariable[] {
  return [...BUNDLE_ENVIRONMENT[id], { name: NODE_EXTRA_CA_CERTS, required: false }].map(({ name, required }) => {
    const doc = VARIABLES[name];
    return { name, required, description: doc.description, whenUnset: doc.whenUnset, readBy: doc.readBy };
  });
}

/** The deployment package the manifest describes. */
export interface BundleZip {
  readonly fileName: string;
  /** Base64 SHA-256 of the zip's bytes. */
  readonly sha256: string;
}

/**
 * The manifest of a bundled rotator, read from a `RotationFunction` of its engine with default options (and one master
 * secret for alternating users), built in a throwaway app. Needs `assets/<id>/`.
 */
export function buildBundleManifest(id: RotatorFunctionId, zip: BundleZip): RotationBundleManifest {
  const engine = bundledEngineById(id);
  if (engine === undefined) {
    throw new BundleManifestError('BUNDLE_MANIFEST_NO_ENGINE', `bundle '${id}' has no bundled RotationEngine with that id, so its IAM `
      + 'and settings are not known');
  }
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-manifest-'));
  try {
    // assets are only fingerprinted, never copied: nothing is synthesized
    const app = new App({ outdir, context: { 'aws:cdk:disable-asset-staging': true } });
    const stack = new Stack(app, 'Manifest');
    const fn = new RotationFunction(stack, 'Rotation', { engine });
    // the secret read beside the rotated one: the master of alternating users, the identity provider's admin credential
    // of OAuth client secrets (`SecretRotation` adds both with addMasterSecret)
    if (engine.multiUser || (engine as { requiresAdminSecret?: boolean }).requiresAdminSecret === true) {
      fn.addMasterSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_SECRET_SENTINEL));
    }
    return manifestOf(stack, fn, id, zip);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function manifestOf(stack: Stack, fn: RotationFunction, id: RotatorFunctionId, zip: BundleZip): RotationBundleManifest {
  const cfn = fn.lambdaFunction.node.defaultChild as lambda.CfnFunction;
  const functionName = stack.resolve(cfn.functionName) as string;
  const logGroupName = stack.resolve((fn.logGroup.node.defaultChild as CfnResource & { logGroupName: string }).logGroupName) as string;
  const named = '${FunctionName}';
  const byLogicalId: { [logicalId: string]: string } = {
    [logicalIdOf(stack, fn.logGroup)]: `arn:\${Partition}:logs:\${Region}:\${AccountId}:log-group:${logGroupName.split(functionName).join(named)}:*`,
    [logicalIdOf(stack, fn.deadLetterQueue)]: '${DeadLetterQueueArn}',
    [logicalIdOf(stack, fn.encryptionKey)]: '${EncryptionKeyArn}',
  };
  const literal = (value: unknown): any => withPlaceholders(stack.resolve(value), functionName, byLogicalId);

  const policyDocument = literal(fn.policy.document);
  const permission = fn.invokePermission;
  const functionArn = `arn:\${Partition}:lambda:\${Region}:\${AccountId}:function:${named}`;
  const invoke = {
    action: literal(permission.action) as string,
    principal: literal(permission.principal) as string,
    sourceAccount: literal(permission.sourceAccount) as string,
    sourceArn: literal(permission.sourceArn) as string,
  };
  const invokePermission: RotationBundleInvokePermission = {
    ...invoke,
    statement: {
      Sid: 'AllowSecretsManagerToInvoke',
      Effect: 'Allow',
      Principal: { Service: invoke.principal },
      Action: invoke.action,
      Resource: functionArn,
      Condition: { StringEquals: { 'aws:SourceAccount': invoke.sourceAccount }, ArnLike: { 'aws:SourceArn': invoke.sourceArn } },
    },
  };

  // what the handler reads, with the values the construct sets; a value the construct sets that the handler never reads
  // is not part of the manifest (the bundle-manifest test scans the bundles for what they read)
  const setByConstruct: { [name: string]: string } = stack.resolve(cfn.environment)?.variables ?? {};
  const environment = bundleEnvironment(id)
    .map((v) => (setByConstruct[v.name] !== undefined ? { ...v, recommendedValue: setByConstruct[v.name] } : v));

  const used = new Set<string>();
  JSON.stringify([policyDocument, invokePermission]).replace(/\$\{(\w+)\}/g, (_, name: string) => {
    used.add(name);
    return '';
  });
  const placeholders: RotationBundlePlaceholder[] = Object.keys(PLACEHOLDERS).filter((name) => used.has(name))
    .map((name) => ({ name, description: PLACEHOLDERS[name] }));
  const unknown = [...used].filter((name) => !(name in PLACEHOLDERS));
  if (unknown.length > 0) {
    throw new BundleManifestError('BUNDLE_MANIFEST_UNKNOWN_VALUE', `'${id}': placeholders without a description: ${unknown.join(', ')}`);
  }

  return {
    schemaVersion: RotationCode.MANIFEST_SCHEMA_VERSION,
    functionId: id,
    description: `Rotates ${fn.engine.displayName} secrets in Secrets Manager (cdk-secrets-platform)`,
    zipFile: zip.fileName,
    zipSha256: zip.sha256,
    handler: stack.resolve(cfn.handler),
    runtime: fn.lambdaFunction.runtime.name,
    architectures: [fn.lambdaFunction.architecture.name],
    timeoutSeconds: stack.resolve(cfn.timeout),
    memorySizeMb: stack.resolve(cfn.memorySize),
    reservedConcurrentExecutions: stack.resolve(cfn.reservedConcurrentExecutions),
    tracingMode: stack.resolve(cfn.tracingConfig as lambda.CfnFunction.TracingConfigProperty).mode,
    environment,
    placeholders,
    policyDocument,
    invokePermission,
  };
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnResource);
}

const PSEUDO_PARAMETERS: { readonly [ref: string]: string } = {
  'AWS::Partition': '${Partition}',
  'AWS::Region': '${Region}',
  'AWS::AccountId': '${AccountId}',
  'AWS::URLSuffix': '${UrlSuffix}',
};

/**
 * A resolved CloudFormation value with every reference replaced by a placeholder: pseudo parameters, the function's
 * own log group, queue and key, its name and the stand-in master secret. Anything else is an error, so a new reference
 * in the constructs' policy fails the build instead of leaking CloudFormation syntax into a manifest.
 */
function withPlaceholders(value: unknown, functionName: string, byLogicalId: { [logicalId: string]: string }): unknown {
  const convert = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v === MASTER_SECRET_SENTINEL ? '${MasterSecretArn}' : v.split(functionName).join('${FunctionName}');
    }
    if (Array.isArray(v)) {
      return v.map(convert);
    }
    if (v === null || typeof v !== 'object') {
      return v;
    }
    const obj = v as { [key: string]: any };
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'Ref' && PSEUDO_PARAMETERS[obj.Ref] !== undefined) {
      return PSEUDO_PARAMETERS[obj.Ref];
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt' && obj['Fn::GetAtt'][1] === 'Arn' && byLogicalId[obj['Fn::GetAtt'][0]] !== undefined) {
      return byLogicalId[obj['Fn::GetAtt'][0]];
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join' && obj['Fn::Join'][0] === '') {
      const parts = (obj['Fn::Join'][1] as unknown[]).map(convert);
      if (parts.every((p) => typeof p === 'string')) {
        return parts.join('');
      }
    }
    if (keys.some((k) => k === 'Ref' || k.startsWith('Fn::'))) {
      throw new BundleManifestError('BUNDLE_MANIFEST_UNKNOWN_VALUE', `no placeholder for ${JSON.stringify(v)}; give it one in `
        + 'src/private/bundle-manifest.ts');
    }
    return Object.fromEntries(keys.map((k) => [k, convert(obj[k])]));
  };
  return convert(value);
}
