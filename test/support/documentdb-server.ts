import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Duplex } from 'stream';
import * as tls from 'tls';
import { ObjectId } from 'bson';
import { CommandContext, CommandRecord, ConnectionState, LoginRecord, runCommand, ServerIdentity } from './documentdb/commands';
import { ScramMechanism } from './documentdb/scram';
import { RoleRef, StoredUserInfo, UserStore } from './documentdb/users';
import { encodeReply, MessageReader, OP_QUERY, parseMessage } from './documentdb/wire';
import { createTestCertificates, TestCertificates } from './tls';

export type { CommandRecord, LoginRecord } from './documentdb/commands';
export type { ScramMechanism } from './documentdb/scram';
export type { RoleRef, StoredUserInfo } from './documentdb/users';

const BIND_ADDRESS = '127.0.0.1';
/** A TLS record carrying a handshake (content type 22) of TLS 1.0 to 1.2 record-layer versions, which ClientHello uses. */
function isTlsHandshake(first: Buffer): boolean {
  return first.length >= 3 && first[0] === 0x16 && first[1] === 0x03 && first[2] >= 0x01 && first[2] <= 0x03;
}
const TEMP_PREFIX = 'documentdb-harness-';
/** DocumentDB 4.0 speaks wire version 7 (MongoDB 4.0); DocumentDB 5.0 speaks 13. */
const DEFAULT_MAX_WIRE_VERSION = 7;
const VERSIONS: Record<number, string> = { 7: '4.0.0', 8: '4.2.0', 9: '4.4.0', 13: '5.0.0' };

/** A user the server starts with. */
export interface DocumentDbUserSeed {
  readonly user: string;
  readonly password: string;
  /** Default `admin`: DocumentDB keeps every user there. */
  readonly db?: string;
  readonly roles?: readonly RoleRef[];
  /** Default both SCRAM mechanisms. */
  readonly mechanisms?: readonly ScramMechanism[];
}

export interface DocumentDbServerOptions {
  /**
   * TLS on (default) with a throwaway CA and a certificate for these names (default `localhost` and 127.0.0.1);
   * `false` for a plaintext server. A certificate for other names makes the driver's host-name check fail.
   */
  readonly tls?: { readonly hostnames?: string[]; readonly ipAddresses?: string[] } | false;
  /**
   * With TLS on: `requireTLS` (default) accepts TLS connections only, as a DocumentDB cluster with TLS enabled does;
   * `preferTLS` (MongoDB's net.tls.mode of that name) accepts TLS and plaintext on the same port, telling them apart by
   * the first bytes, so a test can see whether a client downgraded.
   */
  readonly tlsMode?: 'requireTLS' | 'preferTLS';
  /** The name the server gives itself in `me`/`hosts`/`primary`, which the driver then connects to. Default `localhost`. */
  readonly advertisedHost?: string;
  /** Default `rs0`, as DocumentDB. */
  readonly replicaSetName?: string;
  /** Default 7 (DocumentDB 4.0); 13 for DocumentDB 5.0. */
  readonly maxWireVersion?: number;
  /**
   * The SCRAM mechanisms the server offers, and gives users whose createUser names none. Default both, like
   * DocumentDB 5.0.1 and later; `['SCRAM-SHA-1']` is DocumentDB 4.0, which has no SCRAM-SHA-256.
   */
  readonly mechanisms?: readonly ScramMechanism[];
  /** Users besides the master user. */
  readonly users?: readonly DocumentDbUserSeed[];
}

/**
 * A MongoDB wire-protocol server that answers like a DocumentDB replica-set primary: the handshake (OP_QUERY or
 * OP_MSG), SCRAM-SHA-1 and SCRAM-SHA-256 logins, and the user-management commands, with MongoDB's privilege
 * checks and error codes. It stores users, not data. Runs in this process on a random loopback port.
 */
