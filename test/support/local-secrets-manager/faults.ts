import { ServiceError } from './errors';

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

export interface MatchedFault {
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
