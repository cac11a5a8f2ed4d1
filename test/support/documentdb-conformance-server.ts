import { MongoClient } from 'mongodb';
import { ConformanceConnection, ConformanceServer, ConformanceServerFactory, Scheme, StoredUser } from './conformance-server';
import { DocumentDbServer, DocumentDbServerOptions, ScramMechanism } from './documentdb-server';
import type { TestServerOptions } from './server-process';
import type { DatabaseEngineFamily } from '../../src/private/contract';

/** Where DocumentDB keeps every user, and so the database the suite's secrets name. */
const USER_DB = 'admin';
/** What an application user holds: two roles on other databases, so a clone's copy of them is worth comparing. */
const APP_ROLES = [{ role: 'readWrite', db: 'app' }, { role: 'read', db: 'reporting' }];
/**
 * The master of alternating-users rotation: user administration on every database and nothing else (a cluster's own
 * master user holds `root`, which includes it).
 */
const MASTER_ROLES = [{ role: 'userAdminAnyDatabase', db: 'admin' }];
/** The application name of the harness's own logins, which authorizedConnections() leaves out. */
const HARNESS_APP_NAME = 'conformance-harness';
/** Generous: canLogin runs at every fault point of the crash tests on a loaded machine. */
const LOGIN_TIMEOUT_MS = 15_000;
/** MongoDB's AuthenticationFailed, and MechanismUnavailable (a SCRAM-SHA-1-only server asked for SHA-256 for a user it does not know). */
const LOGIN_REFUSED_CODES = new Set([18, 334]);

/**
 * The DocumentDB versions the suite can run against: the wire version the server reports and the SCRAM mechanisms it
 * offers. 4.0 (wire 7, SCRAM-SHA-1 only) by default, the oldest DocumentDB the `mongodb` 6.x driver still speaks;
 * CONFORMANCE_DOCUMENTDB_VERSION=5.0 runs the rows against 5.0 (wire 13, SCRAM-SHA-1 and SCRAM-SHA-256).
 */
const PROFILES: Record<string, { readonly maxWireVersion: number; readonly mechanisms: readonly ScramMechanism[] }> = {
  '4.0': { maxWireVersion: 7, mechanisms: ['SCRAM-SHA-1'] },
  '5.0': { maxWireVersion: 13, mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] },
};

/** The server settings this adapter understands (TestServerOptions.settings); any other is refused, never ignored. */
export interface DocumentDbConformanceSettings {
  /** e.g. 7 (DocumentDB 4.0) or 13 (5.0). */
  readonly maxWireVersion?: number;
  /** Comma-separated SCRAM mechanisms, e.g. `SCRAM-SHA-1,SCRAM-SHA-256`. */
  readonly mechanisms?: string;
}

/** DocumentDbServer options for the options every test server takes. */
export function documentDbOptions(options: TestServerOptions = {}, env: NodeJS.ProcessEnv = process.env): DocumentDbServerOptions {
  const profileName = env.CONFORMANCE_DOCUMENTDB_VERSION ?? '4.0';
  const profile = PROFILES[profileName];
  if (!profile) throw new Error(`CONFORMANCE_DOCUMENTDB_VERSION must be one of ${Object.keys(PROFILES).join(', ')}`);
  if (options.tls === false && options.requireTls) throw new Error('A DocumentDB test server without TLS cannot require TLS');
  const settings = { ...options.settings };
  const unknown = Object.keys(settings).filter((k) => k !== 'maxWireVersion' && k !== 'mechanisms');
  if (unknown.length > 0) throw new Error(`Unknown DocumentDB test server settings: ${unknown.join(', ')}`);
  const { maxWireVersion, mechanisms } = settings as DocumentDbConformanceSettings;
  if (maxWireVersion !== undefined && typeof maxWireVersion !== 'number') throw new Error('maxWireVersion must be a number');
  if (mechanisms !== undefined && typeof mechanisms !== 'string') throw new Error('mechanisms must be a comma-separated string');
  return {
    tls: options.tls,
    // like every test server, TLS and plaintext on one port unless TLS is required (a DocumentDB cluster with TLS
    // enabled requires it), so the suite sees a client that would downgrade
    tlsMode: options.requireTls ? 'requireTLS' : 'preferTLS',
    maxWireVersion: maxWireVersion ?? profile.maxWireVersion,
    mechanisms: mechanisms === undefined ? profile.mechanisms : mechanisms.split(',').map((m) => m.trim() as ScramMechanism),
  };
}

