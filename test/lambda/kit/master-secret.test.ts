import { randomUUID } from 'crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { documentdb } from '../../../lambda/engines/documentdb';
import { mariadb } from '../../../lambda/engines/mariadb';
import { mysql } from '../../../lambda/engines/mysql';
import { postgres } from '../../../lambda/engines/postgres';
import { redshift } from '../../../lambda/engines/redshift';
import { Deadline } from '../../../lambda/kit/deadline';
import { REDSHIFT_CLUSTER_TAG, REDSHIFT_SERVERLESS_TAG, RDS_CLUSTER_TAG, RDS_INSTANCE_TAG, resolveMaster } from '../../../lambda/kit/master-secret';
import { parseSecretObject } from '../../../lambda/kit/secret-json';
import { SecretsClient } from '../../../lambda/kit/secrets-client';
import type { DatabaseCredential, DatabaseDialect, DatabaseLogin, StepContext } from '../../../lambda/kit/types';
import { stopAll } from '../../support/lifecycle';
import { LocalRds } from '../../support/local-rds';
import { LocalRedshift } from '../../support/local-redshift';
import { LocalSecretsManager } from '../../support/local-secrets-manager';
import { localAwsEnvironment } from '../../support/rotation-fixture';
import { withEnv } from '../../support/rotation-harness';

/**
 * The kit's resolution of a managed master secret (`{username, password}` only) through the real SDK v3 clients, over
 * HTTP to the local Secrets Manager, RDS and Redshift endpoints: which tags name the database, which engine accepts
 * which kind, what each API answer may be, and that no master password reaches an error.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
let sm: LocalSecretsManager;
let rds: LocalRds;
let rs: LocalRedshift;
let restoreEnv: () => void;
const canaries = new Set<string>();
/** Every error a resolution threw in this file, for the last test. */
const thrown: unknown[] = [];
let counter = 0;

beforeAll(async () => {
  [sm, rds, rs] = await Promise.all([LocalSecretsManager.start(), LocalRds.start(), LocalRedshift.start()]);
  restoreEnv = withEnv(localAwsEnvironment(sm, rds, rs));
});

afterAll(async () => {
  restoreEnv?.();
  await stopAll([sm, rds, rs].filter((s) => s !== undefined));
});

beforeEach(() => {
  rs.pageSize = 100;
  rs.failures.clear();
  rs.hanging.clear();
});

function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

function ctx(callTimeoutMs?: number): StepContext {
  const deadline = new Deadline(() => 60_000, callTimeoutMs);
  return { secretArn: 'arn', token: 't', deadline, secrets: new SecretsClient(sm.client(), deadline), env: process.env };
}

/** A master secret as the services make them: username and password only, tagged with its owner. */
async function managedMaster(tags: Record<string, string>, extra: Record<string, unknown> = {}): Promise<string> {
  const password = `CANARY${Math.random().toString(36).slice(2, 12)}Zz9`;
  canaries.add(password);
  const out = await sm.client().send(new CreateSecretCommand({
    Name: unique('master-'),
    SecretString: JSON.stringify({ username: 'admin', password, ...extra }),
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  }));
  return out.ARN!;
}

function target(masterarn: string): DatabaseCredential {
  const fields = { engine: 'redshift', host: 'db.internal', port: 5439, dbname: 'app', username: 'app', password: 'unused', tls: 'verify-full' } as const;
  return { ...fields, masterarn, source: parseSecretObject('{}', 'current') };
}

function resolve(masterArn: string, dialect: DatabaseDialect = redshift, callTimeoutMs?: number): Promise<DatabaseLogin> {
  return resolveMaster(target(masterArn), ctx(callTimeoutMs), dialect).catch((err) => {
    thrown.push(err);
    throw err;
  });
}

const clusterArn = (id: string, account = ACCOUNT, region = REGION) => `arn:aws:redshift:${region}:${account}:cluster:${id}`;
const namespaceArn = (id: string) => `arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:namespace/${id}`;
const uuid = () => randomUUID();

