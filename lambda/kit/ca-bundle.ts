import { readFileSync } from 'fs';
import { ERROR_CODES, RotationError } from './errors';
import { ENV } from '../../src/private/contract';

/**
 * The PEM bundle of trusted CAs named by ROTATION_TLS_CA_BUNDLE, for every dialect's TLS options; undefined when unset
 * (the runtime's trust store, with NODE_EXTRA_CA_CERTS). An unreadable file is a configuration error, never a reason to
 * go on without verification.
 */
export function caBundle(env: NodeJS.ProcessEnv): string | undefined {
  const path = env[ENV.TLS_CA_BUNDLE];
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${ENV.TLS_CA_BUNDLE} cannot be read`, err);
  }
}