export class DocumentDbServer {
  static async start(options: DocumentDbServerOptions = {}): Promise<DocumentDbServer> {
    const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), TEMP_PREFIX));
    try {
      const certificates = options.tls === false ? undefined : await createTestCertificates(path.join(tempDir, 'tls'), {
        hostnames: options.tls?.hostnames ?? ['localhost'],
        ipAddresses: options.tls?.ipAddresses ?? (options.tls?.hostnames ? [] : [BIND_ADDRESS]),
      });
      const keyPair = certificates && {
        key: await fs.readFile(certificates.serverKeyPath),
        cert: await fs.readFile(certificates.serverCertPath),
      };
      const server = new DocumentDbServer(options, tempDir, certificates, keyPair);
      await server.listen();
      return server;
    } catch (err) {
      await fs.rm(tempDir, { recursive: true, force: true });
      throw err;
    }
  }

  readonly host: string = BIND_ADDRESS;
  /** Set once listening. */
  port = 0;
  /** The MongoDB version the server reports for its wire version (buildInfo). */
  readonly version: string;
  /** The name in the handshake reply, and so the host the driver connects to after discovery. */
  readonly advertisedHost: string;
  readonly replicaSetName: string;
  readonly maxWireVersion: number;
  readonly tls: boolean;
  /** How a TLS server treats plaintext (undefined without TLS). */
  readonly tlsMode?: 'requireTLS' | 'preferTLS';
  readonly caCertPath?: string;
  readonly caCertPem?: string;
  /** A `root` user on `admin` with a random password, like a cluster's master user. */
  readonly master: { readonly username: string; readonly password: string };

  private readonly store: UserStore;
  private readonly loginLog: LoginRecord[] = [];
  private readonly sessionLog = new Map<string, string>();
  private readonly commandLog: CommandRecord[] = [];
  private readonly failures: Error[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;
  private nextConnectionId = 1;
  private nextReplyId = 1;
  private frozen = false;
  private tlsHandshakesRefused = 0;
  private accepted = 0;
  private stopping?: Promise<void>;
  private identity?: ServerIdentity;
  private readonly electionId = new ObjectId();

  private constructor(
    options: DocumentDbServerOptions, private readonly tempDir: string, certificates?: TestCertificates,
    keyPair?: { key: Buffer; cert: Buffer },
  ) {
    this.advertisedHost = options.advertisedHost ?? 'localhost';
    this.replicaSetName = options.replicaSetName ?? 'rs0';
    this.maxWireVersion = options.maxWireVersion ?? DEFAULT_MAX_WIRE_VERSION;
    this.version = VERSIONS[this.maxWireVersion] ?? '4.0.0';
    this.tls = certificates !== undefined;
    this.caCertPath = certificates?.caCertPath;
    this.caCertPem = certificates?.caCertPem;
    this.store = new UserStore(options.mechanisms);
    this.master = { username: 'master', password: randomBytes(18).toString('base64url') };
    this.store.create('admin', this.master.username, this.master.password, [{ role: 'root', db: 'admin' }]);
    for (const seed of options.users ?? []) {
      this.store.create(seed.db ?? 'admin', seed.user, seed.password, seed.roles ?? [], seed.mechanisms);
    }
    this.tlsMode = keyPair ? options.tlsMode ?? 'requireTLS' : undefined;
    if (keyPair && this.tlsMode === 'preferTLS') this.server = net.createServer((socket) => this.servePreferTls(socket, keyPair));
    else this.server = keyPair ? this.tlsServer(keyPair) : net.createServer((socket) => this.serve(socket, false));
    // Every raw socket, TLS or not, so stop() can end connections that never finished a TLS handshake too.
    this.server.on('connection', (socket: net.Socket) => this.track(socket));
  }

  /** `host:port` as the server names itself; use it in connection strings. */
  get address(): string {
    return `${this.advertisedHost}:${this.port}`;
  }

  /** A connection string for `user` (default the master user), with `replicaSet`, `retryWrites=false` and TLS as DocumentDB wants. */
  uri(credentials?: { readonly username: string; readonly password: string; readonly authSource?: string }): string {
    const { username, password, authSource } = { authSource: 'admin', ...(credentials ?? this.master) };
    const params = new URLSearchParams({ replicaSet: this.replicaSetName, retryWrites: 'false', authSource });
    if (this.caCertPath) {
      params.set('tls', 'true');
      params.set('tlsCAFile', this.caCertPath);
    }
    return `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${this.address}/?${params}`;
  }

  /** Adds a user directly, as if the master user had created it. */
  addUser(seed: DocumentDbUserSeed): void {
    this.store.create(seed.db ?? 'admin', seed.user, seed.password, seed.roles ?? [], seed.mechanisms);
  }

  /** Sets a user's password directly (keeping its mechanisms), as if an administrator had run updateUser. */
  setPassword(user: string, db: string, password: string): void {
    this.store.setPassword(db, user, password);
  }

  /** Users with their roles and mechanisms (on `db`, or everywhere). Never passwords. */
  users(db?: string): StoredUserInfo[] {
    return this.store.list(db);
  }

  user(user: string, db = 'admin'): StoredUserInfo | undefined {
    return this.store.info(db, user);
  }

  /** The user's stored SCRAM credentials (derived keys, one per mechanism); undefined for a missing user. */
  storedCredentials(user: string, db = 'admin'): string[] | undefined {
    return this.store.storedCredentials(db, user);
  }

  /** Whether `password` is the user's current password (for every mechanism it has); false for a missing user. */
  verifyPassword(user: string, db: string, password: string): boolean {
    return this.store.verifyPassword(db, user, password);
  }

  /** Successful logins, oldest first. */
  logins(): LoginRecord[] {
    return [...this.loginLog];
  }

  /** Logical sessions that authenticated commands used and their owner has not ended: id (hex) and owner (`user@db`). */
  sessions(): { readonly id: string; readonly owner: string }[] {
    return [...this.sessionLog].map(([key, owner]) => ({ id: key.split('\u0000')[0], owner }));
  }

  /** Commands answered (names, not arguments), oldest first. */
  commands(): CommandRecord[] {
    return [...this.commandLog];
  }

  /**
   * Connections a plaintext server closed because they opened with a TLS handshake (MongoDB without TLS closes them
   * the same way, so the client's handshake ends at once instead of waiting for a reply).
   */
  get refusedTlsHandshakes(): number {
    return this.tlsHandshakesRefused;
  }

  /** Why the server closed connections itself: unreadable messages, or its own bugs. Tests expect none. */
  connectionFailures(): Error[] {
    return [...this.failures];
  }

  /** TCP connections accepted since the server started, whether or not their TLS handshake completed. */
  get connectionsAccepted(): number {
    return this.accepted;
  }

  /** Connections open now. */
  get openConnections(): number {
    return [...this.sockets].filter((s) => !s.destroyed).length;
  }

  /** From now on connections are accepted and requests read, but nothing is ever answered. */
  freeze(): void {
    this.frozen = true;
  }

  /** Answers requests that arrive from now on (requests that arrived while frozen stay unanswered). */
  thaw(): void {
    this.frozen = false;
  }

  /** Closes the listener and every connection, and deletes the certificates. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
      await closed;
      await fs.rm(this.tempDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private tlsServer(keyPair: { key: Buffer; cert: Buffer }): tls.Server {
    const server = tls.createServer(keyPair, (socket) => this.serve(socket, true));
    // A client that rejects the certificate ends the handshake; that is a test outcome, not a server failure.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    return server;
  }

  /**
   * preferTLS: the first bytes decide. A TLS handshake is served by a TLS socket over a bridge that replays those bytes
   * (a TLSSocket on the raw socket's handle would not see data already read); anything else is plaintext.
   */
  private servePreferTls(socket: net.Socket, keyPair: { key: Buffer; cert: Buffer }): void {
    socket.once('data', (first: Buffer) => {
      if (!isTlsHandshake(first)) {
        socket.pause();
        socket.unshift(first);
        this.serve(socket, false);
        socket.resume();
        return;
      }
      const bridge = new Duplex({
        read: () => socket.resume(),
        write: (chunk, _encoding, done) => socket.write(chunk, done),
        final: (done) => {
          socket.end();
          done();
        },
        destroy: (err, done) => {
          socket.destroy();
          done(err);
        },
      });
      bridge.push(first);
      socket.on('data', (chunk: Buffer) => {
        if (!bridge.push(chunk)) socket.pause();
      });
      socket.on('end', () => bridge.push(null));
      socket.on('close', () => bridge.destroy());
      const secure = new tls.TLSSocket(bridge, { isServer: true, ...keyPair });
      // as tlsClientError on a TLS server: a client that rejects the certificate ends the handshake
      secure.on('error', () => secure.destroy());
      this.serve(secure, true);
    });
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, BIND_ADDRESS, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    this.identity = {
      address: this.address,
      setName: this.replicaSetName,
      maxWireVersion: this.maxWireVersion,
      version: this.version,
      electionId: this.electionId,
    };
  }

  private track(socket: net.Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    if (!(socket instanceof tls.TLSSocket)) this.accepted++;
    // Resets from clients that give up (timeouts, failed TLS) must not become uncaught errors.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    if (this.stopping) socket.destroy();
  }

  private serve(socket: net.Socket, overTls: boolean): void {
    this.track(socket);
    const conn: ConnectionState = { id: this.nextConnectionId++, tls: overTls, users: new Map() };
    const reader = new MessageReader();
    const context: CommandContext = { identity: this.identity!, store: this.store, logins: this.loginLog, sessions: this.sessionLog };
    let first = true;
    socket.on('data', (chunk: Buffer) => {
      if (this.frozen) return;
      if (first && !overTls && isTlsHandshake(chunk)) {
        // "SSL handshake received but server is started without SSL support": MongoDB closes the connection
        this.tlsHandshakesRefused++;
        socket.destroy();
        return;
      }
      first = false;
      try {
        for (const message of reader.push(chunk)) {
          const request = parseMessage(message);
          const reply = runCommand(context, conn, request.db, request.body);
          this.commandLog.push({
            command: Object.keys(request.body)[0] ?? '',
            db: request.db,
            connectionId: conn.id,
            authenticatedAs: [...conn.users].map(([db, user]) => `${user}@${db}`),
            ok: reply.ok === 1,
            opCode: request.opCode === OP_QUERY ? 'OP_QUERY' : 'OP_MSG',
            ...(reply.ok === 1 ? {} : { code: reply.code as number }),
          });
          if (!request.noReply) socket.write(encodeReply(request, this.nextReplyId++, reply));
        }
      } catch (err) {
        // An unreadable message or a server bug: MongoDB closes the connection, and so does this server.
        this.failures.push(err as Error);
        socket.destroy();
      }
    });
  }
}
