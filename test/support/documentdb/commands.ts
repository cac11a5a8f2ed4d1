import { Binary, Document, ObjectId } from 'bson';
import { authenticationFailed, CommandFailure } from './errors';
import {
  finishConversation, isScramMechanism, parseClientFirst, ScramConversation, ScramMechanism,
  startConversation,
} from './scram';
import { checkRoleExists, DatabaseAction, isUserAdminOn, mayRunOn, RoleRef, UserStore } from './users';

/** What the handshake reply says about the server. */
export interface ServerIdentity {
  /** `host:port` as the server names itself (`me`, `hosts`, `primary`). */
  readonly address: string;
  readonly setName: string;
  readonly maxWireVersion: number;
  /** The MongoDB version buildInfo reports for that wire version. */
  readonly version: string;
  readonly electionId: ObjectId;
}

/** One successful SCRAM login. */
export interface LoginRecord {
  readonly user: string;
  readonly db: string;
  readonly mechanism: ScramMechanism;
  /** Whether the connection was TLS. */
  readonly tls: boolean;
  readonly connectionId: number;
  /** The application name the client gave in its handshake (`client.application.name`), when it gave one. */
  readonly appName?: string;
}

/** One command the server answered: its name, database and who was logged in. Never its arguments. */
export interface CommandRecord {
  readonly command: string;
  readonly db: string;
  readonly connectionId: number;
  /** `user@db` of the users authenticated on the connection when the command ran. */
  readonly authenticatedAs: string[];
  readonly ok: boolean;
  readonly code?: number;
  /** The opcode that carried it: the driver's first handshake on a connection is OP_QUERY, the rest OP_MSG. */
  readonly opCode: 'OP_QUERY' | 'OP_MSG';
}

/** Per-connection state. */
export interface ConnectionState {
  readonly id: number;
  readonly tls: boolean;
  /** Authenticated users, by database (MongoDB 4.0 allows one user per database on a connection). */
  readonly users: Map<string, string>;
  conversation?: ScramConversation;
  /** From the first handshake's client metadata; MongoDB keeps the first and ignores later ones. */
  appName?: string;
}

export interface CommandContext {
  readonly identity: ServerIdentity;
  readonly store: UserStore;
  readonly logins: LoginRecord[];
  /** Logical sessions in use, keyed by session id and owner (see sessionKey), valued by owner. */
  readonly sessions: Map<string, string>;
}

/**
 * The hex of a session id (a UUID, BSON binary subtype 4), or undefined when it is not one. The server reads messages
 * with promoteBuffers, which hands binary values over as bytes.
 */
function sessionId(value: unknown): string | undefined {
  if (value instanceof Binary) return value.sub_type === Binary.SUBTYPE_UUID && value.length() === 16 ? Buffer.from(value.buffer).toString('hex') : undefined;
  if (value instanceof Uint8Array && value.length === 16) return Buffer.from(value).toString('hex');
  return undefined;
}

/** The users a connection is authenticated as, e.g. `app@admin`: whose sessions its commands use and end. */
function ownerOf(conn: ConnectionState): string {
  return [...conn.users].map(([db, user]) => `${user}@${db}`).sort().join(',');
}

/** MongoDB identifies a session by its id together with the authenticated user, so users never share one. */
function sessionKey(id: string, conn: ConnectionState): string {
  return `${id}\u0000${ownerOf(conn)}`;
}

/** Commands MongoDB runs without authentication. */
const NO_AUTH_COMMANDS = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'buildInfo', 'buildinfo', 'saslStart',
  'saslContinue', 'logout', 'connectionStatus']);

const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
const MAX_WRITE_BATCH_SIZE = 100_000;
/** Fields on any command that carry driver metadata, not arguments. */
const GENERIC_FIELDS = new Set(['lsid', 'txnNumber', 'writeConcern', 'comment', 'maxTimeMS', 'readConcern', 'apiVersion']);

type Handler = (ctx: CommandContext, conn: ConnectionState, db: string, body: Document) => Document;

