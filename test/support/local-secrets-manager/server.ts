import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { ServiceError } from './errors';
import { DroppedConnection, FaultInjector, MatchedFault } from './faults';
import { generatePassword } from './password';
import { InvocationRecord, RotationDriver, RotationInvoker, RotationOutcome } from './rotation-driver';
import { SecretStore } from './store';
import { RotationEventRecord } from './types';
import { asServiceError, decodeInput, parseJson, readBody, send, sendError, targetOperation, toWire } from './wire';

export interface LocalSecretsManagerOptions {
  /** Default us-east-1. */
  readonly region?: string;
  /** Default 123456789012. */
  readonly accountId?: string;
  /** How many times the service runs the whole rotation before giving up. Default 3. */
  readonly maxRotationAttempts?: number;
  /** The service's clock (dates, recovery windows, version clean-up), for tests that move time. Default: real time. */
  readonly now?: () => Date;
}

export interface CallRecord {
  readonly operation: string;
  readonly input: any;
  /** The __type answered, or ConnectionDropped when a fault closed the connection without an answer. */
  error?: string;
}

type Operation = (input: any) => unknown;

/**
 * A local AWS Secrets Manager endpoint speaking the AWS JSON 1.1 protocol, for real SDK clients.
 * Signatures are not verified; nothing is logged.
 */
export class LocalSecretsManager {
  static async start(options: LocalSecretsManagerOptions = {}): Promise<LocalSecretsManager> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new LocalSecretsManager(server, options);
  }

  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly faults = new FaultInjector();
  /** The model behind the endpoint, for direct inspection. */
  readonly store: SecretStore;
  private readonly driver: RotationDriver;
  private readonly callLog: CallRecord[] = [];
  private readonly clients: SecretsManagerClient[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly operations: Map<string, Operation>;

  private constructor(private readonly server: Server, options: LocalSecretsManagerOptions) {
    const port = (server.address() as AddressInfo).port;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.store = new SecretStore({ region: this.region, accountId: this.accountId, now: options.now });
    this.driver = new RotationDriver(this.store, Math.max(1, options.maxRotationAttempts ?? 3));
    this.operations = this.operationTable();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res);
    });
  }

  /** Every request, in order. */
  get calls(): ReadonlyArray<CallRecord> {
    return this.callLog;
  }

  /** Rotation events, like the ones Secrets Manager sends to EventBridge. */
  get events(): ReadonlyArray<RotationEventRecord> {
    return this.store.events;
  }

  /** Every invocation of a rotation function, in order. */
  get invocations(): ReadonlyArray<InvocationRecord> {
    return this.driver.invocations;
  }

  /** A real SDK client for this endpoint: dummy credentials, no retries. */
  client(config: Partial<SecretsManagerClientConfig> = {}): SecretsManagerClient {
    const client = new SecretsManagerClient({
      region: this.region,
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'AKIDLOCALSECRETSMGR', secretAccessKey: 'local-secret-access-key' },
      maxAttempts: 1,
      ...config,
    });
    this.clients.push(client);
    return client;
  }

  /** RotateSecret with this RotationLambdaARN calls `invoke` for each step. */
  registerFunction(lambdaArn: string, invoke: RotationInvoker): void {
    this.driver.register(lambdaArn, invoke);
  }

  /** Resolves when the rotation most recently started by RotateSecret for this secret has finished. */
  async rotationSettled(secretId: string): Promise<RotationOutcome> {
    const arn = this.store.resolve(secretId).arn;
    const settled = this.driver.settled(arn);
    if (settled === undefined) {
      throw new Error(`No rotation was started for secret ${secretId}`);
    }
    return settled;
  }

  versionStages(secretId: string): Record<string, string[]> {
    return this.store.versionStages(secretId);
  }

  async stop(): Promise<void> {
    this.driver.stop();
    this.timers.forEach(timer => clearTimeout(timer));
    this.timers.clear();
    this.clients.forEach(client => client.destroy());
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      res.destroy();
      return;
    }
    const operation = targetOperation(req);
    const call: CallRecord = { operation: operation ?? '', input: parseJson(body) };
    this.callLog.push(call);
    try {
      const output = await this.process(req, operation, call.input);
      send(res, 200, output);
    } catch (e) {
      if (e instanceof DroppedConnection) {
        call.error = e.code;
        res.destroy();
        return;
      }
      const error = asServiceError(e);
      call.error = error.code;
      sendError(res, error);
    }
  }

  private async process(req: IncomingMessage, operation: string | undefined, input: unknown): Promise<unknown> {
    const execute = operation === undefined || req.method !== 'POST' ? undefined : this.operations.get(operation);
    if (execute === undefined || operation === undefined) {
      throw new ServiceError('UnknownOperationException', `Unknown operation ${operation ?? '(none)'}.`);
    }
    if (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ServiceError('SerializationException', 'The request body is not a JSON object.');
    }
    const fault = this.faults.take(operation, input);
    if (fault?.phase === 'before') {
      await this.inject(fault);
    }
    const output = execute(decodeInput(input as Record<string, unknown>));
    if (fault?.phase === 'after') {
      await this.inject(fault);
    }
    return toWire(output);
  }

  /** Delays, then drops the connection or fails the request, as the rule says. */
  private async inject(fault: MatchedFault): Promise<void> {
    if (fault.delay > 0) {
      await this.sleep(fault.delay);
    }
    if (fault.disconnect) {
      throw new DroppedConnection();
    }
    if (fault.error) {
      throw fault.error;
    }
  }

  private operationTable(): Map<string, Operation> {
    const store = this.store;
    return new Map<string, Operation>([
      ['CreateSecret', input => store.createSecret(input)],
      ['DescribeSecret', input => store.describeSecret(input)],
      ['GetSecretValue', input => store.getSecretValue(input)],
      ['PutSecretValue', input => store.putSecretValue(input)],
      ['UpdateSecretVersionStage', input => store.updateSecretVersionStage(input)],
      ['ListSecrets', input => store.listSecrets(input)],
      ['ListSecretVersionIds', input => store.listSecretVersionIds(input)],
      ['CancelRotateSecret', input => store.cancelRotateSecret(input)],
      ['UpdateSecret', input => store.updateSecret(input)],
      ['DeleteSecret', input => store.deleteSecret(input)],
      ['RestoreSecret', input => store.restoreSecret(input)],
      ['TagResource', input => store.tagResource(input)],
      ['UntagResource', input => store.untagResource(input)],
      ['GetResourcePolicy', input => store.getResourcePolicy(input)],
      ['PutResourcePolicy', input => store.putResourcePolicy(input)],
      ['DeleteResourcePolicy', input => store.deleteResourcePolicy(input)],
      ['GetRandomPassword', input => ({ RandomPassword: generatePassword(input) })],
      ['RotateSecret', input => this.rotateSecret(input)],
    ]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private rotateSecret(input: any): unknown {
    // an ARN with no registered function is one the service cannot invoke; one that exists but fails is not
    const { response, started } = this.store.rotateSecret(input, { canInvoke: arn => this.driver.canInvoke(arn) });
    if (started !== undefined) {
      this.driver.start(started);
    }
    return response;
  }
}
