import { UUID } from 'bson';
import { CommandFailure } from './errors';
import { credentialMatches, deriveCredential, SCRAM_MECHANISMS, ScramCredential, ScramMechanism } from './scram';

/** A role on a database, as MongoDB writes it: `{ role: 'readWrite', db: 'app' }`. */
export interface RoleRef {
  readonly role: string;
  readonly db: string;
}

/** A user as tests see it: no password and no keys. */
export interface StoredUserInfo {
  readonly user: string;
  readonly db: string;
  readonly roles: RoleRef[];
  readonly mechanisms: ScramMechanism[];
}

interface StoredUser {
  readonly userId: UUID;
  readonly user: string;
  readonly db: string;
  roles: RoleRef[];
  credentials: Map<ScramMechanism, ScramCredential>;
}

/** Built-in roles that exist on every database. */
const DATABASE_ROLES = new Set(['read', 'readWrite', 'dbAdmin', 'dbOwner', 'userAdmin']);
/** Built-in roles that exist only on `admin` (MongoDB reports them as not found anywhere else). */
const ADMIN_ROLES = new Set([
  'readAnyDatabase', 'readWriteAnyDatabase', 'userAdminAnyDatabase', 'dbAdminAnyDatabase', 'clusterAdmin',
  'clusterManager', 'clusterMonitor', 'hostManager', 'backup', 'restore', 'root',
]);

/** Checks that a role is one MongoDB and DocumentDB build in; this server has no user-defined roles. */
export function checkRoleExists(role: RoleRef): void {
  const exists = DATABASE_ROLES.has(role.role) || (role.db === 'admin' && ADMIN_ROLES.has(role.role));
  if (!exists) throw new CommandFailure('RoleNotFound', `Could not find role: ${role.role}@${role.db}`);
}

/**
 * Whether these roles include the user-admin actions (createUser, dropUser, grantRole, viewUser, ...) on `db`:
 * `root` and `userAdminAnyDatabase` on admin grant them everywhere, `userAdmin` and `dbOwner` on their own database.
 */
export function isUserAdminOn(roles: readonly RoleRef[], db: string): boolean {
  return roles.some((r) =>
    (r.db === 'admin' && (r.role === 'root' || r.role === 'userAdminAnyDatabase'))
    || (r.db === db && (r.role === 'userAdmin' || r.role === 'dbOwner')));
}

/** Read-only actions on a database that some built-in roles allow (what the rotation probes may run). */
export type DatabaseAction = 'listCollections' | 'dbStats';

/** Roles on a database that allow both actions there (MongoDB's read and every role built on it, and dbAdmin). */
const READING_DATABASE_ROLES = new Set(['read', 'readWrite', 'dbAdmin', 'dbOwner']);
/** Roles on admin that allow them on every database; clusterMonitor (and clusterAdmin, which includes it) has dbStats only. */
const READING_ANY_DATABASE_ROLES: Record<DatabaseAction, ReadonlySet<string>> = {
  listCollections: new Set(['readAnyDatabase', 'readWriteAnyDatabase', 'dbAdminAnyDatabase', 'root']),
  dbStats: new Set(['readAnyDatabase', 'readWriteAnyDatabase', 'dbAdminAnyDatabase', 'clusterMonitor', 'clusterAdmin', 'root']),
};

/** Whether these roles allow `action` on `db`, as MongoDB's built-in roles do. */
export function mayRunOn(roles: readonly RoleRef[], action: DatabaseAction, db: string): boolean {
  return roles.some((r) => (r.db === db && READING_DATABASE_ROLES.has(r.role))
    || (r.db === 'admin' && READING_ANY_DATABASE_ROLES[action].has(r.role)));
}

function key(db: string, user: string): string {
  return `${db}\u0000${user}`;
}

function roleKey(role: RoleRef): string {
  return `${role.db}\u0000${role.role}`;
}

/** Roles without duplicates, in the order first given. */
export function uniqueRoles(roles: readonly RoleRef[]): RoleRef[] {
  const seen = new Map<string, RoleRef>();
  for (const role of roles) if (!seen.has(roleKey(role))) seen.set(roleKey(role), { role: role.role, db: role.db });
  return [...seen.values()];
}

/** The users of every database (MongoDB's admin.system.users), with SCRAM credentials per mechanism. */
export class UserStore {
  private readonly users = new Map<string, StoredUser>();

  /** `supported`: the mechanisms the server offers, and that a user gets when createUser names none. */
  constructor(readonly supported: readonly ScramMechanism[] = SCRAM_MECHANISMS) {
    if (supported.length === 0) throw new Error('A server needs at least one SCRAM mechanism');
  }

  has(db: string, user: string): boolean {
    return this.users.has(key(db, user));
  }

  create(db: string, user: string, password: string, roles: readonly RoleRef[], mechanisms: readonly ScramMechanism[] = this.supported): void {
    if (this.has(db, user)) throw new CommandFailure('Location51003', `User "${user}@${db}" already exists`);
    roles.forEach(checkRoleExists);
    this.users.set(key(db, user), {
      userId: new UUID(), user, db, roles: uniqueRoles(roles), credentials: this.credentialsFor(user, password, mechanisms),
    });
  }

