/* eslint-disable no-bitwise -- OP_MSG flags are a bit field */
import { BSON, Document } from 'bson';

/** Opcodes of the MongoDB wire protocol that the server reads or writes. */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

const HEADER_BYTES = 16;
/** MongoDB's maxMessageSizeBytes; anything longer is a broken or hostile peer, not a command. */
export const MAX_MESSAGE_BYTES = 48_000_000;
const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;

/** A command as the server dispatches it, whichever opcode carried it. */
export interface WireRequest {
  readonly requestId: number;
  readonly opCode: typeof OP_MSG | typeof OP_QUERY;
  /** The database the command runs against (`$db` for OP_MSG, the `<db>.$cmd` namespace for OP_QUERY). */
  readonly db: string;
  readonly body: Document;
  /** The client set moreToCome: it expects no reply. */
  readonly noReply: boolean;
}

/** The message could not be read: the connection is closed, as a server would. */
export class WireProtocolError extends Error {
  readonly code = 'WIRE_PROTOCOL_ERROR';
}

/**
 * Splits a byte stream into whole messages. Bytes are untrusted: lengths are checked before anything is sliced,
 * so a peer can neither read past a message nor make the server buffer more than one maximal message.
 */
export class MessageReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Adds bytes and returns the complete messages they finish (header included). */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: Buffer[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readInt32LE(0);
      if (length < HEADER_BYTES || length > MAX_MESSAGE_BYTES) {
        throw new WireProtocolError(`invalid message length ${length}`);
      }
      if (this.buffered.length < length) break;
      messages.push(this.buffered.subarray(0, length));
      this.buffered = this.buffered.subarray(length);
    }
    return messages;
  }
}

/** Reads one complete message; throws WireProtocolError for an opcode the server does not speak or a bad layout. */
export function parseMessage(message: Buffer): WireRequest {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  try {
    if (opCode === OP_MSG) return parseOpMsg(message, requestId);
    if (opCode === OP_QUERY) return parseOpQuery(message, requestId);
  } catch (err) {
    if (err instanceof WireProtocolError) throw err;
    throw new WireProtocolError('malformed message', { cause: err });
  }
  throw new WireProtocolError(`unsupported opcode ${opCode}`);
}

function parseOpMsg(message: Buffer, requestId: number): WireRequest {
  const flags = message.readUInt32LE(HEADER_BYTES);
  const end = message.length - ((flags & CHECKSUM_PRESENT) !== 0 ? 4 : 0);
  let pos = HEADER_BYTES + 4;
  let body: Document | undefined;
  const sequences: Record<string, Document[]> = {};
  while (pos < end) {
    const kind = message[pos];
    pos += 1;
    if (kind === 0) {
      if (body) throw new WireProtocolError('OP_MSG with two body sections');
      const size = documentSize(message, pos, end);
      body = BSON.deserialize(message.subarray(pos, pos + size), { promoteBuffers: true });
      pos += size;
    } else if (kind === 1) {
      const size = documentSize(message, pos, end);
      const sectionEnd = pos + size;
      const nameEnd = message.indexOf(0, pos + 4);
      if (nameEnd < 0 || nameEnd >= sectionEnd) throw new WireProtocolError('OP_MSG sequence without identifier');
      const identifier = message.toString('utf8', pos + 4, nameEnd);
      const documents: Document[] = [];
      let docPos = nameEnd + 1;
      while (docPos < sectionEnd) {
        const docSize = documentSize(message, docPos, sectionEnd);
        documents.push(BSON.deserialize(message.subarray(docPos, docPos + docSize), { promoteBuffers: true }));
        docPos += docSize;
      }
      sequences[identifier] = documents;
      pos = sectionEnd;
    } else {
      throw new WireProtocolError(`OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new WireProtocolError('OP_MSG without a body section');
  const db = body.$db;
  if (typeof db !== 'string' || db.length === 0) throw new WireProtocolError('OP_MSG without $db');
  return { requestId, opCode: OP_MSG, db, body: { ...body, ...sequences }, noReply: (flags & MORE_TO_COME) !== 0 };
}

/** OP_QUERY is only a command carrier here: the driver's first handshake on a connection uses it. */
function parseOpQuery(message: Buffer, requestId: number): WireRequest {
  let pos = HEADER_BYTES + 4; // flags: nothing in them matters for a command
  const nameEnd = message.indexOf(0, pos);
  if (nameEnd < 0) throw new WireProtocolError('OP_QUERY without a namespace');
  const namespace = message.toString('utf8', pos, nameEnd);
  pos = nameEnd + 1 + 8; // numberToSkip, numberToReturn
  const size = documentSize(message, pos, message.length);
  let body = BSON.deserialize(message.subarray(pos, pos + size), { promoteBuffers: true });
  // A read preference wraps the command in $query.
  if (body.$query !== undefined && typeof body.$query === 'object') body = body.$query as Document;
  const match = /^([^.]+)\.\$cmd$/.exec(namespace);
  if (!match) throw new WireProtocolError('OP_QUERY is only accepted for commands (<db>.$cmd)');
  return { requestId, opCode: OP_QUERY, db: match[1], body, noReply: false };
}

/** The declared size of the BSON document at `pos`, checked to fit before `end`. */
function documentSize(message: Buffer, pos: number, end: number): number {
  if (pos + 4 > end) throw new WireProtocolError('truncated document');
  const size = message.readInt32LE(pos);
  if (size < 5 || pos + size > end) throw new WireProtocolError('document length out of bounds');
  return size;
}

/** The reply to `request`, in the opcode the request came in (OP_REPLY answers OP_QUERY). */
export function encodeReply(request: WireRequest, replyId: number, reply: Document): Buffer {
  const document = Buffer.from(BSON.serialize(reply));
  if (request.opCode === OP_MSG) {
    const header = header16(HEADER_BYTES + 4 + 1 + document.length, replyId, request.requestId, OP_MSG);
    const flagsAndKind = Buffer.alloc(5); // flags 0, section kind 0
    return Buffer.concat([header, flagsAndKind, document]);
  }
  const fields = Buffer.alloc(20); // responseFlags, cursorID (8), startingFrom, numberReturned
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header16(HEADER_BYTES + 20 + document.length, replyId, request.requestId, OP_REPLY), fields, document]);
}

function header16(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return header;
}
