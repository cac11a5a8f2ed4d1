import * as fs from 'fs';
import * as path from 'path';
import { BUNDLED_ENGINES, DatabaseEngineFamily, FunctionId, SECRET_ENGINES } from '../../../src/private/contract';
import type { ConformanceServerFactory, Scheme } from '../../support/conformance-server';
import { bundledFunctionIds } from '../../support/rotation-fixture';

/**
 * The rows of the conformance suite: one per bundled database engine and scheme, from the registry
 * (src/private/contract.ts) and the conformance servers in test/support. Each engine family's rows run in their own
 * test file (`<family>.test.ts` beside this one), so jest spreads the families over its workers.
 */

/**
 * The conformance server of an engine family: `test/support/<family>-conformance-server.ts`, which exports it as
 * CONFORMANCE_SERVER. Adding an engine's test server file is what adds its rows.
 */
function conformanceServer(family: DatabaseEngineFamily): ConformanceServerFactory | undefined {
  const file = path.join(__dirname, '..', '..', 'support', `${family}-conformance-server.ts`);
  if (!fs.existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const server = require(file).CONFORMANCE_SERVER as ConformanceServerFactory | undefined;
  if (server?.family !== family) throw new Error(`${file} must export the ${family} server as CONFORMANCE_SERVER`);
  return server;
}

/**
 * Families without a server of their own on these machines, run against another that speaks their protocol: no MySQL
 * server can run here, so the MySQL handlers rotate `engine: 'mysql'` secrets on MariaDB.
 */
export const STAND_INS: Partial<Record<DatabaseEngineFamily, DatabaseEngineFamily>> = {
  mysql: 'mariadb',
};

/**
 * A family's own conformance server that is another engine's server set up as the family's (no Redshift can run here:
 * its server is a PostgreSQL), naming that engine so the rows' titles say what they ran on.
 */
export type LabelledConformanceServer = ConformanceServerFactory & { readonly runsOn?: string };

/**
 * Rows that fail a case because of their handler, with the failure; they run with CONFORMANCE_HELD_BACK=run and join
 * the suite once they pass every case. A held-back row is never a weakened test.
 */
export const HELD_BACK: Partial<Record<FunctionId, string>> = {
  // MariaDB stands in for MySQL here, and it reports a version above 8.0.13, for which the MySQL dialect changes a
  // user's own password with MySQL-only syntax
  'mysql-single-user': 'on MariaDB, setSecret fails with ER_PARSE_ERROR: SET PASSWORD = ... REPLACE ... is MySQL 8.0.13+ syntax',
};


export interface Row {
  readonly id: FunctionId;
  /** The handler's engine family (its dialect). */
  readonly family: DatabaseEngineFamily;
  readonly scheme: Scheme;
  /** The family of the server it runs against. */
  readonly serverFamily: DatabaseEngineFamily;
  readonly server: ConformanceServerFactory;
  /** The `engine` the secrets name. */
  readonly engine: string;
  readonly title: string;
}

/**
 * One row per bundled engine whose bundle is built and whose family (or stand-in) has a conformance server, unless
 * held back.
 */
export function rows(): Row[] {
  const built = new Set(bundledFunctionIds());
  const registry = Object.entries(BUNDLED_ENGINES) as Array<[FunctionId, { family: DatabaseEngineFamily; scheme: Scheme }]>;
  return registry.flatMap(([id, { family, scheme }]) => {
    const serverFamily = conformanceServer(family) ? family : STAND_INS[family];
    const server = serverFamily ? conformanceServer(serverFamily) : undefined;
    if (!built.has(id) || !serverFamily || !server) return [];
    if (HELD_BACK[id] && process.env.CONFORMANCE_HELD_BACK !== 'run') return [];
    const runsOn = serverFamily === family ? (server as LabelledConformanceServer).runsOn : serverFamily;
    const title = runsOn ? `${id} (on ${runsOn})` : id;
    return [{ id, family, scheme, serverFamily, server, engine: SECRET_ENGINES[family][0], title }];
  });
}
