import { CancelRotateSecretCommand, CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { FUNCTION_IDS, FunctionId } from '../../src/private/contract';
import { PostgresRotationFixture, functionArn } from '../support/postgres-rotation-fixture';
import { SimulatedCrash, setFaultHook, withEnv } from '../support/rotation-harness';

/**
 * The rotation protocol (docs/rotation.md invariants 1-7, 10-14, 18) for both PostgreSQL schemes: the bundled handlers,
 * driven by the local Secrets Manager, against a real PostgreSQL over verified TLS.
 */
let f: PostgresRotationFixture;
let masterArn: string;

beforeAll(async () => {
  f = await PostgresRotationFixture.start();
  masterArn = (await f.createMaster()).arn;
});

afterAll(async () => {
  await f?.stop();
});

afterEach(() => setFaultHook(undefined));

function stagesOf(arn: string): Record<string, string[]> {
  return f.sm.versionStages(arn);
}

function versionWith(arn: string, label: string): string | undefined {
  return Object.entries(stagesOf(arn)).find(([, s]) => s.includes(label))?.[0];
}

interface Scheme {
  readonly id: FunctionId;
  readonly multiUser: boolean;
}

const SCHEMES: Scheme[] = [
  { id: FUNCTION_IDS.POSTGRES_SINGLE_USER, multiUser: false },
  { id: FUNCTION_IDS.POSTGRES_MULTI_USER, multiUser: true },
];

describe.each(SCHEMES)('$id', ({ id: ID, multiUser }) => {
  const ARN = functionArn(ID);

  /** A role and its secret (with the master for alternating users); returns the secret ARN and the first password. */
  async function newUser(username: string = f.unique('app_')): Promise<{ arn: string; username: string; password: string }> {
    const password = f.canary();
    await f.createRole(username, password);
    if (multiUser) await f.grantAdminOption(username, 'rotation_master');
    const arn = await f.createSecret(f.secretJson(username, password, multiUser ? { masterarn: masterArn } : {}));
    return { arn, username, password };
  }

  /** Invariant 1 (single user): current or pending logs in. Invariant 2 (alternating): current logs in. */
  async function invariantHolds(arn: string): Promise<boolean> {
    if (await f.login(await f.value(arn))) return true;
    if (multiUser) return false;
    const pendingVersion = versionWith(arn, 'AWSPENDING');
    const pending = pendingVersion ? await f.value(arn, { versionId: pendingVersion }).catch(() => undefined) : undefined;
    return pending !== undefined && f.login(pending);
  }

  /** The roles a rotation of `username` may alter: the user, and for alternating users its clone. */
  const touched = (username: string) => (multiUser ? [username, `${username}_clone`] : [username]);

  test('rotates: the new password logs in, the old one is refused, labels move as the service expects', async () => {
    const { arn, password } = await newUser();
    const before = versionWith(arn, 'AWSCURRENT');
    const outcome = await f.rotate(arn, ARN);
    expect(outcome).toMatchObject({ status: 'succeeded', attempts: 1 });

    const current = await f.value(arn);
    const previous = await f.value(arn, { stage: 'AWSPREVIOUS' });
    expect(previous.password).toBe(password);
    expect(current.password).not.toBe(password);
    expect(current.password).toHaveLength(32);
    expect(current.password).not.toMatch(/[/@"'\\:]/);
    expect(current.username).toBe(multiUser ? `${previous.username}_clone` : previous.username);
    expect(await f.login(current)).toBe(true);
    // single user: the old password is gone; alternating users: the previous user keeps working (invariant 2)
    expect(await f.login(previous)).toBe(multiUser);
    // invariant 6: AWSPENDING is gone or on the current version; AWSPREVIOUS on the old current
    expect(versionWith(arn, 'AWSPREVIOUS')).toBe(before);
    const pending = versionWith(arn, 'AWSPENDING');
    expect(pending === undefined || pending === versionWith(arn, 'AWSCURRENT')).toBe(true);
  });

  test('one structured log line per step, each naming the step and its outcome', async () => {
    const { arn } = await newUser();
    const linesBefore = f.capture.stepLines.length;
    await f.rotate(arn, ARN);
    const lines = f.capture.stepLines.slice(linesBefore).filter((l) => l.secretArn === arn);
    expect(lines.map((l) => [l.step, l.outcome, l.action])).toEqual([
      ['createSecret', 'succeeded', 'created'],
      ['setSecret', 'succeeded', multiUser ? 'created' : 'password-changed'],
      ['testSecret', 'succeeded', 'tested'],
      ['finishSecret', 'succeeded', 'promoted'],
    ]);
    for (const l of lines) expect(l).toMatchObject({ level: 'INFO', engine: ID, versionId: expect.any(String) });
  });

  test.each([
    ['quotes', 'o\'brien "the" user'],
    ['upper case', 'AppUser'],
    ['percent', 'app%user'],
    ['spaces', 'app user'],
    ['non-ASCII', 'ünïcødé_用户'],
    ['SQL in the name', 'x"; DROP ROLE postgres; --'],
  ])('usernames with %s rotate, and only that user is altered', async (_what, name) => {
    const username = f.unique(name);
    const bystander = await newUser();
    const { arn } = await newUser(username);
    const others = await f.verifiers(touched(username));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    expect(await f.login(await f.value(arn))).toBe(true);
    expect(await f.login(await f.value(arn, { stage: 'AWSPREVIOUS' }))).toBe(multiUser);
    // invariant 12: every other role's verifier is byte-for-byte unchanged
    expect(await f.verifiers(touched(username))).toEqual(others);
    expect(await f.login(await f.value(bystander.arn))).toBe(true);
  });

  test('the password reaches the server only as a SCRAM verifier', async () => {
    const { arn } = await newUser();
    await f.rotate(arn, ARN);
    const rotated = (await f.value(arn)).username;
    const [row] = await f.pg.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1', [rotated]);
    expect(row.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
  });

  test('RotateImmediately false: testSecret on a temporary AWSPENDING copy of the current value logs in with it; nothing changes', async () => {
    const { arn, username } = await newUser();
    const stages = stagesOf(arn);
    const verifiers = await f.verifiers();
    const connections = (await f.pg.authorizedConnections()).length;
    const out = await f.sm.client().send(new RotateSecretCommand({
      SecretId: arn, RotationLambdaARN: ARN, RotationRules: { ScheduleExpression: 'rate(10 days)' }, RotateImmediately: false,
    }));
    expect(await f.sm.rotationSettled(arn)).toMatchObject({ kind: 'validation', status: 'succeeded', token: out.VersionId });
    const invoked = f.sm.invocations.filter((i) => i.event.SecretId === arn).map((i) => [i.event.Step, i.event.ClientRequestToken]);
    expect(invoked).toEqual([['testSecret', out.VersionId]]);
    const line = f.capture.stepLines.reverse().find((l) => l.secretArn === arn);
    expect(line).toMatchObject({ step: 'testSecret', outcome: 'succeeded', action: 'tested' });
    // the current credential really logged in (the copy names the current user, for alternating users too)
    expect((await f.pg.authorizedConnections()).slice(connections).map((c) => c.user)).toContain(username);
    expect(stagesOf(arn)).toEqual(stages);
    expect(await f.verifiers()).toEqual(verifiers);
  });

  describe('crash after every statement and every Secrets Manager write, then the service retries', () => {
    let points: string[] = [];

    beforeAll(async () => {
      // a clean rotation names every fault point in order
      const { arn } = await newUser();
      const seen: string[] = [];
      setFaultHook((p) => {
        seen.push(p);
      });
      await f.rotate(arn, ARN);
      setFaultHook(undefined);
      points = seen;
    });

    test('the fault points cover every statement and write', () => {
      const statements = multiUser
        ? ['postgres:begin', 'postgres:find-role', 'postgres:create-role', 'postgres:grant-role', 'postgres:commit', 'postgres:check-privileges']
        : ['postgres:format-alter-role', 'postgres:alter-role'];
      expect(points).toEqual(expect.arrayContaining(['PutSecretValue', ...statements, 'postgres:probe', 'UpdateSecretVersionStage']));
    });

    test(`every crash converges, and at every instant ${multiUser ? 'current logs in (invariant 2)' : 'current or pending logs in (invariant 1)'}`, async () => {
      expect(points.length).toBeGreaterThan(5);
      for (let i = 0; i < points.length; i++) {
        const { arn, password } = await newUser();
        let seen = 0;
        let violations = 0;
        let crashed = false;
        setFaultHook(async (p) => {
          // checked at every point of every attempt
          if (!await invariantHolds(arn)) violations++;
          if (!crashed && seen++ === i) {
            crashed = true;
            throw new SimulatedCrash(p);
          }
        });
        const outcome = await f.rotate(arn, ARN);
        setFaultHook(undefined);
        expect({ point: points[i], crashed, status: outcome.status, violations }).toEqual({
          point: points[i], crashed: true, status: 'succeeded', violations: 0,
        });
        expect(outcome.attempts).toBe(2);
        const current = await f.value(arn);
        const previous = await f.value(arn, { stage: 'AWSPREVIOUS' });
        expect(previous.password).toBe(password);
        expect(await f.login(current)).toBe(true);
        expect(await f.login(previous)).toBe(multiUser);
      }
    });

    test('lost PutSecretValue responses never change the stored pending value (invariants 4, 18)', async () => {
      const { arn } = await newUser();
      // every SDK attempt of the first invocation loses its response; createSecret re-reads and finds its value stored
      f.sm.faults.add({ operation: 'PutSecretValue', phase: 'after', error: 'InternalServiceError', times: 3 });
      const outcome = await f.rotate(arn, ARN);
      expect(outcome).toMatchObject({ status: 'succeeded', attempts: 1 });
      const puts = f.sm.calls.filter((c) => c.operation === 'PutSecretValue' && c.input.SecretId === arn);
      expect(puts.length).toBeGreaterThanOrEqual(1);
      // the SDK's own retries resent the same value; the service's retry found it stored and wrote nothing new
      expect(new Set(puts.map((c) => c.input.SecretString)).size).toBe(1);
      expect((await f.value(arn)).password).toBe(JSON.parse(puts[0].input.SecretString).password);
    });

    test.each(['PutSecretValue', 'UpdateSecretVersionStage'])('a %s that takes effect but answers too late is not a failure (invariant 18)', async (operation) => {
      const { arn } = await newUser();
      // the call is applied at once, its answer comes long after the handler's per-call bound has given up on it; the
      // bound stays generous so no other call of the rotation (a TLS login on a busy machine) runs into it
      f.sm.faults.add({ operation, phase: 'after', delay: 12_000, when: (input) => input.SecretId === arn });
      const restore = withEnv({ ROTATION_CALL_TIMEOUT_MS: '4000' });
      let outcome;
      try {
        outcome = await f.rotate(arn, ARN);
      } finally {
        restore();
      }
      expect(outcome).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(f.sm.calls.filter((c) => c.operation === operation && c.input.SecretId === arn)).toHaveLength(1);
      expect(await f.login(await f.value(arn))).toBe(true);
    });

    test('a lost UpdateSecretVersionStage response is recognized as done', async () => {
      const { arn } = await newUser();
      f.sm.faults.add({ operation: 'UpdateSecretVersionStage', phase: 'after', times: 3 });
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(f.sm.calls.filter((c) => c.operation === 'UpdateSecretVersionStage' && c.input.SecretId === arn && c.error).length).toBeGreaterThan(0);
      expect(await f.login(await f.value(arn))).toBe(true);
    });
  });

  describe('steps driven by hand', () => {
    test('duplicate and concurrent steps are idempotent and store one pending value (invariants 4, 7)', async () => {
      const { arn } = await newUser();
      const token = await f.beginManualRotation(arn);
      const ev = (Step: string) => ({ Step, SecretId: arn, ClientRequestToken: token, RotationToken: 'CANARYrotationtokenZz9' });
      f.canaries.add('CANARYrotationtokenZz9');
      await Promise.all([f.invoke(ID, ev('createSecret')), f.invoke(ID, ev('createSecret'))]);
      const pending = await f.value(arn, { versionId: token });
      await f.invoke(ID, ev('createSecret'));
      expect(await f.value(arn, { versionId: token })).toEqual(pending);
      await Promise.all([f.invoke(ID, ev('setSecret')), f.invoke(ID, ev('setSecret'))]);
      await f.invoke(ID, ev('setSecret'));
      expect(await f.login(pending)).toBe(true);
      await Promise.all([f.invoke(ID, ev('testSecret')), f.invoke(ID, ev('testSecret'))]);
      await Promise.all([f.invoke(ID, ev('finishSecret')), f.invoke(ID, ev('finishSecret'))]);
      await f.invoke(ID, ev('finishSecret'));
      expect(versionWith(arn, 'AWSCURRENT')).toBe(token);
      expect(await f.value(arn)).toEqual(pending);
      // the rotation token was passed on to PutSecretValue
      const put = f.sm.calls.find((c) => c.operation === 'PutSecretValue' && c.input.SecretId === arn && !c.error);
      expect(put?.input.RotationToken).toBe('CANARYrotationtokenZz9');
      // the handler never moved AWSPENDING itself (invariant 6)
      const moves = f.sm.calls.filter((c) => c.operation === 'UpdateSecretVersionStage');
      expect(moves.every((c) => c.input.VersionStage === 'AWSCURRENT')).toBe(true);
    });

    if (!multiUser) {
      test('a duplicate setSecret that changes the password while another holds its session: both succeed (invariant 7)', async () => {
        const { arn } = await newUser();
        const token = await f.beginManualRotation(arn);
        await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
        const set = () => f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token });
        let raced = false;
        setFaultHook(async (p) => {
          if (p === 'login-chosen' && !raced) {
            raced = true;
            // the duplicate runs to completion while the first invocation holds a session opened with the old password
            await set();
          }
        });
        await set();
        setFaultHook(undefined);
        expect(raced).toBe(true);
        expect(await f.login(await f.value(arn, { versionId: token }))).toBe(true);
        const actions = f.capture.stepLines.filter((l) => l.secretArn === arn && l.step === 'setSecret').map((l) => l.action);
        // both set the same pending password; the session opened before the change still may
        expect(actions).toEqual(['password-changed', 'password-changed']);
      });
    }

    test('events for a finished token succeed and change nothing; unknown and abandoned tokens throw and change nothing (invariant 5)', async () => {
      const { arn } = await newUser();
      const token = await f.beginManualRotation(arn);
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        await f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token });
      }
      const stages = stagesOf(arn);
      const verifiers = await f.verifiers();
      const writes = () => f.sm.calls.filter((c) => ['PutSecretValue', 'UpdateSecretVersionStage'].includes(c.operation)).length;
      const writesBefore = writes();

      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).resolves.toBeUndefined();
        await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: 'no-such-version' })).rejects.toMatchObject({ code: 'UNKNOWN_VERSION' });
        const previousVersion = versionWith(arn, 'AWSPREVIOUS')!;
        await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: previousVersion })).rejects.toMatchObject({ code: 'NOT_PENDING' });
      }
      expect(stagesOf(arn)).toEqual(stages);
      expect(await f.verifiers()).toEqual(verifiers);
      expect(writes()).toBe(writesBefore);
    });

    describe('AWSPENDING moves between the preamble\'s DescribeSecret and the read of the pending value', () => {
      /** Runs `move` on the store the instant the handler's read of the token's value arrives, before it is answered. */
      function onPendingRead(arn: string, token: string, move: () => void): void {
        let moved = false;
        f.sm.faults.add({
          operation: 'GetSecretValue',
          when: (input) => {
            if (!moved && input.SecretId === arn && input.VersionId === token) {
              moved = true;
              move();
            }
            return false;
          },
        });
      }

      test('replaced by a newer pending version: NOT_PENDING, nothing changes', async () => {
        const { arn } = await newUser();
        const token = await f.beginManualRotation(arn);
        await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
        const verifiers = await f.verifiers();
        onPendingRead(arn, token, () => {
          f.sm.store.putSecretValue({ SecretId: arn, SecretString: JSON.stringify(f.secretJson('x', f.canary())), VersionStages: ['AWSPENDING'] });
        });
        await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({
          code: 'NOT_PENDING', message: 'The version lost AWSPENDING during the step; the rotation was abandoned or replaced',
        });
        f.sm.faults.clear();
        expect(await f.verifiers()).toEqual(verifiers);
      });

      test('finished by a duplicate (AWSCURRENT on the token, AWSPENDING gone): the step succeeds as already-current', async () => {
        const { arn } = await newUser();
        const token = await f.beginManualRotation(arn);
        for (const Step of ['createSecret', 'setSecret', 'testSecret']) await f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token });
        const old = versionWith(arn, 'AWSCURRENT');
        onPendingRead(arn, token, () => {
          f.sm.store.updateSecretVersionStage({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: old });
          f.sm.store.updateSecretVersionStage({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token });
        });
        await f.invoke(ID, { Step: 'finishSecret', SecretId: arn, ClientRequestToken: token });
        f.sm.faults.clear();
        expect(f.capture.stepLines.reverse().find((l) => l.secretArn === arn)).toMatchObject({ step: 'finishSecret', outcome: 'succeeded', action: 'already-current' });
        expect(versionWith(arn, 'AWSCURRENT')).toBe(token);
      });
    });

    test('a secret marked for deletion: every step fails with SECRET_MARKED_FOR_DELETION and nothing changes', async () => {
      const { arn } = await newUser();
      const token = await f.beginManualRotation(arn);
      await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
      await f.sm.client().send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));
      const stages = stagesOf(arn);
      const verifiers = await f.verifiers();
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'SECRET_MARKED_FOR_DELETION' });
      }
      expect(stagesOf(arn)).toEqual(stages);
      expect(await f.verifiers()).toEqual(verifiers);
    });

    test('a token of another secret is unknown here', async () => {
      const a = await newUser();
      const b = await newUser();
      const tokenB = await f.beginManualRotation(b.arn);
      await expect(f.invoke(ID, { Step: 'createSecret', SecretId: a.arn, ClientRequestToken: tokenB })).rejects.toMatchObject({ code: 'UNKNOWN_VERSION' });
    });

    test('a rotation abandoned by a manual PutSecretValue stops, and its late steps change nothing', async () => {
      const { arn } = await newUser();
      const manual = f.canary();
      let abandoned = false;
      setFaultHook(async (p) => {
        if (p === 'PutSecretValue' && !abandoned) {
          abandoned = true;
          // an operator writes a new value while the rotation is between createSecret and setSecret
          await f.sm.client().send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(f.secretJson('x', manual)) }));
        }
      });
      const outcome = await f.rotate(arn, ARN);
      setFaultHook(undefined);
      expect(outcome.status).toBe('abandoned');
      const verifiers = await f.verifiers();
      // the abandoned version lost its last label, so the service no longer lists it
      expect(Object.keys(f.sm.versionStages(arn))).not.toContain(outcome.token);
      for (const Step of ['setSecret', 'testSecret', 'finishSecret']) {
        await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: outcome.token })).rejects.toMatchObject({ code: 'UNKNOWN_VERSION' });
      }
      expect(await f.verifiers()).toEqual(verifiers);
      expect((await f.value(arn)).password).toBe(manual);
    });

    test('a leftover AWSPENDING from a failed rotation is finished by the retry, with the stored value', async () => {
      const { arn } = await newUser();
      const token = await f.beginManualRotation(arn);
      await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
      const stored = await f.value(arn, { versionId: token });
      // the service retries the incomplete rotation with the same token
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        await f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token });
      }
      expect(await f.value(arn)).toEqual(stored);
      expect(await f.login(stored)).toBe(true);
    });

    test('disabled rotation: every step throws and nothing changes', async () => {
      const { arn } = await newUser();
      const token = await f.beginManualRotation(arn);
      await f.sm.client().send(new CancelRotateSecretCommand({ SecretId: arn }));
      const verifiers = await f.verifiers();
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'ROTATION_DISABLED' });
      }
      expect(await f.verifiers()).toEqual(verifiers);
    });

    test('finishSecret refuses a pending value that does not log in (invariant 3)', async () => {
      const { arn } = await newUser();
      const token = await f.beginManualRotation(arn);
      await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
      // setSecret and testSecret skipped: the pending password was never set
      await expect(f.invoke(ID, { Step: 'finishSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'PENDING_TEST_FAILED' });
      expect(versionWith(arn, 'AWSCURRENT')).not.toBe(token);
    });
  });

  describe('refusals', () => {
    test('a failing probe keeps AWSCURRENT where it was (invariant 3)', async () => {
      const { arn } = await newUser();
      const before = versionWith(arn, 'AWSCURRENT');
      process.env.ROTATION_PROBE_QUERY = 'SELECT 1/0';
      try {
        const outcome = await f.rotate(arn, ARN);
        expect(outcome).toMatchObject({ status: 'failed', step: 'testSecret' });
      } finally {
        delete process.env.ROTATION_PROBE_QUERY;
      }
      expect(versionWith(arn, 'AWSCURRENT')).toBe(before);
    });

    test.each([
      ['another user', { username: 'postgres' }],
      ['another host', { host: '127.0.0.2' }],
      ['another database', { dbname: 'template1' }],
    ])('pending naming %s is refused without touching the database (invariant 11)', async (_what, change) => {
      const { arn } = await newUser();
      const token = await f.beginManualRotation(arn);
      const current = await f.value(arn);
      const tampered = { ...current, ...change, password: f.canary() };
      await f.sm.client().send(new PutSecretValueCommand({
        SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify(tampered), VersionStages: ['AWSPENDING'],
      }));
      const verifiers = await f.verifiers();
      await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
      expect(await f.verifiers()).toEqual(verifiers);
    });

    test.each([
      ['GetRandomPassword', 'AccessDeniedException', 'createSecret'],
      ['GetSecretValue', 'DecryptionFailure', 'createSecret'],
      ['UpdateSecretVersionStage', 'AccessDeniedException', 'finishSecret'],
    ])('a denied %s (%s) fails %s with ACCESS_DENIED and changes nothing else (invariant 14)', async (operation, error, step) => {
      const { arn, username } = await newUser();
      const before = versionWith(arn, 'AWSCURRENT');
      const others = await f.verifiers(touched(username));
      const own = await f.verifiers();
      f.sm.faults.add({ operation, error, when: (input) => operation === 'GetRandomPassword' || input.SecretId === arn, times: 100 });
      try {
        expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step });
      } finally {
        f.sm.faults.clear();
      }
      const line = f.capture.stepLines.reverse().find((l) => l.secretArn === arn);
      expect(line).toMatchObject({ errorCode: 'ACCESS_DENIED', causeCode: expect.stringContaining(error) });
      expect(versionWith(arn, 'AWSCURRENT')).toBe(before);
      // a denial before setSecret changes no role; a denied finish leaves only the protocol's own change (pending set)
      expect(await f.verifiers(step === 'createSecret' ? [] : touched(username))).toEqual(step === 'createSecret' ? own : others);
      expect(await invariantHolds(arn)).toBe(true);
    });

    test('when neither current nor previous logs in, setSecret fails with LOGIN_FAILED', async () => {
      const { arn, username } = await newUser();
      await f.setPassword(username, f.canary());
      const outcome = await f.rotate(arn, ARN);
      expect(outcome).toMatchObject({ status: 'failed', step: 'setSecret' });
      const line = f.capture.stepLines.reverse().find((l) => l.secretArn === arn && l.step === 'setSecret');
      expect(line).toMatchObject({ level: 'ERROR', errorCode: 'LOGIN_FAILED' });
    });

    test('a current value that is not a PostgreSQL secret fails createSecret with INVALID_SECRET_VALUE', async () => {
      const arn = await f.createSecret({ engine: 'mysql', host: 'localhost', username: 'u', password: f.canary() });
      const outcome = await f.rotate(arn, ARN);
      expect(outcome).toMatchObject({ status: 'failed', step: 'createSecret' });
      const line = f.capture.stepLines.reverse().find((l) => l.secretArn === arn);
      expect(line).toMatchObject({ errorCode: 'INVALID_SECRET_VALUE', errorMessage: 'The current secret value is invalid: engine must be one of postgres, aurora-postgresql' });
    });

    test('a secret without a current value fails createSecret with NO_CURRENT_VALUE', async () => {
      const out = await f.sm.client().send(new CreateSecretCommand({ Name: f.unique('empty-') }));
      const outcome = await f.rotate(out.ARN!, ARN);
      expect(outcome).toMatchObject({ status: 'failed', step: 'createSecret' });
      const line = f.capture.stepLines.reverse().find((l) => l.secretArn === out.ARN);
      expect(line).toMatchObject({ errorCode: 'NO_CURRENT_VALUE' });
    });
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
