import { ERROR_CODES, RotationError } from '../../../lambda/kit/errors';
import { createRotationHandler } from '../../../lambda/kit/protocol';
import {
  CUSTOM_ENGINE_DIMENSION, engineDimension, errorCodeDimension, rotationFinishedRecord, stepFailedRecord,
} from '../../../lambda/kit/rotation-metrics';
import type { CredentialEngine } from '../../../lambda/kit/types';
import { ROTATION_METRICS, defaultPasswordPolicy } from '../../../src/private/contract';

const NOW = 1_700_000_000_000;

describe('stepFailedRecord', () => {
  test('RotationStepFailed = 1 per [Engine, ErrorCode], [ErrorCode] and no dimension; nothing else in the record', () => {
    expect(JSON.parse(stepFailedRecord('postgres-single-user', 'TLS_FAILED', NOW))).toEqual({
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [{
          Namespace: 'SecretsPlatform/Rotation',
          Dimensions: [['Engine', 'ErrorCode'], ['Engine'], ['ErrorCode'], []],
          Metrics: [{ Name: 'RotationStepFailed', Unit: 'Count' }],
        }],
      },
      Engine: 'postgres-single-user',
      ErrorCode: 'TLS_FAILED',
      RotationStepFailed: 1,
    });
  });

  test('uses the contract\'s names', () => {
    const parsed = JSON.parse(stepFailedRecord('mariadb-multi-user', 'MASTER_LOGIN_FAILED', NOW));
    expect(parsed._aws.CloudWatchMetrics[0].Namespace).toBe(ROTATION_METRICS.NAMESPACE);
    expect(parsed[ROTATION_METRICS.STEP_FAILED]).toBe(1);
    expect(parsed[ROTATION_METRICS.DIMENSION_ENGINE]).toBe('mariadb-multi-user');
    expect(parsed[ROTATION_METRICS.DIMENSION_ERROR_CODE]).toBe('MASTER_LOGIN_FAILED');
  });

  test.each(Object.values(ERROR_CODES))('%s is its own ErrorCode value', (code) => {
    expect(JSON.parse(stepFailedRecord('postgres-multi-user', code, NOW)).ErrorCode).toBe(code);
  });

  test('a code outside ERROR_CODES is counted as INTERNAL', () => {
    expect(JSON.parse(stepFailedRecord('postgres-multi-user', 'SOMETHING_ELSE', NOW)).ErrorCode).toBe('INTERNAL');
  });

  test('the timestamp defaults to now', () => {
    const before = Date.now();
    const { _aws } = JSON.parse(stepFailedRecord('postgres-multi-user', 'TIMEOUT'));
    expect(_aws.Timestamp).toBeGreaterThanOrEqual(before);
    expect(_aws.Timestamp).toBeLessThanOrEqual(Date.now());
  });
});

describe('rotationFinishedRecord', () => {
  test('RotationFinished = 1 per [Engine] and no dimension; nothing else in the record', () => {
    expect(JSON.parse(rotationFinishedRecord('mariadb-single-user', NOW))).toEqual({
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [{
          Namespace: 'SecretsPlatform/Rotation',
          Dimensions: [['Engine'], []],
          Metrics: [{ Name: 'RotationFinished', Unit: 'Count' }],
        }],
      },
      Engine: 'mariadb-single-user',
      RotationFinished: 1,
    });
  });
});

describe('engineDimension', () => {
  test.each(['postgres-single-user', 'my_engine.v2', 'Custom-Oracle', 'a', 'x'.repeat(64)])('%s is used as it is', (name) => {
    expect(engineDimension(name)).toBe(name);
  });

  test.each<[string, unknown]>([
    ['spaces', 'My Engine'],
    ['non-ASCII', 'moteur-é'],
    ['a line break', 'engine\nname'],
    ['quotes', 'engine"name'],
    ['65 characters', 'x'.repeat(65)],
    ['an empty name', ''],
    ['a leading hyphen', '-engine'],
    ['not a string', 42],
    ['undefined', undefined],
  ])('a name with %s becomes "custom"', (_what, name) => {
    expect(engineDimension(name)).toBe(CUSTOM_ENGINE_DIMENSION);
    expect(CUSTOM_ENGINE_DIMENSION).toBe('custom');
  });

  test('records for such a name are written, not refused', () => {
    expect(JSON.parse(stepFailedRecord('My Engine ü', 'LOGIN_FAILED', NOW)).Engine).toBe('custom');
    expect(JSON.parse(rotationFinishedRecord('My Engine ü', NOW)).Engine).toBe('custom');
  });
});

