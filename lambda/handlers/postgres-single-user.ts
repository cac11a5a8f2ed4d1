import { postgres } from '../engines/postgres';
import { singleUser } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates a PostgreSQL / Aurora PostgreSQL user's own password. */
export const handler = createRotationHandler(singleUser(postgres));
