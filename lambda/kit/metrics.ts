/**
 * CloudWatch Embedded Metric Format (EMF): a JSON log line with an `_aws` block that CloudWatch Logs turns into metrics.
 *
 * Written by hand rather than with a metrics library: a record is one small object, and a library would add code that
 * every cold start loads. Dimension values come only from the caller's fixed vocabularies (engine names, error codes),
 * never from the secret, so nothing a secret holds can become a metric or reach the line.
 *
 * The checks follow the EMF specification (CloudWatch User Guide, "Specification: Embedded metric format"): a
 * directive has a namespace, at least one dimension set and 1 to 100 metrics; a dimension set names at most 30
 * dimensions and MAY be empty, which publishes the metric with no dimension; every name a set or the metric list uses
 * is a member of the root object; a dimension's member is a string, a metric's a number; the timestamp is an integer
 * count of milliseconds since the epoch. Names and values CloudWatch would reject, or would turn into another metric
 * than the caller meant, are refused here, so a bad record fails loudly in a unit test instead of silently in
 * CloudWatch Logs.
 */

/** The metric units the kit and the monitor use (a subset of CloudWatch's StandardUnit). */
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'None';

const UNITS: ReadonlySet<string> = new Set<MetricUnit>(['Count', 'Seconds', 'Milliseconds', 'None']);

export interface MetricRecord {
  /** CloudWatch namespace; not `AWS/...`, which is reserved for AWS services. */
  readonly namespace: string;
  /**
   * Dimension sets (at least one): each is a list of dimension names, every name a key of {@link dimensions}. One
   * metric per set and metric name is published; an empty set (`[]`) publishes the metric without dimensions.
   */
  readonly dimensionSets: ReadonlyArray<readonly string[]>;
  /** Dimension values by name. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Metric values by name, with their unit. */
  readonly metrics: Readonly<Record<string, { readonly value: number; readonly unit: MetricUnit }>>;
  /** Milliseconds since the epoch. @default now */
  readonly timestamp?: number;
}

/** Thrown for a record CloudWatch would reject or mis-read. The message names fields, never dimension values. */
export class InvalidMetricRecordError extends Error {
  public readonly code = 'INVALID_METRIC_RECORD';
  constructor(problem: string) {
    super(`Invalid EMF record: ${problem}`);
    this.name = 'InvalidMetricRecordError';
  }
}

/** Limits from the EMF specification: at most 30 dimensions per set and 100 metrics per directive. */
const MAX_DIMENSIONS_PER_SET = 30;
const MAX_METRICS = 100;
/** What a dimension value may be here: printable ASCII without spaces, at most 250 characters. */
const DIMENSION_VALUE = /^[\x21-\x7e]{1,250}$/;
/** Metric and dimension names: also keys of the root object, so never `_aws` or anything that could look like it. */
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/;
/** CloudWatch namespaces: letters, digits, `. - _ / # :` and spaces, at most 255 characters. */
const NAMESPACE = /^[A-Za-z0-9._\/#: -]{1,255}$/;

/** Renders one EMF record as a single JSON line; throws {@link InvalidMetricRecordError} on a record CloudWatch would reject or mis-read. */
export function formatMetricRecord(record: MetricRecord): string {
  checkNamespace(record.namespace);
  const metricNames = Object.keys(record.metrics);
  if (metricNames.length === 0 || metricNames.length > MAX_METRICS) {
    throw new InvalidMetricRecordError(`a record needs 1 to ${MAX_METRICS} metrics, got ${metricNames.length}`);
  }
  for (const name of metricNames) {
    if (!NAME.test(name)) throw new InvalidMetricRecordError(`metric name ${JSON.stringify(name)} is not a plain name`);
    const { value, unit } = record.metrics[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidMetricRecordError(`metric ${name} is not a finite number`);
    if (!UNITS.has(unit)) throw new InvalidMetricRecordError(`metric ${name} has an unsupported unit`);
  }
  for (const [name, value] of Object.entries(record.dimensions)) {
    if (!NAME.test(name)) throw new InvalidMetricRecordError(`dimension name ${JSON.stringify(name)} is not a plain name`);
    // the value is not echoed: a caller that broke the fixed-vocabulary rule may be holding something it should not log
    if (typeof value !== 'string' || !DIMENSION_VALUE.test(value)) throw new InvalidMetricRecordError(`the value of dimension ${name} is not 1 to 250 printable ASCII characters without spaces`);
    if (Object.prototype.hasOwnProperty.call(record.metrics, name)) throw new InvalidMetricRecordError(`${name} is both a dimension and a metric`);
  }
  // the specification's schema requires at least one set; `[[]]` is how a record says "no dimension"
  if (record.dimensionSets.length === 0) throw new InvalidMetricRecordError('a record needs at least one dimension set ([] for none)');
  for (const set of record.dimensionSets) {
    if (set.length > MAX_DIMENSIONS_PER_SET) throw new InvalidMetricRecordError(`a dimension set holds at most ${MAX_DIMENSIONS_PER_SET} names`);
    if (new Set(set).size !== set.length) throw new InvalidMetricRecordError('a dimension set names a dimension twice');
    for (const name of set) {
      if (!Object.prototype.hasOwnProperty.call(record.dimensions, name)) throw new InvalidMetricRecordError(`dimension ${name} has no value`);
    }
  }
  const timestamp = record.timestamp ?? Date.now();
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new InvalidMetricRecordError('the timestamp is not a whole number of milliseconds since the epoch');
  const line: Record<string, unknown> = {
    _aws: {
      Timestamp: timestamp,
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

function checkNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace) || namespace.trim() === '') {
    throw new InvalidMetricRecordError('the namespace must be 1 to 255 letters, digits, spaces or . - _ / # :');
  }
  if (namespace.startsWith('AWS/')) throw new InvalidMetricRecordError('namespaces starting with AWS/ are reserved for AWS services');
}
