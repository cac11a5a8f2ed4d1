import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AccessCheck, assertUserCanTraverse, ServerUser, userCan } from './server-user';

/** Cached copies live in os.tmpdir() under this prefix, one folder per install version. */
export const BINARIES_CACHE_PREFIX = 'server-binaries-';
/** Folders and executables in a copy. */
const USABLE_BY_ALL = 0o755;
/** Other files in a copy. */
const READABLE_BY_ALL = 0o644;

/**
 * A relocatable server install: binaries that find their libraries and data files relative to themselves
 * (RUNPATH $ORIGIN/../lib, PostgreSQL's share/ lookup), so a copy of the whole tree works like the original.
 */
export interface ServerInstall {
  /** Names the cache folder, e.g. `postgres`. */
  readonly name: string;
  /** The folder that holds `entries`. */
  readonly root: string;
  /** The parts of the install, relative to root, copied together (e.g. bin, lib, share); missing ones are skipped. */
  readonly entries: readonly string[];
  /** Files relative to root that the server user must be able to execute. */
  readonly executables: readonly string[];
  /** The build's own version string (e.g. `postgres --version`), part of the cache key. */
  readonly version: string;
}

/**
 * The root from which `user` can run the install: the install itself when the user can reach it, otherwise a copy
 * in os.tmpdir(). As root the server runs as another user, who cannot traverse a checkout in a private folder
 * (/root, a `mktemp -d` folder): the binaries under node_modules are there but out of reach. The copy is keyed by
 * the install's version and file list, so every test worker and later runs reuse it, and it is created under a
 * temporary name and renamed into place, so parallel workers never see a half-written copy.
 */
export async function usableInstallRoot(install: ServerInstall, user: ServerUser | undefined): Promise<string> {
  if (!user) return install.root; // we run the server ourselves and can reach our own files
  if (await userCan(user, executableChecks(install, install.root))) return install.root;
  await assertUserCanTraverse(user, os.tmpdir());
  const copy = await cachedCopy(install);
  if (!(await userCan(user, executableChecks(install, copy)))) {
    throw new Error(`The ${install.name} server user ${user.name} cannot execute the copied binaries in ${copy}`);
  }
  return copy;
}

function executableChecks(install: ServerInstall, root: string): AccessCheck[] {
  return install.executables.map((file) => ({ path: path.join(root, file), access: 'execute' }));
}

async function cachedCopy(install: ServerInstall): Promise<string> {
  const dest = path.join(os.tmpdir(), `${BINARIES_CACHE_PREFIX}${install.name}-${await installKey(install)}`);
  if (await pathExists(dest)) return trustedCopy(dest);
  const staging = `${dest}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.promises.mkdir(staging, { mode: 0o700 });
    for (const entry of await existingEntries(install)) {
      // Verbatim: the install's relative library links must point inside the copy, not back into the original.
      await fs.promises.cp(path.join(install.root, entry), path.join(staging, entry), { recursive: true, verbatimSymlinks: true });
    }
    await makeUsableByAll(staging);
    await renameUnlessPresent(staging, dest);
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
  }
  return trustedCopy(dest);
}

/** Renames a finished copy into place; when another worker got there first, its copy is as good as ours. */
async function renameUnlessPresent(staging: string, dest: string): Promise<void> {
  try {
    await fs.promises.rename(staging, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

/**
 * os.tmpdir() is shared with every user: run nothing from a folder someone else could have planted or can change.
 * A copy we made is owned by us with the mode makeUsableByAll gave it, and only we can write to it.
 */
async function trustedCopy(dest: string): Promise<string> {
  const stat = await fs.promises.lstat(dest);
  const mode = stat.mode % 0o1000;
  if (!stat.isDirectory() || stat.uid !== process.getuid?.() || mode !== USABLE_BY_ALL) {
    throw new Error(`${dest} is not a binaries copy made by this user (owner uid ${stat.uid}, mode `
      + `${mode.toString(8)}); remove it and run again`);
  }
  return dest;
}

async function existingEntries(install: ServerInstall): Promise<string[]> {
  const present = await Promise.all(install.entries.map((entry) => pathExists(path.join(install.root, entry))));
  return install.entries.filter((_, i) => present[i]);
}

/**
 * Version plus every file's path, type, size, mode and link target: a different build or a changed install gets a
 * new copy, an unchanged one (a fresh `npm ci` of the same package too) reuses the old one. Content hashing would
 * cost about half a second per worker for the same answer.
 */
async function installKey(install: ServerInstall): Promise<string> {
  const hash = createHash('sha256').update(`${install.version}\n`);
  for (const entry of await existingEntries(install)) {
    for (const line of await describeTree(install.root, entry)) hash.update(`${line}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

async function describeTree(root: string, relative: string): Promise<string[]> {
  const full = path.join(root, relative);
  const stat = await fs.promises.lstat(full);
  if (stat.isSymbolicLink()) return [`${relative} -> ${await fs.promises.readlink(full)}`];
  if (!stat.isDirectory()) return [`${relative} ${stat.size} ${(stat.mode % 0o1000).toString(8)}`];
  const names = (await fs.promises.readdir(full)).sort();
  const children = await Promise.all(names.map((name) => describeTree(root, path.join(relative, name))));
  return [`${relative}/`, ...children.flat()];
}

/**
 * Read access for everyone, execute where the original had it, write for no one else: a checkout made with
 * umask 077 would otherwise give the server user a copy as unreadable as the original.
 */
async function makeUsableByAll(file: string): Promise<void> {
  const stat = await fs.promises.lstat(file);
  if (stat.isSymbolicLink()) return;
  // eslint-disable-next-line no-bitwise -- a mode is a bit field: any of the three execute bits
  const executable = stat.isDirectory() || (stat.mode & 0o111) !== 0;
  await fs.promises.chmod(file, executable ? USABLE_BY_ALL : READABLE_BY_ALL);
  if (!stat.isDirectory()) return;
  for (const name of await fs.promises.readdir(file)) await makeUsableByAll(path.join(file, name));
}

export async function pathExists(file: string): Promise<boolean> {
  return fs.promises.lstat(file).then(() => true, () => false);
}
