import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PostgresRotationFixture, functionArn } from '../support/postgres-rotation-fixture';

/** What only the alternating-users scheme does; the shared protocol is in the conformance suite (conformance/). */
const ID = 'postgres-multi-user';
const ARN = functionArn(ID);
let f: PostgresRotationFixture;
let masterArn: string;
let masterPassword: string;

beforeAll(async () => {
  f = await PostgresRotationFixture.start();
  ({ arn: masterArn, password: masterPassword } = await f.createMaster());
});

afterAll(async () => {
  await f?.stop();
});

/** An application role owning a table, and its secret. */
async function newApp(extra: Record<string, unknown> = {}, adminOption = true): Promise<{ arn: string; username: string; table: string }> {
  const username = f.unique('svc_');
  const password = f.canary();
  await f.createRole(username, password);
  if (adminOption) await f.grantAdminOption(username, 'rotation_master');
  const table = `data_${username}`;
  await f.pg.query(`CREATE TABLE ${table} (v int)`);
  await f.pg.query(`GRANT SELECT ON ${table} TO ${username}`);
  const arn = await f.createSecret(f.secretJson(username, password, { masterarn: masterArn, ...extra }));
  return { arn, username, table };
}

async function lastStepLine(arn: string): Promise<Record<string, unknown> | undefined> {
  return f.capture.stepLines.reverse().find((l) => l.secretArn === arn);
}

/** Revokes the clone's membership as granted by the master (PostgreSQL 16+ tracks grants per grantor). */
async function revokeClone(username: string): Promise<void> {
  await f.pg.query(`REVOKE ${username} FROM ${username}_clone GRANTED BY rotation_master`);
}

async function isMember(clone: string, original: string): Promise<boolean> {
  const [row] = await f.pg.query<{ m: boolean }>('SELECT pg_has_role($1::text, $2::text, \'USAGE\') AS m', [clone, original]);
  return row.m;
}

