import { documentdb } from '../engines/documentdb';
import { alternatingUsers } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates between an Amazon DocumentDB user and its `_clone`, managed by the master secret's user. */
export const handler = createRotationHandler(alternatingUsers(documentdb));
