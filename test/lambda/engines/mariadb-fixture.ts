import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, Tag } from '@aws-sdk/client-secrets-manager';
import { escape } from 'mysql2';
import type { FunctionId } from '../../../src/private/contract';
import { startAll, stopAll } from '../../support/lifecycle';
import { LocalRds } from '../../support/local-rds';
import { LocalSecretsManager, RotationOutcome } from '../../support/local-secrets-manager';
import { MariaDbServer, MariaDbServerOptions } from '../../support/mariadb-server';
import { BundledHandler, OutputCapture, lambdaContext, loadBundledHandler, setFaultHook, withEnv } from '../../support/rotation-harness';

const ACCOUNT = '123456789012';
export const MYSQL_FAMILY_IDS = ['mysql-single-user', 'mysql-multi-user', 'mariadb-single-user', 'mariadb-multi-user'] as const;
export type MysqlFamilyId = typeof MYSQL_FAMILY_IDS[number];
/** A function ARN whose invocations always fail: RotateSecret with it leaves a value-less AWSPENDING version to drive by hand. */
export const MANUAL_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:manual`;

export function functionArn(id: MysqlFamilyId): string {
  return `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${id}`;
}

/** The secret's `engine` for a bundle: the mysql-* bundles get MySQL secrets (their SQL runs on MariaDB too). */
export function engineOf(id: MysqlFamilyId): string {
  return id.startsWith('mysql') ? 'mysql' : 'mariadb';
}

/** An account name quoted by the driver, for the tests' own statements. */
export function account(user: string, host = '%'): string {
  return `${escape(user)}@${escape(host)}`;
}

/**
 * A real MariaDB with verified TLS, the local Secrets Manager and RDS endpoints, and the MySQL-family bundles registered
 * as rotation functions, with all output captured for the secret-material check (the MariaDB counterpart of
 * test/support/postgres-rotation-fixture.ts).
 */
export class MariaDbRotationFixture {
  public static async start(options: MariaDbServerOptions = {}): Promise<MariaDbRotationFixture> {
    const [db, sm, rds] = await startAll([
      MariaDbServer.start(options),
      LocalSecretsManager.start({ maxRotationAttempts: 3 }),
      LocalRds.start(),
    ]);
    return new MariaDbRotationFixture(db, sm, rds);
  }

  public readonly capture = new OutputCapture();
  /** Every password the tests made; none may appear in any output. */
  public readonly canaries = new Set<string>();
  /** The host name the server's certificate was issued for (resolves to the server's loopback address). */
  public host = 'localhost';
  /** The port secrets name (a relay's, when a test puts one in front of the server). */
  public port: number;
  private readonly restoreEnv: () => void;
  private counter = 0;

  private constructor(public readonly db: MariaDbServer, public readonly sm: LocalSecretsManager, public readonly rds: LocalRds) {
    this.port = db.port;
    this.restoreEnv = withEnv({
      AWS_REGION: sm.region,
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret-key',
      AWS_SESSION_TOKEN: undefined,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      AWS_ENDPOINT_URL_RDS: rds.endpoint,
      ROTATION_TLS_CA_BUNDLE: db.caCertPath,
      ROTATION_CALL_TIMEOUT_MS: '8000',
    });
    this.canaries.add(db.superuser.password);
    for (const id of MYSQL_FAMILY_IDS) {
      const handler = loadBundledHandler(id as FunctionId);
      sm.registerFunction(functionArn(id), (event) => this.invokeWith(handler, event));
    }
    sm.registerFunction(MANUAL_ARN, async () => {
      throw new Error('driven by hand');
    });
    this.capture.start();
  }

  public async invoke(id: MysqlFamilyId, event: Record<string, unknown>, budgetMs?: number): Promise<void> {
    return this.invokeWith(loadBundledHandler(id as FunctionId), event, budgetMs);
  }

  public unique(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.counter}`;
  }

  /** A canary password: distinctive, recorded. */
  public canary(): string {
    const value = `CANARY${Math.random().toString(36).slice(2, 12)}Zz9`;
    this.canaries.add(value);
    return value;
  }

  /** CREATE USER with a password (quoted by the driver, so any name works). */
  public async createUser(user: string, password: string, host = '%', extra = ''): Promise<void> {
    await this.db.query(`CREATE USER ${account(user, host)} IDENTIFIED BY ${escape(password)} ${extra}`);
  }

  /** A master like RDS's: every privilege with GRANT OPTION, on '%'. */
  public async createMaster(username = 'rotation_master', privileges = 'ALL PRIVILEGES ON *.*'): Promise<{ arn: string; username: string; password: string }> {
    const password = this.canary();
    await this.createUser(username, password);
    await this.db.query(`GRANT ${privileges} TO ${account(username)} WITH GRANT OPTION`);
    return { arn: await this.createSecret(this.secretJson('mariadb', username, password)), username, password };
  }

  public async setPassword(user: string, password: string, host = '%'): Promise<void> {
    await this.db.query(`ALTER USER ${account(user, host)} IDENTIFIED BY ${escape(password)}`);
  }

  public secretJson(engine: string, username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { engine, host: this.host, port: this.port, username, password, ...extra };
  }

  public async createSecret(value: Record<string, unknown>, tags?: Tag[]): Promise<string> {
    const out = await this.sm.client().send(new CreateSecretCommand({ Name: this.unique('secret-'), SecretString: JSON.stringify(value), Tags: tags }));
    return out.ARN!;
  }

  public async rotate(secretArn: string, lambdaArn: string): Promise<RotationOutcome> {
    await this.sm.client().send(new RotateSecretCommand({
      SecretId: secretArn, RotationLambdaARN: lambdaArn, RotationRules: { ScheduleExpression: 'rate(4 hours)' },
    }));
    return this.sm.rotationSettled(secretArn);
  }

  public async beginManualRotation(secretArn: string): Promise<string> {
    const out = await this.sm.client().send(new RotateSecretCommand({
      SecretId: secretArn, RotationLambdaARN: MANUAL_ARN, RotationRules: { ScheduleExpression: 'rate(4 hours)' },
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

  /** Whether a secret value logs in from 127.0.0.1 (accounts on '%'). */
  public async login(value: Record<string, any>): Promise<boolean> {
    return this.db.canLogin(value.username, value.password, value.dbname);
  }

  /** The hosts of every account named `user`. */
  public async hosts(user: string): Promise<string[]> {
    const rows = await this.db.query<{ Host: string }>('SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host', [user]);
    return rows.map((r) => r.Host);
  }

  /** SHOW GRANTS with the grantee replaced, sorted: equal for two accounts with the same grants. */
  public async grants(user: string, host = '%'): Promise<string[]> {
    const rows = await this.db.query<Record<string, string>>(`SHOW GRANTS FOR ${account(user, host)}`);
    return rows.map((r) => Object.values(r)[0])
      // the grantee replaced; of what follows it only the grant's own option kept (MariaDB appends account properties)
      .map((line) => line.replace(/ (TO|FROM|FOR) `(?:[^`]|``)*`@`(?:[^`]|``)*`(.*)$/,
        (_m, keyword: string, tail: string) => ` ${keyword} <grantee>${/WITH (GRANT|ADMIN) OPTION/.exec(tail)?.[0].replace(/^/, ' ') ?? ''}`))
      .filter((line) => line !== 'GRANT USAGE ON *.* TO <grantee>')
      .sort();
  }

  /** Authentication strings of every account but `except`, to prove no other account was altered. */
  public async authStrings(except: string[] = []): Promise<Record<string, string>> {
    const rows = await this.db.query<{ User: string; Host: string; a: string }>(
      'SELECT User, Host, authentication_string AS a FROM mysql.user ORDER BY User, Host');
    return Object.fromEntries(rows.filter((r) => !except.includes(r.User)).map((r) => [`${r.User}@${r.Host}`, String(r.a)]));
  }

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
          if (typeof parsed.password === 'string') found.add(parsed.password);
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

  public lastStepLine(arn: string, step?: string): Record<string, unknown> | undefined {
    return this.capture.stepLines.reverse().find((l) => l.secretArn === arn && (step === undefined || l.step === step));
  }

  public async stop(): Promise<void> {
    setFaultHook(undefined);
    this.capture.stop();
    this.restoreEnv();
    await stopAll([this.sm, this.rds, this.db]);
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
