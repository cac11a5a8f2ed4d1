/**
 * Named points after each state-changing call (a database statement, a Secrets Manager write) and where a race with a
 * duplicate invocation matters (`login-chosen`: after the session that will change the password is open).
 *
 * In production nothing is registered and a fault point is a no-op. The handler test suite registers a hook on a
 * global symbol to crash the invocation after any point and to check invariants at every instant.
 */
const HOOK = Symbol.for('cdk-secrets-platform.fault-hook');

export type FaultHook = (point: string) => void | Promise<void>;

export async function faultPoint(point: string): Promise<void> {
  const hook = (globalThis as Record<symbol, FaultHook | undefined>)[HOOK];
  if (hook) await hook(point);
}
