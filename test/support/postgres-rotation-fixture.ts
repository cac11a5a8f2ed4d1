import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, Tag } from '@aws-sdk/client-secrets-manager';
import { startAll, stopAll } from './lifecycle';
import { LocalRds } from './local-rds';
import { LocalSecretsManager, RotationOutcome } from './local-secrets-manager';
import { PostgresServer, PostgresServerOptions } from './postgres-server';
import { BundledHandler, OutputCapture, lambdaContext, loadBundledHandler, setFaultHook, withEnv } from './rotation-harness';
import type { FunctionId } from '../../src/private/contract';

const ACCOUNT = '123456789012';
/** A function ARN whose invocations always fail: RotateSecret with it leaves a value-less AWSPENDING version to drive by hand. */
export const MANUAL_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:manual`;

export function functionArn(id: FunctionId): string {
  return `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${id}`;
}

/**
 * A real PostgreSQL with verified TLS, the local Secrets Manager and RDS endpoints, and the bundled handlers
 * registered as rotation functions, with all output captured for the secret-material check.
 */
export class PostgresRotationFixture {
  public static async start(pgOptions: PostgresServerOptions = {}): Promise<PostgresRotationFixture> {
    // If one fails, the others are stopped: a test's afterAll has no fixture to stop them through.
    const [pg, sm, rds] = await startAll([
      PostgresServer.start(pgOptions),
      LocalSecretsManager.start({ maxRotationAttempts: 3 }),
      LocalRds.start(),
    ]);
    return new PostgresRotationFixture(pg, sm, rds);
  }

  public readonly capture = new OutputCapture();
  /** Every password or token the tests made; none may appear in any output. */
  public readonly canaries = new Set<string>();
  private readonly restoreEnv: () => void;
  private counter = 0;

  private constructor(public readonly pg: PostgresServer, public readonly sm: LocalSecretsManager, public readonly rds: LocalRds) {
    this.restoreEnv = withEnv({
      AWS_REGION: sm.region,
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret-key',
      AWS_SESSION_TOKEN: undefined,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      AWS_ENDPOINT_URL_RDS: rds.endpoint,
      ROTATION_TLS_CA_BUNDLE: pg.caCertPath,
      ROTATION_CALL_TIMEOUT_MS: '5000',
    });
    this.canaries.add(pg.superuser.password);
    for (const id of ['postgres-single-user', 'postgres-multi-user'] as const) {
      const handler = loadBundledHandler(id);
      sm.registerFunction(functionArn(id), (event) => this.invokeWith(handler, event));
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

  /** A canary password: distinctive, recorded, and valid for PostgreSQL. */
  public canary(): string {
    const value = `CANARY${Math.random().toString(36).slice(2, 12)}Zz9`;
    this.canaries.add(value);
    return value;
  }

  /** Creates a login role on the fixture's server (or `pg`); the name is quoted by the server, so any name works. */
  public async createRole(username: string, password: string, options = 'LOGIN', pg: PostgresServer = this.pg): Promise<void> {
    await execFormatted(pg, `CREATE ROLE %I WITH ${options} PASSWORD %L`, username, password);
  }

  /** A `rotation_master` role with CREATEROLE and its secret (for alternating users). */
  public async createMaster(): Promise<{ arn: string; username: string; password: string }> {
    const username = 'rotation_master';
    const password = this.canary();
    await this.createRole(username, password, 'LOGIN CREATEROLE');
    return { arn: await this.createSecret(this.secretJson(username, password)), username, password };
  }

  /** Lets `master` grant `role` to others (PostgreSQL 16+ requires it of a CREATEROLE master for roles it did not create). */
  public async grantAdminOption(role: string, master: string): Promise<void> {
    const [{ stmt }] = await this.pg.query<{ stmt: string }>('SELECT format(\'GRANT %I TO %I WITH ADMIN OPTION\', $1::text, $2::text) AS stmt', [role, master]);
    await this.pg.query(stmt);
  }

  /** Changes a role's password behind the rotation's back (a restore, an operator). */
  public async setPassword(username: string, password: string): Promise<void> {
    await execFormatted(this.pg, 'ALTER ROLE %I PASSWORD %L', username, password);
  }

  public secretJson(username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { engine: 'postgres', host: 'localhost', port: this.pg.port, username, password, dbname: 'postgres', ...extra };
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

  public async login(value: Record<string, any>): Promise<boolean> {
    return this.pg.canLogin(value.username, value.password, value.dbname);
  }

  /** The stored password verifiers of every role other than `except`, to prove no other user was altered. */
  public async verifiers(except: string[] = []): Promise<Record<string, string | null>> {
    const rows = await this.pg.query<{ rolname: string; rolpassword: string | null }>(
      'SELECT rolname, rolpassword FROM pg_catalog.pg_authid WHERE NOT (rolname = ANY($1::text[])) ORDER BY rolname', [except]);
    return Object.fromEntries(rows.map((r) => [r.rolname, r.rolpassword]));
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
    await stopAll([this.sm, this.rds, this.pg]);
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

/** Runs a statement whose identifier and literal the server quotes (format %I / %L). */
async function execFormatted(pg: PostgresServer, template: string, identifier: string, literal: string): Promise<void> {
  const [{ stmt }] = await pg.query<{ stmt: string }>('SELECT format($1::text, $2::text, $3::text) AS stmt', [template, identifier, literal]);
  await pg.query(stmt);
}
