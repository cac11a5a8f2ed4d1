import { randomBytes } from 'node:crypto';
import { ServiceError } from './errors';
import type { SecretStore } from './store';
import type { RotationStep, StartedRotation } from './types';
import { errorCode } from './wire';

export interface RotationEvent {
  Step: RotationStep;
  SecretId: string;
  ClientRequestToken: string;
  RotationToken?: string;
}

/** Stands in for the rotation Lambda function: resolves on success, throws (rejects) on failure. */
export type RotationInvoker = (event: RotationEvent) => Promise<unknown>;

export interface RotationOutcome {
  /** succeeded; failed after all attempts; abandoned by a PutSecretValue; cancelled by CancelRotateSecret or stop(). */
  readonly status: 'succeeded' | 'failed' | 'abandoned' | 'cancelled';
  /** rotation: RotateImmediately true (four steps); validation: RotateImmediately false (testSecret only). */
  readonly kind: 'rotation' | 'validation';
  readonly secretArn: string;
  /**
   * The rotation's ClientRequestToken: the VersionId of its AWSPENDING version. For a validation, the VersionId of
   * the temporary AWSPENDING version testSecret ran with (already removed when the outcome is known).
   */
  readonly token: string;
  readonly attempts: number;
  /** For a failure: the step of the last failed attempt. */
  readonly step?: RotationStep;
  readonly errorCode?: string;
  /** For a failure: what the last failed step threw. */
  readonly error?: unknown;
}

export interface InvocationRecord {
  readonly lambdaArn: string;
  readonly event: RotationEvent;
  readonly attempt: number;
  error?: string;
}

const STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

type AttemptResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'failed'; readonly step: RotationStep; readonly errorCode: string; readonly error?: unknown };

/**
 * Plays the service's part in a rotation: invokes the registered function for each step, retries the whole
 * rotation after a failure, and records the outcome. Runs after RotateSecret has answered, like the service.
 */
export class RotationDriver {
  /** Every invocation of a rotation function, in order. */
  readonly invocations: InvocationRecord[] = [];
  private readonly functions = new Map<string, RotationInvoker>();
  private readonly rotations = new Map<string, Promise<RotationOutcome>>();
  private stopped = false;

  constructor(private readonly store: SecretStore, private readonly maxAttempts: number) {}

  register(lambdaArn: string, invoke: RotationInvoker): void {
    this.functions.set(lambdaArn, invoke);
  }

  /** Whether a function is registered under this ARN (one that exists, even if it always fails). */
  canInvoke(lambdaArn: string): boolean {
    return this.functions.has(lambdaArn);
  }

  /** Drives the rotation once the current request has been answered. */
  start(started: StartedRotation): void {
    const settled = new Promise<RotationOutcome>(resolve => {
      setImmediate(() => resolve(this.drive(started)));
    });
    this.rotations.set(started.secretArn, settled);
  }

  /** The outcome of the rotation most recently started for this secret ARN. */
  settled(secretArn: string): Promise<RotationOutcome> | undefined {
    return this.rotations.get(secretArn);
  }

  /** Stops every rotation before its next step. */
  stop(): void {
    this.stopped = true;
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
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
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
    return { ...base, status: 'failed', attempts: this.maxAttempts, step: failure.step, errorCode: failure.errorCode, error: failure.error };
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

  /**
   * RotateImmediately false: testSecret once, with the VersionId of the temporary AWSPENDING version (a copy of
   * AWSCURRENT), which is removed afterwards whatever the outcome.
   */
  private async runValidation(started: StartedRotation): Promise<RotationOutcome> {
    const base = { kind: started.kind, secretArn: started.secretArn, token: started.token, attempts: 1 };
    try {
      if (!this.isActive(started)) {
        return { ...base, status: this.stopStatus(started) };
      }
      const result = await this.invokeStep(started, 'testSecret', randomBytes(24).toString('base64url'), 1);
      if (result.kind === 'failed') {
        this.store.failRotation(started.secretArn, started.token, 'testSecret', result.errorCode);
        return { ...base, status: 'failed', step: 'testSecret', errorCode: result.errorCode, error: result.error };
      }
      return { ...base, status: 'succeeded' };
    } finally {
      this.store.endValidation(started.secretArn, started.token);
    }
  }

  private async invokeStep(started: StartedRotation, step: RotationStep, rotationToken: string, attempt: number): Promise<AttemptResult> {
    const event: RotationEvent = { Step: step, SecretId: started.secretArn, ClientRequestToken: started.token, RotationToken: rotationToken };
    const record: InvocationRecord = { lambdaArn: started.lambdaArn, event, attempt };
    this.invocations.push(record);
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
