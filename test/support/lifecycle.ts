/** Anything a test starts and must stop: servers, endpoints. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Awaits starts that run side by side. If any fails, stops the ones that started before rethrowing the first
 * failure: a caller whose start rejected has nothing to stop, and a listening server left behind keeps the
 * process (and jest) from exiting.
 */
export async function startAll<T extends readonly Stoppable[]>(starts: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts as readonly Promise<Stoppable>[]);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    const started = settled.filter((s): s is PromiseFulfilledResult<Stoppable> => s.status === 'fulfilled').map((s) => s.value);
    await stopAll(started).catch(() => undefined); // the start failure is the one worth reporting
    throw failure.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Stoppable>).value) as unknown as T;
}

/** Stops every one even when some fail, then rethrows the first failure. */
export async function stopAll(stoppables: readonly Stoppable[]): Promise<void> {
  const settled = await Promise.allSettled(stoppables.map((s) => s.stop()));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
}