/**
 * The conformance server interface over the DocumentDB test server ({@link DocumentDbServer}, reachable as `docdb`):
 * no DocumentDB or MongoDB server can run on these machines, so the rows run against a MongoDB wire-protocol server in
 * this process that authenticates with real SCRAM and checks privileges like MongoDB. Users live on `admin`, as on
 * DocumentDB; application users hold readWrite and read on two other databases; the master holds userAdminAnyDatabase.
 *
 * The harness creates users and sets passwords on the server's store directly; it logs in only to answer canLogin,
 * through the real driver with its own application name, so those logins are told apart from the handler's.
 */
export class DocumentDbConformanceServer implements ConformanceServer {
  public static async start(options: TestServerOptions = {}): Promise<DocumentDbConformanceServer> {
    return new DocumentDbConformanceServer(await DocumentDbServer.start(documentDbOptions(options)));
  }

  public readonly family = 'documentdb';
  public readonly storedPasswordForm: { readonly name: string; readonly pattern: RegExp };
  /**
   * Breaks what a naive command or connection-string builder would do with a user name: `$` and `.` make an operator or
   * a namespace (`admin.<user>` is the user's `_id`), the quotes, backslash and braces a JSON or shell command, and
   * `@ : / ? #` a connection string's credentials. No `,` or `=`: no driver login can carry them (the dialect refuses
   * them, see checkUsername in lambda/engines/documentdb.ts).
   */
  public readonly sqlInjectionName = 'x\'"\\$.{"$ne":1}@:/?#';
  /** A database the suite's secrets do not name (their users live on admin). */
  public readonly otherDatabase = 'app';
  /** A permitted probe command the application user may not run on admin: Unauthorized (13). */
  public readonly failingProbe = 'dbStats';

  private constructor(public readonly docdb: DocumentDbServer) {
    const mechanisms = docdb.users(USER_DB).find((u) => u.user === docdb.master.username)!.mechanisms;
    const key = '[A-Za-z0-9+/]+={0,2}';
    const one = (m: string) => `${m.replace(/-/g, '\\-')}\\$[0-9]+:${key}\\$${key}:${key}`;
    this.storedPasswordForm = {
      name: `SCRAM credentials (${mechanisms.join(', ')}): salt, StoredKey and ServerKey`,
      pattern: new RegExp(`^${mechanisms.map(one).join(' ')}$`),
    };
  }

  public get version(): string {
    return this.docdb.version;
  }

  public get port(): number {
    return this.docdb.port;
  }

  public get caCertPath(): string | undefined {
    return this.docdb.caCertPath;
  }

  /** The cluster's master user (root on admin). */
  public get superuser(): { readonly username: string; readonly password: string } {
    return this.docdb.master;
  }

  public async createUser(username: string, password: string): Promise<void> {
    this.docdb.addUser({ user: username, password, roles: APP_ROLES });
  }

  public async createMaster(username: string, password: string): Promise<void> {
    this.docdb.addUser({ user: username, password, roles: MASTER_ROLES });
  }

  /** Nothing per user: userAdminAnyDatabase may grant any role on any database. */
  public async prepareMasterFor(_username: string, _master: string): Promise<void> {}

