/** An error the real service answers with: `code` is the `__type` on the wire. */
export class ServiceError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = code;
  }
}
