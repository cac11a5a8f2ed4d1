import { createPublicKey, KeyObject, randomUUID, sign } from 'crypto';

/** The two signing algorithms the rotators support for private_key_jwt. */
export type AssertionAlgorithm = 'RS256' | 'ES256';

export interface ClientAssertionRequest {
  readonly clientId: string;
  /** The token endpoint (or the issuer) the assertion is for. */
  readonly audience: string;
  readonly privateKey: KeyObject;
  readonly algorithm: AssertionAlgorithm;
  /** @default no `kid` header */
  readonly keyId?: string;
  /** @default 60 s */
  readonly lifetimeSeconds?: number;
  /** @default now */
  readonly issuedAt?: number;
}

/**
 * An RFC 7523 client assertion (`iss` and `sub` the client id, `aud`, `jti`, `iat`, `exp`), signed with node:crypto.
 * ES256 signatures are the raw r||s form JWS uses (RFC 7518 3.4), not the DER node:crypto gives by default.
 */
export function signClientAssertion(request: ClientAssertionRequest): string {
  const iat = request.issuedAt ?? Math.floor(Date.now() / 1000);
  const header = { alg: request.algorithm, typ: 'JWT', ...(request.keyId ? { kid: request.keyId } : {}) };
  const payload = {
    iss: request.clientId,
    sub: request.clientId,
    aud: request.audience,
    jti: randomUUID(),
    iat,
    exp: iat + (request.lifetimeSeconds ?? 60),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = request.algorithm === 'RS256'
    ? sign('sha256', Buffer.from(signingInput), request.privateKey)
    : sign('sha256', Buffer.from(signingInput), { key: request.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** The public JWK of a private key, as a client registers it (`jwks`). */
export function publicJwk(privateKey: KeyObject, keyId: string, algorithm: AssertionAlgorithm): object {
  return { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid: keyId, alg: algorithm, use: 'sig' };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