  /** A real login: the `mongodb` driver's SCRAM conversation with the server, over TLS when the server has it. */
  public async canLogin(username: string, password: string, dbname: string = USER_DB): Promise<boolean> {
    const client = new MongoClient(`mongodb://${this.docdb.host}:${this.docdb.port}/`, {
      auth: { username, password },
      authSource: dbname,
      directConnection: true,
      tls: this.docdb.tls,
      // the chain is verified; the name is not, so logins can be checked on a server whose certificate names another host
      ...(this.docdb.caCertPem ? { ca: this.docdb.caCertPem, tlsAllowInvalidHostnames: true } : {}),
      appName: HARNESS_APP_NAME,
      retryReads: false,
      retryWrites: false,
      serverSelectionTimeoutMS: LOGIN_TIMEOUT_MS,
      connectTimeoutMS: LOGIN_TIMEOUT_MS,
      socketTimeoutMS: LOGIN_TIMEOUT_MS,
      maxPoolSize: 1,
    });
    try {
      await client.connect();
      return true;
    } catch (err) {
      if (refusedLogin(err)) return false;
      throw err;
    } finally {
      await client.close(true);
    }
  }

  public async setPassword(username: string, password: string): Promise<void> {
    this.docdb.setPassword(username, USER_DB, password);
  }

  /** Every user (keyed `<db>.<user>`, its `_id`), with its stored credentials, roles and mechanisms. */
  public async users(except: readonly string[] = []): Promise<Record<string, StoredUser>> {
    const users = this.docdb.users().filter((u) => !except.includes(u.user));
    return Object.fromEntries(users.map((u) => [`${u.db}.${u.user}`, {
      credential: this.credentialOf(u.user, u.db),
      privileges: [
        ...u.roles.map((r) => `role ${r.role}@${r.db}`).sort(),
        `mechanisms ${[...u.mechanisms].sort().join(',')}`,
      ],
    }]));
  }

  public async storedCredentials(username: string): Promise<string[]> {
    return this.docdb.users().filter((u) => u.user === username).map((u) => this.credentialOf(u.user, u.db) ?? '');
  }

  public async authorizedConnections(): Promise<ConformanceConnection[]> {
    return this.docdb.logins()
      .filter((l) => l.appName !== HARNESS_APP_NAME)
      .map((l) => ({ user: l.user, database: l.db, ssl: l.tls }));
  }

  public secretJson(username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { engine: 'mongo', host: 'localhost', port: this.docdb.port, username, password, dbname: USER_DB, ...extra };
  }

  public faultPoints(scheme: Scheme, _dialect?: DatabaseEngineFamily): string[] {
    return scheme === 'multi-user'
      ? ['documentdb:users-info', 'documentdb:create-user', 'documentdb:probe']
      : ['documentdb:update-own-password', 'documentdb:probe'];
  }

  public stop(): Promise<void> {
    return this.docdb.stop();
  }

  /** The account's credentials, one per mechanism, space-separated; null when it has none. */
  private credentialOf(user: string, db: string): string | null {
    const credentials = this.docdb.storedCredentials(user, db) ?? [];
    return credentials.length === 0 ? null : credentials.join(' ');
  }
}

/** Whether a driver error (or one nested in it) is the server refusing the credential. */
function refusedLogin(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as { code?: unknown; cause?: unknown; reason?: { servers?: Map<string, { error?: unknown }> } };
  if (typeof e.code === 'number' && LOGIN_REFUSED_CODES.has(e.code)) return true;
  const inner: unknown[] = [e.cause, ...(e.reason?.servers instanceof Map ? [...e.reason.servers.values()].map((s) => s.error) : [])];
  return inner.some((i) => refusedLogin(i, depth + 1));
}

export const DOCUMENTDB_CONFORMANCE: ConformanceServerFactory<DocumentDbConformanceServer> = {
  family: 'documentdb',
  start: (options) => DocumentDbConformanceServer.start(options),
};

/** The name the conformance suite finds this engine's server by (test/lambda/conformance/rows.ts). */
export const CONFORMANCE_SERVER = DOCUMENTDB_CONFORMANCE;
