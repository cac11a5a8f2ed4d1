import { escape } from 'mysql2';
import { ed25519AuthString, nativePasswordHash } from './mysql-auth';
import { MysqlFlavor, OwnPasswordContext, ServerVersion, atLeast, mysqlDialect, versionText } from './mysql-family';
import { tokenize } from './mysql-grants';
import { ERROR_CODES, RotationError } from '../kit/errors';
import type { DatabaseDialect } from '../kit/types';

/**
 * MariaDB.
 *
 * - User names: 80 characters (MariaDB 10.0+), 16 before.
 * - Passwords keep the account's plugin and never appear in a statement: the statement carries what the server stores,
 *   computed here (`mysql_native_password`'s hash, `ed25519`'s public key). MariaDB cannot bind them as parameters
 *   (a `?` in `IDENTIFIED ... USING` or `SET PASSWORD =` is a syntax error in 10.11) and its general log records
 *   statements as sent, so the password itself is never sent.
 * - A user's own password: `SET PASSWORD = '<stored form>'`, which needs no privilege and keeps the account's plugin
 *   (read first from `SHOW CREATE USER CURRENT_USER()`, which every user may run for itself); ALTER USER would need
 *   CREATE USER.
 * - The accounts table: `mysql.user` (a view over mysql.global_priv since 10.4), roles left out.
 */
export const MARIADB_PLUGINS = ['mysql_native_password', 'ed25519'] as const;

/** What the server stores for `password` on `plugin`. */
export function storedForm(plugin: string, password: string): string {
  if (plugin === 'ed25519') return ed25519AuthString(password);
  if (plugin === 'mysql_native_password') return nativePasswordHash(password);
  throw new RotationError(ERROR_CODES.UNSUPPORTED_ACCOUNT,
    `The account authenticates with a plugin the handler cannot set a password for; supported: ${MARIADB_PLUGINS.join(', ')}`);
}

/**
 * The plugin of the session's own account from its SHOW CREATE USER line: `IDENTIFIED BY PASSWORD '...'` is
 * mysql_native_password, `IDENTIFIED VIA <plugin> ...` names it; several (`VIA a OR b`) or none is refused.
 */
export function ownPlugin(createUser: string): string {
  const tokens = tokenize(createUser);
  const word = (i: number) => (tokens[i]?.kind === 'word' ? tokens[i].text.toUpperCase() : undefined);
  const at = tokens.findIndex((_, i) => word(i) === 'IDENTIFIED');
  const via = word(at + 1) === 'VIA' || word(at + 1) === 'WITH';
  const several = tokens.some((_, i) => word(i) === 'OR');
  if (at >= 0 && via && !several && tokens[at + 2]) return tokens[at + 2].text.replace(/^[`'"]|[`'"]$/g, '');
  if (at >= 0 && word(at + 1) === 'BY' && word(at + 2) === 'PASSWORD') return 'mysql_native_password';
  throw new RotationError(ERROR_CODES.UNSUPPORTED_ACCOUNT,
    `The account does not authenticate with exactly one of ${MARIADB_PLUGINS.join(', ')}`);
}

export function mariadbUsernameLimit(version: ServerVersion): { limit: number; source: string } {
  return atLeast(version, 10, 0)
    ? { limit: 80, source: `MariaDB ${versionText(version)}: 80 from 10.0` }
    : { limit: 16, source: `MariaDB ${versionText(version)}: 16 before 10.0` };
}

async function ownPassword({ password, query }: OwnPasswordContext): Promise<string> {
  const [row] = await query('show-create-user', 'SHOW CREATE USER CURRENT_USER()');
  const line = row ? String(Object.values(row)[0]) : '';
  return `SET PASSWORD = ${escape(storedForm(ownPlugin(line), password))}`;
}

export function mariadbIdentified(plugin: string, password: string): string {
  return `IDENTIFIED VIA ${plugin} USING ${escape(storedForm(plugin, password))}`;
}

export const MARIADB_FLAVOR: MysqlFlavor = {
  family: 'mariadb',
  label: 'MariaDB',
  usernameLimit: mariadbUsernameLimit,
  accountsQuery: 'SELECT Host AS host, plugin, ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ? AND is_role = \'N\'',
  plugins: MARIADB_PLUGINS,
  ownPassword,
  identified: (plugin, password) => mariadbIdentified(plugin, password),
  setPassword: (account, plugin, password, _version, options) => [
    `ALTER USER ${account} ${mariadbIdentified(plugin, password)}${options.require ? ` ${options.require}` : ''}${options.unlock ? ' ACCOUNT UNLOCK' : ''}`,
  ],
  accountLocking: (version) => atLeast(version, 10, 4, 2),
};

export const mariadb: DatabaseDialect = { ...mysqlDialect(MARIADB_FLAVOR), managedMasters: ['rds'] };
