import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { ROTATION_METRICS } from '../../src/private/contract';
import { errorName, toRotationError } from '../kit/errors';
import { consoleSink, LogSink } from '../kit/logger';
import { formatMetricRecord } from '../kit/metrics';
import { SecretsManagerCallError, sdkClient } from '../kit/secrets-client';
import { checkOverdue, EngineCounts, OverdueReport, PageReader, readOverdueConfig } from '../monitoring/overdue';

/**
 * The overdue check, run on a schedule by EventBridge (its event is ignored). It lists the account's secrets in this
 * region, measures each rotation-enabled one against its own schedule, and writes the result as CloudWatch Embedded
 * Metric Format lines on stdout, so its only permission is `secretsmanager:ListSecrets`.
 *
 * Output, in order: one metric record per engine (dimension set [Engine]), one total record (no dimension; written
 * even when there are no secrets, so a check that stops running leaves the alarm with missing data), one log line per
 * overdue secret and per secret with an unknown schedule (ARN and name: log fields, never dimensions; at most
 * MAX_LISTED_SECRETS of each, the summary counting the rest), one summary.
 * A failure writes one error line (code and class, no message from the service) and fails the invocation.
 */

/** One ListSecrets call may take this long before it is abandoned (the SDK retries it up to three attempts). */
const CALL_TIMEOUT_MS = 20_000;
const PAGE_SIZE = 100;

export async function handler(_event?: unknown): Promise<SummaryFields> {
  const started = Date.now();
  const sink: LogSink = consoleSink;
  try {
    const config = readOverdueConfig(process.env);
    const now = new Date();
    const report = await checkOverdue(listSecretsPages(), config, now);
    const summary = summaryOf(report, Date.now() - started);
    for (const line of reportLines(report, now.getTime())) sink(line);
    sink(JSON.stringify({ level: 'INFO', message: 'overdue check finished', ...summary }));
    return summary;
  } catch (err) {
    const error = toRotationError(err);
    sink(JSON.stringify({
      level: 'ERROR',
      message: 'overdue check failed',
      errorCode: error.code,
      errorName: errorName(err),
      errorMessage: error.message,
      causeCode: error.cause?.code,
      durationMs: Date.now() - started,
    }));
    throw error;
  }
}

function listSecretsPages(): PageReader {
  const client = sdkClient();
  return async (nextToken) => {
    try {
      const out = await client.send(new ListSecretsCommand({ MaxResults: PAGE_SIZE, NextToken: nextToken }), {
        abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      return { secrets: out.SecretList ?? [], nextToken: out.NextToken };
    } catch (err) {
      throw new SecretsManagerCallError('ListSecrets', errorName(err), err);
    }
  };
}

export interface SummaryFields {
  readonly rotationEnabled: number;
  readonly overdue: number;
  readonly unknownSchedule: number;
  /** Overdue secrets counted but not named by a log line (the per-run limit). */
  readonly overdueNotListed: number;
  /** Unknown-schedule secrets counted but not named by a log line (the per-run limit). */
  readonly unknownScheduleNotListed: number;
  readonly oldestRotationAgeSeconds: number;
  readonly pages: number;
  readonly durationMs: number;
}

function summaryOf(report: OverdueReport, durationMs: number): SummaryFields {
  return {
    rotationEnabled: report.total.rotationEnabled,
    overdue: report.total.overdue,
    unknownSchedule: report.total.unknownSchedule,
    overdueNotListed: report.overdueNotListed,
    unknownScheduleNotListed: report.unknownScheduleNotListed,
    oldestRotationAgeSeconds: report.total.oldestRotationAgeSeconds,
    pages: report.pages,
    durationMs,
  };
}

function countMetrics(counts: EngineCounts) {
  return {
    [ROTATION_METRICS.OVERDUE_SECRETS]: { value: counts.overdue, unit: 'Count' as const },
    [ROTATION_METRICS.ROTATION_ENABLED_SECRETS]: { value: counts.rotationEnabled, unit: 'Count' as const },
    [ROTATION_METRICS.UNKNOWN_SCHEDULE_SECRETS]: { value: counts.unknownSchedule, unit: 'Count' as const },
  };
}

/** The metric records, then the per-secret lines. */
function reportLines(report: OverdueReport, timestamp: number): string[] {
  const lines: string[] = [];
  for (const { engine, counts } of report.engines) {
    lines.push(formatMetricRecord({
      namespace: ROTATION_METRICS.NAMESPACE,
      dimensionSets: [[ROTATION_METRICS.DIMENSION_ENGINE]],
      dimensions: { [ROTATION_METRICS.DIMENSION_ENGINE]: engine },
      metrics: countMetrics(counts),
      timestamp,
    }));
  }
  lines.push(formatMetricRecord({
    namespace: ROTATION_METRICS.NAMESPACE,
    dimensionSets: [[]],
    dimensions: {},
    metrics: {
      ...countMetrics(report.total),
      [ROTATION_METRICS.OLDEST_ROTATION_AGE]: { value: report.total.oldestRotationAgeSeconds, unit: 'Seconds' },
    },
    timestamp,
  }));
  for (const secret of report.overdue) {
    lines.push(JSON.stringify({
      level: 'WARN',
      message: 'rotation overdue',
      secretArn: secret.arn,
      secretName: secret.name,
      engine: secret.engine,
      dueAt: secret.dueAt.toISOString(),
      windowEnd: secret.windowEnd.toISOString(),
      overdueBySeconds: secret.overdueBySeconds,
    }));
  }
  for (const secret of report.unknownSchedule) {
    lines.push(JSON.stringify({
      level: 'WARN',
      message: 'rotation schedule unknown',
      secretArn: secret.arn,
      secretName: secret.name,
      engine: secret.engine,
      reason: secret.reason,
    }));
  }
  return lines;
}
