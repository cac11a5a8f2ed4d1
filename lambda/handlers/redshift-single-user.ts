import { redshift } from '../engines/redshift';
import { singleUser } from '../kit/database';
import { createRotationHandler } from '../kit/protocol';

/** Rotates the password of the Amazon Redshift user in the secret, which changes its own password. */
export const handler = createRotationHandler(singleUser(redshift));
