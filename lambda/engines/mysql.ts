import { escape } from 'mysql2';
import { nativePasswordHash } from './mysql-auth';
import { MysqlFlavor, OwnPasswordContext, ServerVersion, SetPasswordOptions, atLeast, mysqlDialect, versionText } from './mysql-family';
import { ERROR_CODES, RotationError } from '../kit/errors';
import type { DatabaseDialect } from '../kit/types';

/**
 * MySQL and Aurora MySQL (which reports the MySQL version it is compatible with, e.g. `8.0.32`).
 *
 * - User names: 16 characters before 5.7, 32 from 5.7 (and every Aurora MySQL).
 * - Passwords keep the account's plugin. `mysql_native_password`: the statement carries the hash
 *   (`IDENTIFIED WITH mysql_native_password AS '*...'`). `caching_sha2_password` and `sha256_password` store a salted
 *   hash the server makes itself, so the statement carries the password (`IDENTIFIED WITH <plugin> BY '...'`), quoted by
 *   the driver; MySQL rewrites such statements before they reach its general, slow and binary logs.
 * - A user's own password: `SET PASSWORD = '...'` (5.7.6+; the account's plugin hashes it), with `REPLACE '<current>'`
 *   from 8.0.13, where password_require_current may demand it; before 5.7.6, `SET PASSWORD = PASSWORD('...')`.
 */
export const MYSQL_PLUGINS = ['mysql_native_password', 'caching_sha2_password', 'sha256_password'] as const;

export function mysqlUsernameLimit(version: ServerVersion): { limit: number; source: string } {
  return atLeast(version, 5, 7)
    ? { limit: 32, source: `MySQL ${versionText(version)}: 32 from 5.7` }
    : { limit: 16, source: `MySQL ${versionText(version)}: 16 before 5.7` };
}

export function mysqlOwnPassword({ version, password, currentPassword }: Pick<OwnPasswordContext, 'version' | 'password' | 'currentPassword'>): string {
  if (!atLeast(version, 5, 7, 6)) return `SET PASSWORD = PASSWORD(${escape(password)})`;
  const replace = atLeast(version, 8, 0, 13) ? ` REPLACE ${escape(currentPassword)}` : '';
  return `SET PASSWORD = ${escape(password)}${replace}`;
}

export function mysqlIdentified(plugin: string, password: string, version: ServerVersion): string {
  if (plugin === 'mysql_native_password') {
    // before 5.7.6 CREATE USER takes the hash this way (and ALTER USER cannot set passwords)
    return atLeast(version, 5, 7, 6)
      ? `IDENTIFIED WITH mysql_native_password AS ${escape(nativePasswordHash(password))}`
      : `IDENTIFIED BY PASSWORD ${escape(nativePasswordHash(password))}`;
  }
  return `IDENTIFIED WITH ${plugin} BY ${escape(password)}`;
}

/**
 * ALTER USER from 5.7.6; before, SET PASSWORD with the hash (mysql_native_password only) and the TLS requirement
 * through GRANT USAGE ... REQUIRE.
 */
export function mysqlSetPassword(account: string, plugin: string, password: string, version: ServerVersion, options: SetPasswordOptions): string[] {
  if (atLeast(version, 5, 7, 6)) {
    const require = options.require ? ` ${options.require}` : '';
    return [`ALTER USER ${account} ${mysqlIdentified(plugin, password, version)}${require}${options.unlock ? ' ACCOUNT UNLOCK' : ''}`];
  }
  if (plugin !== 'mysql_native_password') {
    throw new RotationError(ERROR_CODES.UNSUPPORTED_ACCOUNT, 'Before MySQL 5.7.6 the handler sets passwords of mysql_native_password accounts only');
  }
  return [
    ...(options.require ? [`GRANT USAGE ON *.* TO ${account} ${options.require}`] : []),
    `SET PASSWORD FOR ${account} = ${escape(nativePasswordHash(password))}`,
  ];
}

export const MYSQL_FLAVOR: MysqlFlavor = {
  family: 'mysql',
  label: 'MySQL',
  usernameLimit: mysqlUsernameLimit,
  // MySQL 8 keeps roles in mysql.user too, as locked accounts; they have no password to rotate and are never a grantee's original
  accountsQuery: 'SELECT Host AS host, plugin, ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ?',
  plugins: MYSQL_PLUGINS,
  ownPassword: async (s) => mysqlOwnPassword(s),
  identified: mysqlIdentified,
  setPassword: mysqlSetPassword,
  accountLocking: (version) => atLeast(version, 5, 7, 6),
};

export const mysql: DatabaseDialect = { ...mysqlDialect(MYSQL_FLAVOR), managedMasters: ['rds'] };
