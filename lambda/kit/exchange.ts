import { randomBytes } from 'crypto';
import { ERROR_CODES, RotationError } from './errors';
import { faultPoint } from './fault-points';
import type { StepContext } from './types';
import { OAUTH_EXCHANGE_TAG } from '../../src/private/contract';

/**
 * An exchange that must not run twice for one rotation token (an OAuth refresh: the provider consumes the old refresh
 * token, and one with reuse detection revokes the whole chain when it sees it again).
 *
 * Before exchanging, the secret is tagged with `<token> <nonce> <epoch ms>` (OAUTH_EXCHANGE_TAG). A later attempt of the
 * same rotation that finds its token in the tag but no stored pending value knows an exchange already ran:
 * - a mark younger than the time one exchange and its store can take may belong to a duplicate invocation that is still
 *   running: wait for its value to appear, within that time;
 * - otherwise the attempt that made the mark died between the exchange and the store, and its result is lost:
 *   fail with OAUTH_EXCHANGE_INTERRUPTED (the operator re-authorizes) instead of exchanging again blindly.
 * Two invocations that both find no mark each write their own nonce and read the tag back, at once and after a pause:
 * only the one whose nonce stayed exchanges; the other waits as above. (Tags have no compare-and-set: two writes in the same instant can still
 * both read back their own nonce if the reads interleave; a provider with reuse detection then revokes the chain and
 * the rotation fails loudly with OAUTH_INVALID_GRANT.)
 */
export interface ExchangeOptions {
  /** Reads the pending value of the token, undefined while none is stored. */
  readonly readPending: () => Promise<string | undefined>;
  /** How long an exchange and its store can take in one invocation (the per-call bound, times the calls). */
  readonly inFlightMs: number;
  /** Milliseconds since the epoch; tests move it. */
  readonly now?: () => number;
  /**
   * Whether a failed exchange certainly did not take effect (the provider answered with an error, or no connection was
   * made): then the mark is cleared so the service's retry may exchange again. Anything else keeps the mark.
   */
  readonly notMade?: (err: unknown) => boolean;
  /** The pause before the second read-back of the mark. @default 1 s */
  readonly settleMs?: number;
}

/** The tag value of a cleared mark (tags cannot be conditionally removed; a value that is no mark does the same). */
export const CLEARED_MARK = 'cleared';

export type ExchangeResult = { readonly kind: 'exchanged'; readonly value: string } | { readonly kind: 'stored-meanwhile' };

/** The parsed mark: whose rotation token, which attempt, when. */
interface ExchangeMark {
  readonly token: string;
  readonly nonce: string;
  readonly at: number;
}

export function parseExchangeMark(value: string | undefined): ExchangeMark | undefined {
  const m = /^(\S{1,128}) ([0-9a-f]{16}) ([0-9]{1,15})$/.exec(value ?? '');
  return m ? { token: m[1], nonce: m[2], at: Number(m[3]) } : undefined;
}

const POLL_MS = 250;
/** The pause before the second read-back of a mark: longer than one TagResource call takes. */
const SETTLE_MS = 1_000;

async function readMark(ctx: StepContext): Promise<ExchangeMark | undefined> {
  return parseExchangeMark((await ctx.secrets.describe(ctx.secretArn)).tags[OAUTH_EXCHANGE_TAG]);
}

/** A pause that the deadline bounds like any call: a step out of time throws DEADLINE_EXCEEDED instead of sleeping on. */
async function sleep(ctx: StepContext, ms: number): Promise<void> {
  ctx.deadline.budget('waiting for a concurrent exchange');
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs the exchange unless an earlier attempt of the same rotation already did (see above). `prepare` does everything
 * that is safe to repeat (discovery, reading an admin secret) and returns the one call that is not; a failure of
 * `prepare` leaves no mark.
 */
export async function exchangeOnce(
  ctx: StepContext, options: ExchangeOptions, prepare: () => Promise<() => Promise<string>>,
): Promise<ExchangeResult> {
  const now = options.now ?? Date.now;
  // a retry after an interrupted exchange stops here, before `prepare` (whose credentials the exchange may have rotated)
  const first = await readMark(ctx);
  if (first?.token === ctx.token) return awaitOther(ctx, options, first, now);
  const exchange = await prepare();
  // read again right before writing ours: between the two there is then one call, not a discovery
  const existing = await readMark(ctx);
  if (existing?.token === ctx.token) return awaitOther(ctx, options, existing, now);

  const mine: ExchangeMark = { token: ctx.token, nonce: randomBytes(8).toString('hex'), at: now() };
  await ctx.secrets.tag(ctx.secretArn, OAUTH_EXCHANGE_TAG, `${mine.token} ${mine.nonce} ${mine.at}`);
  // read back twice, the second time after a pause: a duplicate that read no mark just before ours was written has
  // written its own by then, and only the last writer goes on
  for (const pause of [0, options.settleMs ?? SETTLE_MS]) {
    if (pause > 0) await sleep(ctx, pause);
    const readBack = await readMark(ctx);
    if (readBack?.token === ctx.token && readBack.nonce !== mine.nonce) return awaitOther(ctx, options, readBack, now);
    if (readBack?.nonce !== mine.nonce) {
      // the mark is gone or names another rotation: a newer rotation replaced this one
      throw new RotationError(ERROR_CODES.NOT_PENDING, 'Another rotation marked the secret during the step; this one was replaced');
    }
  }
  await faultPoint('exchange-marked');
  let value: string;
  try {
    value = await exchange();
  } catch (err) {
    if (options.notMade?.(err)) {
      // the provider refused or was never reached: nothing was consumed, so the retry may exchange again
      await ctx.secrets.tag(ctx.secretArn, OAUTH_EXCHANGE_TAG, CLEARED_MARK).catch(() => undefined);
    }
    throw err;
  }
  await faultPoint('exchanged');
  return { kind: 'exchanged', value };
}

/** Another attempt marked the exchange: its value appears while it may still be running, or it is lost. */
async function awaitOther(ctx: StepContext, options: ExchangeOptions, mark: ExchangeMark, now: () => number): Promise<ExchangeResult> {
  for (;;) {
    if (await options.readPending() !== undefined) return { kind: 'stored-meanwhile' };
    const age = now() - mark.at;
    if (age >= options.inFlightMs || age < -options.inFlightMs) {
      throw new RotationError(ERROR_CODES.OAUTH_EXCHANGE_INTERRUPTED,
        'An earlier attempt of this rotation exchanged with the provider but its result was never stored; '
        + 'exchanging again would reuse a consumed credential. Re-authorize and put the new value as AWSCURRENT');
    }
    await sleep(ctx, Math.min(POLL_MS, options.inFlightMs - age));
  }
}
