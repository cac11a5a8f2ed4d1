import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { DataTemplate, dataDirIn, dataTemplate } from './data-template';
import { usableInstallRoot } from './server-binaries';
import { assertUserCanTraverse, findServerUser, isExecutableFile, runAsPrefix, ServerUser } from './server-user';

/** Finding a MariaDB install and making a data dir with it, for MariaDbServer. */

const execFileAsync = promisify(execFile);

/** Who runs the server when we are root: Debian's account for it, else the account for unprivileged daemons. */
const SERVER_USERS = ['mysql', 'nobody'];
/** Debian's mariadb-server package; MARIADB_BASEDIR or the basedir option name another install of the same layout. */
const DEFAULT_BASEDIR = '/usr';
/** The parts of an install the harness uses (a copy holds these only), relative to the basedir. */
export const MARIADB_INSTALL_ENTRIES = ['bin/mariadb-install-db', 'bin/my_print_defaults', 'sbin/mariadbd', 'share/mysql', 'lib/mysql/plugin'];
const EXECUTABLES = ['bin/mariadb-install-db', 'bin/my_print_defaults', 'sbin/mariadbd'];
/**
 * Throwaway data: no sync calls at all (what MariaDB's own test suite uses; halves the time of mariadb-install-db,
 * which otherwise syncs its DDL log about 1,000 times), small InnoDB files, no doublewrite, and a shutdown that
 * skips the buffer pool flush. Given to mariadb-install-db too, so the server starts on the redo log size it was
 * made with.
 */
export const STORAGE_OPTIONS = [
  '--debug-no-sync',
  '--innodb-log-file-size=8M',
  '--innodb-buffer-pool-size=32M',
  '--innodb-flush-log-at-trx-commit=0',
  '--innodb-doublewrite=0',
  '--innodb-fast-shutdown=3',
];

export interface Install {
  /** Where the server runs from: the install found, or its copy that the server user can execute. */
  readonly basedir: string;
  /** e.g. `10.11.18`. */
  readonly version: string;
  /** The account MariaDB runs as when we are root (mariadbd refuses to run as root unless told to). */
  readonly user?: ServerUser;
}

/** What a server keeps in its temp dir; all of it goes with the dir. */
export interface ServerFiles {
  readonly dataDir: string;
  /** mariadbd's stdout and stderr: the error log. */
  readonly errorLog: string;
  readonly generalLog: string;
  readonly auditLog: string;
  readonly socket: string;
  readonly pidFile: string;
}

export function serverFiles(tempDir: string): ServerFiles {
  const file = (name: string) => path.join(tempDir, name);
  return {
    dataDir: dataDirIn(tempDir),
    errorLog: file('mariadb.log'),
    generalLog: file('general.log'),
    auditLog: file('audit.log'),
    socket: file('mysqld.sock'),
    pidFile: file('mysqld.pid'),
  };
}

/** Found (and copied if need be) once per process for each requested basedir ('' for the default). */
const installPromises = new Map<string, Promise<Install>>();

export function installFor(requested: string | undefined): Promise<Install> {
  const key = requested ? path.resolve(requested) : '';
  let found = installPromises.get(key);
  if (!found) {
    found = findInstall(requested);
    installPromises.set(key, found);
  }
  return found;
}

async function findInstall(requested: string | undefined): Promise<Install> {
  const user = findServerUser(SERVER_USERS);
  await assertUserCanTraverse(user, os.tmpdir()); // where the data dirs go
  const root = path.resolve(requested || process.env.MARIADB_BASEDIR || DEFAULT_BASEDIR);
  const missing = EXECUTABLES.filter((file) => !isExecutableFile(path.join(root, file)));
  if (missing.length > 0) {
    throw new Error(`No MariaDB server (${missing.join(', ')}) found in ${root}: install the Debian mariadb-server `
      + 'package (scripts/install-system-deps.sh does) or set MARIADB_BASEDIR to an install with the same layout');
  }
  // mariadb-install-db hands options it does not know to mariadbd unquoted, so paths in them must not split.
  if (/\s/.test(root)) throw new Error(`The MariaDB basedir must not contain white space: ${JSON.stringify(root)}`);
  const version = await serverVersion(root);
  const install = { name: 'mariadb', root, version, entries: MARIADB_INSTALL_ENTRIES, executables: EXECUTABLES };
  return { basedir: await usableInstallRoot(install, user), version, user };
}

