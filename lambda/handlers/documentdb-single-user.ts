import { documentdb } from '../engines/documentdb';
import { singleUser } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates the password of the Amazon DocumentDB user in the secret, which changes its own password. */
export const handler = createRotationHandler(singleUser(documentdb));
