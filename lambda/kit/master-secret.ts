import { ERROR_CODES, RotationError, errorName } from './errors';
import { parsePort, parseTlsMode, requireString } from './secret-fields';
import { parseSecretObject } from './secret-json';
import { AWSCURRENT } from './secrets-client';
import type { DatabaseCredential, DatabaseDialect, DatabaseLogin, ManagedMasterKind, SecretObject, StepContext } from './types';
import { TLS_MODES } from '../../src/private/contract';
import type { TlsMode } from '../../src/private/contract';

/** Tags RDS puts on the master secrets it manages (DocumentDB's too); they name the instance or cluster. */
export const RDS_INSTANCE_TAG = 'aws:rds:primaryDBInstanceArn';
export const RDS_CLUSTER_TAG = 'aws:rds:primaryDBClusterArn';
/** Tags Redshift puts on the admin secrets it manages: a provisioned cluster's, a Redshift Serverless namespace's. */
export const REDSHIFT_CLUSTER_TAG = 'aws:redshift:primaryclusterarn';
export const REDSHIFT_SERVERLESS_TAG = 'aws:redshift-serverless:namespacearn';

/** What resolving a master needs of the engine's dialect. */
export type MasterDialect = Pick<DatabaseDialect, 'defaultDbname' | 'managedMasters'>;

/**
 * The master login for alternating users. A master secret may be a full database secret, or a service-managed secret
 * that holds only `{username, password}` (RDS-managed, Redshift-managed): then its tags name the database, and host and
 * port come from that service's API. A managed master of a kind the engine does not accept is refused before any call.
 *
 * Nothing of the session comes from the application secret alone: the database is the master secret's (else the
 * engine's default, never the application's, which its user may own), and TLS is the stricter of the two secrets.
 */
