import type { Stoppable } from './lifecycle';
import type { TestServerOptions } from './server-process';
import type { DatabaseEngineFamily, RotationScheme } from '../../src/private/contract';

/**
 * What the rotation conformance suite needs from a database server, whatever the engine. One implementation per
 * engine family (`<family>-conformance-server.ts`), each an adapter over that engine's test server.
 *
 * Every user name is quoted by the server or its driver, never concatenated, so any name works (quotes, `%`,
 * spaces, non-ASCII): the suite uses hostile names on purpose.
 */
export interface ConformanceServer extends Stoppable {
  readonly family: DatabaseEngineFamily;
  /** The engine's server version, e.g. `16.4` or `10.11.18`. */
  readonly version: string;
  readonly port: number;
  /** The PEM file of the CA that issued the server's certificate (undefined without TLS). */
  readonly caCertPath?: string;
  /** The server's own administrator, whose password is secret material like any other. */
  readonly superuser: { readonly username: string; readonly password: string };

  /** How the server stores a password: a pattern every stored credential of a rotated user matches. */
  readonly storedPasswordForm: { readonly name: string; readonly pattern: RegExp };
  /** A user name that reads as SQL for this engine, quoting included (the suite appends a counter). */
  readonly sqlInjectionName: string;
  /** A database on this server other than the one the suite's secrets name. */
  readonly otherDatabase: string;
  /** A probe query that fails on this server. */
  readonly failingProbe: string;

  /** A user that may log in with `password` and holds the privileges the suite's application users hold. */
  createUser(username: string, password: string): Promise<void>;
  /**
   * A user that may create users, set their passwords and pass on the privileges of the users created with
   * {@link createUser}: the master of alternating-users rotation.
   */
  createMaster(username: string, password: string): Promise<void>;
  /** Gives `master` what it needs to clone `username` (it may need nothing more on some engines or versions). */
  prepareMasterFor(username: string, master: string): Promise<void>;
  /** Whether this user and password log in right now; an authentication failure gives false, anything else throws. */
  canLogin(username: string, password: string, dbname?: string): Promise<boolean>;
  /** Changes a user's password behind the rotation's back (an operator, a restored backup). */
  setPassword(username: string, password: string): Promise<void>;
  /**
   * Every user other than those named in `except`, keyed by account, with its stored credential and privileges as
   * the server reports them: two calls compare equal unless some user's password or privileges changed. Privileges
   * on the excepted users themselves (memberships in them) are theirs too and left out: PostgreSQL 16+ makes the
   * master that creates a clone a member of it, with ADMIN OPTION, by itself.
   */
  users(except?: readonly string[]): Promise<Record<string, StoredUser>>;
  /** The stored password form of `username` (each of its accounts), as the server keeps it. */
  storedCredentials(username: string): Promise<string[]>;
  /** Logins the server accepted since it started, in order, leaving out the harness's own connections. */
  authorizedConnections(): Promise<ConformanceConnection[]>;
  /** The database secret of a user on this server (`engine` is the family's first value unless given in `extra`). */
  secretJson(username: string, password: string, extra?: Record<string, unknown>): Record<string, unknown>;
  /**
   * The database fault points a clean rotation of `scheme` passes on this server, besides the kit's own, when the
   * handler speaks the dialect of `dialect` (default: this server's family; the MySQL handlers run on MariaDB too).
   */
  faultPoints(scheme: Scheme, dialect?: DatabaseEngineFamily): string[];
}

/** The two database rotation schemes, as the registry names them. */
export type Scheme = RotationScheme;

export interface StoredUser {
  /** The stored password form (a hash or verifier), null when the user has none. */
  readonly credential: string | null;
  /** What the user may do, one entry each, in a stable order. */
  readonly privileges: readonly string[];
}

export interface ConformanceConnection {
  readonly user: string;
  /** The database the client named ('' for none). */
  readonly database: string;
  readonly ssl: boolean;
}

/** Starts an engine's conformance server; `options` are those every test server understands. */
export interface ConformanceServerFactory<S extends ConformanceServer = ConformanceServer> {
  readonly family: DatabaseEngineFamily;
  start(options?: TestServerOptions): Promise<S>;
}
