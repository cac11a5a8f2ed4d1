import { InvalidMetricRecordError, MetricRecord, formatMetricRecord } from '../../../lambda/kit/metrics';

/** The EMF writer against the specification (CloudWatch User Guide, "Specification: Embedded metric format"). */
describe('formatMetricRecord', () => {
  const base: MetricRecord = {
    namespace: 'Test/Namespace',
    dimensions: { Engine: 'postgres-single-user', ErrorCode: 'TLS_FAILED' },
    dimensionSets: [['Engine', 'ErrorCode'], ['ErrorCode'], []],
    metrics: { Failures: { value: 1, unit: 'Count' } },
    timestamp: 1_700_000_000_123,
  };

  test('one JSON line: the _aws directive, then each dimension and metric as a member of the root', () => {
    const line = formatMetricRecord(base);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_123,
        CloudWatchMetrics: [{
          Namespace: 'Test/Namespace',
          Dimensions: [['Engine', 'ErrorCode'], ['ErrorCode'], []],
          Metrics: [{ Name: 'Failures', Unit: 'Count' }],
        }],
      },
      Engine: 'postgres-single-user',
      ErrorCode: 'TLS_FAILED',
      Failures: 1,
    });
  });

  test('every name a dimension set or the metric list uses is a member of the root of the right type', () => {
    const parsed = JSON.parse(formatMetricRecord(base));
    const directive = parsed._aws.CloudWatchMetrics[0];
    for (const set of directive.Dimensions) for (const name of set) expect(typeof parsed[name]).toBe('string');
    for (const metric of directive.Metrics) expect(typeof parsed[metric.Name]).toBe('number');
  });

  test('an empty dimension set is written as [] (the specification: a DimensionSet MAY be empty, a metric without dimensions)', () => {
    const parsed = JSON.parse(formatMetricRecord({ ...base, dimensions: {}, dimensionSets: [[]] }));
    expect(parsed._aws.CloudWatchMetrics[0].Dimensions).toEqual([[]]);
    expect(Object.keys(parsed).sort()).toEqual(['Failures', '_aws']);
  });

  test('the timestamp defaults to now, in whole milliseconds', () => {
    const before = Date.now();
    const { _aws } = JSON.parse(formatMetricRecord({ ...base, timestamp: undefined }));
    expect(Number.isInteger(_aws.Timestamp)).toBe(true);
    expect(_aws.Timestamp).toBeGreaterThanOrEqual(before);
    expect(_aws.Timestamp).toBeLessThanOrEqual(Date.now());
  });

  test('several metrics share the directive, each with its unit', () => {
    const parsed = JSON.parse(formatMetricRecord({
      ...base, metrics: { A: { value: 2, unit: 'Count' }, B: { value: 0.5, unit: 'Seconds' } },
    }));
    expect(parsed._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'A', Unit: 'Count' }, { Name: 'B', Unit: 'Seconds' }]);
    expect([parsed.A, parsed.B]).toEqual([2, 0.5]);
  });

  test.each<[string, Partial<MetricRecord>]>([
    ['no metric', { metrics: {} }],
    ['101 metrics', { metrics: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`M${i}`, { value: 1, unit: 'Count' as const }])) }],
    ['a metric name that is not a plain name', { metrics: { 'bad name': { value: 1, unit: 'Count' } } }],
    ['_aws as a metric name', { metrics: { _aws: { value: 1, unit: 'Count' } } }],
    ['NaN', { metrics: { Failures: { value: NaN, unit: 'Count' } } }],
    ['Infinity', { metrics: { Failures: { value: Infinity, unit: 'Count' } } }],
    ['a number as text', { metrics: { Failures: { value: '1' as unknown as number, unit: 'Count' } } }],
    ['an unknown unit', { metrics: { Failures: { value: 1, unit: 'Furlongs' as 'Count' } } }],
    ['a dimension value with a space', { dimensions: { ...base.dimensions, Engine: 'my engine' } }],
    ['an empty dimension value', { dimensions: { ...base.dimensions, Engine: '' } }],
    ['a non-ASCII dimension value', { dimensions: { ...base.dimensions, Engine: 'moteur-é' } }],
    ['a dimension value with a line break', { dimensions: { ...base.dimensions, Engine: 'a\nb' } }],
    ['a dimension value of 251 characters', { dimensions: { ...base.dimensions, Engine: 'x'.repeat(251) } }],
    ['a dimension value that is not a string', { dimensions: { ...base.dimensions, Engine: 7 as unknown as string } }],
    ['a dimension name that is not a plain name', { dimensions: { 'Error Code': 'X' }, dimensionSets: [['Error Code']] }],
    ['a name that is both dimension and metric', { dimensions: { ...base.dimensions, Failures: 'x' } }],
    ['a set naming a dimension without a value', { dimensionSets: [['Engine', 'Region']] }],
    ['a set naming an inherited property', { dimensionSets: [['constructor']] }],
    ['a set naming a dimension twice', { dimensionSets: [['Engine', 'Engine']] }],
    ['a set of 31 dimensions', {
      dimensions: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'v'])),
      dimensionSets: [Array.from({ length: 31 }, (_, i) => `D${i}`)],
    }],
    ['no dimension set at all', { dimensionSets: [] }],
    ['an empty namespace', { namespace: '' }],
    ['a blank namespace', { namespace: '   ' }],
    ['a namespace with a line break', { namespace: 'Test\nNamespace' }],
    ['a namespace of 256 characters', { namespace: 'N'.repeat(256) }],
    ['a namespace reserved for AWS', { namespace: 'AWS/Lambda' }],
    ['a fractional timestamp', { timestamp: 1.5 }],
    ['a negative timestamp', { timestamp: -1 }],
  ])('refuses %s', (_what, change) => {
    expect(() => formatMetricRecord({ ...base, ...change })).toThrow(InvalidMetricRecordError);
  });

  test('30 dimensions in a set, 100 metrics and a 255-character namespace are accepted (the limits themselves)', () => {
    const dimensions = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`D${i}`, 'v']));
    const metrics = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`M${i}`, { value: i, unit: 'Count' as const }]));
    const parsed = JSON.parse(formatMetricRecord({
      namespace: 'N'.repeat(255), dimensions, dimensionSets: [Object.keys(dimensions)], metrics, timestamp: 1,
    }));
    expect(parsed._aws.CloudWatchMetrics[0].Dimensions[0]).toHaveLength(30);
    expect(parsed._aws.CloudWatchMetrics[0].Metrics).toHaveLength(100);
  });

  test('the error names the dimension, never its value, and carries a stable code', () => {
    const canary = 'CANARY-value-not-for-logs';
    let thrown: unknown;
    try {
      formatMetricRecord({ ...base, dimensions: { ...base.dimensions, Engine: `${canary} with space` } });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidMetricRecordError);
    expect(thrown).toMatchObject({ name: 'InvalidMetricRecordError', code: 'INVALID_METRIC_RECORD' });
    expect((thrown as Error).message).toContain('Engine');
    expect((thrown as Error).message).not.toContain(canary);
  });
});