describe('errorCodeDimension', () => {
  test.each<[string, unknown]>([['an unknown code', 'NOPE'], ['a lower-case code', 'tls_failed'], ['a number', 7], ['undefined', undefined]])(
    '%s becomes INTERNAL', (_what, code) => {
      expect(errorCodeDimension(code)).toBe('INTERNAL');
    });
});

/** The handler built by the kit (the TypeScript; the shipped bundles are run against real servers in failure-metrics.test.ts). */
describe('createRotationHandler writes the records with its log sink', () => {
  function engine(name: string): CredentialEngine<unknown> {
    const unused = () => {
      throw new Error('not reached: the event is refused first');
    };
    return {
      name,
      defaultPasswordPolicy: defaultPasswordPolicy(''),
      parse: unused,
      nextValue: unused,
      checkTarget: unused,
      setPending: unused,
      testPending: unused,
    };
  }
  // refused by parseEvent before anything is read: no Secrets Manager needed
  const invalidEvent = { Step: 'rotateEverything' };
  const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 };

  test('a failed step: the step line, then one RotationStepFailed record', async () => {
    const lines: string[] = [];
    const handler = createRotationHandler(engine('postgres-single-user'), { log: (l) => lines.push(l) });
    await expect(handler(invalidEvent, context)).rejects.toMatchObject({ code: 'INVALID_EVENT' });
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toMatchObject({ message: 'rotation step failed', errorCode: 'INVALID_EVENT' });
    const record = JSON.parse(lines[1]);
    expect(record).toMatchObject({ Engine: 'postgres-single-user', ErrorCode: 'INVALID_EVENT', RotationStepFailed: 1 });
    expect(Object.keys(record).sort()).toEqual(['Engine', 'ErrorCode', 'RotationStepFailed', '_aws']);
  });

  test('an engine named anything still fails with its own error, counted under Engine "custom"', async () => {
    const lines: string[] = [];
    const handler = createRotationHandler(engine('Rotator für Kunden\n'), { log: (l) => lines.push(l) });
    const thrown = await handler(invalidEvent, context).catch((err) => err);
    expect(thrown).toBeInstanceOf(RotationError);
    expect(thrown.code).toBe('INVALID_EVENT');
    expect(JSON.parse(lines[1])).toMatchObject({ Engine: 'custom', ErrorCode: 'INVALID_EVENT', RotationStepFailed: 1 });
  });

  test('a sink that refuses the metric record does not replace the step\'s error', async () => {
    const lines: string[] = [];
    const handler = createRotationHandler(engine('postgres-single-user'), {
      log: (l) => {
        if (l.includes('"_aws"')) throw new Error('disk full');
        lines.push(l);
      },
    });
    await expect(handler(invalidEvent, context)).rejects.toMatchObject({ name: 'RotationError', code: 'INVALID_EVENT' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ message: 'rotation step failed', errorCode: 'INVALID_EVENT' }),
      { level: 'WARN', message: 'rotation metric not written', errorName: 'Error' },
    ]);
  });

  test('a sink that refuses every line after the step line still leaves the step\'s error', async () => {
    let calls = 0;
    const handler = createRotationHandler(engine('postgres-single-user'), {
      log: () => {
        calls += 1;
        if (calls > 1) throw new Error('closed');
      },
    });
    await expect(handler(invalidEvent, context)).rejects.toMatchObject({ code: 'INVALID_EVENT' });
    expect(calls).toBe(3);
  });
});
