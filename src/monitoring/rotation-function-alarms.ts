import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { actionAlarm } from '../private/action-alarm';
import { RotationFunction } from '../rotation/rotation-function';

/** Thresholds of the alarms on one rotation function. */
export interface RotationFunctionAlarmOptions {
  /**
   * Errors (Sum over one period) at which the errors alarm fires.
   *
   * @default 1
   */
  readonly errorsThreshold?: number;

  /**
   * Throttled invocations (Sum over one period) at which the throttles alarm fires.
   *
   * @default 1
   */
  readonly throttlesThreshold?: number;

  /**
   * The share of the function's timeout the longest invocation (Maximum over one period) may reach before the duration
   * alarm fires: a step that nears the timeout will soon fail with DEADLINE_EXCEEDED. Between 0 and 1.
   *
   * @default 0.8
   */
  readonly durationThresholdRatio?: number;

  /**
   * Messages visible in the dead-letter queue (Maximum over one period) at which its alarm fires.
   *
   * @default 1
   */
  readonly deadLetterQueueThreshold?: number;

  /**
   * The period of every alarm.
   *
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/** Properties of {@link RotationFunctionAlarms}. */
export interface RotationFunctionAlarmsProps extends RotationFunctionAlarmOptions {
  /** The rotation function to alarm on. */
  readonly rotationFunction: RotationFunction;

  /** Actions of every alarm (at least one: an alarm nobody hears is not monitoring). */
  readonly actions: cloudwatch.IAlarmAction[];
}

/**
 * The four alarms of one rotation function: errors, throttles, duration near the timeout, and messages in its
 * dead-letter queue. Each has an alarm action and an OK action, and treats missing data as not breaching (a function that
 * is not invoked has no errors).
 */
export class RotationFunctionAlarms extends Construct {
  public readonly errorsAlarm: cloudwatch.Alarm;
  public readonly throttlesAlarm: cloudwatch.Alarm;
  public readonly durationAlarm: cloudwatch.Alarm;
  public readonly deadLetterQueueAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RotationFunctionAlarmsProps) {
    super(scope, id);
    const fn = props.rotationFunction;
    if (props.actions.length === 0) {
      throw new Error('RotationFunctionAlarms: actions must name at least one alarm action');
    }
    const period = props.period ?? Duration.minutes(5);
    if (period.toSeconds() < 60 || period.toSeconds() % 60 !== 0) {
      throw new Error(`RotationFunctionAlarms: period must be a whole number of minutes, got ${period.toHumanString()}`);
    }
    const ratio = props.durationThresholdRatio ?? 0.8;
    if (!(ratio > 0 && ratio <= 1)) {
      throw new Error(`RotationFunctionAlarms: durationThresholdRatio must be greater than 0 and at most 1, got ${ratio}`);
    }
    const count = (name: string, value: number | undefined): number => {
      const v = value ?? 1;
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`RotationFunctionAlarms: ${name} must be a whole number of at least 1, got ${v}`);
      }
      return v;
    };
    const timeout = fn.lambdaFunction.timeout ?? Duration.seconds(3);
    const what = `${fn.engine.displayName} rotation function ${fn.node.path}`;

    this.errorsAlarm = this.alarm('Errors', fn.metricErrors({ period }), count('errorsThreshold', props.errorsThreshold),
      `Invocations of the ${what} failed. Read the failed step's log line (errorCode) and the RotationStepFailed alarms.`, props.actions);
    this.throttlesAlarm = this.alarm('Throttles', fn.metricThrottles({ period }), count('throttlesThreshold', props.throttlesThreshold),
      `Invocations of the ${what} were throttled: more rotations at once than its reserved concurrency. Spread the schedules or raise reservedConcurrentExecutions.`,
      props.actions);
    const limitMs = Math.floor(timeout.toMilliseconds() * ratio);
    this.durationAlarm = this.alarm('Duration', fn.metricDuration({ period, statistic: cloudwatch.Stats.MAXIMUM }), limitMs,
      `An invocation of the ${what} took at least ${Math.round(ratio * 100)}% of its ${timeout.toHumanString()} timeout. Find the slow call (network path, probe query) before steps fail with DEADLINE_EXCEEDED.`,
      props.actions);
    this.deadLetterQueueAlarm = this.alarm('DeadLetterQueue',
      fn.metricDeadLetterQueueDepth({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      count('deadLetterQueueThreshold', props.deadLetterQueueThreshold),
      `Asynchronous invocations of the ${what} failed every retry and wait in its dead-letter queue (Secrets Manager invokes it synchronously and retries itself; this queue holds other callers' events). Read them and the step log, fix the cause, then purge the queue.`,
      props.actions);
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string,
    actions: cloudwatch.IAlarmAction[]): cloudwatch.Alarm {
    return actionAlarm(this, id, { metric, threshold, description, actions });
  }
}