const HANDLERS: Record<string, Handler> = {
  hello: (ctx, conn, _db, body) => helloReply(ctx, conn, body, 'hello'),
  isMaster: (ctx, conn, _db, body) => helloReply(ctx, conn, body, 'isMaster'),
  ismaster: (ctx, conn, _db, body) => helloReply(ctx, conn, body, 'isMaster'),
  ping: () => ({ ok: 1 }),
  connectionStatus: (ctx, conn) => {
    const authenticatedUsers = [...conn.users].map(([db, user]) => ({ user, db }));
    const authenticatedUserRoles = authenticatedUsers.flatMap((u) => ctx.store.roles(u.db, u.user));
    return { authInfo: { authenticatedUsers, authenticatedUserRoles }, ok: 1 };
  },
  listCollections: (ctx, conn, db) => {
    requireAction(conn, ctx.store, 'listCollections', db);
    // the server stores users, not data: every database is empty
    return { cursor: { id: 0, ns: `${db}.$cmd.listCollections`, firstBatch: [] }, ok: 1 };
  },
  dbStats: (ctx, conn, db) => {
    requireAction(conn, ctx.store, 'dbStats', db);
    return { db, collections: 0, views: 0, objects: 0, avgObjSize: 0, dataSize: 0, storageSize: 0, indexes: 0, indexSize: 0, ok: 1 };
  },
  buildInfo: (ctx) => buildInfo(ctx.identity),
  buildinfo: (ctx) => buildInfo(ctx.identity),
  endSessions: (ctx, conn, _db, body) => {
    const ids: unknown = body.endSessions;
    if (!Array.isArray(ids)) throw new CommandFailure('TypeMismatch', '"endSessions" must be an array');
    // a session is its id and the users that started it: a user ends its own sessions and nobody else's
    for (const item of ids) {
      const id = sessionId((item as { id?: unknown } | null)?.id);
      if (id === undefined) throw new CommandFailure('BadValue', 'A session must be a document with an "id" UUID');
      ctx.sessions.delete(sessionKey(id, conn));
    }
    return { ok: 1 };
  },
  logout: (_ctx, conn, db) => {
    conn.users.delete(db);
    return { ok: 1 };
  },
  saslStart,
  saslContinue,
  usersInfo,
  createUser,
  updateUser,
  dropUser: (ctx, conn, db, body) => {
    const name = stringArg(body, 'dropUser');
    requireUserAdmin(conn, ctx.store, 'dropUser', db, [db]);
    ctx.store.drop(db, name);
    return { ok: 1 };
  },
  grantRolesToUser: (ctx, conn, db, body) => {
    const name = stringArg(body, 'grantRolesToUser');
    const roles = rolesArg(body, db, true)!;
    requireUserAdmin(conn, ctx.store, 'grantRolesToUser', db, roles.map((r) => r.db));
    ctx.store.grantRoles(db, name, roles);
    return { ok: 1 };
  },
  revokeRolesFromUser: (ctx, conn, db, body) => {
    const name = stringArg(body, 'revokeRolesFromUser');
    const roles = rolesArg(body, db, true)!;
    requireUserAdmin(conn, ctx.store, 'revokeRolesFromUser', db, roles.map((r) => r.db));
    ctx.store.revokeRoles(db, name, roles);
    return { ok: 1 };
  },
};

/** Runs one command and returns the reply document, `{ ok: 0, ... }` for a failure. */
export function runCommand(ctx: CommandContext, conn: ConnectionState, db: string, body: Document): Document {
  const name = Object.keys(body)[0];
  try {
    const handler = name === undefined || !Object.hasOwn(HANDLERS, name) ? undefined : HANDLERS[name];
    if (!handler) throw new CommandFailure('CommandNotFound', `no such command: '${String(name).slice(0, 64)}'`);
    if (!NO_AUTH_COMMANDS.has(name) && conn.users.size === 0) {
      throw new CommandFailure('Unauthorized', `command ${name} requires authentication`);
    }
    const lsid = sessionId((body.lsid as { id?: unknown } | undefined)?.id);
    if (lsid !== undefined && conn.users.size > 0 && name !== 'endSessions') ctx.sessions.set(sessionKey(lsid, conn), ownerOf(conn));
    return handler(ctx, conn, db, body);
  } catch (err) {
    if (err instanceof CommandFailure) return err.toReply();
    throw err;
  }
}

function helloReply(ctx: CommandContext, conn: ConnectionState, body: Document, command: 'hello' | 'isMaster'): Document {
  const { identity } = ctx;
  const appName: unknown = body.client?.application?.name;
  if (conn.appName === undefined && typeof appName === 'string') conn.appName = appName;
  const reply: Document = {
    // hello names the primary flag isWritablePrimary; the legacy command ismaster.
    ...(command === 'hello' ? { isWritablePrimary: true } : { ismaster: true }),
    secondary: false,
    setName: identity.setName,
    setVersion: 1,
    electionId: identity.electionId,
    hosts: [identity.address],
    primary: identity.address,
    me: identity.address,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    // Its presence tells the driver the server has sessions; DocumentDB reports 30 like MongoDB.
    logicalSessionTimeoutMinutes: 30,
    minWireVersion: 0,
    maxWireVersion: identity.maxWireVersion,
    readOnly: false,
  };
  if (body.helloOk === true) reply.helloOk = true;
  if (typeof body.saslSupportedMechs === 'string') {
    const dot = body.saslSupportedMechs.indexOf('.');
    if (dot > 0) {
      const db = body.saslSupportedMechs.slice(0, dot);
      const user = body.saslSupportedMechs.slice(dot + 1);
      // MongoDB leaves the field out for a user it does not know.
      const mechanisms = ctx.store.supported.filter((m) => ctx.store.credential(db, user, m) !== undefined);
      if (mechanisms.length > 0) reply.saslSupportedMechs = mechanisms;
    }
  }
  return { ...reply, ok: 1 };
}

