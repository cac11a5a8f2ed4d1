import { EngineFamily, describeRdsDatabasesOfMasterSecrets, familyPasswordPolicy } from './engine-family';
import { ROTATION_SCHEMES } from '../../private/contract';

/**
 * Amazon DocumentDB (`mongo`, `docdb`): alternating users resolve DocumentDB-managed master secrets, which carry the
 * RDS tags and whose clusters the RDS API describes.
 */
export const DOCUMENTDB_FAMILY: EngineFamily = {
  family: 'documentdb',
  displayName: 'Amazon DocumentDB',
  statements: (scheme) => scheme === ROTATION_SCHEMES.MULTI_USER ? [describeRdsDatabasesOfMasterSecrets()] : [],
  passwordPolicy: () => familyPasswordPolicy('documentdb'),
};
