import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { caBundle } from '../../../lambda/kit/ca-bundle';
import { ERROR_CODES } from '../../../lambda/kit/errors';
import { ENV } from '../../../src/private/contract';

describe('caBundle', () => {
  test('unset: undefined, so the runtime\'s trust store (and NODE_EXTRA_CA_CERTS) decides', () => {
    expect(caBundle({})).toBeUndefined();
    expect(caBundle({ [ENV.TLS_CA_BUNDLE]: '' })).toBeUndefined();
  });

  test('set: the file\'s PEM text', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-bundle-'));
    try {
      const file = path.join(dir, 'ca.pem');
      fs.writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      expect(caBundle({ [ENV.TLS_CA_BUNDLE]: file })).toContain('BEGIN CERTIFICATE');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unreadable: INVALID_CONFIGURATION naming the variable, never a connection without the CAs', () => {
    const missing = path.join(os.tmpdir(), 'no-such-dir-ca-bundle', 'ca.pem');
    expect(() => caBundle({ [ENV.TLS_CA_BUNDLE]: missing })).toThrow(expect.objectContaining({
      code: ERROR_CODES.INVALID_CONFIGURATION,
      message: `${ENV.TLS_CA_BUNDLE} cannot be read`,
    }));
  });
});