  /** Replaces the password (keeping the user's mechanisms unless others are given). */
  setPassword(db: string, user: string, password: string, mechanisms?: readonly ScramMechanism[]): void {
    const stored = this.get(db, user);
    stored.credentials = this.credentialsFor(user, password, mechanisms ?? [...stored.credentials.keys()]);
  }

  /** Without a new password, mechanisms can only be taken away (MongoDB cannot derive a credential without it). */
  restrictMechanisms(db: string, user: string, mechanisms: readonly ScramMechanism[]): void {
    const stored = this.get(db, user);
    if (mechanisms.length === 0 || !mechanisms.every((m) => stored.credentials.has(m))) {
      throw new CommandFailure('BadValue', 'mechanisms field must be a subset of previously set mechanisms');
    }
    stored.credentials = new Map([...stored.credentials].filter(([m]) => mechanisms.includes(m)));
  }

  setRoles(db: string, user: string, roles: readonly RoleRef[]): void {
    roles.forEach(checkRoleExists);
    this.get(db, user).roles = uniqueRoles(roles);
  }

  grantRoles(db: string, user: string, roles: readonly RoleRef[]): void {
    roles.forEach(checkRoleExists);
    const stored = this.get(db, user);
    stored.roles = uniqueRoles([...stored.roles, ...roles]);
  }

  revokeRoles(db: string, user: string, roles: readonly RoleRef[]): void {
    roles.forEach(checkRoleExists);
    const stored = this.get(db, user);
    const revoked = new Set(roles.map(roleKey));
    stored.roles = stored.roles.filter((r) => !revoked.has(roleKey(r)));
  }

  drop(db: string, user: string): void {
    this.get(db, user);
    this.users.delete(key(db, user));
  }

  /** The credential a SCRAM login needs, or undefined when the user or that mechanism does not exist. */
  credential(db: string, user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.users.get(key(db, user))?.credentials.get(mechanism);
  }

  roles(db: string, user: string): RoleRef[] {
    return this.users.get(key(db, user))?.roles.map((r) => ({ ...r })) ?? [];
  }

  /** Whether `password` logs `user` in on `db` with every mechanism the user has. False for a missing user. */
  verifyPassword(db: string, user: string, password: string): boolean {
    const stored = this.users.get(key(db, user));
    if (!stored || stored.credentials.size === 0) return false;
    return [...stored.credentials].every(([mechanism, credential]) => credentialMatches(mechanism, credential, user, password));
  }

  /**
   * The user's stored SCRAM credentials, one per mechanism in the order MongoDB lists them, each written
   * `<mechanism>$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64); undefined for a missing user. Derived keys, never
   * the password.
   */
  storedCredentials(db: string, user: string): string[] | undefined {
    const stored = this.users.get(key(db, user));
    if (!stored) return undefined;
    return SCRAM_MECHANISMS.flatMap((m) => {
      const c = stored.credentials.get(m);
      return c ? [`${m}$${c.iterations}:${c.salt.toString('base64')}$${c.storedKey.toString('base64')}:${c.serverKey.toString('base64')}`] : [];
    });
  }

  info(db: string, user: string): StoredUserInfo | undefined {
    const stored = this.users.get(key(db, user));
    return stored && toInfo(stored);
  }

  list(db?: string): StoredUserInfo[] {
    return [...this.users.values()].filter((u) => db === undefined || u.db === db).map(toInfo);
  }

  /** The usersInfo document for one user, as MongoDB shapes it. */
  usersInfoEntry(db: string, user: string): Record<string, unknown> | undefined {
    const stored = this.users.get(key(db, user));
    if (!stored) return undefined;
    return {
      _id: `${stored.db}.${stored.user}`,
      userId: stored.userId,
      user: stored.user,
      db: stored.db,
      roles: stored.roles.map((r) => ({ role: r.role, db: r.db })),
      mechanisms: [...stored.credentials.keys()],
    };
  }

  private credentialsFor(user: string, password: string, mechanisms: readonly ScramMechanism[]): Map<ScramMechanism, ScramCredential> {
    if (password.length === 0) throw new CommandFailure('BadValue', 'User passwords must not be empty');
    if (mechanisms.length === 0) throw new CommandFailure('BadValue', 'mechanisms field must not be empty');
    const unsupported = mechanisms.find((m) => !this.supported.includes(m));
    if (unsupported) throw new CommandFailure('BadValue', `Unsupported authentication mechanism: ${unsupported}`);
    return new Map(mechanisms.map((m) => [m, deriveCredential(m, user, password)]));
  }

  private get(db: string, user: string): StoredUser {
    const stored = this.users.get(key(db, user));
    if (!stored) throw new CommandFailure('UserNotFound', `Could not find user "${user}" for db "${db}"`);
    return stored;
  }
}


function toInfo(stored: StoredUser): StoredUserInfo {
  return {
    user: stored.user, db: stored.db, roles: stored.roles.map((r) => ({ ...r })), mechanisms: [...stored.credentials.keys()],
  };
}
