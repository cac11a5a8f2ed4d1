import { oauthRefreshToken } from '../engines/oauth-refresh-token';
import { createRotationHandler } from '../kit/protocol';

/** Rotates an OAuth 2.0 refresh token: one refresh exchange per rotation, its result stored at once. */
export const handler = createRotationHandler(oauthRefreshToken);
