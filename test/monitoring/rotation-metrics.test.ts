import { Duration } from 'aws-cdk-lib';
import { RotationMetrics } from '../../src';
import { ERROR_CODES, ROTATION_METRICS } from '../../src/private/contract';

/** The dimensions each metric is published with (lambda/kit/rotation-metrics.ts and the overdue check); a metric asked for
 * with other dimensions would never have data. */
const PUBLISHED = {
  [ROTATION_METRICS.STEP_FAILED]: [['Engine', 'ErrorCode'], ['Engine'], ['ErrorCode'], []],
  [ROTATION_METRICS.ROTATION_FINISHED]: [['Engine'], []],
  [ROTATION_METRICS.OVERDUE_SECRETS]: [['Engine'], []],
  [ROTATION_METRICS.ROTATION_ENABLED_SECRETS]: [['Engine'], []],
  [ROTATION_METRICS.UNKNOWN_SCHEDULE_SECRETS]: [['Engine'], []],
  [ROTATION_METRICS.OLDEST_ROTATION_AGE]: [[]],
} as Record<string, string[][]>;

function dimensionNames(metric: { dimensions?: Record<string, unknown> }): string[] {
  return Object.keys(metric.dimensions ?? {}).sort();
}

describe('RotationMetrics', () => {
  test.each([
    ['every failure', RotationMetrics.stepFailures(), []],
    ['one code', RotationMetrics.stepFailures({ errorCode: 'TLS_FAILED' }), ['ErrorCode']],
    ['one engine', RotationMetrics.stepFailures({ engine: 'postgres-single-user' }), ['Engine']],
    ['one code of one engine', RotationMetrics.stepFailures({ engine: 'postgres-single-user', errorCode: 'TLS_FAILED' }), ['Engine', 'ErrorCode']],
    ['rotations finished', RotationMetrics.rotationsFinished(), []],
    ['rotations finished of one engine', RotationMetrics.rotationsFinished({ engine: 'mariadb-multi-user' }), ['Engine']],
    ['overdue', RotationMetrics.overdueSecrets(), []],
    ['overdue of one engine', RotationMetrics.overdueSecrets({ engine: 'unknown' }), ['Engine']],
    ['rotation-enabled', RotationMetrics.rotationEnabledSecrets({ engine: 'postgres-multi-user' }), ['Engine']],
    ['unknown schedule', RotationMetrics.unknownScheduleSecrets(), []],
    ['oldest age', RotationMetrics.oldestRotationAge(), []],
  ])('%s: asks for a dimension set that is published', (_name, metric, dims) => {
    expect(metric.namespace).toBe('SecretsPlatform/Rotation');
    expect(dimensionNames(metric)).toEqual(dims);
    expect(PUBLISHED[metric.metricName].map((set) => [...set].sort())).toContainEqual(dims);
  });

  test('values and statistics', () => {
    const m = RotationMetrics.stepFailures({ engine: 'postgres-single-user', errorCode: 'MASTER_LOGIN_FAILED', period: Duration.minutes(1) });
    expect(m).toMatchObject({ metricName: 'RotationStepFailed', statistic: 'Sum', period: Duration.minutes(1) });
    expect(m.dimensions).toEqual({ Engine: 'postgres-single-user', ErrorCode: 'MASTER_LOGIN_FAILED' });
    expect(RotationMetrics.overdueSecrets().statistic).toBe('Maximum');
    expect(RotationMetrics.oldestRotationAge().metricName).toBe('OldestRotationAge');
  });

  test('an unknown error code is refused with the list of codes', () => {
    expect(() => RotationMetrics.stepFailures({ errorCode: 'TLS' })).toThrow(new RegExp(`unknown errorCode 'TLS'; expected one of ${Object.values(ERROR_CODES).join(', ')}`));
  });

  test('failures by error code is a search over the ErrorCode dimension set', () => {
    const expr = RotationMetrics.stepFailuresByErrorCode(Duration.minutes(10));
    expect(expr.expression).toBe('SEARCH(\'{SecretsPlatform/Rotation,ErrorCode} MetricName="RotationStepFailed"\', \'Sum\', 600)');
    expect(expr.period.toSeconds()).toBe(600);
  });
});
