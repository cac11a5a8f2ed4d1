import { OAUTH_AUTH_METHODS, OAUTH_SECRET_FIELDS, OAuthAuthMethod } from '../../src/private/contract';
import { InvalidSecretValueError } from '../kit/errors';
import { hasControlCharacter } from '../kit/secret-fields';
import { parseSecretObject } from '../kit/secret-json';
import type { SecretObject, SecretRole } from '../kit/types';

const F = OAUTH_SECRET_FIELDS;

/** A parsed OAuth secret ({@link OAuthSecretContract}); `source` keeps every member's text for the pending value. */
export interface OAuthCredential {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly tokenEndpoint?: string;
  readonly issuer?: string;
  readonly authMethod: OAuthAuthMethod;
  readonly scope?: string;
  readonly audience?: string;
  readonly refreshToken?: string;
  readonly accessToken?: string;
  readonly expiresAt?: number;
  readonly adminSecretArn?: string;
  readonly privateKey?: string;
  readonly keyId?: string;
  readonly registrationAccessToken?: string;
  readonly source: SecretObject;
}

/** The longest string field accepted; tokens and PEM keys are a few KB. */
const MAX_FIELD_LENGTH = 16_384;

/**
 * Parses an OAuth secret, naming a bad field without echoing any value. The JSON is untrusted: every field the handler
 * sends somewhere is a bounded string without control characters (a CR/LF would split an HTTP header).
 */
export function parseOAuthSecret(value: string, role: SecretRole): OAuthCredential {
  const source = parseSecretObject(value, role);
  const o = source.fields;
  const str = (field: string, required: boolean): string | undefined => {
    const v = o[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw new InvalidSecretValueError(role, `${field} must be a non-empty string`);
    if (v.length > MAX_FIELD_LENGTH) throw new InvalidSecretValueError(role, `${field} must be at most ${MAX_FIELD_LENGTH} characters`);
    // a PEM key has line breaks; no other field may
    if (field === F.PRIVATE_KEY ? /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(v) : hasControlCharacter(v)) {
      throw new InvalidSecretValueError(role, `${field} must not contain control characters`);
    }
    return v;
  };
  const tokenEndpoint = str(F.TOKEN_ENDPOINT, false);
  const issuer = str(F.ISSUER, false);
  if ((tokenEndpoint === undefined) === (issuer === undefined)) {
    throw new InvalidSecretValueError(role, `exactly one of ${F.TOKEN_ENDPOINT} and ${F.ISSUER} is required`);
  }
  const clientSecret = str(F.CLIENT_SECRET, false);
  const privateKey = str(F.PRIVATE_KEY, false);
  const methods = Object.values(OAUTH_AUTH_METHODS) as string[];
  const declared = str(F.AUTH_METHOD, false);
  if (declared !== undefined && !methods.includes(declared)) {
    throw new InvalidSecretValueError(role, `${F.AUTH_METHOD} must be one of ${methods.join(', ')}`);
  }
  const authMethod = (declared ?? (clientSecret ? OAUTH_AUTH_METHODS.CLIENT_SECRET_BASIC : OAUTH_AUTH_METHODS.NONE)) as OAuthAuthMethod;
  if ((authMethod === OAUTH_AUTH_METHODS.CLIENT_SECRET_BASIC || authMethod === OAUTH_AUTH_METHODS.CLIENT_SECRET_POST) && !clientSecret) {
    throw new InvalidSecretValueError(role, `${F.CLIENT_SECRET} is required for ${F.AUTH_METHOD} ${authMethod}`);
  }
  if (authMethod === OAUTH_AUTH_METHODS.PRIVATE_KEY_JWT && !privateKey) {
    throw new InvalidSecretValueError(role, `${F.PRIVATE_KEY} is required for ${F.AUTH_METHOD} ${authMethod}`);
  }
  const expires = o[F.EXPIRES_AT];
  if (expires !== undefined && (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 0)) {
    throw new InvalidSecretValueError(role, `${F.EXPIRES_AT} must be a non-negative integer (seconds since the epoch)`);
  }
  const scope = str(F.SCOPE, false);
  if (scope !== undefined && !/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(scope)) {
    throw new InvalidSecretValueError(role, `${F.SCOPE} must be scope tokens separated by single spaces`);
  }
  return {
    clientId: str(F.CLIENT_ID, true)!,
    clientSecret,
    tokenEndpoint,
    issuer,
    authMethod,
    scope,
    audience: str(F.AUDIENCE, false),
    refreshToken: str(F.REFRESH_TOKEN, false),
    accessToken: str(F.ACCESS_TOKEN, false),
    expiresAt: expires as number | undefined,
    adminSecretArn: str(F.ADMIN_SECRET_ARN, false),
    privateKey,
    keyId: str(F.KEY_ID, false),
    registrationAccessToken: str(F.REGISTRATION_ACCESS_TOKEN, false),
    source,
  };
}

/**
 * Confused-deputy guard of every OAuth step: pending must name the same client at the same provider, authenticating the
 * same way, with the same admin secret. Only the credential the engine rotates may differ.
 */
export function sameClient(current: OAuthCredential, pending: OAuthCredential): string | undefined {
  if (pending.clientId !== current.clientId) return 'pending and current name different clients';
  if (pending.tokenEndpoint !== current.tokenEndpoint) return 'pending and current name different token endpoints';
  if (pending.issuer !== current.issuer) return 'pending and current name different issuers';
  if (pending.authMethod !== current.authMethod) return 'pending and current authenticate differently';
  if (pending.adminSecretArn !== current.adminSecretArn) return 'pending and current name different admin secrets';
  if (pending.scope !== current.scope || pending.audience !== current.audience) return 'pending and current ask for different scopes or audiences';
  return undefined;
}
