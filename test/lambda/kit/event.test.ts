import { ERROR_CODES, RotationError } from '../../../lambda/kit/errors';
import { parseEvent } from '../../../lambda/kit/event';

describe('parseEvent', () => {
  const valid = { Step: 'createSecret', SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf', ClientRequestToken: 'tok-1' };

  test('accepts the four steps and keeps the rotation token', () => {
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      expect(parseEvent({ ...valid, Step, RotationToken: 'rt' })).toEqual({ ...valid, Step, RotationToken: 'rt' });
    }
  });

  test.each([
    ['not an object', 'nope'],
    ['null', null],
    ['unknown step', { ...valid, Step: 'deleteSecret' }],
    ['missing SecretId', { ...valid, SecretId: undefined }],
    ['empty token', { ...valid, ClientRequestToken: '' }],
    ['non-string rotation token', { ...valid, RotationToken: 42 }],
  ])('rejects %s with INVALID_EVENT', (_name, raw) => {
    expect(() => parseEvent(raw)).toThrow(RotationError);
    try {
      parseEvent(raw);
    } catch (err) {
      expect((err as RotationError).code).toBe(ERROR_CODES.INVALID_EVENT);
    }
  });

  test('does not echo event values in the error', () => {
    const canary = 'CANARY-token-9f1c';
    expect(() => parseEvent({ ...valid, Step: canary })).toThrow(/Step must be one of/);
    try {
      parseEvent({ ...valid, Step: canary });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(canary);
    }
  });
});
