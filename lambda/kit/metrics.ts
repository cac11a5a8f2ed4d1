/**
 * CloudWatch Embedded Metric Format (EMF): a JSON log line with an `_aws` block that CloudWatch Logs turns into metrics.
 *
 * Written by hand rather than with a metrics library: a record is one small object, and a library would add code that
 * every cold start loads. Dimension values come only from the caller's fixed vocabularies (engine names, error codes),
 * never from the secret, so nothing a secret holds can become a metric or reach the line.
 */

/** A metric unit EMF accepts (a subset of CloudWatch's StandardUnit; what the kit and monitor use). */
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'None';

export interface MetricRecord {
  /** CloudWatch namespace. */
  readonly namespace: string;
  /**
   * Dimension sets: each is a list of dimension names, every name a key of {@link dimensions}. One metric per set
   * and metric name is published; an empty set publishes the metric without dimensions (a roll-up).
   */
  readonly dimensionSets: ReadonlyArray<readonly string[]>;
  /** Dimension values by name. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Metric values by name, with their unit. */
  readonly metrics: Readonly<Record<string, { readonly value: number; readonly unit: MetricUnit }>>;
  /** Milliseconds since the epoch. @default now */
  readonly timestamp?: number;
}

/** Limits from the EMF specification: at most 30 dimensions per set and 100 metrics per record. */
const MAX_DIMENSIONS_PER_SET = 30;
const MAX_METRICS = 100;
/** What a dimension value may be here: printable ASCII without spaces, at most 250 characters. */
const DIMENSION_VALUE = /^[\x21-\x7e]{1,250}$/;
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/;

/** Renders one EMF record as a single JSON line; throws on a record CloudWatch would reject or mis-read. */
export function formatMetricRecord(record: MetricRecord): string {
  const metricNames = Object.keys(record.metrics);
  if (metricNames.length === 0 || metricNames.length > MAX_METRICS) {
    throw new Error(`An EMF record needs 1 to ${MAX_METRICS} metrics, got ${metricNames.length}`);
  }
  for (const name of metricNames) {
    if (!NAME.test(name)) throw new Error(`Invalid metric name: ${name}`);
    if (!Number.isFinite(record.metrics[name].value)) throw new Error(`Metric ${name} is not a finite number`);
  }
  for (const [name, value] of Object.entries(record.dimensions)) {
    if (!NAME.test(name)) throw new Error(`Invalid dimension name: ${name}`);
    if (!DIMENSION_VALUE.test(value)) throw new Error(`Invalid value for dimension ${name}`);
    if (name in record.metrics) throw new Error(`${name} is both a dimension and a metric`);
  }
  for (const set of record.dimensionSets) {
    if (set.length > MAX_DIMENSIONS_PER_SET) throw new Error(`A dimension set holds at most ${MAX_DIMENSIONS_PER_SET} names`);
    for (const name of set) {
      if (!(name in record.dimensions)) throw new Error(`Dimension ${name} has no value`);
    }
  }
  const line: Record<string, unknown> = {
    _aws: {
      Timestamp: record.timestamp ?? Date.now(),
      CloudWatchMetrics: [{
        Namespace: record.namespace,
        Dimensions: record.dimensionSets.map((set) => [...set]),
        Metrics: metricNames.map((name) => ({ Name: name, Unit: record.metrics[name].unit })),
      }],
    },
  };
  for (const [name, value] of Object.entries(record.dimensions)) line[name] = value;
  for (const name of metricNames) line[name] = record.metrics[name].value;
  return JSON.stringify(line);
}
