import * as fs from 'fs';
import * as path from 'path';
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, Tag } from '@aws-sdk/client-secrets-manager';
import type { ConformanceServer, ConformanceServerFactory } from './conformance-server';
import { startAll, stopAll } from './lifecycle';
import { LocalRds } from './local-rds';
import { LocalRedshift } from './local-redshift';
import { LocalSecretsManager, RotationOutcome } from './local-secrets-manager';
import { localSecretsManagerEnvironment } from './local-secrets-manager/testing';
import {
  ASSETS_DIR, BundledHandler, OutputCapture, lambdaContext, loadBundledHandler, setFaultHook, withEnv,
} from './rotation-harness';
import type { TestServerOptions } from './server-process';
import { FUNCTION_IDS, FunctionId } from '../../src/private/contract';

const ACCOUNT = '123456789012';
/** A function ARN whose invocations always fail: RotateSecret with it leaves a value-less AWSPENDING version to drive by hand. */
export const MANUAL_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:manual`;

export function functionArn(id: FunctionId): string {
  return `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${id}`;
}

/** The function ids whose bundle has been built (`assets/<id>/index.js`). */
export function bundledFunctionIds(): FunctionId[] {
  return Object.values(FUNCTION_IDS).filter((id) => fs.existsSync(path.join(ASSETS_DIR, id, 'index.js')));
}

export interface RotationFixtureOptions {
  /** The `engine` every secret of {@link RotationFixture.secretJson} names (default: the server's own). */
  readonly engine?: string;
}

/** A user's secret and its first password. */
export interface FixtureUser {
  readonly arn: string;
  readonly username: string;
  readonly password: string;
}

/**
 * The Redshift endpoint started with each RDS endpoint by {@link RotationFixture.startParts}, found by the constructor:
 * subclasses start the parts and pass the three they name to the constructor, and every fixture gets both endpoints.
 */
const redshiftBeside = new WeakMap<LocalRds, LocalRedshift>();

/**
 * The environment that sends the AWS SDK v3 clients of a handler (and of a test) to the local endpoints, with fixed test
 * credentials: Secrets Manager, RDS, Redshift and Redshift Serverless.
 */
export function localAwsEnvironment(sm: LocalSecretsManager, rds: LocalRds, redshift: LocalRedshift): Record<string, string | undefined> {
  return {
    ...localSecretsManagerEnvironment(sm),
    AWS_ENDPOINT_URL_RDS: rds.endpoint,
    // the SDK's service ids `Redshift` and `Redshift Serverless`, upper case, spaces as underscores
    AWS_ENDPOINT_URL_REDSHIFT: redshift.endpoint,
    AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS: redshift.endpoint,
  };
}

/**
 * A real database server (any {@link ConformanceServer}) with verified TLS, the local Secrets Manager, RDS and
 * Redshift (with Redshift Serverless) endpoints, and every bundled handler registered as a rotation function under its
 * function id, with all output captured for the secret-material check (invariant 10).
 */
export class RotationFixture<S extends ConformanceServer = ConformanceServer> {
  public static async startOn<S extends ConformanceServer>(
    factory: ConformanceServerFactory<S>, serverOptions: TestServerOptions = {}, options: RotationFixtureOptions = {},
  ): Promise<RotationFixture<S>> {
    const [server, sm, rds] = await RotationFixture.startParts(factory, serverOptions);
    return new RotationFixture(server, sm, rds, options);
  }

  /** The server and the endpoints; if one fails, the others are stopped (a test's afterAll has no fixture to stop them through). */
  protected static async startParts<S extends ConformanceServer>(
    factory: ConformanceServerFactory<S>, serverOptions: TestServerOptions,
  ): Promise<[S, LocalSecretsManager, LocalRds]> {
    const starts = [factory.start(serverOptions), LocalSecretsManager.start({ maxRotationAttempts: 3 }), LocalRds.start(), LocalRedshift.start()];
    const [server, sm, rds, redshift] = await (startAll(starts) as Promise<[S, LocalSecretsManager, LocalRds, LocalRedshift]>);
    redshiftBeside.set(rds, redshift);
    return [server, sm, rds];
  }

  public readonly capture = new OutputCapture();
  /** The local Redshift and Redshift Serverless endpoint (Redshift-managed admin secrets). */
  public readonly redshift: LocalRedshift;
  /** Every password or token the tests made; none may appear in any output. */
  public readonly canaries = new Set<string>();
  /** Servers started with {@link startServer}, stopped with the fixture. */
  private readonly extraServers: ConformanceServer[] = [];
  private readonly restoreEnv: () => void;
  private readonly engine?: string;
  private counter = 0;

  protected constructor(
    public readonly server: S, public readonly sm: LocalSecretsManager, public readonly rds: LocalRds, options: RotationFixtureOptions = {},
  ) {
    this.engine = options.engine;
    const redshift = redshiftBeside.get(rds);
    if (!redshift) throw new Error('the parts of a rotation fixture come from RotationFixture.startParts');
    this.redshift = redshift;
    this.restoreEnv = withEnv({
      ...localAwsEnvironment(sm, rds, redshift),
      ROTATION_TLS_CA_BUNDLE: server.caCertPath,
      ROTATION_CALL_TIMEOUT_MS: '5000',
      ROTATION_PROBE_QUERY: undefined,
    });
    this.canaries.add(server.superuser.password);
    for (const id of bundledFunctionIds()) {
      // loaded on first use: a PostgreSQL suite does not pay for loading the MariaDB bundles, and the reverse
      sm.registerFunction(functionArn(id), (event) => this.invokeWith(loadBundledHandler(id), event));
    }
    sm.registerFunction(MANUAL_ARN, async () => {
      throw new Error('driven by hand');
    });
    this.capture.start();
  }

  /** Invokes the bundled handler directly, recording what it throws. */
  public async invoke(id: FunctionId, event: Record<string, unknown>, budgetMs?: number): Promise<void> {
    return this.invokeWith(loadBundledHandler(id), event, budgetMs);
  }

  /** A unique name for a test object. */
  public unique(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.counter}`;
  }

  /** A canary password: distinctive, recorded, and valid for every engine. */
  public canary(): string {
    const value = `CANARY${Math.random().toString(36).slice(2, 12)}Zz9`;
    this.canaries.add(value);
    return value;
  }

  /** Another server of the same engine (a TLS variant, a plaintext one), stopped with the fixture. */
  public async startServer(factory: ConformanceServerFactory<S>, options: TestServerOptions): Promise<S> {
    const started = await factory.start(options);
    this.extraServers.push(started);
    this.canaries.add(started.superuser.password);
    return started;
  }

  /** The secret of a user on the fixture's server (or `server`). */
  public secretJson(
    username: string, password: string, extra: Record<string, unknown> = {}, server: ConformanceServer = this.server,
  ): Record<string, unknown> {
    return server.secretJson(username, password, { ...(this.engine ? { engine: this.engine } : {}), ...extra });
  }

  /** A user on the fixture's server (or `server`) and its secret. */
  public async createUser(
    extra: Record<string, unknown> = {}, username: string = this.unique('app_'), server: ConformanceServer = this.server,
  ): Promise<FixtureUser> {
    const password = this.canary();
    await server.createUser(username, password);
    const arn = await this.createSecret(this.secretJson(username, password, extra, server));
    return { arn, username, password };
  }

  /** A `rotation_master` user and its secret (for alternating users). */
  public async createMaster(username = 'rotation_master'): Promise<FixtureUser> {
    const password = this.canary();
    await this.server.createMaster(username, password);
    return { arn: await this.createSecret(this.secretJson(username, password)), username, password };
  }

  public async createSecret(value: Record<string, unknown>, tags?: Tag[]): Promise<string> {
    const out = await this.sm.client().send(new CreateSecretCommand({
      Name: this.unique('secret-'),
      SecretString: JSON.stringify(value),
      Tags: tags,
    }));
    return out.ARN!;
  }

  /** RotateSecret, then wait for the service-driven rotation (with its retries) to settle. */
  public async rotate(secretArn: string, lambdaArn: string): Promise<RotationOutcome> {
    await this.sm.client().send(new RotateSecretCommand({
      SecretId: secretArn,
      RotationLambdaARN: lambdaArn,
      RotationRules: { ScheduleExpression: 'rate(4 hours)' },
    }));
    return this.sm.rotationSettled(secretArn);
  }

  /** Starts a rotation whose steps the test drives by hand; returns the pending token. */
  public async beginManualRotation(secretArn: string): Promise<string> {
    const out = await this.sm.client().send(new RotateSecretCommand({
      SecretId: secretArn,
      RotationLambdaARN: MANUAL_ARN,
      RotationRules: { ScheduleExpression: 'rate(4 hours)' },
    }));
    const outcome = await this.sm.rotationSettled(secretArn);
    if (outcome.status !== 'failed') throw new Error(`manual rotation setup ended ${outcome.status}`);
    return out.VersionId!;
  }

  public async value(secretArn: string, select: { stage?: string; versionId?: string } = {}): Promise<Record<string, any>> {
    const out = await this.sm.client().send(new GetSecretValueCommand({
      SecretId: secretArn, VersionStage: select.stage, VersionId: select.versionId,
    }));
    return JSON.parse(out.SecretString!);
  }

  /** Whether a secret value's credential logs in to the fixture's server. */
  public async login(value: Record<string, any>): Promise<boolean> {
    return this.server.canLogin(value.username, value.password, value.dbname);
  }

  /** The staging labels of each version of a secret. */
  public stagesOf(arn: string): Record<string, string[]> {
    return this.sm.versionStages(arn);
  }

  /** The version that holds `label`, if any. */
  public versionWith(arn: string, label: string): string | undefined {
    return Object.entries(this.stagesOf(arn)).find(([, s]) => s.includes(label))?.[0];
  }

  /** The last structured step line the handler wrote for a secret (and step). */
  public lastLine(arn: string, step?: string): Record<string, unknown> | undefined {
    return this.capture.stepLines.reverse().find((l) => l.secretArn === arn && (step === undefined || l.step === step));
  }

  /** Passwords and rotation tokens that went through Secrets Manager, plus the test's own canaries. */
  public secretMaterial(): Set<string> {
    const found = new Set(this.canaries);
    for (const invocation of this.sm.invocations) {
      if (invocation.event.RotationToken) found.add(invocation.event.RotationToken);
    }
    for (const call of this.sm.calls) {
      const input = call.input ?? {};
      if (typeof input.RotationToken === 'string') found.add(input.RotationToken);
      if (typeof input.SecretString === 'string') {
        try {
          const parsed = JSON.parse(input.SecretString);
          for (const key of ['password', 'client_secret', 'refresh_token']) if (typeof parsed[key] === 'string') found.add(parsed[key]);
        } catch {
          found.add(input.SecretString);
        }
      }
    }
    return found;
  }

  /** Secret material (invariant 10) that reached any captured output or error so far. */
  public leaks(): string[] {
    return this.capture.leaked(this.secretMaterial());
  }

  public async stop(): Promise<void> {
    setFaultHook(undefined);
    this.capture.stop();
    this.restoreEnv();
    await stopAll([this.sm, this.rds, this.redshift, this.server, ...this.extraServers]);
  }

  private async invokeWith(handler: BundledHandler, event: unknown, budgetMs?: number): Promise<void> {
    try {
      await handler(event, lambdaContext(budgetMs));
    } catch (err) {
      this.capture.addError(err);
      throw err;
    }
  }
}
