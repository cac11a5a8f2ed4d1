import { Duration, Token } from 'aws-cdk-lib';

/** Throws when a value is an unresolved token: the checks in this library need literal values. */
export function assertLiteral(owner: string, property: string, value: unknown): void {
  if (Token.isUnresolved(value) || (value instanceof Duration && value.isUnresolved())) {
    throw new Error(`${owner}: ${property} must be a literal value, not a token, so it can be validated at synth`);
  }
}

/** Whole hours of a duration, or undefined when it is not a whole number of hours. */
export function wholeHours(duration: Duration): number | undefined {
  const ms = duration.toMilliseconds();
  const hourMs = 3_600_000;
  return ms % hourMs === 0 ? ms / hourMs : undefined;
}

/** Renders a number of hours for error messages: `3 hours`, `2 days`, `1 hour`. */
export function describeHours(hours: number): string {
  if (hours >= 24 && hours % 24 === 0) {
    const days = hours / 24;
    return `${days} ${days === 1 ? 'day' : 'days'}`;
  }
  return `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
}

/** True for an integer in [min, max]. */
export function isIntegerInRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
