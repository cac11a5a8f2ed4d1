import { mariadb } from '../engines/mariadb';
import { alternatingUsers } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates between a MariaDB user and its `_clone` (same host, same grants), managed by the master secret's user. */
export const handler = createRotationHandler(alternatingUsers(mariadb));
