import { scramSha256Verifier } from '../../../lambda/engines/postgres-scram';

describe('scramSha256Verifier', () => {
  test('has PostgreSQL\'s stored format and does not contain the password', () => {
    const v = scramSha256Verifier('CANARY-pw');
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(v).not.toContain('CANARY');
  });

  test('is deterministic for a salt and differs across salts', () => {
    const salt = Buffer.alloc(16, 7);
    expect(scramSha256Verifier('pw', salt)).toBe(scramSha256Verifier('pw', salt));
    expect(scramSha256Verifier('pw')).not.toBe(scramSha256Verifier('pw'));
    expect(scramSha256Verifier('pw', salt)).not.toBe(scramSha256Verifier('pw2', salt));
  });
});
