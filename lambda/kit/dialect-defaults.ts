import type { DatabaseDialect } from './types';
import { CLONE_SUFFIX, DATABASE_ENGINE_DEFAULTS, SECRET_ENGINES, defaultPasswordPolicy } from '../../src/private/contract';
import type { DatabaseEngineFamily } from '../../src/private/contract';

/** The fields of a dialect that the registry states for its family. */
export type RegistryDialectFields = Pick<DatabaseDialect,
'family' | 'engines' | 'defaultPort' | 'defaultDbname' | 'maxUsernameLength' | 'usernameLengthUnit' | 'cloneSuffix' | 'defaultPasswordPolicy'>;

/**
 * A family's engine values, port, database, user-name limit, clone suffix and default password policy, from the
 * registry (src/private/contract.ts): every dialect takes them from here, so none restates or drifts from them.
 */
export function registryDialectFields(family: DatabaseEngineFamily): RegistryDialectFields {
  const defaults = DATABASE_ENGINE_DEFAULTS[family];
  return {
    family,
    engines: SECRET_ENGINES[family],
    defaultPort: defaults.port,
    defaultDbname: defaults.dbname,
    maxUsernameLength: defaults.maxUsernameLength,
    usernameLengthUnit: defaults.usernameLengthUnit,
    cloneSuffix: CLONE_SUFFIX,
    defaultPasswordPolicy: defaultPasswordPolicy(defaults.excludeCharacters),
  };
}
