import { classify } from '../../../lambda/engines/postgres';

/** How driver and server errors become the kit's codes; the driver's message never survives. */
describe('classify', () => {
  const withCode = (code: string, message = 'CANARY-driver-message-31337') => Object.assign(new Error(message), { code });

  test.each([
    ['statement_timeout (57014)', withCode('57014'), 'TIMEOUT'],
    ['the driver\'s query_timeout', new Error('Query read timeout'), 'TIMEOUT'],
    ['a rejected password (28P01)', withCode('28P01'), 'LOGIN_FAILED'],
    ['a certificate for another host', withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'TLS_FAILED'],
    ['a read-only transaction refusing a write (25006)', withCode('25006'), 'DATABASE_ERROR'],
  ])('%s is %s', (_what, err, code) => {
    const classified = classify(err, 'probe');
    expect(classified.code).toBe(code);
    expect(JSON.stringify({ message: classified.message, cause: classified.cause?.message })).not.toContain('CANARY');
  });
});
