import { EngineFamily, describeRdsDatabasesOfMasterSecrets, familyPasswordPolicy } from './engine-family';
import { ROTATION_SCHEMES } from '../../private/contract';

/**
 * PostgreSQL and Aurora PostgreSQL: passwords exclude the registry's PostgreSQL characters (the common ones and `:`);
 * alternating users resolve RDS-managed master secrets.
 */
export const POSTGRES_FAMILY: EngineFamily = {
  family: 'postgres',
  displayName: 'PostgreSQL',
  statements: (scheme) => scheme === ROTATION_SCHEMES.MULTI_USER ? [describeRdsDatabasesOfMasterSecrets()] : [],
  passwordPolicy: () => familyPasswordPolicy('postgres'),
};
