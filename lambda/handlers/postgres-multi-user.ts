import { postgres } from '../engines/postgres';
import { alternatingUsers } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates between a PostgreSQL / Aurora PostgreSQL user and its `_clone`, managed by the master secret's user. */
export const handler = createRotationHandler(alternatingUsers(postgres));