export async function resolveMaster(target: DatabaseCredential, ctx: StepContext, dialect: MasterDialect): Promise<DatabaseLogin> {
  const arn = target.masterarn!;
  const value = await ctx.secrets.getValue(arn, { stage: AWSCURRENT });
  if (value === undefined) throw notResolved('the master secret has no AWSCURRENT value');
  const { master, source } = parseMaster(value);
  const endpoint = master.host !== undefined
    ? { host: master.host, port: master.port ?? target.port }
    : await managedEndpoint(arn, ctx, dialect.managedMasters);
  return {
    host: endpoint.host,
    port: endpoint.port,
    dbname: master.dbname ?? dialect.defaultDbname,
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

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** A tag that names the owner of a managed master secret, and the shape its value (an ARN) must have. */
interface OwnerTag {
  readonly key: string;
  readonly kind: ManagedMasterKind;
  /** Partition, region, account and the resource's id. */
  readonly arn: RegExp;
  readonly find: (owner: OwnerArn, ctx: StepContext) => Promise<Endpoint>;
}

/** The owner's ARN from the tag, once its shape is checked. */
interface OwnerArn {
  readonly arn: string;
  readonly region: string;
  /** The last segment: a DB instance, DB cluster or Redshift cluster identifier, a Serverless namespace id. */
  readonly id: string;
}

/**
 * Partitions are `aws` and `aws-<name>` (`aws-cn`, `aws-us-gov`, `aws-iso-b`, ...). RDS and Redshift identifiers: a
 * letter, then up to 62 letters, digits or hyphens; a Serverless namespace id is a UUID (letters, digits, hyphens).
 */
const OWNER_TAGS: readonly OwnerTag[] = [
  { key: RDS_INSTANCE_TAG, kind: 'rds', arn: arnPattern('rds', 'db:([A-Za-z][A-Za-z0-9-]{0,62})'), find: rdsInstanceEndpoint },
  { key: RDS_CLUSTER_TAG, kind: 'rds', arn: arnPattern('rds', 'cluster:([A-Za-z][A-Za-z0-9-]{0,62})'), find: rdsClusterEndpoint },
  { key: REDSHIFT_CLUSTER_TAG, kind: 'redshift', arn: arnPattern('redshift', 'cluster:([a-z][a-z0-9-]{0,62})'), find: redshiftClusterEndpoint },
  { key: REDSHIFT_SERVERLESS_TAG, kind: 'redshift', arn: arnPattern('redshift-serverless', 'namespace/([A-Za-z0-9-]{1,64})'), find: serverlessEndpoint },
];
/** Longer than any ARN of these kinds; Secrets Manager keeps tag values of at most 256 characters. */
const MAX_ARN_LENGTH = 256;
const KIND_NAMES: Record<ManagedMasterKind, string> = { rds: 'RDS-managed', redshift: 'Redshift-managed' };

/** `arn:<partition>:<service>:<region>:<account>:<resource>`, capturing partition, region, account and the resource's id. */
function arnPattern(service: string, resource: string): RegExp {
  return new RegExp(`^arn:(aws(?:-[a-z]{1,10}){0,3}):${service}:([a-z0-9-]{1,32}):([0-9]{12}):${resource}$`);
}

/**
 * Host and port of the database that owns a managed master secret, found through its tag. The tag's value is an ARN
 * written by the owning service (users cannot write `aws:` tags), but it is read from an API response all the same:
 * its length and shape are checked, and it must name the master secret's own partition, region and account.
 */
async function managedEndpoint(masterArn: string, ctx: StepContext, accepted: readonly ManagedMasterKind[]): Promise<Endpoint> {
  const { arn: secretArn, tags } = await ctx.secrets.describe(masterArn);
  const { owner, value } = ownerOf(tags);
  if (!accepted.includes(owner.kind)) {
    throw notResolved(`the master secret is ${KIND_NAMES[owner.kind]} (tag ${owner.key}); this engine accepts `
      + `${accepted.length > 0 ? accepted.map((k) => `${KIND_NAMES[k]} master secrets`).join(' or ') : 'no managed master secret'}, `
      + 'or a master secret with host');
  }
  const parsed = value.length <= MAX_ARN_LENGTH ? owner.arn.exec(value) : null;
  if (!parsed) throw notResolved(`the ${owner.key} tag of the master secret is not an ARN of the expected form`);
  const [, partition, region, account, id] = parsed;
  const secret = /^arn:(aws(?:-[a-z]{1,10}){0,3}):secretsmanager:([a-z0-9-]{1,32}):([0-9]{12}):secret:/.exec(secretArn);
  if (!secret || secret[1] !== partition || secret[2] !== region || secret[3] !== account) {
    throw notResolved(`the ${owner.key} tag of the master secret names another partition, region or account than the secret`);
  }
  return owner.find({ arn: value, region, id }, ctx);
}

/**
 * The one owner tag of a managed master secret. Keys are compared ignoring case: the services have written these keys
 * in more than one case (`aws:redshift-serverless:namespaceArn`), and no user can write a key starting with `aws:` in
 * any case. Two owners (of different tags) are refused: which database the secret belongs to would be a guess.
 */
function ownerOf(tags: Record<string, string>): { owner: OwnerTag; value: string } {
  const found = Object.entries(tags).flatMap(([key, value]) => {
    const owner = OWNER_TAGS.find((t) => t.key.toLowerCase() === key.toLowerCase());
    return owner ? [{ owner, value }] : [];
  });
  if (found.length === 0) {
    throw notResolved(`the master secret has no host and no tag naming its database (${OWNER_TAGS.map((t) => t.key).join(', ')})`);
  }
  // both RDS tags: the instance's wins, as it always has here
  const keys = found.map((f) => f.owner.key).sort();
  if (keys.length === 2 && keys[0] === RDS_CLUSTER_TAG && keys[1] === RDS_INSTANCE_TAG) return found.find((f) => f.owner.key === RDS_INSTANCE_TAG)!;
  if (found.length > 1) throw notResolved(`the master secret has more than one tag naming its database (${keys.join(', ')})`);
  return found[0];
}

/** RDS takes the ARN as the identifier. */
async function rdsInstanceEndpoint({ arn, region }: OwnerArn, ctx: StepContext): Promise<Endpoint> {
  return rdsCall(region, async (rds, { DescribeDBInstancesCommand }) => {
    const out = await ctx.deadline.run('RDS DescribeDBInstances', (abortSignal) =>
      rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: arn }), { abortSignal }));
    const endpoint = out.DBInstances?.[0]?.Endpoint;
    return checkedEndpoint(endpoint?.Address, endpoint?.Port, 'the DB instance has no endpoint yet');
  });
}

async function rdsClusterEndpoint({ arn, region }: OwnerArn, ctx: StepContext): Promise<Endpoint> {
  return rdsCall(region, async (rds, { DescribeDBClustersCommand }) => {
    const out = await ctx.deadline.run('RDS DescribeDBClusters', (abortSignal) =>
      rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: arn }), { abortSignal }));
    const cluster = out.DBClusters?.[0];
    return checkedEndpoint(cluster?.Endpoint, cluster?.Port, 'the DB cluster has no endpoint yet');
  });
}

type RdsModule = typeof import('@aws-sdk/client-rds');

async function rdsCall(region: string, call: (rds: InstanceType<RdsModule['RDSClient']>, sdk: RdsModule) => Promise<Endpoint>): Promise<Endpoint> {
  const sdk = loadRdsClient();
  const rds = new sdk.RDSClient({ maxAttempts: 3, region });
  try {
    return await call(rds, sdk);
  } catch (err) {
    throw lookupFailed('RDS', err);
  } finally {
    rds.destroy();
  }
}

