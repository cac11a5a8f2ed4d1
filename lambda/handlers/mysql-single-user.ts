import { mysql } from '../engines/mysql';
import { singleUser } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates a MySQL / Aurora MySQL user's own password. */
export const handler = createRotationHandler(singleUser(mysql));
