import { mariadb } from '../../../lambda/engines/mariadb';
import { mysql } from '../../../lambda/engines/mysql';
import { postgres } from '../../../lambda/engines/postgres';
import { alternateUsername, assertSameTarget, parseDatabaseSecret, usernameLengthLimit } from '../../../lambda/kit/database';
import { ConfusedDeputyError, InvalidSecretValueError } from '../../../lambda/kit/errors';
import { stricterTls } from '../../../lambda/kit/master-secret';

const canary = 'CANARY-db-pw-31337';
const secret = (o: Record<string, unknown>) => JSON.stringify({ engine: 'postgres', host: 'db.internal', username: 'app', password: canary, ...o });

describe('parseDatabaseSecret', () => {
  test('applies the engine defaults and keeps unknown fields for the next version', () => {
    const c = parseDatabaseSecret(secret({ appField: 'kept' }), 'current', postgres);
    expect(c).toMatchObject({ engine: 'postgres', host: 'db.internal', port: 5432, dbname: 'postgres', tls: 'verify-full', username: 'app' });
    expect(c.source.fields.appField).toBe('kept');
  });

  test('accepts aurora-postgresql and a numeric string port', () => {
    expect(parseDatabaseSecret(secret({ engine: 'aurora-postgresql', port: '6543' }), 'current', postgres).port).toBe(6543);
  });

  test.each([
    ['not JSON', 'nope{', /not valid JSON/],
    ['an array', '[]', /not a JSON object/],
    ['another engine', secret({ engine: 'mysql' }), /engine must be one of postgres, aurora-postgresql/],
    ['no host', secret({ host: '' }), /host must be a non-empty string/],
    ['no username', secret({ username: undefined }), /username must be a non-empty string/],
    ['port 0', secret({ port: 0 }), /port must be an integer from 1 to 65535/],
    ['port 70000', secret({ port: 70000 }), /port must be an integer from 1 to 65535/],
    ['unknown tls mode', secret({ tls: 'prefer' }), /tls must be verify-full or disabled/],
  ])('%s is refused naming the field, without the value', (_name, value, message) => {
    expect(() => parseDatabaseSecret(value, 'pending', postgres)).toThrow(InvalidSecretValueError);
    expect(() => parseDatabaseSecret(value, 'pending', postgres)).toThrow(message);
    try {
      parseDatabaseSecret(value, 'pending', postgres);
    } catch (err) {
      expect((err as Error).message).toMatch(/^The pending secret value is invalid/);
      expect((err as Error).message).not.toContain(canary);
    }
  });
});

describe('control characters never reach a driver (a NUL starts a new startup parameter)', () => {
  const fields = ['username', 'password', 'host', 'dbname', 'engine', 'masterarn'];
  const characters = ['\u0000', '\u0001', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u009f'];
  const cases = fields.flatMap((field) => characters.map((ch): [string, string, string] => [field, ch.codePointAt(0)!.toString(16).padStart(4, '0'), ch]));

  test.each(cases)('%s containing U+%s is refused at parse, naming the field', (field, _code, ch) => {
    const valid: Record<string, string> = { engine: 'postgres', host: 'db.internal', username: 'app', password: canary, dbname: 'app', masterarn: 'arn:x' };
    const value = JSON.stringify({ ...valid, [field]: `${valid[field]}${ch}options=-c role=admin` });
    expect(() => parseDatabaseSecret(value, 'current', postgres)).toThrow(
      expect.objectContaining({ code: 'INVALID_SECRET_VALUE', message: `The current secret value is invalid: ${field} must not contain control characters` }));
  });

  test('printable non-ASCII is not a control character', () => {
    expect(parseDatabaseSecret(secret({ username: 'Ünïcødé user ✓', password: `${canary} ü` }), 'current', postgres).username).toBe('Ünïcødé user ✓');
  });
});

describe('alternateUsername', () => {
  test('toggles between a user and its clone', () => {
    expect(alternateUsername('app', postgres)).toBe('app_clone');
    expect(alternateUsername('app_clone', postgres)).toBe('app');
    expect(alternateUsername('Ünïcødé user', postgres)).toBe('Ünïcødé user_clone');
  });

  test('refuses a clone name over 63 bytes, counting UTF-8 bytes', () => {
    expect(alternateUsername('a'.repeat(57), postgres)).toHaveLength(63);
    expect(() => alternateUsername('a'.repeat(58), postgres)).toThrow(/exceed 63 bytes; shorten username to at most 57 bytes/);
    expect(() => alternateUsername('é'.repeat(29), postgres)).toThrow(/exceed 63 bytes/);
  });

  test('MySQL and MariaDB count characters: 32 and 80', () => {
    expect(alternateUsername('ü'.repeat(26), mysql)).toHaveLength(32);
    expect(() => alternateUsername('u'.repeat(27), mysql)).toThrow(/exceed 32 characters; shorten username to at most 26 characters/);
    expect(alternateUsername('ü'.repeat(74), mariadb)).toHaveLength(80);
    expect(() => alternateUsername('u'.repeat(75), mariadb)).toThrow(/exceed 80 characters/);
  });

  test('ROTATION_USERNAME_LENGTH_LIMIT replaces the engine\'s limit', () => {
    expect(() => alternateUsername('u'.repeat(11), mysql, { ROTATION_USERNAME_LENGTH_LIMIT: '16' })).toThrow(/exceed 16 characters; shorten username to at most 10/);
    expect(alternateUsername('u'.repeat(40), mysql, { ROTATION_USERNAME_LENGTH_LIMIT: '64' })).toHaveLength(46);
  });

  test.each(['0', '-1', '16 ', '0x10', 'many'])('ROTATION_USERNAME_LENGTH_LIMIT=%j is INVALID_CONFIGURATION', (value) => {
    expect(() => usernameLengthLimit({ ROTATION_USERNAME_LENGTH_LIMIT: value })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIGURATION' }));
  });
});

describe('assertSameTarget', () => {
  const a = { host: 'DB.internal', port: 5432, dbname: 'app', username: 'u', password: 'p', tls: 'verify-full' as const };

  test('host names compare case-insensitively', () => {
    expect(() => assertSameTarget(a, { ...a, host: 'db.INTERNAL' }, 'x')).not.toThrow();
  });

  test.each([
    ['host', { host: 'evil.internal' }],
    ['port', { port: 5433 }],
    ['database', { dbname: 'other' }],
    ['TLS setting', { tls: 'disabled' as const }],
  ])('a different %s is a confused deputy', (what, change) => {
    expect(() => assertSameTarget(a, { ...a, ...change }, 'check')).toThrow(ConfusedDeputyError);
    expect(() => assertSameTarget(a, { ...a, ...change }, 'check')).toThrow(`check: the ${what} differs`);
  });
});

describe('stricterTls', () => {
  test.each([
    ['verify-full', 'verify-full', 'verify-full'],
    ['verify-full', 'disabled', 'verify-full'],
    ['disabled', 'verify-full', 'verify-full'],
    ['disabled', 'disabled', 'disabled'],
  ] as const)('master %s, application %s: %s', (master, application, expected) => {
    expect(stricterTls(master, application)).toBe(expected);
  });
});
