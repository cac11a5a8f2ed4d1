import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ERROR_CODES, ROTATION_METRICS } from '../private/contract';

/** Options of the failed-step metrics. */
export interface RotationStepFailureMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only failures with this error code (for example `TLS_FAILED`; the README's operations section lists them).
   *
   * @default - every error code
   */
  readonly errorCode?: string;

  /**
   * Only failures of this engine (the engine's id, for example `postgres-single-user`).
   *
   * @default - every engine
   */
  readonly engine?: string;
}

/** Options of the metrics that can be narrowed to one engine. */
export interface RotationEngineMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only this engine (the engine's id, for example `postgres-single-user`; `unknown` for secrets rotated by a function
   * the overdue check was not told about).
   *
   * @default - every engine
   */
  readonly engine?: string;
}

/**
 * The metrics the bundled handlers and the overdue check publish (namespace `SecretsPlatform/Rotation`), in Embedded
 * Metric Format: no metric filter and no PutMetricData permission is needed.
 *
 * Dimensions are the engine id and the error code only, never a secret ARN or user name.
 */
export class RotationMetrics {
  /** The CloudWatch namespace of every metric here. */
  public static readonly NAMESPACE = ROTATION_METRICS.NAMESPACE;

  /**
   * Failed rotation steps (Sum), one per failed invocation of a bundled rotation function.
   *
   * @param options error code and engine to narrow to, and metric options
   */
  public static stepFailures(options: RotationStepFailureMetricOptions = {}): cloudwatch.Metric {
    const { errorCode, engine, ...metricOptions } = options;
    if (errorCode !== undefined && !(Object.values(ERROR_CODES) as string[]).includes(errorCode)) {
      throw new Error(`RotationMetrics.stepFailures: unknown errorCode '${errorCode}'; expected one of ${Object.values(ERROR_CODES).join(', ')}`);
    }
    const dimensionsMap: Record<string, string> = {};
    if (engine !== undefined) dimensionsMap[ROTATION_METRICS.DIMENSION_ENGINE] = engine;
    if (errorCode !== undefined) dimensionsMap[ROTATION_METRICS.DIMENSION_ERROR_CODE] = errorCode;
    return RotationMetrics.metric(ROTATION_METRICS.STEP_FAILED, dimensionsMap, {
      statistic: cloudwatch.Stats.SUM,
      label: errorCode ?? 'Failed steps',
      ...metricOptions,
    });
  }

  /**
   * Failed rotation steps per error code, as one search expression: a line for every code that occurred.
   *
   * @param period the period of each point @default Duration.minutes(5)
   */
  public static stepFailuresByErrorCode(period: Duration = Duration.minutes(5)): cloudwatch.MathExpression {
    const search = `{${ROTATION_METRICS.NAMESPACE},${ROTATION_METRICS.DIMENSION_ERROR_CODE}} MetricName="${ROTATION_METRICS.STEP_FAILED}"`;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('${search}', 'Sum', ${period.toSeconds()})`,
      usingMetrics: {},
      label: '',
      period,
    });
  }

  /**
   * Rotations finished (Sum): a bundled function made the pending version current.
   *
   * @param options the engine to narrow to, and metric options
   */
  public static rotationsFinished(options: RotationEngineMetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.engineMetric(ROTATION_METRICS.ROTATION_FINISHED, cloudwatch.Stats.SUM, 'Rotations finished', options);
  }

  /**
   * Rotation-enabled secrets past their due time by more than the grace period (Maximum), from the overdue check.
   *
   * @param options the engine to narrow to, and metric options
   */
  public static overdueSecrets(options: RotationEngineMetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.engineMetric(ROTATION_METRICS.OVERDUE_SECRETS, cloudwatch.Stats.MAXIMUM, 'Overdue secrets', options);
  }

  /**
   * Rotation-enabled secrets the overdue check looked at (Maximum); its sample count shows the check runs.
   *
   * @param options the engine to narrow to, and metric options
   */
  public static rotationEnabledSecrets(options: RotationEngineMetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.engineMetric(ROTATION_METRICS.ROTATION_ENABLED_SECRETS, cloudwatch.Stats.MAXIMUM, 'Rotation-enabled secrets', options);
  }

  /**
   * Rotation-enabled secrets whose schedule the overdue check cannot evaluate (Maximum): never counted as on time.
   *
   * @param options the engine to narrow to, and metric options
   */
  public static unknownScheduleSecrets(options: RotationEngineMetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.engineMetric(ROTATION_METRICS.UNKNOWN_SCHEDULE_SECRETS, cloudwatch.Stats.MAXIMUM, 'Secrets with an unknown schedule', options);
  }

  /**
   * Seconds since the oldest last rotation among rotation-enabled secrets (Maximum), from the overdue check.
   *
   * @param options metric options
   */
  public static oldestRotationAge(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return RotationMetrics.metric(ROTATION_METRICS.OLDEST_ROTATION_AGE, {}, {
      statistic: cloudwatch.Stats.MAXIMUM,
      label: 'Oldest rotation age (seconds)',
      ...options,
    });
  }

  private static engineMetric(name: string, statistic: string, label: string, options: RotationEngineMetricOptions): cloudwatch.Metric {
    const { engine, ...metricOptions } = options;
    const dimensionsMap: Record<string, string> = engine !== undefined ? { [ROTATION_METRICS.DIMENSION_ENGINE]: engine } : {};
    return RotationMetrics.metric(name, dimensionsMap, { statistic, label: engine ?? label, ...metricOptions });
  }

  private static metric(metricName: string, dimensionsMap: Record<string, string>, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: ROTATION_METRICS.NAMESPACE,
      metricName,
      period: Duration.minutes(5),
      ...options,
      dimensionsMap: { ...dimensionsMap, ...options.dimensionsMap },
    });
  }

  private constructor() {}
}
