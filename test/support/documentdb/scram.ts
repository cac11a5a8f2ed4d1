import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'crypto';
import { authenticationFailed, CommandFailure } from './errors';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];

/** What the server stores per mechanism (RFC 5802 section 3): never the password itself. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

interface MechanismParams {
  readonly hash: 'sha1' | 'sha256';
  readonly keyBytes: number;
  readonly saltBytes: number;
  /** MongoDB's defaults (scramIterationCount, scramSHA256IterationCount); the driver refuses fewer than 4096. */
  readonly iterations: number;
}

const PARAMS: Record<ScramMechanism, MechanismParams> = {
  'SCRAM-SHA-1': { hash: 'sha1', keyBytes: 20, saltBytes: 16, iterations: 10_000 },
  'SCRAM-SHA-256': { hash: 'sha256', keyBytes: 32, saltBytes: 28, iterations: 15_000 },
};

export function isScramMechanism(value: unknown): value is ScramMechanism {
  return typeof value === 'string' && (SCRAM_MECHANISMS as readonly string[]).includes(value);
}

/**
 * The string SCRAM hashes. SCRAM-SHA-1 in MongoDB hashes md5("<user>:mongo:<password>") in hex, not the password;
 * SCRAM-SHA-256 hashes the SASLprepped password (NFKC normalization is the part of SASLprep that changes
 * printable passwords; the test passwords never hold the control characters SASLprep forbids).
 */
function passwordInput(mechanism: ScramMechanism, username: string, password: string): string {
  if (mechanism === 'SCRAM-SHA-1') return createHash('md5').update(`${username}:mongo:${password}`, 'utf8').digest('hex');
  return password.normalize('NFKC');
}

function keysFrom(mechanism: ScramMechanism, saltedPassword: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  const { hash } = PARAMS[mechanism];
  const clientKey = createHmac(hash, saltedPassword).update('Client Key').digest();
  return {
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, saltedPassword).update('Server Key').digest(),
  };
}

function salted(mechanism: ScramMechanism, username: string, password: string, salt: Buffer, iterations: number): Buffer {
  const { hash, keyBytes } = PARAMS[mechanism];
  return pbkdf2Sync(passwordInput(mechanism, username, password), salt, iterations, keyBytes, hash);
}

/** A fresh salt and the stored and server keys for a password, as createUser and updateUser store them. */
export function deriveCredential(mechanism: ScramMechanism, username: string, password: string): ScramCredential {
  const { saltBytes, iterations } = PARAMS[mechanism];
  const salt = randomBytes(saltBytes);
  return { salt, iterations, ...keysFrom(mechanism, salted(mechanism, username, password, salt, iterations)) };
}

/** Whether `password` is the one a stored credential was derived from. */
export function credentialMatches(mechanism: ScramMechanism, credential: ScramCredential, username: string, password: string): boolean {
  const { storedKey } = keysFrom(mechanism, salted(mechanism, username, password, credential.salt, credential.iterations));
  return timingSafeEqual(storedKey, credential.storedKey);
}

/** The state between saslStart and saslContinue on one connection. */
export interface ScramConversation {
  readonly mechanism: ScramMechanism;
  readonly db: string;
  readonly username: string;
  readonly gs2Header: string;
  readonly clientFirstBare: string;
  readonly serverFirst: string;
  readonly nonce: string;
  readonly credential: ScramCredential;
}

/** The parts of client-first-message (`n,,n=<user>,r=<nonce>`) the server needs. */
export function parseClientFirst(payload: Buffer): { gs2Header: string; clientFirstBare: string; username: string; clientNonce: string } {
  const text = payload.toString('utf8');
  // No channel binding: "n" (client cannot) or "y" (client can, server did not offer); "p=" would need TLS exporter data.
  const header = /^([ny]),(?:a=[^,]*)?,/.exec(text);
  if (!header) throw new CommandFailure('BadValue', 'Invalid SCRAM client-first message');
  const clientFirstBare = text.slice(header[0].length);
  const attributes = attributesOf(clientFirstBare);
  const username = attributes.get('n');
  const clientNonce = attributes.get('r');
  if (username === undefined || clientNonce === undefined || clientNonce.length === 0) {
    throw new CommandFailure('BadValue', 'Invalid SCRAM client-first message');
  }
  return { gs2Header: header[0], clientFirstBare, username: decodeSaslName(username), clientNonce };
}

/** server-first-message: the combined nonce, the salt and the iteration count. */
export function startConversation(
  mechanism: ScramMechanism, db: string, first: ReturnType<typeof parseClientFirst>, credential: ScramCredential,
): ScramConversation {
  const nonce = first.clientNonce + randomBytes(24).toString('base64');
  const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
  return {
    mechanism,
    db,
    username: first.username,
    gs2Header: first.gs2Header,
    clientFirstBare: first.clientFirstBare,
    serverFirst,
    nonce,
    credential,
  };
}

/**
 * Checks client-final-message (`c=<gs2 header>,r=<nonce>,p=<proof>`) and returns server-final-message
 * (`v=<server signature>`); throws AuthenticationFailed for a wrong proof, nonce or channel binding.
 */
export function finishConversation(conversation: ScramConversation, payload: Buffer): string {
  const text = payload.toString('utf8');
  const proofAt = text.lastIndexOf(',p=');
  if (proofAt < 0) throw authenticationFailed();
  const withoutProof = text.slice(0, proofAt);
  const attributes = attributesOf(withoutProof);
  if (attributes.get('c') !== Buffer.from(conversation.gs2Header).toString('base64')) throw authenticationFailed();
  if (attributes.get('r') !== conversation.nonce) throw authenticationFailed();
  const { hash } = PARAMS[conversation.mechanism];
  const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
  if (proof.length !== conversation.credential.storedKey.length) throw authenticationFailed();
  const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${withoutProof}`;
  const clientSignature = createHmac(hash, conversation.credential.storedKey).update(authMessage).digest();
  // eslint-disable-next-line no-bitwise -- RFC 5802: ClientKey = ClientProof XOR ClientSignature
  const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]));
  if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), conversation.credential.storedKey)) {
    throw authenticationFailed();
  }
  const serverSignature = createHmac(hash, conversation.credential.serverKey).update(authMessage).digest();
  return `v=${serverSignature.toString('base64')}`;
}

/** `a=x,b=y` as a map; the first occurrence of a key wins. */
function attributesOf(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of text.split(',')) {
    const match = /^([A-Za-z])=(.*)$/s.exec(part);
    if (match && !attributes.has(match[1])) attributes.set(match[1], match[2]);
  }
  return attributes;
}

/** RFC 5802 saslname: "=2C" is a comma and "=3D" an equals sign; any other "=" is invalid. */
function decodeSaslName(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new CommandFailure('BadValue', 'Invalid SCRAM user name encoding');
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}
