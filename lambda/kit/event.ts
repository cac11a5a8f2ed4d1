import { ERROR_CODES, RotationError } from './errors';

/** The four steps Secrets Manager invokes, in order. */
export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type Step = typeof STEPS[number];

/** The event Secrets Manager sends to a rotation function. */
export interface RotationEvent {
  readonly Step: Step;
  readonly SecretId: string;
  /** VersionId of the new version; the idempotency key of the whole rotation. */
  readonly ClientRequestToken: string;
  /** Passed on to PutSecretValue; never logged. */
  readonly RotationToken?: string;
}

/** The part of the Lambda context the kit uses. */
export interface RotationContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis(): number;
}

/** Validates the raw event; nothing from it is echoed into the error. */
export function parseEvent(raw: unknown): RotationEvent {
  if (typeof raw !== 'object' || raw === null) throw invalid('the event is not an object');
  const e = raw as Record<string, unknown>;
  if (typeof e.Step !== 'string' || !(STEPS as readonly string[]).includes(e.Step)) {
    throw invalid(`Step must be one of ${STEPS.join(', ')}`);
  }
  if (typeof e.SecretId !== 'string' || e.SecretId.length === 0) throw invalid('SecretId must be a non-empty string');
  if (typeof e.ClientRequestToken !== 'string' || e.ClientRequestToken.length === 0) {
    throw invalid('ClientRequestToken must be a non-empty string');
  }
  if (e.RotationToken !== undefined && typeof e.RotationToken !== 'string') throw invalid('RotationToken must be a string');
  return {
    Step: e.Step as Step,
    SecretId: e.SecretId,
    ClientRequestToken: e.ClientRequestToken,
    RotationToken: e.RotationToken as string | undefined,
  };
}

function invalid(problem: string): RotationError {
  return new RotationError(ERROR_CODES.INVALID_EVENT, `Invalid rotation event: ${problem}`);
}
