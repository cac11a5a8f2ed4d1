import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, Tag } from '@aws-sdk/client-secrets-manager';
import { LocalSecretsManager, RotationOutcome } from './local-secrets-manager';
import { localSecretsManagerEnvironment } from './local-secrets-manager/testing';
import { OutputCapture, lambdaContext, loadBundledHandler, withEnv } from './rotation-harness';
import { OAUTH_FUNCTION_IDS, OAuthFunctionId } from '../../src/private/contract';

const ACCOUNT = '123456789012';

export function oauthFunctionArn(id: OAuthFunctionId): string {
  return `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${id}`;
}

/** A function whose invocations always fail: RotateSecret with it leaves a value-less AWSPENDING version to drive by hand. */
export const MANUAL_OAUTH_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:manual-oauth`;

/** Something with a CA certificate file the handlers must trust (an OAuth test server). */
export interface TrustedServer {
  readonly caCertPem: string;
}

/**
 * The local Secrets Manager with both bundled OAuth rotators registered under their function ids, the handlers' TLS
 * trust set to the given servers' CAs, and every output captured for the secret-material check (invariant 10).
 */
export class OAuthRotationFixture {
  public static async start(servers: readonly TrustedServer[], env: Record<string, string | undefined> = {}): Promise<OAuthRotationFixture> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oauth-fixture-'));
    const caBundle = path.join(dir, 'ca-bundle.pem');
    await fs.writeFile(caBundle, servers.map((s) => s.caCertPem).join('\n'));
    const sm = await LocalSecretsManager.start({ maxRotationAttempts: 3 }).catch(async (err) => {
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    });
    return new OAuthRotationFixture(sm, dir, caBundle, env);
  }

  public readonly capture = new OutputCapture();
  /** Every token or secret the tests made or saw; none may appear in any output. */
  public readonly canaries = new Set<string>();
  private readonly restoreEnv: () => void;
  private counter = 0;

  private constructor(public readonly sm: LocalSecretsManager, private readonly dir: string, public readonly caBundle: string,
    env: Record<string, string | undefined>) {
    this.restoreEnv = withEnv({
      ...localSecretsManagerEnvironment(sm),
      ROTATION_TLS_CA_BUNDLE: caBundle,
      ROTATION_CALL_TIMEOUT_MS: '5000',
      ROTATION_OAUTH_PROBE_URL: undefined,
      ROTATION_OAUTH_CLIENT_SECRET_ADAPTER: undefined,
      ROTATION_OAUTH_OVERLAP_SECONDS: undefined,
      ROTATION_OAUTH_ALLOW_LOOPBACK_HTTP: undefined,
      ...env,
    });
    for (const id of Object.values(OAUTH_FUNCTION_IDS)) {
      sm.registerFunction(oauthFunctionArn(id), (event) => this.invoke(id, event));
    }
    sm.registerFunction(MANUAL_OAUTH_ARN, async () => {
      throw new Error('driven by hand');
    });
    this.capture.start();
  }

  /** Invokes the bundled handler directly, recording what it throws. */
  public async invoke(id: OAuthFunctionId, event: object, budgetMs?: number): Promise<void> {
    try {
      await loadBundledHandler(id as never)(event, lambdaContext(budgetMs));
    } catch (err) {
      this.capture.addError(err);
      throw err;
    }
  }

  public unique(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.counter}`;
  }

  /** Records a value as secret material (it must never appear in output). */
  public secret<T extends string | undefined>(value: T): T {
    if (value) this.canaries.add(value);
    return value;
  }

  public async createSecret(value: Record<string, unknown>, tags?: Tag[]): Promise<string> {
    for (const field of ['client_secret', 'refresh_token', 'access_token', 'private_key', 'registration_access_token', 'token', 'password']) {
      if (typeof value[field] === 'string') this.secret(value[field] as string);
    }
    const out = await this.sm.client().send(new CreateSecretCommand({
      Name: this.unique('oauth-secret-'),
      // '@BIG@' stands for a number JSON.parse would round: the JSON is written as a person would write it
      SecretString: JSON.stringify(value).replace('"@BIG@"', '12345678901234567890'),
      Tags: tags,
    }));
    return out.ARN!;
  }

  /** A version's JSON; every token in it becomes a canary. */
  public async value(secretArn: string, select: { stage?: string; versionId?: string } = {}): Promise<Record<string, any>> {
    const out = await this.sm.client().send(new GetSecretValueCommand({
      SecretId: secretArn, VersionId: select.versionId, VersionStage: select.versionId ? undefined : (select.stage ?? 'AWSCURRENT'),
    }));
    const parsed = JSON.parse(out.SecretString!);
    for (const field of ['client_secret', 'refresh_token', 'access_token', 'registration_access_token']) this.secret(parsed[field]);
    return parsed;
  }

  public async rotate(secretArn: string, id: OAuthFunctionId): Promise<RotationOutcome> {
    await this.sm.client().send(new RotateSecretCommand({
      SecretId: secretArn,
      RotationLambdaARN: oauthFunctionArn(id),
      RotationRules: { ScheduleExpression: 'rate(4 hours)' },
    }));
    return this.sm.rotationSettled(secretArn);
  }

  /** Starts a rotation whose steps the test drives by hand; returns the pending token. */
  public async beginManualRotation(secretArn: string): Promise<string> {
    const out = await this.sm.client().send(new RotateSecretCommand({
      SecretId: secretArn,
      RotationLambdaARN: MANUAL_OAUTH_ARN,
      RotationRules: { ScheduleExpression: 'rate(4 hours)' },
    }));
    const outcome = await this.sm.rotationSettled(secretArn);
    if (outcome.status !== 'failed') throw new Error(`manual rotation setup ended ${outcome.status}`);
    return out.VersionId!;
  }

  /** The last step line the handler logged for a secret (and step). */
  public lastLine(arn: string, step?: string): Record<string, unknown> | undefined {
    return [...this.capture.stepLines].reverse().find((l) => l.secretArn === arn && (step === undefined || l.step === step));
  }

  /** Canaries found in the captured output. */
  public leaks(): string[] {
    return this.capture.leaked(this.canaries);
  }

  public async stop(): Promise<void> {
    this.capture.stop();
    this.restoreEnv();
    await this.sm.stop();
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
