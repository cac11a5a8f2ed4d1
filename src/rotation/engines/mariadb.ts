import { EngineFamily, describeRdsDatabasesOfMasterSecrets, familyPasswordPolicy } from './engine-family';
import { ROTATION_SCHEMES } from '../../private/contract';

/** MariaDB on RDS: alternating users resolve RDS-managed master secrets. */
export const MARIADB_FAMILY: EngineFamily = {
  family: 'mariadb',
  displayName: 'MariaDB',
  statements: (scheme) => scheme === ROTATION_SCHEMES.MULTI_USER ? [describeRdsDatabasesOfMasterSecrets()] : [],
  passwordPolicy: () => familyPasswordPolicy('mariadb'),
};