/** A namespace with its workgroup, and a managed master secret tagged with it. */
async function serverlessMaster(
  key = REDSHIFT_SERVERLESS_TAG, endpoint: { address?: string; port?: number } = {},
): Promise<{ arn: string; name: string }> {
  const name = unique('ns-');
  const arn = namespaceArn(uuid());
  rs.addNamespace({ arn, name });
  rs.addWorkgroup({ name: unique('wg-'), namespaceName: name, address: `${name}.wg.example`, port: 5440, ...endpoint });
  return { arn: await managedMaster({ [key]: arn }), name };
}

describe('a provisioned cluster (aws:redshift:primaryclusterarn)', () => {
  test('host and port come from DescribeClusters, asked for the identifier in the ARN\'s last segment', async () => {
    const id = unique('analytics-');
    rs.addCluster({ identifier: id, address: `${id}.abc.us-east-1.redshift.amazonaws.com`, port: 5439 });
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(id) });
    const from = rs.calls.length;
    const login = await resolve(master);
    expect(login).toMatchObject({ host: `${id}.abc.us-east-1.redshift.amazonaws.com`, port: 5439, username: 'admin', dbname: 'dev', tls: 'verify-full' });
    expect(rs.calls.slice(from).map((c) => [c.service, c.action, c.params.ClusterIdentifier])).toEqual([['redshift', 'DescribeClusters', id]]);
  });

  test('an unknown cluster (ClusterNotFound) is MASTER_NOT_RESOLVED naming what is missing', async () => {
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(unique('gone-')) });
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: 'Cannot resolve the master credential: no Redshift cluster has the identifier in the master secret\'s tag',
    });
  });

  test('a cluster without an endpoint yet (being created) is MASTER_NOT_RESOLVED', async () => {
    const id = unique('creating-');
    rs.addCluster({ identifier: id });
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(id) });
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: 'Cannot resolve the master credential: the Redshift cluster has no endpoint yet',
    });
  });

  test('an API error is MASTER_NOT_RESOLVED naming the error\'s type only', async () => {
    const id = unique('failing-');
    rs.addCluster({ identifier: id, address: 'x.example', port: 5439 });
    rs.failures.set('DescribeClusters', 'InternalFailure');
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(id) });
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED',
      message: 'Redshift lookup of the master secret\'s database failed: InternalFailure',
      cause: { name: 'RedactedCause' },
    });
  });

  test('a DescribeClusters that never answers fails with TIMEOUT within the step\'s call bound', async () => {
    const id = unique('silent-');
    rs.addCluster({ identifier: id, address: 'x.example', port: 5439 });
    rs.hanging.add('DescribeClusters');
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(id) });
    await expect(resolve(master, redshift, 1500)).rejects.toMatchObject({ code: 'TIMEOUT', message: 'Redshift DescribeClusters did not complete within 1500 ms' });
  });

  test('an endpoint that is not a host name and port is refused before a session is opened on it', async () => {
    const id = unique('odd-');
    rs.addCluster({ identifier: id, address: 'evil.example/../x?y', port: 5439 });
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(id) });
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: 'Cannot resolve the master credential: the API answered with an endpoint that is not a host name and port',
    });
  });
});