describe('postgres-multi-user', () => {
  test('users alternate; the previous user works until the next rotation\'s setSecret', async () => {
    const { arn, username } = await newApp();
    const original = await f.value(arn);

    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const first = await f.value(arn);
    expect(first.username).toBe(`${username}_clone`);
    expect(await isMember(first.username, username)).toBe(true);
    expect(await f.login(first)).toBe(true);
    expect(await f.login(original)).toBe(true);

    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const second = await f.value(arn);
    expect(second.username).toBe(username);
    expect(await f.login(second)).toBe(true);
    // AWSPREVIOUS is now the clone, still valid; the original's old password was replaced in this setSecret
    expect(await f.value(arn, { stage: 'AWSPREVIOUS' })).toEqual(first);
    expect(await f.login(first)).toBe(true);
    expect(await f.login(original)).toBe(false);
  });

  test('the clone reads what the original may read; the probe can prove it', async () => {
    const { arn, table } = await newApp();
    process.env.ROTATION_PROBE_QUERY = `SELECT count(*) FROM ${table}`;
    try {
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    } finally {
      delete process.env.ROTATION_PROBE_QUERY;
    }
  });

  test('privileges are re-granted on every rotation that sets the clone (invariant 15)', async () => {
    const { arn, username } = await newApp();
    await f.rotate(arn, ARN);
    await f.rotate(arn, ARN);
    // someone revoked the clone's membership while the original was current
    await revokeClone(username);
    expect(await isMember(`${username}_clone`, username)).toBe(false);
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect((await f.value(arn)).username).toBe(`${username}_clone`);
    expect(await isMember(`${username}_clone`, username)).toBe(true);
  });

  test('testSecret fails with PRIVILEGES_OUT_OF_SYNC when the clone lost the original\'s privileges', async () => {
    const { arn, username } = await newApp();
    const token = await f.beginManualRotation(arn);
    for (const Step of ['createSecret', 'setSecret']) await f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token });
    await revokeClone(username);
    await expect(f.invoke(ID, { Step: 'testSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC' });
    await expect(f.invoke(ID, { Step: 'finishSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'PRIVILEGES_OUT_OF_SYNC' });
    expect(f.sm.versionStages(arn)[token]).toEqual(['AWSPENDING']);
  });

  describe('an RDS-managed master secret ({username, password} only)', () => {
    async function rdsMaster(tag: string, address: string): Promise<string> {
      const resourceArn = `arn:aws:rds:us-east-1:123456789012:${tag === 'aws:rds:primaryDBInstanceArn' ? 'db' : 'cluster'}:${f.unique('db')}`;
      if (tag === 'aws:rds:primaryDBInstanceArn') f.rds.addInstance({ arn: resourceArn, address, port: f.pg.port });
      else f.rds.addCluster({ arn: resourceArn, address, port: f.pg.port });
      return f.createSecret({ username: 'rotation_master', password: masterPassword }, [{ Key: tag, Value: resourceArn }]);
    }

    test.each(['aws:rds:primaryDBInstanceArn', 'aws:rds:primaryDBClusterArn'])('host and port come from the RDS API (%s)', async (tag) => {
      const rdsMasterArn = await rdsMaster(tag, 'localhost');
      const { arn } = await newApp({ masterarn: rdsMasterArn });
      const calls = f.rds.calls.length;
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
      expect(f.rds.calls.slice(calls).map((c) => c.action)).toContain(
        tag === 'aws:rds:primaryDBInstanceArn' ? 'DescribeDBInstances' : 'DescribeDBClusters');
    });

    test('a master whose database is another host is refused (invariant 11)', async () => {
      const rdsMasterArn = await rdsMaster('aws:rds:primaryDBInstanceArn', 'other-db.internal');
      const { arn, username } = await newApp({ masterarn: rdsMasterArn });
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
      expect(await lastStepLine(arn)).toMatchObject({ errorCode: 'CONFUSED_DEPUTY' });
      expect(await f.pg.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${username}_clone`])).toEqual([]);
    });
  });

  describe('refusals', () => {
    test('a master secret naming another host is refused before logging in', async () => {
      const otherMaster = await f.createSecret({ ...f.secretJson('rotation_master', masterPassword), host: '127.0.0.2' });
      const { arn } = await newApp({ masterarn: otherMaster });
      const connections = (await f.pg.authorizedConnections()).length;
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
      expect(await lastStepLine(arn)).toMatchObject({ errorCode: 'CONFUSED_DEPUTY', errorMessage: 'Refusing to rotate: the master secret names another server: the host differs' });
      const masterLogins = (await f.pg.authorizedConnections()).slice(connections).filter((c) => c.user === 'rotation_master');
      expect(masterLogins).toEqual([]);
    });

    test('a master credential that does not log in fails with MASTER_LOGIN_FAILED', async () => {
      const badMaster = await f.createSecret(f.secretJson('rotation_master', f.canary()));
      const { arn } = await newApp({ masterarn: badMaster });
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
      expect(await lastStepLine(arn)).toMatchObject({ errorCode: 'MASTER_LOGIN_FAILED' });
    });

    test('a secret without masterarn cannot start an alternating rotation', async () => {
      const username = f.unique('nomaster_');
      const password = f.canary();
      await f.createRole(username, password);
      const arn = await f.createSecret(f.secretJson(username, password));
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'createSecret' });
      expect(await lastStepLine(arn)).toMatchObject({ errorCode: 'INVALID_SECRET_VALUE', errorMessage: 'The current secret value is invalid: masterarn is required for alternating users' });
    });

    test('a pending value naming another masterarn is refused', async () => {
      const { arn } = await newApp();
      const token = await f.beginManualRotation(arn);
      await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
      const pending = await f.value(arn, { versionId: token });
      const decoy = await f.createSecret(f.secretJson('rotation_master', masterPassword));
      // the pending version is replaced before setSecret: only possible through the same token
      await f.sm.client().send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify({ ...pending, masterarn: decoy }), VersionStages: ['AWSPENDING'] }));
      const token2 = Object.entries(f.sm.versionStages(arn)).find(([, s]) => s.includes('AWSPENDING'))![0];
      await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token2 })).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
    });

    test('when the current user does not log in, setSecret refuses (invariant 11)', async () => {
      const { arn, username } = await newApp();
      await f.setPassword(username, f.canary());
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
      expect(await lastStepLine(arn)).toMatchObject({ errorCode: 'LOGIN_FAILED', errorMessage: 'The current credential does not log in' });
    });

    test('a master without ADMIN OPTION on the original role: MASTER_NOT_PERMITTED on PostgreSQL 16+, enough on 15', async () => {
      const { arn, username } = await newApp({}, false);
      const major = Number(f.pg.version.split('.')[0]);
      const outcome = await f.rotate(arn, ARN);
      if (major >= 16) {
        expect(outcome).toMatchObject({ status: 'failed', step: 'setSecret' });
        expect(await lastStepLine(arn)).toMatchObject({ errorCode: 'MASTER_NOT_PERMITTED' });
        // the transaction rolled back: no clone is left without its privileges
        expect(await f.pg.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${username}_clone`])).toEqual([]);
      } else {
        expect(outcome).toMatchObject({ status: 'succeeded' });
      }
    });

    test('a clone name over 63 bytes is refused with the limit in the message', async () => {
      const username = 'u'.repeat(58);
      const password = f.canary();
      await f.createRole(username, password);
      const arn = await f.createSecret(f.secretJson(username, password, { masterarn: masterArn }));
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'createSecret' });
      expect(String((await lastStepLine(arn))?.errorMessage)).toContain('would exceed 63 bytes');
    });
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