async function serverVersion(basedir: string): Promise<string> {
  // --version is answered before the root check, so no user switch is needed.
  const { stdout } = await execFileAsync(path.join(basedir, 'sbin', 'mariadbd'), ['--version']);
  const match = /\bVer\s+(\d+\.\d+\.\d+)-MariaDB/.exec(stdout);
  if (!match) throw new Error(`Unexpected mariadbd --version output: ${stdout}`);
  return match[1];
}

/** Where mariadbd finds its plugins, messages and character sets: in the install it runs from, not a compiled-in /usr. */
export function installOptions(basedir: string): string[] {
  return [
    `--basedir=${basedir}`,
    `--plugin-dir=${path.join(basedir, 'lib', 'mysql', 'plugin')}`,
    `--lc-messages-dir=${path.join(basedir, 'share', 'mysql')}`,
    `--character-sets-dir=${path.join(basedir, 'share', 'mysql', 'charsets')}`,
  ];
}

/**
 * The superuser, created while the data dir is made: mariadb-install-db's socket method leaves only root@localhost
 * (unix_socket or an invalid password; no passwordless root@127.0.0.1, no anonymous or test accounts), and this
 * SQL gives it the random password and adds root@'%' for TCP. The password is base64url, so it needs no escaping.
 */
function superuserSql(password: string): string {
  return [
    // Bootstrap runs without the grant tables loaded; account statements need them.
    'FLUSH PRIVILEGES;',
    `ALTER USER 'root'@'localhost' IDENTIFIED BY '${password}';`,
    `CREATE USER 'root'@'%' IDENTIFIED BY '${password}';`,
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;",
    '',
  ].join('\n');
}

/**
 * The data dir that servers on this install are copied from (see data-template.ts): mariadb-install-db runs once per
 * process for each install and server user. `prefix` is the servers' temp dir prefix.
 */
export function mariadbDataTemplate(install: Install, prefix: string): Promise<DataTemplate> {
  return dataTemplate({
    prefix,
    key: install.basedir, // the server user is part of every key; the install options (STORAGE_OPTIONS too) are fixed
    user: install.user,
    init: (dir, password) => initDataDir(install, dir, password),
  });
}

/** mariadb-install-db into `<tempDir>/data` (a template's), as the server user, with the superuser's password set. */
export async function initDataDir(install: Install, tempDir: string, password: string): Promise<void> {
  const { basedir, user } = install;
  const sqlFile = path.join(tempDir, 'superuser.sql');
  await fs.promises.writeFile(sqlFile, superuserSql(password), { mode: 0o600 });
  if (user) await fs.promises.chown(sqlFile, user.uid, user.gid);
  const argv = [
    path.join(basedir, 'bin', 'mariadb-install-db'),
    '--no-defaults', // must be first: no option file of a system install applies
    `--basedir=${basedir}`,
    `--datadir=${serverFiles(tempDir).dataDir}`,
    '--auth-root-authentication-method=socket',
    '--auth-root-socket-user=root', // else a second socket account named after the user running the tests
    '--skip-test-db',
    '--skip-name-resolve',
    '--force', // skip resolving this machine's host name, which hangs or fails without DNS
    `--extra-file=${sqlFile}`,
    // the rest go to the bootstrap mariadbd
    ...installOptions(basedir).filter((option) => !option.startsWith('--basedir=')),
    ...STORAGE_OPTIONS,
  ];
  // As the server user, so the files are its own. Killed with us, so none outlives a failed run.
  const [command, ...args] = [...runAsPrefix(user, 'SIGKILL'), ...argv];
  try {
    await execFileAsync(command, args, { cwd: tempDir, env: serverEnv(tempDir) });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    // The bootstrap echoes a failing statement, which may be the one with the password.
    const output = `${(err as Error).message}\n${stdout}${stderr}`.split(password).join('<password>');
    throw new Error(`mariadb-install-db failed: ${output}`);
  } finally {
    await fs.promises.rm(sqlFile, { force: true });
  }
}

export function serverEnv(tempDir: string): NodeJS.ProcessEnv {
  // No MYSQL_HOME or MYSQL_UNIX_PORT from the caller: they would point the tools at a system install.
  const { MYSQL_HOME: _home, MYSQL_UNIX_PORT: _socket, ...env } = process.env;
  // TMPDIR: where mariadbd (the bootstrap one too) makes its temporary files; the caller's may not be writable to it.
  return { ...env, LC_ALL: 'C', LANG: 'C', TMPDIR: tempDir };
}