function buildInfo(identity: ServerIdentity): Document {
  const versionArray = [...identity.version.split('.').map(Number), 0];
  return { version: identity.version, versionArray, maxBsonObjectSize: MAX_BSON_OBJECT_SIZE, ok: 1 };
}

function saslStart(ctx: CommandContext, conn: ConnectionState, db: string, body: Document): Document {
  conn.conversation = undefined;
  const mechanism = body.mechanism;
  if (!isScramMechanism(mechanism) || !ctx.store.supported.includes(mechanism)) {
    throw new CommandFailure('MechanismUnavailable',
      `Received authentication for mechanism ${String(mechanism).slice(0, 32)} which is not enabled`);
  }
  const first = parseClientFirst(bytesArg(body, 'payload'));
  const credential = ctx.store.credential(db, first.username, mechanism);
  // A missing user (or one without this mechanism) fails like a wrong password.
  if (!credential) throw authenticationFailed();
  conn.conversation = startConversation(mechanism, db, first, credential);
  return { conversationId: 1, done: false, payload: Buffer.from(conn.conversation.serverFirst), ok: 1 };
}

function saslContinue(ctx: CommandContext, conn: ConnectionState, db: string, body: Document): Document {
  const conversation = conn.conversation;
  conn.conversation = undefined; // one attempt per saslStart, as MongoDB
  if (!conversation || body.conversationId !== 1 || conversation.db !== db) {
    throw new CommandFailure('ProtocolError', 'No SASL session state found');
  }
  const serverFinal = finishConversation(conversation, bytesArg(body, 'payload'));
  // A login can race a dropUser between the two steps: the user must still exist.
  if (!ctx.store.has(db, conversation.username)) throw authenticationFailed();
  conn.users.set(db, conversation.username);
  const appName = conn.appName === undefined ? {} : { appName: conn.appName };
  ctx.logins.push({ user: conversation.username, db, mechanism: conversation.mechanism, tls: conn.tls, connectionId: conn.id, ...appName });
  // done: true at once, which the driver's skipEmptyExchange option asks for.
  return { conversationId: 1, done: true, payload: Buffer.from(serverFinal), ok: 1 };
}

function usersInfo(ctx: CommandContext, conn: ConnectionState, db: string, body: Document): Document {
  const arg = body.usersInfo;
  let targets: { user: string; db: string }[];
  if (arg === 1) {
    requireUserAdmin(conn, ctx.store, 'usersInfo', db, [db]);
    targets = ctx.store.list(db).map((u) => ({ user: u.user, db: u.db }));
  } else if (typeof arg === 'object' && arg !== null && !Array.isArray(arg) && arg.forAllDBs === true) {
    requireUserAdmin(conn, ctx.store, 'usersInfo', 'admin', ['admin']);
    if (db !== 'admin') throw new CommandFailure('BadValue', 'forAllDBs may only be used on the admin database');
    targets = ctx.store.list().map((u) => ({ user: u.user, db: u.db }));
  } else {
    targets = (Array.isArray(arg) ? arg : [arg]).map((item) => userNameArg(item, db));
    // Any user may look at itself (MongoDB's viewUser on one's own user needs no role).
    for (const target of targets) {
      if (conn.users.get(target.db) !== target.user) requireUserAdmin(conn, ctx.store, 'usersInfo', db, [target.db]);
    }
  }
  const users = targets.map((t) => ctx.store.usersInfoEntry(t.db, t.user)).filter((u) => u !== undefined);
  return { users, ok: 1 };
}

function createUser(ctx: CommandContext, conn: ConnectionState, db: string, body: Document): Document {
  const name = stringArg(body, 'createUser');
  const roles = rolesArg(body, db, true)!;
  requireUserAdmin(conn, ctx.store, 'createUser', db, [db, ...roles.map((r) => r.db)]);
  if (name.length === 0) throw new CommandFailure('BadValue', 'User name must not be empty');
  checkDigestPassword(body);
  ctx.store.create(db, name, stringArg(body, 'pwd'), roles, mechanismsArg(body));
  return { ok: 1 };
}

