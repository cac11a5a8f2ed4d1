import { ERROR_CODES, RedactedCause, RotationError, errorCode, toRotationError } from '../../../lambda/kit/errors';

describe('errors', () => {
  const canary = 'postgres://app:CANARY-secret-1@db:5432/app';

  test('a redacted cause keeps the class name and machine code, never the message', () => {
    const original = Object.assign(new Error(`connect failed for ${canary}`), { code: '28P01' });
    const cause = new RedactedCause(original);
    expect(cause.message).toBe('Error (28P01)');
    expect(cause.code).toBe('28P01');
    expect(JSON.stringify(cause)).not.toContain('CANARY');
    expect(String(cause.stack)).not.toContain('CANARY');
  });

  test('codes that are not machine codes are dropped', () => {
    expect(errorCode({ code: 'has space and CANARY' })).toBeUndefined();
    expect(errorCode({ code: 42 })).toBeUndefined();
    expect(errorCode({ code: 'ECONNREFUSED' })).toBe('ECONNREFUSED');
  });

  test('unknown failures become INTERNAL with a redacted cause', () => {
    const err = toRotationError(new TypeError(canary));
    expect(err).toBeInstanceOf(RotationError);
    expect(err.code).toBe(ERROR_CODES.INTERNAL);
    expect(err.cause?.message).toBe('TypeError');
    expect(err.message + String(err.stack) + String(err.cause?.stack)).not.toContain('CANARY');
  });

  test('rotation errors pass through unchanged', () => {
    const err = new RotationError(ERROR_CODES.LOGIN_FAILED, 'x');
    expect(toRotationError(err)).toBe(err);
  });
});
