import { Deadline, SAFETY_MARGIN_MS, callTimeoutFromEnv } from './deadline';
import { ERROR_CODES, RotationError, errorName, toRotationError } from './errors';
import { RotationContext, RotationEvent, Step, parseEvent } from './event';
import { exchangeOnce } from './exchange';
import { requestHadNoEffect } from './http';
import { LogSink, consoleSink, formatStepLog } from './logger';
import { checkPassword, policyFromEnv } from './password';
import { rotationFinishedRecord, stepFailedRecord } from './rotation-metrics';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretsClient, isAwsError, sdkClient } from './secrets-client';
import type { CredentialEngine, LoginStep, StepContext } from './types';
import { ENV } from '../../src/private/contract';

export interface HandlerOptions {
  /** Where the step log line and the metric records (EMF lines) go. @default stdout */
  readonly log?: LogSink;
}

export type RotationHandler = (event: unknown, context: RotationContext) => Promise<void>;

/** Builds a Lambda handler that runs the Secrets Manager rotation protocol for `engine`. */
export function createRotationHandler<T>(engine: CredentialEngine<T>, options: HandlerOptions = {}): RotationHandler {
  const log = options.log ?? consoleSink;
  return async (rawEvent, context) => {
    const started = Date.now();
    let event: RotationEvent | undefined;
    try {
      event = parseEvent(rawEvent);
      const ctx = stepContext(event, context);
      const action = await runStep(engine, event, ctx);
      log(formatStepLog({
        step: event.Step,
        secretArn: event.SecretId,
        versionId: event.ClientRequestToken,
        outcome: 'succeeded',
        action,
        durationMs: Date.now() - started,
        engine: engine.name,
        requestId: context?.awsRequestId,
      }));
      // counted once per rotation: only the call that moved AWSCURRENT says `promoted`; retries say `already-current`
      if (action === 'promoted') writeMetric(log, () => rotationFinishedRecord(engine.name));
    } catch (thrown) {
      const err = toRotationError(thrown);
      log(formatStepLog({
        step: event?.Step ?? 'unknown',
        secretArn: event?.SecretId ?? 'unknown',
        versionId: event?.ClientRequestToken ?? 'unknown',
        outcome: 'failed',
        errorCode: err.code,
        errorName: err.name,
        errorMessage: err.message,
        causeCode: err.cause?.message,
        durationMs: Date.now() - started,
        engine: engine.name,
        requestId: context?.awsRequestId,
      }));
      writeMetric(log, () => stepFailedRecord(engine.name, err.code));
      throw err;
    }
  };
}

/**
 * Writes one metric record. A metric is secondary to the step: a record that cannot be built or written never changes
 * the step's outcome and never replaces the error the step throws. What went wrong is written instead, if the sink
 * still takes a line (the error's class name only).
 */
function writeMetric(log: LogSink, build: () => string): void {
  try {
    log(build());
  } catch (err) {
    try {
      log(JSON.stringify({ level: 'WARN', message: 'rotation metric not written', errorName: errorName(err) }));
    } catch {
      // the sink itself fails: there is nowhere left to report it, and the step's own result must stand
    }
  }
}

function stepContext(event: RotationEvent, context: RotationContext): StepContext {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function'
    ? () => context.getRemainingTimeInMillis()
    : () => Number.MAX_SAFE_INTEGER;
  const deadline = new Deadline(remaining, callTimeoutFromEnv(process.env[ENV.CALL_TIMEOUT_MS]));
  return {
    secretArn: event.SecretId,
    token: event.ClientRequestToken,
    deadline,
    secrets: new SecretsClient(sdkClient(), deadline),
    env: process.env,
  };
}