describe('a Redshift Serverless namespace (aws:redshift-serverless:namespacearn)', () => {
  test('the namespace is found by ARN, its workgroup by namespace name, each list read over two pages', async () => {
    // first another namespace with the same id in another account, and its workgroup: not the namespace of the tag
    const name = unique('ns-');
    const arn = namespaceArn(uuid());
    const foreign = unique('foreign-ns-');
    rs.addNamespace({ arn: arn.replace(ACCOUNT, '999999999999'), name: foreign });
    rs.addWorkgroup({ name: unique('foreign-wg-'), namespaceName: foreign, address: 'foreign.example', port: 5439 });
    rs.addNamespace({ arn, name });
    rs.addWorkgroup({ name: unique('wg-'), namespaceName: name, address: 'wg.123456789012.us-east-1.redshift-serverless.amazonaws.com', port: 5440 });
    const master = await managedMaster({ [REDSHIFT_SERVERLESS_TAG]: arn });
    rs.pageSize = 1;
    const from = rs.calls.length;
    const login = await resolve(master);
    expect(login).toMatchObject({ host: 'wg.123456789012.us-east-1.redshift-serverless.amazonaws.com', port: 5440, username: 'admin' });
    const namespaces = rs.callsOf('ListNamespaces', from);
    const workgroups = rs.callsOf('ListWorkgroups', from);
    // one item per page: each match is on the second page, and no third page is asked for
    expect([namespaces.length, workgroups.length]).toEqual([2, 2]);
    for (const calls of [namespaces, workgroups]) {
      expect(calls[0].params.nextToken).toBeUndefined();
      expect(calls.slice(1).every((c) => typeof c.params.nextToken === 'string')).toBe(true);
      expect(calls.every((c) => c.service === 'redshift-serverless' && c.params.maxResults === 100)).toBe(true);
    }
  });

  test.each([
    ['aws:redshift-serverless:namespaceArn'],
    ['AWS:Redshift-Serverless:NamespaceArn'],
  ])('the tag key is matched ignoring case (%s)', async (key) => {
    const { arn } = await serverlessMaster(key);
    await expect(resolve(arn)).resolves.toMatchObject({ port: 5440 });
  });

  test('a namespace that no page lists is MASTER_NOT_RESOLVED', async () => {
    const master = await managedMaster({ [REDSHIFT_SERVERLESS_TAG]: namespaceArn(uuid()) });
    rs.pageSize = 2;
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: 'Cannot resolve the master credential: no Redshift Serverless namespace has the ARN in the master secret\'s tag',
    });
  });

  test('a namespace with no workgroup is MASTER_NOT_RESOLVED', async () => {
    const arn = namespaceArn(uuid());
    rs.addNamespace({ arn, name: unique('lonely-ns-') });
    const master = await managedMaster({ [REDSHIFT_SERVERLESS_TAG]: arn });
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: 'Cannot resolve the master credential: the Redshift Serverless namespace of the master secret has no workgroup',
    });
  });

  test('a workgroup without an endpoint is MASTER_NOT_RESOLVED', async () => {
    const { arn } = await serverlessMaster(REDSHIFT_SERVERLESS_TAG, { address: undefined, port: undefined });
    await expect(resolve(arn)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: 'Cannot resolve the master credential: the Redshift Serverless workgroup has no endpoint yet',
    });
  });

  test.each(['ListNamespaces', 'ListWorkgroups'])('an API error in %s is MASTER_NOT_RESOLVED naming the error\'s type only', async (action) => {
    const { arn } = await serverlessMaster();
    rs.failures.set(action, 'InternalServerException');
    await expect(resolve(arn)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: 'Redshift Serverless lookup of the master secret\'s database failed: InternalServerException',
    });
  });

  test('a ListWorkgroups that never answers fails with TIMEOUT', async () => {
    const { arn } = await serverlessMaster();
    rs.hanging.add('ListWorkgroups');
    await expect(resolve(arn, redshift, 1500)).rejects.toMatchObject({ code: 'TIMEOUT', message: 'Redshift Serverless ListWorkgroups did not complete within 1500 ms' });
  });
});

