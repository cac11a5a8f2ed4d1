import { ERROR_CODES, RotationError, TimeoutError } from './errors';

/** Time kept back so the handler can log and throw before the runtime kills it. */
export const SAFETY_MARGIN_MS = 1_000;
/** Default bound for one network call when ROTATION_CALL_TIMEOUT_MS is not set. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/**
 * Bounds every network call by the smaller of the per-call limit and the time the invocation has left,
 * so a hung database or endpoint makes the step throw instead of being killed mid-way.
 */
export class Deadline {
  constructor(
    private readonly remainingMs: () => number,
    /** The bound of one network call, before the remaining time shortens it. */
    public readonly callTimeoutMs: number = DEFAULT_CALL_TIMEOUT_MS,
  ) {}

  /** Milliseconds the next call may take; throws when the invocation has no time left. */
  public budget(what: string): number {
    const left = this.remainingMs() - SAFETY_MARGIN_MS;
    if (left <= 0) {
      throw new RotationError(ERROR_CODES.DEADLINE_EXCEEDED, `No time left in the invocation for ${what}`);
    }
    return Math.max(1, Math.min(this.callTimeoutMs, left));
  }

  /** Runs `call` with an AbortSignal and rejects with TimeoutError when the budget runs out. */
  public async run<T>(what: string, call: (signal: AbortSignal, budgetMs: number) => Promise<T>): Promise<T> {
    const ms = this.budget(what);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new TimeoutError(what, ms));
      }, ms);
    });
    try {
      return await Promise.race([call(controller.signal, ms), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Parses ROTATION_CALL_TIMEOUT_MS; unset means the default. */
export function callTimeoutFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_CALL_TIMEOUT_MS;
  // digits only: Number() would also take ' 500', '0x1f4' and '5e2'
  const ms = /^[0-9]{1,7}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(ms) || ms < 100 || ms > 900_000) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, 'ROTATION_CALL_TIMEOUT_MS must be a decimal integer from 100 to 900000');
  }
  return ms;
}
