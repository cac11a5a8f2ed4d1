import { redshift } from '../engines/redshift';
import { alternatingUsers } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates between an Amazon Redshift user and its `_clone`, managed by the master secret's user. */
export const handler = createRotationHandler(alternatingUsers(redshift));
