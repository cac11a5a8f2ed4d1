import { oauthClientSecret } from '../engines/oauth-client-secret';
import { createRotationHandler } from '../kit/protocol';

/** Rotates an OAuth 2.0 client secret at the identity provider, keeping the previous one valid for the overlap. */
export const handler = createRotationHandler(oauthClientSecret);
