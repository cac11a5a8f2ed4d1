import { randomUUID } from 'crypto';
import { REDSHIFT_CLUSTER_TAG, REDSHIFT_SERVERLESS_TAG, RDS_INSTANCE_TAG } from '../../lambda/kit/master-secret';
import { REDSHIFT_CONFORMANCE, RedshiftConformanceServer } from '../support/redshift-conformance-server';
import { RotationFixture, functionArn } from '../support/rotation-fixture';

/**
 * The shipped `redshift-multi-user` bundle with a Redshift-managed admin secret as `masterarn` (`{username, password}`
 * only, tagged by Redshift with its cluster or Serverless namespace): host and port come from the Redshift or Redshift
 * Serverless API (the local endpoint, through the real SDK clients the Lambda runtime has), and the master's session is
 * opened there. The database is PostgreSQL set up as Redshift (md5 logins, Redshift's SVV privilege views), so the
 * whole alternating-users rotation runs: the clone is created with the original's privileges, then the pair swings back.
 */

const ID = 'redshift-multi-user';
const ARN = functionArn(ID);
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
let f: RotationFixture<RedshiftConformanceServer>;

beforeAll(async () => {
  f = await RotationFixture.startOn(REDSHIFT_CONFORMANCE);
}, 180_000);

afterAll(async () => {
  await f?.stop();
});

/** The admin user of the "cluster" and its secret as Redshift manages it: username and password only, and one tag. */
async function managedAdmin(tag: string, value: string): Promise<{ arn: string; username: string }> {
  const username = f.unique('rs_admin_');
  const password = f.canary();
  await f.server.createMaster(username, password);
  return { arn: await f.createSecret({ username, password }, [{ Key: tag, Value: value }]), username };
}

/** A provisioned cluster whose endpoint is the test server (or `address`), and its Redshift-managed admin secret. */
async function clusterAdmin(address = 'localhost'): Promise<{ arn: string; username: string; identifier: string }> {
  const identifier = f.unique('warehouse-');
  f.redshift.addCluster({ identifier, address, port: f.server.port });
  return { ...await managedAdmin(REDSHIFT_CLUSTER_TAG, `arn:aws:redshift:${REGION}:${ACCOUNT}:cluster:${identifier}`), identifier };
}

/** A Serverless namespace whose workgroup's endpoint is the test server, and its Redshift-managed admin secret. */
async function namespaceAdmin(): Promise<{ arn: string; username: string }> {
  const name = f.unique('analytics-ns-');
  const namespaceArn = `arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:namespace/${randomUUID()}`;
  f.redshift.addNamespace({ arn: namespaceArn, name });
  f.redshift.addWorkgroup({ name: f.unique('analytics-wg-'), namespaceName: name, address: 'localhost', port: f.server.port });
  return managedAdmin(REDSHIFT_SERVERLESS_TAG, namespaceArn);
}

async function lastStepLine(arn: string): Promise<Record<string, unknown> | undefined> {
  return f.capture.stepLines.reverse().find((l) => l.secretArn === arn);
}

/** The logins the server accepted for `user` since `from` logins. */
async function loginsOf(user: string, from: number): Promise<Array<{ user: string; database: string; ssl: boolean }>> {
  return (await f.server.authorizedConnections()).slice(from).filter((c) => c.user === user);
}

