import { mysql } from '../engines/mysql';
import { alternatingUsers } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates between a MySQL / Aurora MySQL user and its `_clone` (same host, same grants), managed by the master secret's user. */
export const handler = createRotationHandler(alternatingUsers(mysql));
