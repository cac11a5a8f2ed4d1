/**
 * One structured line per step. Only fields from an allow-list are written, and every value is a string or
 * number the kit produced itself, so a password, token or driver message cannot reach the log by accident.
 */

export interface StepLogFields {
  readonly step: string;
  readonly secretArn: string;
  readonly versionId: string;
  readonly outcome: 'succeeded' | 'failed';
  /** What the step did, from a fixed vocabulary (e.g. `created`, `already-current`, `promoted`). */
  readonly action?: string;
  readonly errorCode?: string;
  readonly errorName?: string;
  readonly errorMessage?: string;
  readonly causeCode?: string;
  readonly durationMs: number;
  readonly engine?: string;
  readonly requestId?: string;
}

export type LogSink = (line: string) => void;

const FIELDS: ReadonlyArray<keyof StepLogFields> = [
  'step', 'secretArn', 'versionId', 'outcome', 'action', 'errorCode', 'errorName', 'errorMessage', 'causeCode',
  'durationMs', 'engine', 'requestId',
];

/** Renders the allow-listed fields as one JSON line. */
export function formatStepLog(fields: StepLogFields): string {
  const out: Record<string, string | number> = {
    level: fields.outcome === 'failed' ? 'ERROR' : 'INFO',
    message: `rotation step ${fields.outcome}`,
  };
  for (const key of FIELDS) {
    const value = fields[key];
    if (typeof value === 'string' || typeof value === 'number') out[key] = value;
  }
  return JSON.stringify(out);
}

/** Writes to stdout, which the Lambda runtime sends to CloudWatch Logs. */
export const consoleSink: LogSink = (line) => process.stdout.write(line + '\n');
