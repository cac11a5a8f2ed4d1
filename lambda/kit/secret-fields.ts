import { InvalidSecretValueError } from './errors';
import type { SecretRole } from './types';
import { TLS_MODES } from '../../src/private/contract';
import type { TlsMode } from '../../src/private/contract';

/** Readers of secret fields: each names the field and the version in its error and never echoes the value. */

/** Control characters (C0, DEL, C1): a driver writes strings into NUL-terminated protocol fields, so none may pass. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/** `tls` of a secret; absent means verify-full. */
export function parseTlsMode(v: unknown, role: SecretRole): TlsMode {
  const tls = v === undefined ? TLS_MODES.VERIFY_FULL : v;
  if (tls !== TLS_MODES.VERIFY_FULL && tls !== TLS_MODES.DISABLED) {
    throw new InvalidSecretValueError(role, `tls must be ${TLS_MODES.VERIFY_FULL} or ${TLS_MODES.DISABLED}`);
  }
  return tls;
}

/** A non-empty string without control characters (a NUL would start a new startup parameter in the driver's message). */
export function requireString(o: Readonly<Record<string, unknown>>, field: string, role: SecretRole): string {
  const v = o[field];
  if (typeof v !== 'string' || v.length === 0) throw new InvalidSecretValueError(role, `${field} must be a non-empty string`);
  if (hasControlCharacter(v)) throw new InvalidSecretValueError(role, `${field} must not contain control characters`);
  return v;
}

/** `port` of a secret (a number or a string of digits); undefined when absent. */
export function parsePort(v: unknown, role: SecretRole): number | undefined {
  if (v === undefined) return undefined;
  const port = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidSecretValueError(role, 'port must be an integer from 1 to 65535');
  }
  return port;
}

