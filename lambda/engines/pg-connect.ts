import { isIP } from 'net';
import { Client, ClientConfig } from 'pg';
import { TLS_MODES } from '../../src/private/contract';
import { caBundle } from '../kit/ca-bundle';
import { ERROR_CODES, LoginFailedError, RotationError, errorCode } from '../kit/errors';
import { TLS_ERROR_CODE } from '../kit/tls-errors';
import type { DatabaseLogin, SessionKind, StepContext } from '../kit/types';

/**
 * The transport of the dialects that speak the PostgreSQL wire protocol through `pg` (PostgreSQL, Redshift): one set of
 * client options (verified TLS, every call bounded by the step's deadline), one connect, one classification of the
 * driver's errors. The SQL each dialect sends is its own.
 */

/** SQLSTATEs of a rejected credential: invalid_password, invalid_authorization_specification. */
const AUTH_FAILED = new Set(['28P01', '28000']);
/** query_canceled: what statement_timeout raises. */
const QUERY_CANCELED = '57014';
/** What pg's own query_timeout rejects with (no code of its own). */
const CLIENT_QUERY_TIMEOUT = 'Query read timeout';


/** TLS verifies the chain and the host name unless the secret explicitly says `tls: disabled`. */
export function clientConfig(login: DatabaseLogin, ctx: StepContext, budgetMs: number): ClientConfig {
  return {
    host: login.host,
    port: login.port,
    database: login.dbname,
    user: login.username,
    password: login.password,
    ssl: login.tls === TLS_MODES.DISABLED ? false : {
      rejectUnauthorized: true,
      ca: caBundle(ctx.env),
      servername: isIP(login.host) ? undefined : login.host,
    },
    connectionTimeoutMillis: budgetMs,
    query_timeout: budgetMs,
    statement_timeout: budgetMs,
    application_name: 'cdk-secrets-platform-rotation',
  };
}

/**
 * Maps a pg or socket error to a named error that names `product` (the server as the user knows it); the driver's
 * message is never kept.
 */
export function classifyWireError(err: unknown, during: string, product: string): RotationError {
  if (err instanceof RotationError) return err;
  const code = errorCode(err);
  if (code && AUTH_FAILED.has(code)) return new LoginFailedError(`${product} rejected the credential`, err);
  const message = err instanceof Error ? err.message : '';
  if (code === QUERY_CANCELED || message === CLIENT_QUERY_TIMEOUT) {
    return new RotationError(ERROR_CODES.TIMEOUT, `${product} ${during} did not complete within its time bound`, err);
  }
  // pg's own message for a server without TLS: never a reason to retry in plaintext
  if ((code && TLS_ERROR_CODE.test(code)) || /does not support SSL/.test(message)) {
    return new RotationError(ERROR_CODES.TLS_FAILED, `TLS to ${product} failed during ${during}`, err);
  }
  return new RotationError(ERROR_CODES.DATABASE_ERROR, `${product} ${during} failed`, err);
}

/** What the shared connect needs of a dialect's session. */
export interface WireSession {
  pinSearchPath(): Promise<void>;
  close(): Promise<void>;
}

export interface WireConnectOptions<S extends WireSession> {
  /** The server as messages and deadline labels name it: `PostgreSQL`, `Redshift`. */
  readonly product: string;
  /** The dialect's classification of a failed connect. */
  readonly classify: (err: unknown, during: string) => RotationError;
  /** The dialect's session over the connected client. */
  readonly session: (client: Client) => S;
}

/**
 * Opens a `pg` client for `login` within the step's deadline. A master's session pins `search_path` before anything
 * else, so no object an application user owns is resolved in it; if that fails, the session is closed.
 */
export async function connectWire<S extends WireSession>(
  login: DatabaseLogin, ctx: StepContext, kind: SessionKind, options: WireConnectOptions<S>,
): Promise<S> {
  const label = `${options.product} connect`;
  const client = new Client(clientConfig(login, ctx, ctx.deadline.budget(label)));
  // a socket error after connect must not crash the process; the next query reports it
  client.on('error', () => undefined);
  try {
    await ctx.deadline.run(label, () => client.connect());
  } catch (err) {
    await client.end().catch(() => undefined);
    throw options.classify(err, 'connect');
  }
  const session = options.session(client);
  if (kind === 'master') {
    await session.pinSearchPath().catch(async (err) => {
      await session.close();
      throw err;
    });
  }
  return session;
}
