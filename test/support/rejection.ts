/** What an AWS SDK call rejected with: the error's name, message and HTTP status. */
export interface Rejection {
  readonly name: string;
  readonly message: string;
  readonly status?: number;
}

/** Awaits a call that must fail and returns its error; a call that succeeds fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  try {
    await promise;
  } catch (e) {
    const error = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: error.name, message: error.message, status: error.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}
