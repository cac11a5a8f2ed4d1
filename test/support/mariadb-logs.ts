import * as net from 'net';

/**
 * Which connections a MariaDB server accepted, and over which transport, from two logs the harness turns on.
 *
 * - The general query log writes `<id> Connect <user>@<host> on <db> using <transport>` for every login attempt,
 *   where the transport is `SSL/TLS` once the client has switched to TLS, else `TCP/IP` or `Socket` (checked on
 *   10.11). It is written before the password is checked, and a failed attempt is not always followed by an error
 *   line (a locked account logs nothing more), so it cannot say which attempts succeeded.
 * - The server_audit plugin (events=CONNECT) writes `CONNECT` or `FAILED_CONNECT` with the error code for each
 *   attempt, and for the same connection id: it says which succeeded, but not over which transport. It writes
 *   after sending the client its answer, so a reader may have to wait a moment for an attempt's line.
 *
 * Joined on the connection id they give the accepted connections with their TLS use. (The session status
 * Ssl_cipher says it too, but only while the session lives.) Re-authentication on an open connection
 * (COM_CHANGE_USER) is left out: it adds no transport, and the connection's own is already listed.
 */

export interface AuthorizedConnection {
  readonly user: string;
  /** The client address as the server saw it (`127.0.0.1`; `localhost` over the socket). */
  readonly host: string;
  /** The default database the client named, '' for none. */
  readonly database: string;
  /** Whether the connection had switched to TLS when it authenticated. */
  readonly ssl: boolean;
}

/** A login attempt from the general log: connection id and transport. */
export interface ConnectAttempt {
  readonly id: number;
  readonly ssl: boolean;
}

/** An authentication outcome from the audit log. */
export interface AuditedConnect {
  readonly id: number;
  readonly user: string;
  readonly host: string;
  readonly database: string;
  readonly accepted: boolean;
}

/**
 * `<id> Connect\t<user>@<host> on <db> using <transport>`, after an optional `YYMMDD HH:MM:SS` time that the log
 * writes only when the second changes. Error lines for the same id (`Connect\tAccess denied ...`) do not match.
 */
const CONNECT_LINE = /^(?:\d{6}\s+\d{1,2}:\d{2}:\d{2})?\s+(\d+) Connect\t.*@[^@]* on .* using (SSL\/TLS|TCP\/IP|Socket|Named Pipe|Shared Memory)$/;

export function parseConnectAttempts(generalLog: string): Map<number, ConnectAttempt> {
  const attempts = new Map<number, ConnectAttempt>();
  for (const line of generalLog.split('\n')) {
    const match = CONNECT_LINE.exec(line);
    if (match) attempts.set(Number(match[1]), { id: Number(match[1]), ssl: match[2] === 'SSL/TLS' });
  }
  return attempts;
}

/**
 * `time,serverhost,user,host,connection id,query id,CONNECT|FAILED_CONNECT,database,object,error code`; the plugin
 * does not escape commas, so user and database are taken from both ends of the line (neither may hold a comma).
 */
const AUDIT_LINE = /^[^,]*,[^,]*,([^,]*),([^,]*),(\d+),\d+,(CONNECT|FAILED_CONNECT),([^,]*),[^,]*,(\d+)$/;

export function parseAuditedConnects(auditLog: string): Map<number, AuditedConnect> {
  const connects = new Map<number, AuditedConnect>();
  for (const line of auditLog.split('\n')) {
    const match = AUDIT_LINE.exec(line);
    if (!match) continue;
    const [, user, host, id, operation, database, code] = match;
    connects.set(Number(id), { id: Number(id), user, host, database, accepted: operation === 'CONNECT' && code === '0' });
  }
  return connects;
}

export interface JoinedLogs {
  /** Accepted connections not opened by the harness, in the order the server accepted them. */
  readonly connections: AuthorizedConnection[];
  /** Attempts in the general log whose outcome the audit log does not have yet (it is written after the OK). */
  readonly undecided: number[];
}

export function joinLogs(generalLog: string, auditLog: string, harnessIds: ReadonlySet<number>): JoinedLogs {
  const attempts = parseConnectAttempts(generalLog);
  const audited = parseAuditedConnects(auditLog);
  const undecided = [...attempts.keys()].filter((id) => !audited.has(id) && !harnessIds.has(id));
  const connections: AuthorizedConnection[] = [];
  for (const connect of audited.values()) {
    if (!connect.accepted || harnessIds.has(connect.id)) continue;
    const attempt = attempts.get(connect.id);
    // Only if a test turned the general log off: guessing the transport would defeat the point.
    if (!attempt) throw new Error(`Connection ${connect.id} is in the audit log but not in the general log; is general_log off?`);
    connections.push({ user: connect.user, host: connect.host, database: connect.database, ssl: attempt.ssl });
  }
  return { connections, undecided };
}

/**
 * A TCP connection to the server that records the connection id from the server's greeting, the first packet it
 * sends, before any authentication. That is how the harness tells its own connections apart in the logs: every one
 * it opens (pool, readiness probe, canLogin) goes through here, including those that fail or time out later.
 */
export function recordingSocket(port: number, host: string, ids: Set<number>): net.Socket {
  const socket = net.connect(port, host);
  let received = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const id = greetingConnectionId(received);
    if (id === null) return; // the greeting arrives in one segment in practice, but need not
    socket.off('data', onData);
    if (id !== undefined) ids.add(id);
  };
  // The driver adds its own listener right after creating the socket, so both see every byte.
  socket.on('data', onData);
  return socket;
}

/**
 * The connection id in a protocol-10 handshake packet: 4-byte header, protocol version 10, NUL-terminated server
 * version, then the id as uint32 LE. Undefined when the server sent something else (an error such as too many
 * connections); null while the packet is incomplete.
 */
export function greetingConnectionId(data: Buffer): number | undefined | null {
  const HEADER = 4;
  if (data.length <= HEADER) return null;
  if (data[HEADER] !== 10) return undefined;
  const versionEnd = data.indexOf(0, HEADER + 1);
  if (versionEnd < 0 || data.length < versionEnd + 5) return null;
  return data.readUInt32LE(versionEnd + 1);
}
