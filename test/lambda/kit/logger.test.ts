import { formatStepLog, StepLogFields } from '../../../lambda/kit/logger';

describe('formatStepLog', () => {
  const base: StepLogFields = {
    step: 'setSecret', secretArn: 'arn:secret', versionId: 'v1', outcome: 'succeeded', action: 'password-changed', durationMs: 12,
  };

  test('writes one JSON line with level and the allow-listed fields', () => {
    const line = formatStepLog(base);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      level: 'INFO',
      message: 'rotation step succeeded',
      step: 'setSecret',
      secretArn: 'arn:secret',
      versionId: 'v1',
      outcome: 'succeeded',
      action: 'password-changed',
      durationMs: 12,
    });
  });

  test('failures are ERROR lines carrying the stable code', () => {
    const parsed = JSON.parse(formatStepLog({ ...base, outcome: 'failed', errorCode: 'LOGIN_FAILED', causeCode: 'error (28P01)' }));
    expect(parsed).toMatchObject({ level: 'ERROR', errorCode: 'LOGIN_FAILED', causeCode: 'error (28P01)' });
  });

  test('fields outside the allow-list never reach the line', () => {
    const canary = 'CANARY-pw-77aa';
    const sneaky = { ...base, password: canary, RotationToken: canary, nested: { canary } } as unknown as StepLogFields;
    expect(formatStepLog(sneaky)).not.toContain(canary);
  });
});
