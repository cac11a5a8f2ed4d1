import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** What an alarm of the library states; the rest (one evaluation period, at or above the threshold) is its default. */
export interface ActionAlarmProps {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly description: string;
  /** Notified when the alarm fires and when it clears. */
  readonly actions: cloudwatch.IAlarmAction[];
  /** @default cloudwatch.TreatMissingData.NOT_BREACHING (no invocations, no failures) */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /** @default cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default - evaluationPeriods */
  readonly datapointsToAlarm?: number;
}

/**
 * An alarm that always has an action: every alarm the library creates notifies when it fires and when it clears
 * (cdk-nag's CloudWatchAlarmAction), and its description (at most 1,024 characters) says what to do.
 */
export function actionAlarm(scope: Construct, id: string, props: ActionAlarmProps): cloudwatch.Alarm {
  if (props.actions.length === 0) {
    throw new Error(`${scope.node.path}/${id}: an alarm needs at least one action`);
  }
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric: props.metric,
    threshold: props.threshold,
    evaluationPeriods: props.evaluationPeriods ?? 1,
    datapointsToAlarm: props.datapointsToAlarm,
    comparisonOperator: props.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: props.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: props.description.slice(0, 1024),
  });
  alarm.addAlarmAction(...props.actions);
  alarm.addOkAction(...props.actions);
  return alarm;
}