describe('the ARN in a tag is untrusted input', () => {
  const id = 'shape-cluster';
  test.each([
    // Secrets Manager keeps no tag value over 256 characters; an identifier over Redshift's 63 is the longest it can hold
    ['an identifier over 63 characters', REDSHIFT_CLUSTER_TAG, clusterArn(`a${'b'.repeat(63)}`)],
    ['a partition name of 150 characters', REDSHIFT_CLUSTER_TAG, clusterArn(id).replace('arn:aws:', `arn:aws-${'x'.repeat(150)}:`)],
    ['empty', REDSHIFT_CLUSTER_TAG, ''],
    ['another service', REDSHIFT_CLUSTER_TAG, `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${id}`],
    ['a namespace ARN in the cluster tag', REDSHIFT_CLUSTER_TAG, namespaceArn('00000000-aaaa-4bbb-8ccc-dddddddddddd')],
    ['a cluster ARN in the namespace tag', REDSHIFT_SERVERLESS_TAG, clusterArn(id)],
    ['an identifier with a path', REDSHIFT_CLUSTER_TAG, clusterArn(`${id}/../other`)],
    ['an identifier in upper case (Redshift has none)', REDSHIFT_CLUSTER_TAG, clusterArn('Shape-Cluster')],
    ['a trailing newline', REDSHIFT_CLUSTER_TAG, `${clusterArn(id)}\n`],
    ['a second ARN appended', REDSHIFT_CLUSTER_TAG, `${clusterArn(id)},${clusterArn('other')}`],
    ['a partition that is not AWS', REDSHIFT_CLUSTER_TAG, clusterArn(id).replace('arn:aws:', 'arn:evil:')],
  ])('%s: refused before any Redshift call', async (_name, key, value) => {
    rs.addCluster({ identifier: id, address: 'shape.example', port: 5439 });
    const master = await managedMaster({ [key]: value });
    const from = rs.calls.length;
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED', message: `Cannot resolve the master credential: the ${key} tag of the master secret is not an ARN of the expected form`,
    });
    expect(rs.calls.slice(from)).toEqual([]);
  });

  test.each([
    ['another account', clusterArn(id, '999999999999')],
    ['another region', clusterArn(id, ACCOUNT, 'eu-west-1')],
  ])('a cluster in %s than the master secret is refused before any call (a same-named cluster here is another database)', async (_name, value) => {
    rs.addCluster({ identifier: id, address: 'shape.example', port: 5439 });
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: value });
    const from = rs.calls.length;
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED',
      message: `Cannot resolve the master credential: the ${REDSHIFT_CLUSTER_TAG} tag of the master secret names another partition, region or account than the secret`,
    });
    expect(rs.calls.slice(from)).toEqual([]);
  });
});

