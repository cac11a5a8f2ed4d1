import { ServiceError } from './errors';
import { SecretValue, SecretVersion } from './types';
import { optionalString } from './validation';

export function hasValue(version: SecretVersion): boolean {
  return version.secretString !== undefined || version.secretBinary !== undefined;
}

export function sameValue(version: SecretVersion, value: SecretValue): boolean {
  const sameBinary = version.secretBinary === undefined || value.secretBinary === undefined
    ? version.secretBinary === value.secretBinary
    : version.secretBinary.equals(value.secretBinary);
  return version.secretString === value.secretString && sameBinary;
}

export function optionalValue(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue | undefined {
  const secretString = optionalString(input.SecretString, 'SecretString');
  const binary = input.SecretBinary;
  if (binary !== undefined && !(binary instanceof Uint8Array)) {
    throw new ServiceError('InvalidParameterException', 'SecretBinary must be binary data.');
  }
  if (secretString !== undefined && binary !== undefined) {
    throw new ServiceError('InvalidParameterException', 'You can\'t specify both SecretString and SecretBinary.');
  }
  if (secretString === undefined && binary === undefined) {
    return undefined;
  }
  return { secretString, secretBinary: binary === undefined ? undefined : Buffer.from(binary) };
}

export function requiredValue(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue {
  const value = optionalValue(input);
  if (value === undefined) {
    throw new ServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
  }
  return value;
}
