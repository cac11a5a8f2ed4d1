import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';

const execFileAsync = promisify(execFile);

/**
 * The account a test server runs as when the tests run as root: PostgreSQL and MariaDB refuse to run as root,
 * and a server that does not need root should not have it.
 */
export interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** What a server user must be able to do with a path. */
export type Access = 'read' | 'execute';

export interface AccessCheck {
  readonly path: string;
  readonly access: Access;
}

/**
 * The first of `candidates` that exists, when running as root; undefined otherwise (the server runs as us).
 * Throws when root has none of them, rather than letting the server fail later with a less clear message.
 */
export function findServerUser(candidates: readonly string[]): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of candidates) {
    const user = lookupUser(name);
    if (user) return user;
  }
  throw new Error(`Running as root, but none of the users ${candidates.join(', ')} exists to run the test server as`);
}

function lookupUser(name: string): ServerUser | undefined {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/**
 * Command prefix that runs a command as `user` (when given) with an optional parent-death signal.
 * setpriv execs in place, so the command stays our direct child and receives our signals
 * (runuser would fork, ignore SIGINT and turn SIGTERM into a 2 s kill). The death signal stops a server
 * whose owner dies without stopping it, which a process 'exit' hook cannot cover inside jest's sandbox.
 */
export function runAsPrefix(user: ServerUser | undefined, deathSignal?: NodeJS.Signals): string[] {
  if (!hasCommand('setpriv')) return user ? ['runuser', '-u', user.name, '--'] : [];
  const identity = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups'] : [];
  const death = deathSignal ? ['--pdeathsig', deathSignal] : [];
  if (identity.length + death.length === 0) return [];
  return ['setpriv', ...identity, ...death, '--'];
}

/**
 * Whether `user` passes every check, asked of the kernel by running `test` as that user: mode bits, ACLs,
 * supplementary groups and every folder on the way are taken into account, which a computation here would miss.
 */
export async function userCan(user: ServerUser, checks: readonly AccessCheck[]): Promise<boolean> {
  const flags = checks.flatMap(({ path: file, access }) => [access === 'execute' ? '-x' : '-r', file]);
  const script = 'while [ "$#" -gt 0 ]; do test "$1" "$2" || exit 1; shift 2; done';
  const [command, ...args] = [...runAsPrefix(user), 'sh', '-c', script, 'sh', ...flags];
  try {
    await execFileAsync(command, args);
    return true;
  } catch (err) {
    // exit code 1 is a failed check; anything else (no such command, killed) is a broken probe, not an answer.
    if ((err as { code?: unknown }).code === 1) return false;
    throw err;
  }
}

/**
 * Throws unless `user` can reach files in `dir`: test servers keep their data dirs and binary copies in
 * os.tmpdir(), and a TMPDIR inside a private folder would otherwise fail later as an obscure initdb error.
 */
export async function assertUserCanTraverse(user: ServerUser | undefined, dir: string): Promise<void> {
  if (!user || await userCan(user, [{ path: dir, access: 'execute' }])) return;
  throw new Error(`The test server runs as ${user.name}, who cannot reach ${dir}: `
    + 'set TMPDIR to a folder every user can traverse, such as /tmp');
}

/** Hands a folder and everything in it to the server user (the server insists on owning its data and key files). */
export async function chownTree(dir: string, user: ServerUser): Promise<void> {
  await fs.promises.chown(dir, user.uid, user.gid);
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(entryPath, user);
    else await fs.promises.chown(entryPath, user.uid, user.gid);
  }
}

export function hasCommand(name: string): boolean {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/bin']);
  return dirs.some((dir) => dir && isExecutableFile(path.join(dir, name)));
}

export function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
