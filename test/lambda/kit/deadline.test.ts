import { Deadline, SAFETY_MARGIN_MS, callTimeoutFromEnv } from '../../../lambda/kit/deadline';
import { ERROR_CODES, RotationError, TimeoutError } from '../../../lambda/kit/errors';

describe('Deadline', () => {
  test('a call gets the smaller of the call timeout and the time left minus the safety margin', () => {
    expect(new Deadline(() => 60_000, 5_000).budget('x')).toBe(5_000);
    expect(new Deadline(() => SAFETY_MARGIN_MS + 300, 5_000).budget('x')).toBe(300);
  });

  test('no time left throws DEADLINE_EXCEEDED before the call starts', () => {
    let started = false;
    const d = new Deadline(() => SAFETY_MARGIN_MS, 5_000);
    expect(() => d.budget('x')).toThrow(RotationError);
    return expect(d.run('x', async () => {
      started = true;
    })).rejects.toMatchObject({ code: ERROR_CODES.DEADLINE_EXCEEDED }).then(() => expect(started).toBe(false));
  });

  test('a hung call is cut off with TimeoutError and its signal is aborted', async () => {
    let signal: AbortSignal | undefined;
    const d = new Deadline(() => 60_000, 150);
    const hung = d.run('PostgreSQL connect', (s) => {
      signal = s;
      return new Promise<never>(() => undefined);
    });
    await expect(hung).rejects.toBeInstanceOf(TimeoutError);
    await expect(hung).rejects.toMatchObject({ code: ERROR_CODES.TIMEOUT, message: 'PostgreSQL connect did not complete within 150 ms' });
    expect(signal?.aborted).toBe(true);
  });

  test('a call that finishes in time returns its value', async () => {
    await expect(new Deadline(() => 60_000, 1_000).run('x', async () => 7)).resolves.toBe(7);
  });

  test.each([
    [undefined, 10_000],
    ['', 10_000],
    ['2500', 2_500],
  ])('ROTATION_CALL_TIMEOUT_MS=%p gives %p', (value, expected) => {
    expect(callTimeoutFromEnv(value)).toBe(expected);
  });

  test.each(['abc', '50', '1e9', '1.5'])('ROTATION_CALL_TIMEOUT_MS=%p is refused', (value) => {
    expect(() => callTimeoutFromEnv(value)).toThrow(/ROTATION_CALL_TIMEOUT_MS must be a decimal integer from 100 to 900000/);
  });

  // each of these is a number in range to Number(); only plain decimal digits are a configuration
  test.each(['5e3', '0x1f4', ' 500', '500 ', '+500', '500.0', '0b111110100', '1_000'])(
    'ROTATION_CALL_TIMEOUT_MS=%p is not a plain decimal integer and fails with INVALID_CONFIGURATION', (value) => {
      expect(() => callTimeoutFromEnv(value)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIGURATION' }));
    });
});
