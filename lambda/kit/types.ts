/** Types the kit's modules share; kept apart from code so no module imports another only for a type. */

/** Which version a value came from; engines name it in validation errors. */
export type SecretRole = 'current' | 'pending' | 'previous' | 'master';

/** The steps that log in; each checks its target before it does (steps can be invoked out of order). */
export type LoginStep = 'setSecret' | 'testSecret' | 'finishSecret';
