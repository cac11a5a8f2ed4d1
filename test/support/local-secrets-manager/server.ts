import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { generatePassword, PasswordPolicyError } from './password';
import { RotationEventRecord, RotationStep, SecretStore, ServiceError, StartedRotation } from './store';

export interface RotationEvent {
  Step: RotationStep;
  SecretId: string;
  ClientRequestToken: string;
  RotationToken?: string;
}

/** Stands in for the rotation Lambda function: resolves on success, throws (rejects) on failure. */
export type RotationInvoker = (event: RotationEvent) => Promise<unknown>;

export interface LocalSecretsManagerOptions {
  /** Default us-east-1. */
  readonly region?: string;
  /** Default 123456789012. */
  readonly accountId?: string;
  /** How many times the service runs the whole rotation before giving up. Default 3. */
  readonly maxRotationAttempts?: number;
}

export interface RotationOutcome {
  /** succeeded; failed after all attempts; abandoned by a PutSecretValue; cancelled by CancelRotateSecret or stop(). */
  readonly status: 'succeeded' | 'failed' | 'abandoned' | 'cancelled';
  /** rotation: RotateImmediately true (four steps); validation: RotateImmediately false (testSecret only). */
  readonly kind: 'rotation' | 'validation';
  readonly secretArn: string;
  /** The rotation's ClientRequestToken (for a validation: the AWSCURRENT VersionId). */
  readonly token: string;
  readonly attempts: number;
  /** For a failure: the step of the last failed attempt. */
  readonly step?: RotationStep;
  readonly errorCode?: string;
  /** For a failure: what the last failed step threw. */
  readonly error?: unknown;
}

export interface CallRecord {
  readonly operation: string;
  readonly input: any;
  error?: string;
}

export interface InvocationRecord {
  readonly lambdaArn: string;
  readonly event: RotationEvent;
  readonly attempt: number;
  error?: string;
}

export interface FaultRule {
  /** Operation name, e.g. PutSecretValue. */
  readonly operation: string;
  /** Only requests whose (wire) input satisfies this. */
  readonly when?: (input: any) => boolean;
  /** The __type to answer with. Default InternalServiceError, unless only `delay` is given. */
  readonly error?: string;
  readonly message?: string;
  /** before: reject without applying; after: apply, then answer with the error (a lost response). Default before. */
  readonly phase?: 'before' | 'after';
  /** How many matching requests this rule affects. Default 1. */
  readonly times?: number;
  /** Wait this long (ms) before handling the request. With no `error`, the request then succeeds. */
  readonly delay?: number;
}

interface MatchedFault {
  readonly error?: ServiceError;
  readonly phase: 'before' | 'after';
  readonly delay: number;
}

/** Rules that make the next matching requests fail or slow; the first matching rule wins. */
export class FaultInjector {
  private rules: Array<{ rule: FaultRule; remaining: number }> = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, remaining: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** Number of rules that have not been used up. */
  get pending(): number {
    return this.rules.length;
  }

  /** Finds and consumes the first rule matching this request. */
  take(operation: string, input: unknown): MatchedFault | undefined {
    const entry = this.rules.find(r => r.rule.operation === operation && (r.rule.when?.(input) ?? true));
    if (entry === undefined) {
      return undefined;
    }
    entry.remaining--;
    if (entry.remaining <= 0) {
      this.rules = this.rules.filter(r => r !== entry);
    }
    const { rule } = entry;
    const delayOnly = rule.delay !== undefined && rule.error === undefined;
    const code = rule.error ?? 'InternalServiceError';
    return {
      error: delayOnly ? undefined : new ServiceError(code, rule.message ?? `Injected fault: ${code}`),
      phase: rule.phase ?? 'before',
      delay: rule.delay ?? 0,
    };
  }
}

type Operation = (input: any) => unknown;

const STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';

type AttemptResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'failed'; readonly step: RotationStep; readonly errorCode: string; readonly error?: unknown };

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
  private readonly maxRotationAttempts: number;
  private readonly callLog: CallRecord[] = [];
  private readonly invocationLog: InvocationRecord[] = [];
  private readonly functions = new Map<string, RotationInvoker>();
  private readonly rotations = new Map<string, Promise<RotationOutcome>>();
  private readonly clients: SecretsManagerClient[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly operations: Map<string, Operation>;
  private stopped = false;

  private constructor(private readonly server: Server, options: LocalSecretsManagerOptions) {
    const port = (server.address() as AddressInfo).port;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.maxRotationAttempts = Math.max(1, options.maxRotationAttempts ?? 3);
    this.store = new SecretStore({ region: this.region, accountId: this.accountId });
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
    return this.invocationLog;
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
    this.functions.set(lambdaArn, invoke);
  }

  /** Resolves when the rotation most recently started by RotateSecret for this secret has finished. */
  async rotationSettled(secretId: string): Promise<RotationOutcome> {
    const arn = this.store.resolve(secretId).arn;
    const settled = this.rotations.get(arn);
    if (settled === undefined) {
      throw new Error(`No rotation was started for secret ${secretId}`);
    }
    return settled;
  }

  versionStages(secretId: string): Record<string, string[]> {
    return this.store.versionStages(secretId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
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
    if (fault && fault.delay > 0) {
      await this.sleep(fault.delay);
    }
    if (fault?.error && fault.phase === 'before') {
      throw fault.error;
    }
    const output = execute(decodeInput(input as Record<string, unknown>));
    if (fault?.error) {
      throw fault.error;
    }
    return toWire(output);
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

  // ---- rotation driver ----

  private rotateSecret(input: any): unknown {
    const { response, started } = this.store.rotateSecret(input);
    if (started !== undefined) {
      const settled = new Promise<RotationOutcome>(resolve => {
        setImmediate(() => resolve(this.drive(started)));
      });
      this.rotations.set(started.secretArn, settled);
    }
    return response;
  }

  private async drive(started: StartedRotation): Promise<RotationOutcome> {
    try {
      return started.kind === 'rotation' ? await this.runRotation(started) : await this.runValidation(started);
    } catch (e) {
      this.store.failRotation(started.secretArn, started.token, 'createSecret', 'InternalServiceError');
      return { status: 'failed', kind: started.kind, secretArn: started.secretArn, token: started.token, attempts: 0, error: e };
    }
  }

  private async runRotation(started: StartedRotation): Promise<RotationOutcome> {
    const base = { kind: started.kind, secretArn: started.secretArn, token: started.token };
    let failure: AttemptResult & { kind: 'failed' } = { kind: 'failed', step: 'createSecret', errorCode: 'InternalServiceError' };
    for (let attempt = 1; attempt <= this.maxRotationAttempts; attempt++) {
      const result = await this.runAttempt(started, attempt);
      if (result.kind === 'stopped') {
        return { ...base, status: this.stopStatus(started), attempts: attempt };
      }
      if (result.kind === 'ok' && this.store.completeRotation(started.secretArn, started.token)) {
        return { ...base, status: 'succeeded', attempts: attempt };
      }
      failure = result.kind === 'failed' ? result : { kind: 'failed', step: 'finishSecret', errorCode: 'AWSCURRENTNotMoved' };
    }
    this.store.failRotation(started.secretArn, started.token, failure.step, failure.errorCode);
    return { ...base, status: 'failed', attempts: this.maxRotationAttempts, step: failure.step, errorCode: failure.errorCode, error: failure.error };
  }

  /** One run of the four steps, all with the same RotationToken. */
  private async runAttempt(started: StartedRotation, attempt: number): Promise<AttemptResult> {
    const rotationToken = randomBytes(24).toString('base64url');
    for (const step of STEPS) {
      if (!this.isActive(started)) {
        return { kind: 'stopped' };
      }
      const result = await this.invokeStep(started, step, rotationToken, attempt);
      if (result.kind === 'failed') {
        return this.isActive(started) ? result : { kind: 'stopped' };
      }
    }
    return this.isActive(started) ? { kind: 'ok' } : { kind: 'stopped' };
  }

  /** RotateImmediately false: testSecret once, with the AWSCURRENT VersionId as token. */
  private async runValidation(started: StartedRotation): Promise<RotationOutcome> {
    const base = { kind: started.kind, secretArn: started.secretArn, token: started.token, attempts: 1 };
    if (!this.isActive(started)) {
      return { ...base, status: this.stopStatus(started) };
    }
    const result = await this.invokeStep(started, 'testSecret', randomBytes(24).toString('base64url'), 1);
    if (result.kind === 'failed') {
      this.store.failRotation(started.secretArn, started.token, 'testSecret', result.errorCode);
      return { ...base, status: 'failed', step: 'testSecret', errorCode: result.errorCode, error: result.error };
    }
    this.store.endRotation(started.secretArn, started.token);
    return { ...base, status: 'succeeded' };
  }

  private async invokeStep(started: StartedRotation, step: RotationStep, rotationToken: string, attempt: number): Promise<AttemptResult> {
    const event: RotationEvent = { Step: step, SecretId: started.secretArn, ClientRequestToken: started.token, RotationToken: rotationToken };
    const record: InvocationRecord = { lambdaArn: started.lambdaArn, event, attempt };
    this.invocationLog.push(record);
    try {
      const invoke = this.functions.get(started.lambdaArn);
      if (invoke === undefined) {
        throw new ServiceError('ResourceNotFoundException', `Function not found: ${started.lambdaArn}`);
      }
      await invoke({ ...event });
      return { kind: 'ok' };
    } catch (e) {
      record.error = errorCode(e);
      return { kind: 'failed', step, errorCode: record.error, error: e };
    }
  }

  private isActive(started: StartedRotation): boolean {
    return !this.stopped && this.store.rotationState(started.secretArn, started.token) === 'running';
  }

  /** Ends a rotation that stopped before completing and says why it stopped. */
  private stopStatus(started: StartedRotation): 'abandoned' | 'cancelled' {
    const state = this.store.rotationState(started.secretArn, started.token);
    this.store.endRotation(started.secretArn, started.token);
    return state === 'abandoned' ? 'abandoned' : 'cancelled';
  }
}

// ---- wire helpers ----

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function targetOperation(req: IncomingMessage): string | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
    return undefined;
  }
  return target.slice(TARGET_PREFIX.length);
}

