import { mariadb } from '../engines/mariadb';
import { singleUser } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates a MariaDB user's own password. */
export const handler = createRotationHandler(singleUser(mariadb));