/** The preamble every step runs, then the step. Returns the action word for the log. */
async function runStep<T>(engine: CredentialEngine<T>, event: RotationEvent, ctx: StepContext): Promise<string> {
  const meta = await ctx.secrets.describe(event.SecretId);
  if (meta.deleted) {
    throw new RotationError(ERROR_CODES.SECRET_MARKED_FOR_DELETION, 'The secret is marked for deletion; restore it to rotate it');
  }
  if (meta.rotationEnabled === false) {
    throw new RotationError(ERROR_CODES.ROTATION_DISABLED, 'Rotation is not enabled for this secret');
  }
  const stages = meta.versionStages[event.ClientRequestToken];
  if (!stages) {
    throw new RotationError(ERROR_CODES.UNKNOWN_VERSION, 'The rotation token is not a version of this secret');
  }
  // a late retry of a rotation that already finished
  if (stages.includes(AWSCURRENT)) return 'already-current';
  if (!stages.includes(AWSPENDING)) {
    throw new RotationError(ERROR_CODES.NOT_PENDING, 'The version is not AWSPENDING; the rotation was abandoned or replaced');
  }
  const full = { ...ctx, secretArn: meta.arn };
  const steps: Record<Step, () => Promise<string>> = {
    createSecret: () => createSecret(engine, event, full),
    setSecret: () => setSecret(engine, full),
    testSecret: () => testSecret(engine, full),
    finishSecret: () => finishSecret(engine, meta.versionStages, full),
  };
  try {
    return await steps[event.Step]();
  } catch (err) {
    if (err instanceof FinishedMeanwhile) return 'already-current';
    throw err;
  }
}

/** The token's version became AWSCURRENT while the step ran: a duplicate invocation finished the rotation. */
class FinishedMeanwhile extends Error {}

async function createSecret<T>(engine: CredentialEngine<T>, event: RotationEvent, ctx: StepContext): Promise<string> {
  const current = engine.parse(await readCurrent(ctx), 'current');
  // never regenerate: the database may already hold the pending password
  if (await readPending(ctx) !== undefined) return 'pending-exists';
  let value: string;
  if (engine.exchangePending && (engine.usesExchange?.(ctx) ?? true)) {
    const exchanged = await exchangeOnce(ctx, {
      readPending: () => readPending(ctx),
      // one exchange (discovery and the token request) and the store, each bounded by the per-call limit
      inFlightMs: 4 * ctx.deadline.callTimeoutMs + SAFETY_MARGIN_MS,
      notMade: requestHadNoEffect,
    }, () => engine.exchangePending!(current, ctx));
    if (exchanged.kind === 'stored-meanwhile') return 'pending-exists';
    value = exchanged.value;
  } else if (engine.nextValue) {
    const policy = policyFromEnv(ctx.env, engine.defaultPasswordPolicy);
    const password = await ctx.secrets.randomPassword(policy);
    checkPassword(password, policy);
    value = await engine.nextValue(current, password, ctx);
  } else {
    throw new RotationError(ERROR_CODES.INTERNAL, 'The engine makes no pending value');
  }
  engine.parse(value, 'pending');
  let stored: 'stored' | 'exists';
  try {
    stored = await ctx.secrets.putPending(ctx.secretArn, ctx.token, value, event.RotationToken);
  } catch (err) {
    if (!(err instanceof RotationError)) throw err;
    // the call may have taken effect with its response lost (a timeout, a dropped connection): what is stored decides
    const now = await readPending(ctx).catch(() => undefined);
    if (now === undefined) throw err;
    return now === value ? 'created' : 'pending-exists';
  }
  if (stored === 'exists') {
    // a concurrent attempt stored its value first; that value is the pending one
    if (await readPending(ctx) === undefined) {
      throw new RotationError(ERROR_CODES.SECRETS_MANAGER_ERROR, 'The pending version exists but has no value');
    }
    return 'pending-exists';
  }
  return 'created';
}