function parseJson(body: string): unknown {
  if (body.trim() === '') {
    return {};
  }
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Blobs arrive base64-encoded. */
function decodeInput(input: Record<string, unknown>): Record<string, unknown> {
  const binary = input.SecretBinary;
  if (binary === undefined || binary === null) {
    return input;
  }
  if (typeof binary !== 'string') {
    throw new ServiceError('SerializationException', 'SecretBinary must be a base64 string.');
  }
  return { ...input, SecretBinary: Buffer.from(binary, 'base64') };
}

/** Dates become epoch seconds, binary becomes base64, undefined members are dropped. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) {
    return value.getTime() / 1000;
  }
  if (value instanceof Uint8Array) {
    return Buffer.from(value).toString('base64');
  }
  if (Array.isArray(value)) {
    return value.map(toWire);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

function asServiceError(e: unknown): ServiceError {
  if (e instanceof ServiceError) {
    return e;
  }
  if (e instanceof PasswordPolicyError) {
    return new ServiceError(e.code, e.message);
  }
  return new ServiceError('InternalServiceError', 'An error occurred on the server side.');
}

function errorCode(e: unknown): string {
  if (e instanceof ServiceError) {
    return e.code;
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? code : e.name;
  }
  return 'Error';
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) {
    return;
  }
  const payload = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(payload);
}

function sendError(res: ServerResponse, error: ServiceError): void {
  const status = error.code === 'InternalServiceError' ? 500 : 400;
  send(res, status, { __type: error.code, message: error.message }, { 'x-amzn-errortype': error.code });
}
