import { EngineFamily, describeRdsDatabasesOfMasterSecrets, familyPasswordPolicy } from './engine-family';
import { ROTATION_SCHEMES } from '../../private/contract';

/** MySQL and Aurora MySQL: alternating users resolve RDS-managed master secrets. */
export const MYSQL_FAMILY: EngineFamily = {
  family: 'mysql',
  displayName: 'MySQL',
  statements: (scheme) => scheme === ROTATION_SCHEMES.MULTI_USER ? [describeRdsDatabasesOfMasterSecrets()] : [],
  passwordPolicy: () => familyPasswordPolicy('mysql'),
};