/** The pending and current credentials, after the engine's target check for `step`. */
async function checkedPending<T>(engine: CredentialEngine<T>, ctx: StepContext, step: LoginStep): Promise<{ current: T; pending: T }> {
  const pending = engine.parse(await requirePending(ctx), 'pending');
  const current = engine.parse(await readCurrent(ctx), 'current');
  engine.checkTarget(current, pending, step);
  return { current, pending };
}

async function setSecret<T>(engine: CredentialEngine<T>, ctx: StepContext): Promise<string> {
  const { current, pending } = await checkedPending(engine, ctx, 'setSecret');
  const previous = async () => {
    const value = await ctx.secrets.getValue(ctx.secretArn, { stage: AWSPREVIOUS });
    return value === undefined ? undefined : engine.parse(value, 'previous');
  };
  return engine.setPending({ current, pending, previous, ctx });
}

async function testSecret<T>(engine: CredentialEngine<T>, ctx: StepContext): Promise<string> {
  const { current, pending } = await checkedPending(engine, ctx, 'testSecret');
  await engine.testPending(pending, ctx, current);
  return 'tested';
}

async function finishSecret<T>(engine: CredentialEngine<T>, stages: Record<string, string[]>, ctx: StepContext): Promise<string> {
  const currentVersion = Object.keys(stages).find((v) => stages[v].includes(AWSCURRENT));
  if (currentVersion === ctx.token) return 'already-current';
  // promote only a value that can be read and that works now (invariant: C never moves to an untested version)
  const { current, pending } = await checkedPending(engine, ctx, 'finishSecret');
  await engine.testPending(pending, ctx, current);
  let action = 'promoted';
  try {
    await ctx.secrets.promote(ctx.secretArn, ctx.token, currentVersion);
  } catch (err) {
    if (!(err instanceof RotationError)) throw err;
    // a duplicate finishSecret, or our own call whose response was lost or timed out, may have promoted the token
    const now = await ctx.secrets.describe(ctx.secretArn).catch(() => undefined);
    if (!now?.versionStages[ctx.token]?.includes(AWSCURRENT)) throw err;
    action = 'already-current';
  }
  if (engine.afterPromote) {
    // the value that was current before: read by the version id the preamble saw holding AWSCURRENT
    const before = currentVersion === undefined ? undefined
      : await ctx.secrets.getValue(ctx.secretArn, { versionId: currentVersion });
    if (before !== undefined) await engine.afterPromote(engine.parse(before, 'previous'), pending, ctx);
  }
  return action;
}

async function readCurrent(ctx: StepContext): Promise<string> {
  const value = await ctx.secrets.getValue(ctx.secretArn, { stage: AWSCURRENT });
  if (value === undefined) {
    throw new RotationError(ERROR_CODES.NO_CURRENT_VALUE, 'The secret has no AWSCURRENT value to rotate from');
  }
  return value;
}

async function readPending(ctx: StepContext): Promise<string | undefined> {
  try {
    return await ctx.secrets.getValue(ctx.secretArn, { versionId: ctx.token, stage: AWSPENDING });
  } catch (err) {
    // the service answers InvalidRequestException when the version no longer holds AWSPENDING: the label moved since
    // the preamble read the stages. The same error also means other things (a secret marked for deletion), so look.
    if (!isAwsError(err, 'InvalidRequestException')) throw err;
    const now = await ctx.secrets.describe(ctx.secretArn);
    const stages = now.versionStages[ctx.token] ?? [];
    if (stages.includes(AWSCURRENT)) throw new FinishedMeanwhile();
    if (!stages.includes(AWSPENDING)) {
      throw new RotationError(ERROR_CODES.NOT_PENDING, 'The version lost AWSPENDING during the step; the rotation was abandoned or replaced');
    }
    throw err;
  }
}

async function requirePending(ctx: StepContext): Promise<string> {
  const value = await readPending(ctx);
  if (value === undefined) {
    throw new RotationError(ERROR_CODES.NOT_PENDING, 'The pending version has no value; createSecret has not completed');
  }
  return value;
}
