import { DOCUMENTDB_FAMILY } from './documentdb';
import { EngineFamily } from './engine-family';
import { MARIADB_FAMILY } from './mariadb';
import { MYSQL_FAMILY } from './mysql';
import { POSTGRES_FAMILY } from './postgres';
import { REDSHIFT_FAMILY } from './redshift';
import { BundledEngineFamily } from '../../private/contract';

/**
 * The construct side of every family that has a bundled engine. Typed over the registry's families, so a registry entry
 * of a family without its file here fails the compile.
 */
export const ENGINE_FAMILIES: { readonly [family in BundledEngineFamily]: EngineFamily } = {
  postgres: POSTGRES_FAMILY,
  mysql: MYSQL_FAMILY,
  mariadb: MARIADB_FAMILY,
  redshift: REDSHIFT_FAMILY,
  documentdb: DOCUMENTDB_FAMILY,
};
