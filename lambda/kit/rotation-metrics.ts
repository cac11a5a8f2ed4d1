/**
 * The two metric records a rotation handler writes (docs/rotation.md, "What every step writes"): `RotationStepFailed` after every
 * failed step and `RotationFinished` after a finishSecret that made the pending version current. Each is one EMF line
 * (metrics.ts) beside the step's log line.
 *
 * A record carries only the metric, the engine's name and, for failures, the error code: no secret ARN, version id,
 * user name, step or message. Those would make every secret (or every rotation) a metric of its own, and they are
 * already on the step's log line, which the record's timestamp finds.
 */

import { MetricRecord, formatMetricRecord } from './metrics';
import { ERROR_CODES, ErrorCode, ROTATION_METRICS } from '../../src/private/contract';

/**
 * The Engine value for an engine whose name cannot be a dimension value. Custom engines built with the kit may name
 * themselves anything (spaces, non-ASCII, any length); such a name would make the record invalid, and a handler must
 * never fail, or lose the count of a failure, because of how its engine is named. A fixed value keeps every failure
 * counted, under one Engine that says where to look: the step's log line still carries the full name.
 */
export const CUSTOM_ENGINE_DIMENSION = 'custom';

/**
 * Engine names used as they are: the bundled engines' ids and names like them (letters, digits, `.`, `_`, `-`, at
 * most 64 characters, starting with a letter or digit). Narrower than what CloudWatch accepts on purpose: these
 * values end up in alarm names and dashboard search expressions, where such names need no quoting.
 */
const ENGINE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ERROR_CODES));

/** The Engine dimension value for an engine name: the name itself, or {@link CUSTOM_ENGINE_DIMENSION}. */
export function engineDimension(name: unknown): string {
  return typeof name === 'string' && ENGINE_NAME.test(name) ? name : CUSTOM_ENGINE_DIMENSION;
}

/**
 * The ErrorCode dimension value: the code when it is one of ERROR_CODES, else INTERNAL. RotationError.code is typed,
 * so another value would take a cast or plain JavaScript; it must still not become a metric of its own.
 */
export function errorCodeDimension(code: unknown): ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code) ? code as ErrorCode : ERROR_CODES.INTERNAL;
}

/**
 * `RotationStepFailed` = 1 (Count) with Engine and ErrorCode, published per [Engine, ErrorCode], per [Engine], per
 * [ErrorCode] and with no dimension (the alarm on any failure of any engine).
 */
export function stepFailedRecord(engineName: unknown, code: unknown, timestamp?: number): string {
  return formatMetricRecord(record(ROTATION_METRICS.STEP_FAILED, {
    [ROTATION_METRICS.DIMENSION_ENGINE]: engineDimension(engineName),
    [ROTATION_METRICS.DIMENSION_ERROR_CODE]: errorCodeDimension(code),
  }, [
    [ROTATION_METRICS.DIMENSION_ENGINE, ROTATION_METRICS.DIMENSION_ERROR_CODE],
    [ROTATION_METRICS.DIMENSION_ENGINE],
    [ROTATION_METRICS.DIMENSION_ERROR_CODE],
    [],
  ], timestamp));
}

/** `RotationFinished` = 1 (Count) with Engine, published per [Engine] and with no dimension. */
export function rotationFinishedRecord(engineName: unknown, timestamp?: number): string {
  return formatMetricRecord(record(ROTATION_METRICS.ROTATION_FINISHED, {
    [ROTATION_METRICS.DIMENSION_ENGINE]: engineDimension(engineName),
  }, [
    [ROTATION_METRICS.DIMENSION_ENGINE],
    [],
  ], timestamp));
}

function record(
  metric: string, dimensions: Record<string, string>, dimensionSets: string[][], timestamp: number | undefined,
): MetricRecord {
  return {
    namespace: ROTATION_METRICS.NAMESPACE,
    dimensions,
    dimensionSets,
    metrics: { [metric]: { value: 1, unit: 'Count' } },
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}
