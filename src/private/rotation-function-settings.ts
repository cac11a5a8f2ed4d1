import * as crypto from 'crypto';
import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DOCUMENTDB_PROBE_COMMANDS, QUERY_ONLY_PROBE_FAMILIES, isQueryOnlyProbe } from './contract';
import { assertLiteral, isIntegerInRange } from './validation';

/**
 * The Node.js 20+ Lambda runtimes no longer load the Amazon CA certificates (including the RDS CAs) by default;
 * this file in the runtime holds them. Setting NODE_EXTRA_CA_CERTS restores them for database TLS verification.
 */
export const RUNTIME_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/** Memory of every rotation function: the handlers hold one secret and one database connection at a time. */
export const MEMORY_SIZE_MB = 256;

const DEFAULT_TIMEOUT = Duration.seconds(60);
const MIN_TIMEOUT = Duration.seconds(10);
const MAX_TIMEOUT = Duration.minutes(15);
const MAX_CALL_TIMEOUT_MS = 10_000;
const DEFAULT_RESERVED_CONCURRENCY = 5;
const MAX_USERNAME_LENGTH_LIMIT = 1024;

/**
 * The settings a rotation function is created with (the fields of `RotationFunctionOptions` that are settings rather
 * than placement or password policy; declared here so this module does not import the construct's file).
 */
export interface RotationFunctionSettingsInput {
  readonly timeout?: Duration;
  readonly callTimeout?: Duration;
  readonly logRetention?: logs.RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
  readonly reservedConcurrentExecutions?: number;
  readonly encryptionKey?: kms.IKey;
  readonly permissionsBoundary?: iam.IManagedPolicy;
  readonly tlsCaBundle?: string;
  readonly probeQuery?: string;
  readonly usernameLengthLimit?: number;
}

/** The effective settings of a function (defaults applied), compared by `RotationFunction.shared()`. */
export interface RotationFunctionSettings {
  readonly timeout: Duration;
  readonly callTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly reservedConcurrentExecutions: number;
  readonly encryptionKey?: kms.IKey;
  readonly permissionsBoundary?: iam.IManagedPolicy;
  readonly tlsCaBundle?: string;
  readonly probeQuery?: string;
  readonly usernameLengthLimit?: number;
}

/**
 * Applies the defaults and validates the settings, naming the property and the allowed range. `engineFamily` is the
 * bundled engine's family (undefined for a custom engine), whose rules some settings follow.
 */
