import { checkProbe } from '../../../lambda/engines/mysql-family';
import { ERROR_CODES } from '../../../lambda/kit/errors';

/** MySQL and MariaDB commit DDL, account statements and SET GLOBAL even inside a read-only transaction. */
describe('checkProbe (MySQL family)', () => {
  test.each([
    'SELECT 1',
    '  select count(*) from app.orders',
    'WITH t AS (SELECT 1 AS a) SELECT a FROM t',
    'SHOW TABLES',
    'DESCRIBE app.orders',
    'DESC app.orders',
    'EXPLAIN SELECT * FROM app.orders',
    'SELECT \'a\' INTO @x',
  ])('a query runs: %s', (sql) => {
    expect(() => checkProbe(sql)).not.toThrow();
  });

  test.each([
    'CREATE TABLE app.t (a int)',
    'DROP TABLE app.orders',
    'CREATE USER x@y',
    'GRANT ALL ON *.* TO x@y',
    'SET GLOBAL max_connections = 1',
    'TRUNCATE app.orders',
    'INSERT INTO app.orders VALUES (1)',
    'CALL app.cleanup()',
    'SELECT 1; DROP TABLE app.orders',
    '/*!50000 DROP TABLE app.orders */',
    'SELECT 1 /*! , (SELECT 1) */',
    'SELECT 1 -- comment',
    'SELECT 1 # comment',
    'SELECT * FROM app.orders INTO OUTFILE \'/tmp/x\'',
    'SELECT 0x41 INTO DUMPFILE \'/tmp/y\'',
    '',
  ])('anything else is refused as configuration, never run: %s', (sql) => {
    expect(() => checkProbe(sql)).toThrow(expect.objectContaining({ code: ERROR_CODES.INVALID_CONFIGURATION }));
  });

  test('the message names the variable and never echoes the statement', () => {
    expect(() => checkProbe('DROP TABLE secret_canary_table')).toThrow(/ROTATION_PROBE_QUERY/);
    try {
      checkProbe('DROP TABLE secret_canary_table');
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('secret_canary_table');
    }
  });
});