/** A provisioned cluster: `DescribeClusters` with the identifier from the ARN, its `Endpoint.Address` and `Port`. */
async function redshiftClusterEndpoint({ id, region }: OwnerArn, ctx: StepContext): Promise<Endpoint> {
  const { DescribeClustersCommand, RedshiftClient } = loadRedshiftClient();
  const redshift = new RedshiftClient({ maxAttempts: 3, region });
  try {
    const out = await ctx.deadline.run('Redshift DescribeClusters', (abortSignal) =>
      redshift.send(new DescribeClustersCommand({ ClusterIdentifier: id }), { abortSignal }));
    const cluster = out.Clusters?.[0];
    if (!cluster) throw notResolved('no Redshift cluster has the identifier in the master secret\'s tag');
    return checkedEndpoint(cluster.Endpoint?.Address, cluster.Endpoint?.Port, 'the Redshift cluster has no endpoint yet');
  } catch (err) {
    if (errorName(err) === 'ClusterNotFoundFault') throw notResolved('no Redshift cluster has the identifier in the master secret\'s tag', err);
    throw lookupFailed('Redshift', err);
  } finally {
    redshift.destroy();
  }
}

/**
 * A Redshift Serverless namespace: its name from `ListNamespaces` (the namespace whose ARN is the tag's), then the
 * workgroup of that namespace from `ListWorkgroups`, whose `endpoint` has address and port. Both lists are paged.
 */
async function serverlessEndpoint({ arn, region }: OwnerArn, ctx: StepContext): Promise<Endpoint> {
  const { ListNamespacesCommand, ListWorkgroupsCommand, RedshiftServerlessClient } = loadRedshiftServerlessClient();
  const serverless = new RedshiftServerlessClient({ maxAttempts: 3, region });
  try {
    const namespace = await findInPages(ctx, 'Redshift Serverless ListNamespaces',
      (nextToken, abortSignal) => serverless.send(new ListNamespacesCommand({ nextToken, maxResults: 100 }), { abortSignal }),
      (page) => page.namespaces,
      (n) => n.namespaceArn === arn);
    if (!namespace) throw notResolved('no Redshift Serverless namespace has the ARN in the master secret\'s tag');
    const name = namespace.namespaceName;
    if (!name) throw notResolved('the Redshift Serverless namespace of the master secret has no name');
    const workgroup = await findInPages(ctx, 'Redshift Serverless ListWorkgroups',
      (nextToken, abortSignal) => serverless.send(new ListWorkgroupsCommand({ nextToken, maxResults: 100 }), { abortSignal }),
      (page) => page.workgroups,
      (w) => w.namespaceName === name);
    if (!workgroup) throw notResolved('the Redshift Serverless namespace of the master secret has no workgroup');
    return checkedEndpoint(workgroup.endpoint?.address, workgroup.endpoint?.port, 'the Redshift Serverless workgroup has no endpoint yet');
  } catch (err) {
    throw lookupFailed('Redshift Serverless', err);
  } finally {
    serverless.destroy();
  }
}

/** No account has this many namespaces or workgroups per region; a longer listing is a fault, not a page to wait for. */
const MAX_PAGES = 50;

/** The first item that matches, reading page after page; each page is one call bounded by the deadline. */
async function findInPages<P extends { nextToken?: string }, I>(
  ctx: StepContext,
  what: string,
  fetch: (nextToken: string | undefined, abortSignal: AbortSignal) => Promise<P>,
  items: (page: P) => readonly I[] | undefined,
  match: (item: I) => boolean,
): Promise<I | undefined> {
  const tokens = new Set<string>();
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await ctx.deadline.run(what, (abortSignal) => fetch(nextToken, abortSignal));
    const found = (items(out) ?? []).find(match);
    if (found !== undefined) return found;
    nextToken = out.nextToken || undefined;
    if (nextToken === undefined) return undefined;
    if (tokens.has(nextToken)) throw notResolved(`${what} returned a page token twice`);
    tokens.add(nextToken);
  }
  throw notResolved(`${what} did not end within ${MAX_PAGES} pages`);
}

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** An address and port from an API answer, checked before a master session is opened on them. */
function checkedEndpoint(host: unknown, port: unknown, missing: string): Endpoint {
  if (host === undefined || host === null || host === '' || port === undefined || port === null) throw notResolved(missing);
  if (typeof host !== 'string' || !HOST_NAME.test(host) || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw notResolved('the API answered with an endpoint that is not a host name and port');
  }
  return { host, port };
}

/** A named error keeps its code (a timeout stays TIMEOUT); anything else is the service's error, named by its type only. */
function lookupFailed(service: string, err: unknown): RotationError {
  if (err instanceof RotationError) return err;
  return new RotationError(ERROR_CODES.MASTER_NOT_RESOLVED, `${service} lookup of the master secret's database failed: ${errorName(err)}`, err);
}

/*
 * The clients are loaded on these paths only: a function that never meets a managed master never pays their load time.
 * A plain require (kept lazy by the bundler, the SDK being external) rather than import(), which would need ES module
 * support wherever the bundle is loaded.
 */
function loadRdsClient(): RdsModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-rds');
}

function loadRedshiftClient(): typeof import('@aws-sdk/client-redshift') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-redshift');
}

function loadRedshiftServerlessClient(): typeof import('@aws-sdk/client-redshift-serverless') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-redshift-serverless');
}

function notResolved(problem: string, cause?: unknown): RotationError {
  return new RotationError(ERROR_CODES.MASTER_NOT_RESOLVED, `Cannot resolve the master credential: ${problem}`, cause);
}