export function validateSettings(
  owner: string, props: RotationFunctionSettingsInput, engineName: string = 'the engine', engineFamily?: string,
): RotationFunctionSettings {
  const timeout = props.timeout ?? DEFAULT_TIMEOUT;
  assertLiteral(owner, 'timeout', timeout);
  const timeoutMs = timeout.toMilliseconds();
  if (timeoutMs % 1000 !== 0 || timeoutMs < MIN_TIMEOUT.toMilliseconds() || timeoutMs > MAX_TIMEOUT.toMilliseconds()) {
    throw new Error(`${owner}: timeout must be whole seconds from 10 seconds to 15 minutes, got ${timeout.toHumanString()}`);
  }
  const callTimeout = props.callTimeout ?? Duration.millis(Math.min(MAX_CALL_TIMEOUT_MS, Math.floor(timeoutMs / 4)));
  assertLiteral(owner, 'callTimeout', callTimeout);
  const callMs = callTimeout.toMilliseconds();
  if (!Number.isInteger(callMs) || callMs < 1000 || callMs > timeoutMs / 2) {
    throw new Error(`${owner}: callTimeout must be from 1 second to half the timeout (${timeoutMs / 2000} seconds), `
      + `got ${callTimeout.toHumanString()}`);
  }
  const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
  if (logRetention === logs.RetentionDays.INFINITE) {
    throw new Error(`${owner}: logRetention must be a finite retention (RetentionDays.ONE_DAY to RetentionDays.TEN_YEARS), got INFINITE`);
  }
  const reserved = props.reservedConcurrentExecutions ?? DEFAULT_RESERVED_CONCURRENCY;
  assertLiteral(owner, 'reservedConcurrentExecutions', reserved);
  if (!isIntegerInRange(reserved, 1, 10_000)) {
    throw new Error(`${owner}: reservedConcurrentExecutions must be an integer from 1 to 10000, got ${reserved}`);
  }
  if (props.tlsCaBundle !== undefined && !Token.isUnresolved(props.tlsCaBundle) && !props.tlsCaBundle.startsWith('/')) {
    throw new Error(`${owner}: tlsCaBundle must be an absolute path inside the function (starting with '/'), got '${props.tlsCaBundle}'`);
  }
  if (props.probeQuery !== undefined && props.probeQuery.trim() === '') {
    throw new Error(`${owner}: probeQuery must be a non-empty SQL statement (1 or more characters), got an empty string`);
  }
  if (props.probeQuery !== undefined && !Token.isUnresolved(props.probeQuery) && engineFamily !== undefined
    && QUERY_ONLY_PROBE_FAMILIES.includes(engineFamily) && !isQueryOnlyProbe(props.probeQuery)) {
    // the handler would refuse it at every testSecret; MySQL and MariaDB commit DDL even in a read-only transaction
    throw new Error(`${owner}: probeQuery for ${engineName} must be one query (SELECT, WITH, SHOW, DESCRIBE or EXPLAIN) `
      + 'without comments, \';\' or INTO OUTFILE/DUMPFILE: MySQL and MariaDB run DDL and account statements even in a read-only transaction');
  }
  if (props.probeQuery !== undefined && !Token.isUnresolved(props.probeQuery) && engineFamily === 'documentdb'
    && !DOCUMENTDB_PROBE_COMMANDS.includes(props.probeQuery.trim())) {
    // the handler would refuse it at every testSecret: a DocumentDB probe names a read-only command, it is not a query
    throw new Error(`${owner}: probeQuery for ${engineName} must be the name of one read-only command (one of `
      + `${DOCUMENTDB_PROBE_COMMANDS.join(', ')}), got ${JSON.stringify(props.probeQuery)}`);
  }
  if (props.usernameLengthLimit !== undefined) {
    assertLiteral(owner, 'usernameLengthLimit', props.usernameLengthLimit);
    // the handlers accept 1 to 1024 (ROTATION_USERNAME_LENGTH_LIMIT); refusing more here fails the synth, not a rotation
    if (!isIntegerInRange(props.usernameLengthLimit, 1, MAX_USERNAME_LENGTH_LIMIT)) {
      throw new Error(`${owner}: usernameLengthLimit must be an integer from 1 to ${MAX_USERNAME_LENGTH_LIMIT}, got ${props.usernameLengthLimit}`);
    }
  }
  return {
    timeout,
    callTimeout,
    logRetention,
    logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    reservedConcurrentExecutions: reserved,
    encryptionKey: props.encryptionKey,
    permissionsBoundary: props.permissionsBoundary,
    tlsCaBundle: props.tlsCaBundle,
    probeQuery: props.probeQuery,
    usernameLengthLimit: props.usernameLengthLimit,
  };
}

/**
 * The settings given to `RotationFunction.shared()` that differ from an existing function's; settings not given never
 * conflict.
 */
export function conflictingSettings(stack: Stack, given: RotationFunctionSettingsInput, existing: RotationFunctionSettings): string[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(stack.resolve(a)) === JSON.stringify(stack.resolve(b));
  const conflicts: string[] = [];
  const check = (property: keyof RotationFunctionSettingsInput, value: unknown, current: unknown) => {
    if (value !== undefined && !same(value, current)) {
      conflicts.push(property);
    }
  };
  check('timeout', given.timeout?.toMilliseconds(), existing.timeout.toMilliseconds());
  check('callTimeout', given.callTimeout?.toMilliseconds(), existing.callTimeout.toMilliseconds());
  check('logRetention', given.logRetention, existing.logRetention);
  check('logRemovalPolicy', given.logRemovalPolicy, existing.logRemovalPolicy);
  check('reservedConcurrentExecutions', given.reservedConcurrentExecutions, existing.reservedConcurrentExecutions);
  check('tlsCaBundle', given.tlsCaBundle, existing.tlsCaBundle);
  check('probeQuery', given.probeQuery, existing.probeQuery);
  check('usernameLengthLimit', given.usernameLengthLimit, existing.usernameLengthLimit);
  check('encryptionKey', given.encryptionKey?.keyArn, existing.encryptionKey?.keyArn);
  check('permissionsBoundary', given.permissionsBoundary?.managedPolicyArn, existing.permissionsBoundary?.managedPolicyArn);
  return conflicts;
}

/**
 * A deterministic function name, unique per stack name and construct path, at most 64 characters.
 * The name is known at synth so the IAM policy can name the function's ARN without depending on the function
 * (which depends on the policy).
 */
export function physicalFunctionName(scope: Construct, engineId: string): string {
  const stack = Stack.of(scope);
  const stackName = stack.stackName;
  const prefix = Token.isUnresolved(stackName)
    ? Names.uniqueResourceName(stack, { maxLength: 20 })
    : stackName.replace(/[^A-Za-z0-9-_]/g, '').slice(0, 20);
  const hash = crypto.createHash('sha256').update(`${Token.isUnresolved(stackName) ? '' : stackName}/${scope.node.path}`)
    .digest('hex').slice(0, 8);
  return `${prefix}-${engineId.slice(0, 30)}-${hash}`;
}