function updateUser(ctx: CommandContext, conn: ConnectionState, db: string, body: Document): Document {
  const name = stringArg(body, 'updateUser');
  const roles = rolesArg(body, db, false);
  const updates = Object.keys(body).filter((k) => k !== 'updateUser' && !k.startsWith('$') && !GENERIC_FIELDS.has(k));
  if (!updates.some((k) => k === 'pwd' || k === 'roles' || k === 'customData' || k === 'mechanisms')) {
    throw new CommandFailure('BadValue', 'Must specify at least one field to update in updateUser');
  }
  // changeOwnPassword: a user may set its own password (nothing else) without any role.
  const ownPasswordOnly = conn.users.get(db) === name && updates.every((k) => k === 'pwd' || k === 'digestPassword');
  if (!ownPasswordOnly) requireUserAdmin(conn, ctx.store, 'updateUser', db, [db, ...(roles ?? []).map((r) => r.db)]);
  checkDigestPassword(body);
  if (!ctx.store.has(db, name)) throw new CommandFailure('UserNotFound', `Could not find user "${name}" for db "${db}"`);
  // Validate everything before changing anything, so a failed update changes nothing.
  roles?.forEach(checkRoleExists);
  const password = body.pwd === undefined ? undefined : stringArg(body, 'pwd');
  if (password === '') throw new CommandFailure('BadValue', 'User passwords must not be empty');
  const mechanisms = mechanismsArg(body);
  if (roles) ctx.store.setRoles(db, name, roles);
  if (password !== undefined) ctx.store.setPassword(db, name, password, mechanisms);
  else if (mechanisms) ctx.store.restrictMechanisms(db, name, mechanisms);
  return { ok: 1 };
}

/**
 * Throws Unauthorized unless a user on the connection may manage users on `db` and grant roles on every database
 * in `roleDbs`.
 */
function requireUserAdmin(conn: ConnectionState, store: UserStore, command: string, db: string, roleDbs: string[]): void {
  const roles: RoleRef[] = [...conn.users].flatMap(([userDb, user]) => store.roles(userDb, user));
  if (![db, ...roleDbs].every((d) => isUserAdminOn(roles, d))) {
    throw new CommandFailure('Unauthorized', `not authorized on ${db} to execute command { ${command}: ... }`);
  }
}

/** Throws Unauthorized unless a user on the connection holds a role that allows `action` on `db`. */
function requireAction(conn: ConnectionState, store: UserStore, action: DatabaseAction, db: string): void {
  const roles: RoleRef[] = [...conn.users].flatMap(([userDb, user]) => store.roles(userDb, user));
  if (!mayRunOn(roles, action, db)) throw new CommandFailure('Unauthorized', `not authorized on ${db} to execute command { ${action}: ... }`);
}

function checkDigestPassword(body: Document): void {
  if (body.digestPassword !== undefined && body.digestPassword !== true) {
    throw new CommandFailure('BadValue', 'Use of digestPassword=false is not supported by this server');
  }
}

function stringArg(body: Document, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw new CommandFailure('TypeMismatch', `"${field}" must be a string`);
  return value;
}

function bytesArg(body: Document, field: string): Buffer {
  const value = body[field];
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new CommandFailure('TypeMismatch', `"${field}" must be binary data`);
}

/** `roles` as role references; a string names a role on the command's database. */
function rolesArg(body: Document, db: string, required: boolean): RoleRef[] | undefined {
  const value = body.roles;
  if (value === undefined && !required) return undefined;
  if (!Array.isArray(value)) throw new CommandFailure('BadValue', '"roles" must be an array');
  return value.map((item: unknown) => {
    if (typeof item === 'string') return { role: item, db };
    if (typeof item === 'object' && item !== null && typeof (item as RoleRef).role === 'string' && typeof (item as RoleRef).db === 'string') {
      return { role: (item as RoleRef).role, db: (item as RoleRef).db };
    }
    throw new CommandFailure('BadValue', 'A role must be a name or a document with "role" and "db"');
  });
}

function mechanismsArg(body: Document): ScramMechanism[] | undefined {
  const value = body.mechanisms;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every(isScramMechanism)) {
    throw new CommandFailure('BadValue', '"mechanisms" must be a list of SCRAM-SHA-1 and SCRAM-SHA-256');
  }
  return value;
}

/** A usersInfo target: a name on the command's database, or `{ user, db }`. */
function userNameArg(item: unknown, db: string): { user: string; db: string } {
  if (typeof item === 'string') return { user: item, db };
  if (typeof item === 'object' && item !== null) {
    const { user, db: userDb } = item as { user?: unknown; db?: unknown };
    if (typeof user === 'string' && typeof userDb === 'string') return { user, db: userDb };
  }
  throw new CommandFailure('BadValue', 'User name must be a string or a document with "user" and "db"');
}
