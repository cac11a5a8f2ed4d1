// Field and scalar arithmetic on bits (clamping, bit scans) is what Ed25519 is made of.
/* eslint-disable no-bitwise */
import { createHash } from 'crypto';

/**
 * What the server stores for a password, computed here so the statement that sets a password carries only this and
 * never the password itself (neither MariaDB nor MySQL can bind a password as a parameter of ALTER USER, SET
 * PASSWORD or CREATE USER, and MariaDB's general log records statement text as sent).
 */

/** mysql_native_password: `*` and the upper-case hex of SHA1(SHA1(password)). */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(Buffer.from(password, 'utf8')).digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}

// Ed25519 over the field 2^255 - 19 (RFC 8032 section 5.1), in extended coordinates (X, Y, Z, T) with x = X/Z,
// y = Y/Z, x*y = T/Z. Only scalar multiplication of the base point is needed: MariaDB's ed25519 plugin stores the
// public key whose secret scalar is the clamped first half of SHA-512(password).
const P = (1n << 255n) - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

const inverse = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inverse(121666n));

type Point = readonly [bigint, bigint, bigint, bigint];

const BASE: Point = (() => {
  const y = mod(4n * inverse(5n));
  // x^2 = (y^2 - 1) / (d y^2 + 1); the base point's x is the even root
  const xx = mod((y * y - 1n) * inverse(D * y * y + 1n));
  let x = pow(xx, (P + 3n) / 8n);
  if (mod(x * x - xx) !== 0n) x = mod(x * pow(2n, (P - 1n) / 4n));
  if (x & 1n) x = P - x;
  return [x, y, 1n, mod(x * y)];
})();

function add(p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p;
  const [x2, y2, z2, t2] = q;
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(2n * D * t1 * t2);
  const d = mod(2n * z1 * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiplyBase(scalar: bigint): Point {
  let result: Point = [0n, 1n, 1n, 0n];
  let addend = BASE;
  for (let k = scalar; k > 0n; k >>= 1n) {
    if (k & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

/** The group order of Ed25519's base point. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

const fromLittleEndian = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);
const toLittleEndian = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();

function encode(point: Point): Buffer {
  const [x, y, z] = point;
  const zi = inverse(z);
  const encoded = toLittleEndian(mod(y * zi));
  if (mod(x * zi) & 1n) encoded[31] |= 0x80;
  return encoded;
}

/** MariaDB's key derivation: the clamped first half of SHA-512(password) is the secret scalar, the second half the nonce prefix. */
function passwordKey(password: string): { scalar: bigint; prefix: Buffer; publicKey: Buffer } {
  const h = createHash('sha512').update(Buffer.from(password, 'utf8')).digest();
  const a = Buffer.from(h.subarray(0, 32));
  a[0] &= 248;
  a[31] &= 63;
  a[31] |= 64;
  const scalar = fromLittleEndian(a);
  return { scalar, prefix: Buffer.from(h.subarray(32, 64)), publicKey: encode(multiplyBase(scalar)) };
}

/** MariaDB ed25519: the base64 (unpadded) public key that `IDENTIFIED VIA ed25519 USING` takes. */
export function ed25519AuthString(password: string): string {
  return passwordKey(password).publicKey.toString('base64').replace(/=+$/, '');
}

/**
 * MariaDB's client_ed25519 answer to the server's scramble: an Ed25519 signature (RFC 8032 section 5.1.6) of the
 * scramble with the password's key. mysql2 has no such plugin; without it an ed25519 account could not log in.
 */
export function ed25519Sign(password: string, message: Buffer): Buffer {
  const { scalar, prefix, publicKey } = passwordKey(password);
  const r = fromLittleEndian(createHash('sha512').update(prefix).update(message).digest()) % L;
  const R = encode(multiplyBase(r));
  const k = fromLittleEndian(createHash('sha512').update(R).update(publicKey).update(message).digest()) % L;
  const S = (r + k * scalar) % L;
  return Buffer.concat([R, toLittleEndian(S)]);
}
