import { ServiceError } from './errors';

/**
 * Makes matching requests fail, slow, or lose their response. The phase says whether the operation takes effect:
 *
 * - `phase: 'before'` (default): the fault happens first and the operation never runs; the caller's view is right.
 * - `phase: 'after'`: the operation takes effect, then the fault hides that from the caller: an error answer, a
 *   response that arrives `delay` ms late (a client with a shorter timeout gives up although the change was made),
 *   or a connection dropped without any answer (`disconnect`). This is the "took effect but the response was
 *   lost" case a handler must recover from by re-reading the state.
 *
 * Order within a phase: wait `delay`, then drop the connection (`disconnect`) or answer `error`.
 */
export interface FaultRule {
  /** Operation name, e.g. PutSecretValue. */
  readonly operation: string;
  /** Only requests whose (wire) input satisfies this. */
  readonly when?: (input: any) => boolean;
  /**
   * The __type to answer with. Default InternalServiceError, unless `delay` or `disconnect` is given without it:
   * then the delay alone makes a slow (or late) success, and the dropped connection is the whole fault.
   */
  readonly error?: string;
  readonly message?: string;
  /** before: the operation does not run; after: it runs and takes effect, then the fault. Default before. */
  readonly phase?: 'before' | 'after';
  /** How many matching requests this rule affects. Default 1. */
  readonly times?: number;
  /** Wait this long (ms): before the operation runs (phase before) or before answering it (phase after). */
  readonly delay?: number;
  /** Destroy the socket instead of answering: the client sees a network error, never an HTTP response. */
  readonly disconnect?: boolean;
}

export interface MatchedFault {
  readonly error?: ServiceError;
  readonly phase: 'before' | 'after';
  readonly delay: number;
  readonly disconnect: boolean;
}

/** Thrown by the server to drop a request's connection without answering. */
export class DroppedConnection extends Error {
  readonly code = 'ConnectionDropped';
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
    const noError = rule.error === undefined && (rule.delay !== undefined || rule.disconnect === true);
    const code = rule.error ?? 'InternalServiceError';
    return {
      error: noError ? undefined : new ServiceError(code, rule.message ?? `Injected fault: ${code}`),
      phase: rule.phase ?? 'before',
      delay: rule.delay ?? 0,
      disconnect: rule.disconnect ?? false,
    };
  }
}