describe('each engine accepts the managed masters of its own service, and refuses others before any call', () => {
  async function rdsMaster(): Promise<string> {
    const arn = `arn:aws:rds:${REGION}:${ACCOUNT}:db:${unique('db')}`;
    rds.addInstance({ arn, address: 'rds.example', port: 5432 });
    return managedMaster({ [RDS_INSTANCE_TAG]: arn });
  }
  async function redshiftMaster(): Promise<string> {
    const id = unique('kind-');
    rs.addCluster({ identifier: id, address: 'rs.example', port: 5439 });
    return managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(id) });
  }

  test.each([
    ['postgres', postgres], ['mysql', mysql], ['mariadb', mariadb], ['documentdb', documentdb],
  ])('%s: an RDS-managed master resolves through RDS; a Redshift-managed one is refused with no Redshift call', async (_family, dialect) => {
    await expect(resolve(await rdsMaster(), dialect)).resolves.toMatchObject({ host: 'rds.example', port: 5432 });
    const master = await redshiftMaster();
    const [rdsFrom, rsFrom] = [rds.calls.length, rs.calls.length];
    await expect(resolve(master, dialect)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED',
      message: `Cannot resolve the master credential: the master secret is Redshift-managed (tag ${REDSHIFT_CLUSTER_TAG}); `
        + 'this engine accepts RDS-managed master secrets, or a master secret with host',
    });
    expect([rds.calls.slice(rdsFrom), rs.calls.slice(rsFrom)]).toEqual([[], []]);
  });

  test.each([RDS_INSTANCE_TAG, RDS_CLUSTER_TAG])('redshift: an RDS-managed master (%s) is refused with no RDS call', async (key) => {
    const arn = `arn:aws:rds:${REGION}:${ACCOUNT}:${key === RDS_INSTANCE_TAG ? 'db' : 'cluster'}:${unique('db')}`;
    if (key === RDS_INSTANCE_TAG) rds.addInstance({ arn, address: 'rds.example', port: 5432 });
    else rds.addCluster({ arn, address: 'rds.example', port: 5432 });
    const master = await managedMaster({ [key]: arn });
    const [rdsFrom, rsFrom] = [rds.calls.length, rs.calls.length];
    await expect(resolve(master, redshift)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED',
      message: `Cannot resolve the master credential: the master secret is RDS-managed (tag ${key}); this engine accepts Redshift-managed master secrets, or a master secret with host`,
    });
    expect([rds.calls.slice(rdsFrom), rs.calls.slice(rsFrom)]).toEqual([[], []]);
  });

  test('tags naming two databases are refused before any call: which one owns the secret would be a guess', async () => {
    const id = unique('two-');
    rs.addCluster({ identifier: id, address: 'rs.example', port: 5439 });
    const { arn: ns } = await serverlessMaster();
    const master = await managedMaster({ [REDSHIFT_CLUSTER_TAG]: clusterArn(id), [REDSHIFT_SERVERLESS_TAG]: ns });
    const from = rs.calls.length;
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED',
      message: `Cannot resolve the master credential: the master secret has more than one tag naming its database (${REDSHIFT_SERVERLESS_TAG}, ${REDSHIFT_CLUSTER_TAG})`,
    });
    expect(rs.calls.slice(from)).toEqual([]);
  });

  test('both RDS tags (an instance and its cluster): the instance is described, the cluster is not', async () => {
    const instance = `arn:aws:rds:${REGION}:${ACCOUNT}:db:${unique('db')}`;
    const cluster = `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${unique('cl')}`;
    rds.addInstance({ arn: instance, address: 'instance.example', port: 5432 });
    rds.addCluster({ arn: cluster, address: 'cluster.example', port: 5432 });
    const master = await managedMaster({ [RDS_CLUSTER_TAG]: cluster, [RDS_INSTANCE_TAG]: instance });
    const from = rds.calls.length;
    await expect(resolve(master, postgres)).resolves.toMatchObject({ host: 'instance.example' });
    expect(rds.calls.slice(from).map((c) => c.action)).toEqual(['DescribeDBInstances']);
  });

  test('a master without host and without an owner tag names the tags it looked for', async () => {
    const master = await managedMaster({ Team: 'data' });
    await expect(resolve(master)).rejects.toMatchObject({
      code: 'MASTER_NOT_RESOLVED',
      message: `Cannot resolve the master credential: the master secret has no host and no tag naming its database (${RDS_INSTANCE_TAG}, ${RDS_CLUSTER_TAG}, ${REDSHIFT_CLUSTER_TAG}, ${REDSHIFT_SERVERLESS_TAG})`,
    });
  });

  test('a master secret with host is used as written, whatever its tags: no API is asked', async () => {
    const master = await managedMaster({ [RDS_INSTANCE_TAG]: `arn:aws:rds:${REGION}:${ACCOUNT}:db:tagged` }, { host: 'db.internal', port: 5439 });
    const [rdsFrom, rsFrom] = [rds.calls.length, rs.calls.length];
    await expect(resolve(master)).resolves.toMatchObject({ host: 'db.internal', port: 5439 });
    expect([rds.calls.slice(rdsFrom), rs.calls.slice(rsFrom)]).toEqual([[], []]);
  });
});

test('invariant 10: no master password in any error this file saw (message, cause or serialized form)', () => {
  expect(thrown.length).toBeGreaterThan(0);
  const texts = thrown.map((err) => [String(err), JSON.stringify(err), String((err as Error).cause ?? ''), (err as Error).stack ?? ''].join('\n'));
  const leaks = [...canaries].filter((c) => texts.some((t) => t.includes(c)));
  expect(leaks).toEqual([]);
});