describe('a Redshift-managed admin secret as masterarn', () => {
  test('of a provisioned cluster: DescribeClusters gives host and port, the admin creates the clone there, then the pair swings back', async () => {
    const admin = await clusterAdmin();
    const app = await f.createUser({ masterarn: admin.arn });
    const [calls, logins] = [f.redshift.calls.length, (await f.server.authorizedConnections()).length];

    expect(await f.rotate(app.arn, ARN)).toMatchObject({ status: 'succeeded' });
    const first = await f.value(app.arn);
    expect(first.username).toBe(`${app.username}_clone`);
    expect(await f.login(first)).toBe(true);
    expect(await f.login({ username: app.username, password: app.password })).toBe(true);
    // the clone holds what the original holds (the conformance server reads PostgreSQL's catalogs, not the views)
    const users = await f.server.users();
    expect(users[first.username].privileges.filter((p) => !p.startsWith('login=')))
      .toEqual(users[app.username].privileges.filter((p) => !p.startsWith('login=')));

    expect(await f.rotate(app.arn, ARN)).toMatchObject({ status: 'succeeded' });
    const second = await f.value(app.arn);
    expect(second.username).toBe(app.username);
    expect(await f.login(second)).toBe(true);

    const described = f.redshift.callsOf('DescribeClusters', calls);
    expect(described.length).toBeGreaterThanOrEqual(2);
    expect(new Set(described.map((c) => c.params.ClusterIdentifier))).toEqual(new Set([admin.identifier]));
    // the admin's sessions were opened on the endpoint the API gave, over verified TLS, in Redshift's default database
    const adminLogins = await loginsOf(admin.username, logins);
    expect(adminLogins.length).toBeGreaterThanOrEqual(2);
    expect(new Set(adminLogins.map((c) => JSON.stringify({ database: c.database, ssl: c.ssl })))).toEqual(new Set([JSON.stringify({ database: 'dev', ssl: true })]));
  });

  test('of a Serverless namespace: ListNamespaces and ListWorkgroups give host and port, and the rotation succeeds', async () => {
    const admin = await namespaceAdmin();
    const app = await f.createUser({ masterarn: admin.arn });
    const [calls, logins] = [f.redshift.calls.length, (await f.server.authorizedConnections()).length];
    expect(await f.rotate(app.arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.login(await f.value(app.arn))).toBe(true);
    expect(f.redshift.callsOf('ListNamespaces', calls).length).toBeGreaterThanOrEqual(1);
    expect(f.redshift.callsOf('ListWorkgroups', calls).length).toBeGreaterThanOrEqual(1);
    expect((await loginsOf(admin.username, logins)).length).toBeGreaterThanOrEqual(1);
  });

  test('a cluster the API does not know: setSecret fails with MASTER_NOT_RESOLVED, the admin never logs in and no clone exists', async () => {
    const username = f.unique('rs_admin_');
    const password = f.canary();
    await f.server.createMaster(username, password);
    const master = await f.createSecret({ username, password }, [{ Key: REDSHIFT_CLUSTER_TAG, Value: `arn:aws:redshift:${REGION}:${ACCOUNT}:cluster:deleted-1` }]);
    const app = await f.createUser({ masterarn: master });
    const logins = (await f.server.authorizedConnections()).length;
    expect(await f.rotate(app.arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(await lastStepLine(app.arn)).toMatchObject({
      errorCode: 'MASTER_NOT_RESOLVED',
      errorMessage: 'Cannot resolve the master credential: no Redshift cluster has the identifier in the master secret\'s tag',
    });
    expect(await loginsOf(username, logins)).toEqual([]);
    expect(await f.server.storedCredentials(`${app.username}_clone`)).toEqual([]);
  });

  test('an endpoint on another host than the application secret\'s is refused before the admin logs in (invariant 11)', async () => {
    const admin = await clusterAdmin('warehouse.other.internal');
    const app = await f.createUser({ masterarn: admin.arn });
    const logins = (await f.server.authorizedConnections()).length;
    expect(await f.rotate(app.arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(await lastStepLine(app.arn)).toMatchObject({ errorCode: 'CONFUSED_DEPUTY' });
    expect(await loginsOf(admin.username, logins)).toEqual([]);
  });

  test('an RDS-managed master secret is refused by the Redshift handler before any RDS call', async () => {
    const dbArn = `arn:aws:rds:${REGION}:${ACCOUNT}:db:${f.unique('db')}`;
    f.rds.addInstance({ arn: dbArn, address: 'localhost', port: f.server.port });
    const admin = await managedAdmin(RDS_INSTANCE_TAG, dbArn);
    const app = await f.createUser({ masterarn: admin.arn });
    const [rdsCalls, logins] = [f.rds.calls.length, (await f.server.authorizedConnections()).length];
    expect(await f.rotate(app.arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    expect(await lastStepLine(app.arn)).toMatchObject({
      errorCode: 'MASTER_NOT_RESOLVED',
      errorMessage: `Cannot resolve the master credential: the master secret is RDS-managed (tag ${RDS_INSTANCE_TAG}); `
        + 'this engine accepts Redshift-managed master secrets, or a master secret with host',
    });
    expect(f.rds.calls.slice(rdsCalls)).toEqual([]);
    expect(await loginsOf(admin.username, logins)).toEqual([]);
  });
});

test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
