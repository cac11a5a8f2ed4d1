import { ERROR_CODES, RotationError, errorName } from './errors';
import { parsePort, parseTlsMode, requireString } from './secret-fields';
import { parseSecretObject } from './secret-json';
import { AWSCURRENT } from './secrets-client';
import type { DatabaseCredential, DatabaseLogin, SecretObject, StepContext } from './types';
import { TLS_MODES } from '../../src/private/contract';
import type { TlsMode } from '../../src/private/contract';

/** Tags RDS puts on the master secrets it manages; they name the instance or cluster. */
export const RDS_INSTANCE_TAG = 'aws:rds:primaryDBInstanceArn';
export const RDS_CLUSTER_TAG = 'aws:rds:primaryDBClusterArn';

/**
 * The master login for alternating users. A master secret may be a full database secret, or an RDS-managed
 * secret that holds only `{username, password}`: then host and port come from the RDS API.
 *
 * Nothing of the session comes from the application secret alone: the database is the master secret's (else the
 * engine's default, never the application's, which its user may own), and TLS is the stricter of the two secrets.
 */
export async function resolveMaster(target: DatabaseCredential, ctx: StepContext, defaultDbname: string | undefined): Promise<DatabaseLogin> {
  const arn = target.masterarn!;
  const value = await ctx.secrets.getValue(arn, { stage: AWSCURRENT });
  if (value === undefined) throw notResolved('the master secret has no AWSCURRENT value');
  const { master, source } = parseMaster(value);
  const endpoint = master.host !== undefined
    ? { host: master.host, port: master.port ?? target.port }
    : await rdsEndpoint(arn, ctx);
  return {
    host: endpoint.host,
    port: endpoint.port,
    dbname: master.dbname ?? defaultDbname,
    username: master.username,
    password: master.password,
    tls: stricterTls(master.tls, target.tls),
    source,
  };
}

/** Plaintext only when both sides opt out; a master secret without `tls` verifies. */
export function stricterTls(a: TlsMode, b: TlsMode): TlsMode {
  return a === TLS_MODES.DISABLED && b === TLS_MODES.DISABLED ? TLS_MODES.DISABLED : TLS_MODES.VERIFY_FULL;
}

interface MasterValue {
  readonly username: string;
  readonly password: string;
  readonly host?: string;
  readonly port?: number;
  readonly dbname?: string;
  readonly tls: TlsMode;
}

function parseMaster(value: string): { master: MasterValue; source: SecretObject } {
  const source = parseSecretObject(value, 'master');
  const o = source.fields;
  const optional = (field: string) => (o[field] === undefined ? undefined : requireString(o, field, 'master'));
  const master = {
    username: requireString(o, 'username', 'master'),
    password: requireString(o, 'password', 'master'),
    host: optional('host'),
    port: parsePort(o.port, 'master'),
    dbname: optional('dbname'),
    tls: parseTlsMode(o.tls, 'master'),
  };
  return { master, source };
}

/** Finds host and port of the instance or cluster that owns an RDS-managed master secret. */
async function rdsEndpoint(masterArn: string, ctx: StepContext): Promise<{ host: string; port: number }> {
  const { tags } = await ctx.secrets.describe(masterArn);
  if (!tags[RDS_INSTANCE_TAG] && !tags[RDS_CLUSTER_TAG]) {
    throw notResolved(`the master secret has no host and no ${RDS_INSTANCE_TAG} or ${RDS_CLUSTER_TAG} tag`);
  }
  const { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } = loadRdsClient();
  const rds = new RDSClient({ maxAttempts: 3 });
  try {
    if (tags[RDS_INSTANCE_TAG]) {
      const out = await ctx.deadline.run('RDS DescribeDBInstances', (abortSignal) =>
        rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: tags[RDS_INSTANCE_TAG] }), { abortSignal }));
      const endpoint = out.DBInstances?.[0]?.Endpoint;
      if (!endpoint?.Address || !endpoint.Port) throw notResolved('the DB instance has no endpoint yet');
      return { host: endpoint.Address, port: endpoint.Port };
    } else {
      const out = await ctx.deadline.run('RDS DescribeDBClusters', (abortSignal) =>
        rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: tags[RDS_CLUSTER_TAG] }), { abortSignal }));
      const cluster = out.DBClusters?.[0];
      if (!cluster?.Endpoint || !cluster.Port) throw notResolved('the DB cluster has no endpoint yet');
      return { host: cluster.Endpoint, port: cluster.Port };
    }
  } catch (err) {
    if (err instanceof RotationError) throw err;
    throw new RotationError(ERROR_CODES.MASTER_NOT_RESOLVED, `RDS lookup of the master secret's database failed: ${errorName(err)}`, err);
  } finally {
    rds.destroy();
  }
}

/**
 * Loaded on this path only: a function that never meets an RDS-managed master never pays the client's load time.
 * A plain require (kept lazy by the bundler, the SDK being external) rather than import(), which would need ES module
 * support wherever the bundle is loaded.
 */
function loadRdsClient(): typeof import('@aws-sdk/client-rds') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-rds');
}

function notResolved(problem: string): RotationError {
  return new RotationError(ERROR_CODES.MASTER_NOT_RESOLVED, `Cannot resolve the master credential: ${problem}`);
}
