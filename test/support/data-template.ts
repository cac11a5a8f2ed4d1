import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { withOwnedTempDir } from './server-process';
import { runAsPrefix, ServerUser } from './server-user';

/**
 * Initialized data dirs that test servers start from. Making one (initdb, mariadb-install-db) costs seconds; copying
 * one costs tens of milliseconds. So a process makes each distinct template once, and every server copies it into
 * its own temp dir and then replaces the template's superuser password with one of its own.
 *
 * Cleanup: a template lives as long as its process. A process 'exit' hook deletes it where that hook runs (scripts,
 * demos); inside jest it never runs (the sandboxed `process`), and the template, made with withOwnedTempDir under
 * its engine's temp prefix, is deleted once its owner is gone by the sweepAbandonedDirs of the next process that
 * starts a server of that engine.
 */

const execFileAsync = promisify(execFile);

/** The data dir's name inside a template's (and a server's) temp dir. */
const DATA_DIR = 'data';

/** What a server is started from. */
export interface DataTemplate {
  /** The template's own temp dir, owned by this process. */
  readonly dir: string;
  /** The initialized data dir to copy. */
  readonly dataDir: string;
  /**
   * The superuser's password in the template: random, kept in this process's memory only, and replaced on every
   * server started from the template before its start() returns.
   */
  readonly password: string;
}

export interface DataTemplateSpec {
  /** The temp dir prefix of the engine's servers, so a dead process's template is swept with its servers. */
  readonly prefix: string;
  /**
   * Everything that changes what `init` produces besides the prefix (the binaries or install, the server user):
   * one template per distinct key.
   */
  readonly key: string;
  /** The account that owns the data and runs the copy, when we are root. */
  readonly user?: ServerUser;
  /** Initializes `<dir>/data`, as the server user, with `password` as the superuser's password. */
  readonly init: (dir: string, password: string) => Promise<void>;
}

interface Registry {
  readonly templates: Map<string, Promise<DataTemplate>>;
  /** Every template dir made, for the one 'exit' hook that deletes them. */
  readonly dirs: Set<string>;
  made: number;
}

/**
 * Hung on a Node core module, the one object that every jest test file of a worker shares (each file gets its own
 * module registry and globals, which would mean a template per test file). Holds promises and plain data only.
 */
const REGISTRY_KEY = Symbol.for('cdk-secrets-platform.test.data-templates');
const anchor = os as unknown as { [REGISTRY_KEY]?: Registry };
const registry: Registry = anchor[REGISTRY_KEY] ??= { templates: new Map(), dirs: new Set(), made: 0 };

/**
 * The template for `spec`, made on first use; concurrent callers share the one being made. A failed attempt is not
 * kept: every caller waiting on it gets its error, and the next call tries again, since what fails once (initdb
 * killed under load, a full TMPDIR, a sweep racing a fresh dir) may well work the next time, and a retry costs no
 * more than a start did without templates.
 */
export async function dataTemplate(spec: DataTemplateSpec): Promise<DataTemplate> {
  // The template lives in os.tmpdir(): a process that changes TMPDIR gets one there too.
  const key = [spec.prefix, spec.key, spec.user?.name ?? '', os.tmpdir()].join('\0');
  for (let cached = registry.templates.get(key); cached; cached = registry.templates.get(key)) {
    const template = await cached.catch(() => undefined);
    if (!template) return cached; // the failed attempt this call joined: its error (it is no longer kept)
    if (await exists(template.dataDir)) return template;
    // Gone from disk (a test that emptied TMPDIR): make it again rather than fail every later start, unless another
    // caller already did while this one looked.
    if (registry.templates.get(key) === cached) {
      registry.templates.delete(key);
      break;
    }
  }
  // No await from the lookup to here: concurrent callers find this promise.
  const making = makeTemplate(spec);
  registry.templates.set(key, making);
  making.catch(() => {
    if (registry.templates.get(key) === making) registry.templates.delete(key);
  });
  return making;
}

/** How many templates this process has made (every engine, every key): lets tests see that starts reuse them. */
export function dataTemplatesMade(): number {
  return registry.made;
}

/** The data dir of a template's or a server's temp dir. */
export function dataDirIn(tempDir: string): string {
  return path.join(tempDir, DATA_DIR);
}

/**
 * Copies the template's data dir to `<tempDir>/data`, as the server user: its copy keeps the owner and the modes
 * the server insists on (PostgreSQL refuses a data dir that others can read), which a copy made by root would not.
 */
export async function copyDataTemplate(template: DataTemplate, tempDir: string, user: ServerUser | undefined): Promise<void> {
  // Killed with us, so no copy outlives a failed run.
  const [command, ...args] = [...runAsPrefix(user, 'SIGKILL'), 'cp', '-a', '--', template.dataDir, dataDirIn(tempDir)];
  try {
    await execFileAsync(command, args);
  } catch (err) {
    const { stderr = '' } = err as { stderr?: string };
    throw new Error(`Copying the data template ${template.dataDir} failed: ${(err as Error).message}\n${stderr}`);
  }
}

function makeTemplate(spec: DataTemplateSpec): Promise<DataTemplate> {
  return withOwnedTempDir(`${spec.prefix}template-`, async (dir) => {
    // The server user writes the data dir here (initdb and mariadb-install-db refuse to run as root).
    if (spec.user) await fs.promises.chown(dir, spec.user.uid, spec.user.gid);
    const password = randomBytes(18).toString('base64url');
    await spec.init(dir, password);
    registry.made += 1;
    if (registry.dirs.size === 0) process.once('exit', removeTemplates);
    registry.dirs.add(dir);
    return { dir, dataDir: dataDirIn(dir), password };
  });
}

function removeTemplates(): void {
  for (const dir of registry.dirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort while the process exits; the sweep of a later process takes what is left.
    }
  }
  registry.dirs.clear();
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}
