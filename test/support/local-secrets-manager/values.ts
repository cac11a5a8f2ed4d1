import { ServiceError } from './errors';
import { SecretValue, SecretVersion } from './types';
import { checkLength, MAX_SECRET_VALUE_BYTES, optionalString } from './validation';

interface ValueInput {
  readonly SecretString?: string;
  readonly SecretBinary?: Uint8Array;
}

export function hasValue(version: SecretVersion): boolean {
  return version.secretString !== undefined || version.secretBinary !== undefined;
}

export function sameValue(version: SecretVersion, value: SecretValue): boolean {
  const sameBinary = version.secretBinary === undefined || value.secretBinary === undefined
    ? version.secretBinary === value.secretBinary
    : version.secretBinary.equals(value.secretBinary);
  return version.secretString === value.secretString && sameBinary;
}

/**
 * The value a request carries, if any. Both members are modeled with length 1 to 65,536, so an empty string
 * or blob is a ValidationException, not "no value"; sizes count bytes (the quota is in bytes).
 */
export function optionalValue(input: ValueInput): SecretValue | undefined {
  const secretString = optionalString(input.SecretString, 'secretString');
  const binary = input.SecretBinary;
  if (binary !== undefined && !(binary instanceof Uint8Array)) {
    throw new ServiceError('SerializationException', 'secretBinary must be binary data.');
  }
  if (secretString !== undefined) {
    checkLength('secretString', Buffer.byteLength(secretString, 'utf8'), 1, MAX_SECRET_VALUE_BYTES);
  }
  if (binary !== undefined) {
    checkLength('secretBinary', binary.byteLength, 1, MAX_SECRET_VALUE_BYTES);
  }
  if (secretString !== undefined && binary !== undefined) {
    throw new ServiceError('InvalidParameterException', 'You can\'t specify both SecretString and SecretBinary.');
  }
  if (secretString === undefined && binary === undefined) {
    return undefined;
  }
  return { secretString, secretBinary: binary === undefined ? undefined : Buffer.from(binary) };
}

export function requiredValue(input: ValueInput): SecretValue {
  const value = optionalValue(input);
  if (value === undefined) {
    throw new ServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
  }
  return value;
}
