import * as net from 'net';
import {
  CancelRotateSecretCommand, CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { rows } from './rows';
import { DatabaseEngineFamily, ROTATION_SCHEMES, SECRET_ENGINES, bundledEngineSpec } from '../../../src/private/contract';
import type { ConformanceServer } from '../../support/conformance-server';
import { FixtureUser, RotationFixture, functionArn } from '../../support/rotation-fixture';
import { SimulatedCrash, setFaultHook, withEnv } from '../../support/rotation-harness';
import type { TestServerOptions } from '../../support/server-process';

/** An ARN that names a master secret no test reads: steps fail before they would. */
const UNUSED_MASTER = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unused-AbCdEf';
/**
 * Stands for the server's own hostile name (ConformanceServer.sqlInjectionName: SQL for the SQL engines; operators,
 * namespaces and connection-string characters for DocumentDB) in a table built before the server starts.
 */
const SQL_IN_THE_NAME = Symbol('the engine\'s statement syntax in the name');

/**
 * The rotation protocol (docs/rotation.md invariants 1-14, 18) for the bundled engines of one family, every scheme:
 * the shipped bundle, driven by the local Secrets Manager, against a server of its engine over verified TLS: a real one,
 * a stand-in that speaks its protocol (rows.ts STAND_INS), or for DocumentDB, which no machine here can run, the
 * MongoDB wire-protocol test server (test/support/documentdb-server.ts). Called once by `<family>.test.ts`.
 */
export function conformanceSuite(family: DatabaseEngineFamily): void {
  const familyRows = rows().filter((r) => r.family === family);
  test(`${family} has conformance rows`, () => {
    expect(familyRows.map((r) => r.id)).not.toEqual([]);
  });
  if (familyRows.length === 0) return;
  describe.each(familyRows)('$title', (row) => {
    const { id: ID } = row;
    const ARN = functionArn(ID);
    const multiUser = row.scheme === ROTATION_SCHEMES.MULTI_USER;
    let f: RotationFixture;
    let master: FixtureUser | undefined;

    beforeAll(async () => {
      f = await RotationFixture.startOn(row.server, {}, { engine: row.engine });
      if (multiUser) master = await f.createMaster();
    });

    afterAll(async () => {
      await f?.stop();
    });

    afterEach(() => setFaultHook(undefined));

    const stagesOf = (arn: string) => f.stagesOf(arn);
    const versionWith = (arn: string, label: string) => f.versionWith(arn, label);

    /** A user and its secret (with the master for alternating users); returns the secret ARN and the first password. */
    async function newUser(username: string = f.unique('app_'), extra: Record<string, unknown> = {}): Promise<FixtureUser> {
      const user = await f.createUser({ ...(multiUser ? { masterarn: master!.arn } : {}), ...extra }, username);
      if (multiUser) await f.server.prepareMasterFor(username, master!.username);
      return user;
    }

    /**
     * Login outcomes already asked, by the credential and the user's stored password form as the server keeps it. The
     * crash test asks after every statement of every attempt (over a thousand times per row); a login's answer can only
     * change when the stored form does (a password statement ran: the key changes and the server is asked again) or
     * when something else about the account changes, which no handler does (the suite checks every user's stored state
     * and privileges after its rotations).
     */
    const loginOutcomes = new Map<string, boolean>();
    async function logsIn(value: Record<string, any>): Promise<boolean> {
      const stored = await f.server.storedCredentials(value.username);
      const key = JSON.stringify([value.username, value.password, value.dbname ?? null, stored]);
      let known = loginOutcomes.get(key);
      if (known === undefined) {
        known = await f.login(value);
        loginOutcomes.set(key, known);
      }
      return known;
    }

    /** Invariant 1 (single user): current or pending logs in. Invariant 2 (alternating): current logs in. */
    async function invariantHolds(arn: string): Promise<boolean> {
      if (await logsIn(await f.value(arn))) return true;
      if (multiUser) return false;
      const pendingVersion = versionWith(arn, 'AWSPENDING');
      const pending = pendingVersion ? await f.value(arn, { versionId: pendingVersion }).catch(() => undefined) : undefined;
      return pending !== undefined && logsIn(pending);
    }

    /** The users a rotation of `username` may alter: the user, and for alternating users its clone. */
    const touched = (username: string) => (multiUser ? [username, `${username}_clone`] : [username]);
    /** Stored credentials and privileges of every user; `except` those a rotation may alter. */
    const users = (except: string[] = []) => f.server.users(except);

    test('rotates: the new password logs in, the old one is refused, labels move as the service expects', async () => {
      const { arn, password } = await newUser();
      const before = versionWith(arn, 'AWSCURRENT');
      const outcome = await f.rotate(arn, ARN);
      expect(outcome).toMatchObject({ status: 'succeeded', attempts: 1 });

      const current = await f.value(arn);
      const previous = await f.value(arn, { stage: 'AWSPREVIOUS' });
      expect(previous.password).toBe(password);
      expect(current.password).not.toBe(password);
      // invariant 13: the engine's default policy (length, and no character that breaks the engine or a connection string)
      const policy = bundledEngineSpec(ID).passwordPolicy;
      expect(current.password).toHaveLength(policy.passwordLength);
      expect([...current.password].filter((c) => policy.excludeCharacters.includes(c))).toEqual([]);
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

    test.each<[string, string | typeof SQL_IN_THE_NAME]>([
      ['quotes', 'o\'brien "the" user'],
      ['upper case', 'AppUser'],
      ['percent', 'app%user'],
      ['spaces', 'app user'],
      ['non-ASCII', 'ünïcødé_用户'],
      ['the engine\'s statement syntax (SQL, a MongoDB operator) in the name', SQL_IN_THE_NAME],
    ])('usernames with %s rotate, and only that user is altered', async (_what, name) => {
      const username = f.unique(name === SQL_IN_THE_NAME ? f.server.sqlInjectionName : name);
      const bystander = await newUser();
      const { arn } = await newUser(username);
      const others = await users(touched(username));
      expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
      expect(await f.login(await f.value(arn))).toBe(true);
      expect(await f.login(await f.value(arn, { stage: 'AWSPREVIOUS' }))).toBe(multiUser);
      // invariant 12: every other user's stored credential and privileges are unchanged
      expect(await users(touched(username))).toEqual(others);
      expect(await f.login(await f.value(bystander.arn))).toBe(true);
    });

    test('the password is stored only in the server\'s hashed form', async () => {
      const { arn } = await newUser();
      await f.rotate(arn, ARN);
      const { username, password } = await f.value(arn);
      const stored = await f.server.storedCredentials(username);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatch(f.server.storedPasswordForm.pattern);
      expect(stored[0]).not.toContain(password);
    });

    test('RotateImmediately false: testSecret on a temporary AWSPENDING copy of the current value logs in with it; nothing changes', async () => {
      const { arn, username } = await newUser();
      const stages = stagesOf(arn);
      const before = await users();
      const connections = (await f.server.authorizedConnections()).length;
      const out = await f.sm.client().send(new RotateSecretCommand({
        SecretId: arn, RotationLambdaARN: ARN, RotationRules: { ScheduleExpression: 'rate(10 days)' }, RotateImmediately: false,
      }));
      expect(await f.sm.rotationSettled(arn)).toMatchObject({ kind: 'validation', status: 'succeeded', token: out.VersionId });
      const invoked = f.sm.invocations.filter((i) => i.event.SecretId === arn).map((i) => [i.event.Step, i.event.ClientRequestToken]);
      expect(invoked).toEqual([['testSecret', out.VersionId]]);
      expect(f.lastLine(arn)).toMatchObject({ step: 'testSecret', outcome: 'succeeded', action: 'tested' });
      // the current credential really logged in (the copy names the current user, for alternating users too)
      expect((await f.server.authorizedConnections()).slice(connections).map((c) => c.user)).toContain(username);
      expect(stagesOf(arn)).toEqual(stages);
      expect(await users()).toEqual(before);
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
        const statements = f.server.faultPoints(row.scheme, row.family);
        expect(statements.length).toBeGreaterThan(1);
        expect(points).toEqual(expect.arrayContaining(['PutSecretValue', ...statements, 'UpdateSecretVersionStage']));
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
      }, 300_000); // one rotation per fault point, and engines differ in how many statements a rotation runs

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
        const before = await users();
        const writes = () => f.sm.calls.filter((c) => ['PutSecretValue', 'UpdateSecretVersionStage'].includes(c.operation)).length;
        const writesBefore = writes();

        for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).resolves.toBeUndefined();
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: 'no-such-version' })).rejects.toMatchObject({ code: 'UNKNOWN_VERSION' });
          const previousVersion = versionWith(arn, 'AWSPREVIOUS')!;
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: previousVersion })).rejects.toMatchObject({ code: 'NOT_PENDING' });
        }
        expect(stagesOf(arn)).toEqual(stages);
        expect(await users()).toEqual(before);
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
          const before = await users();
          onPendingRead(arn, token, () => {
            f.sm.store.putSecretValue({ SecretId: arn, SecretString: JSON.stringify(f.secretJson('x', f.canary())), VersionStages: ['AWSPENDING'] });
          });
          await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({
            code: 'NOT_PENDING', message: 'The version lost AWSPENDING during the step; the rotation was abandoned or replaced',
          });
          f.sm.faults.clear();
          expect(await users()).toEqual(before);
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
          expect(f.lastLine(arn)).toMatchObject({ step: 'finishSecret', outcome: 'succeeded', action: 'already-current' });
          expect(versionWith(arn, 'AWSCURRENT')).toBe(token);
        });
      });

      test('a secret marked for deletion: every step fails with SECRET_MARKED_FOR_DELETION and nothing changes', async () => {
        const { arn } = await newUser();
        const token = await f.beginManualRotation(arn);
        await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
        await f.sm.client().send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));
        const stages = stagesOf(arn);
        const before = await users();
        for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'SECRET_MARKED_FOR_DELETION' });
        }
        expect(stagesOf(arn)).toEqual(stages);
        expect(await users()).toEqual(before);
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
        const before = await users();
        // the abandoned version lost its last label, so the service no longer lists it
        expect(Object.keys(f.sm.versionStages(arn))).not.toContain(outcome.token);
        for (const Step of ['setSecret', 'testSecret', 'finishSecret']) {
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: outcome.token })).rejects.toMatchObject({ code: 'UNKNOWN_VERSION' });
        }
        expect(await users()).toEqual(before);
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
        const before = await users();
        for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'ROTATION_DISABLED' });
        }
        expect(await users()).toEqual(before);
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
        const restore = withEnv({ ROTATION_PROBE_QUERY: f.server.failingProbe });
        try {
          const outcome = await f.rotate(arn, ARN);
          expect(outcome).toMatchObject({ status: 'failed', step: 'testSecret' });
        } finally {
          restore();
        }
        expect(versionWith(arn, 'AWSCURRENT')).toBe(before);
      });

      test.each<[string, (s: ConformanceServer) => Record<string, unknown>]>([
        ['another user', (s) => ({ username: s.superuser.username })],
        ['another host', () => ({ host: '127.0.0.2' })],
        ['another database', (s) => ({ dbname: s.otherDatabase })],
      ])('pending naming %s is refused without touching the database (invariant 11)', async (_what, change) => {
        const { arn } = await newUser();
        const token = await f.beginManualRotation(arn);
        const current = await f.value(arn);
        const tampered = { ...current, ...change(f.server), password: f.canary() };
        await f.sm.client().send(new PutSecretValueCommand({
          SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify(tampered), VersionStages: ['AWSPENDING'],
        }));
        const before = await users();
        await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
        expect(await users()).toEqual(before);
      });

      test.each([
        ['GetRandomPassword', 'AccessDeniedException', 'createSecret'],
        ['GetSecretValue', 'DecryptionFailure', 'createSecret'],
        ['UpdateSecretVersionStage', 'AccessDeniedException', 'finishSecret'],
      ])('a denied %s (%s) fails %s with ACCESS_DENIED and changes nothing else (invariant 14)', async (operation, error, step) => {
        const { arn, username } = await newUser();
        const before = versionWith(arn, 'AWSCURRENT');
        const others = await users(touched(username));
        const own = await users();
        f.sm.faults.add({ operation, error, when: (input) => operation === 'GetRandomPassword' || input.SecretId === arn, times: 100 });
        try {
          expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step });
        } finally {
          f.sm.faults.clear();
        }
        expect(f.lastLine(arn)).toMatchObject({ errorCode: 'ACCESS_DENIED', causeCode: expect.stringContaining(error) });
        expect(versionWith(arn, 'AWSCURRENT')).toBe(before);
        // a denial before setSecret changes no user; a denied finish leaves only the protocol's own change (pending set)
        expect(await users(step === 'createSecret' ? [] : touched(username))).toEqual(step === 'createSecret' ? own : others);
        expect(await invariantHolds(arn)).toBe(true);
      });

      test('when neither current nor previous logs in, setSecret fails with LOGIN_FAILED', async () => {
        const { arn, username } = await newUser();
        await f.server.setPassword(username, f.canary());
        const outcome = await f.rotate(arn, ARN);
        expect(outcome).toMatchObject({ status: 'failed', step: 'setSecret' });
        expect(f.lastLine(arn, 'setSecret')).toMatchObject({ level: 'ERROR', errorCode: 'LOGIN_FAILED' });
      });

      test('a current value that is not a secret of the engine fails createSecret with INVALID_SECRET_VALUE', async () => {
        const foreign = row.family === 'postgres' ? 'mysql' : 'postgres';
        const arn = await f.createSecret({ engine: foreign, host: 'localhost', username: 'u', password: f.canary() });
        const outcome = await f.rotate(arn, ARN);
        expect(outcome).toMatchObject({ status: 'failed', step: 'createSecret' });
        expect(f.lastLine(arn)).toMatchObject({
          errorCode: 'INVALID_SECRET_VALUE', errorMessage: `The current secret value is invalid: engine must be one of ${SECRET_ENGINES[row.family].join(', ')}`,
        });
      });

      test('a secret without a current value fails createSecret with NO_CURRENT_VALUE', async () => {
        const out = await f.sm.client().send(new CreateSecretCommand({ Name: f.unique('empty-') }));
        const outcome = await f.rotate(out.ARN!, ARN);
        expect(outcome).toMatchObject({ status: 'failed', step: 'createSecret' });
        expect(f.lastLine(out.ARN!)).toMatchObject({ errorCode: 'NO_CURRENT_VALUE' });
      });
    });

    describe('no transport downgrade (invariant 8)', () => {
      /** A server of the row's engine with other TLS settings, stopped when `run` ends. */
      async function withServer<T>(options: TestServerOptions, run: (s: ConformanceServer) => Promise<T>): Promise<T> {
        const other = await f.startServer(row.server, options);
        try {
          return await run(other);
        } finally {
          await other.stop();
        }
      }

      /** A user on `server` and its secret; alternating users name a master no step gets to read. */
      function userOn(server: ConformanceServer, extra: Record<string, unknown> = {}) {
        return f.createUser({ ...(multiUser ? { masterarn: UNUSED_MASTER } : {}), ...extra }, f.unique('tls_'), server);
      }

      async function loginsOf(server: ConformanceServer, user: string, since = 0) {
        return (await server.authorizedConnections()).slice(since).filter((c) => c.user === user);
      }

      test('a certificate for another host name fails with TLS_FAILED and no plaintext login is made', async () => {
        await withServer({ tls: { hostnames: ['db.other.example'], ipAddresses: [] } }, async (other) => {
          const { arn, username } = await userOn(other);
          // the CA is trusted: only the host name is wrong
          const restore = withEnv({ ROTATION_TLS_CA_BUNDLE: other.caCertPath });
          try {
            expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed' });
          } finally {
            restore();
          }
          expect(f.lastLine(arn)).toMatchObject({ errorCode: 'TLS_FAILED' });
          expect(await loginsOf(other, username)).toEqual([]);
        });
      });

      test('a certificate from an untrusted CA fails with TLS_FAILED', async () => {
        await withServer({}, async (untrusted) => {
          const { arn, username } = await userOn(untrusted);
          // ROTATION_TLS_CA_BUNDLE still trusts only the fixture's CA
          expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed' });
          expect(f.lastLine(arn)).toMatchObject({ errorCode: 'TLS_FAILED' });
          expect(await loginsOf(untrusted, username)).toEqual([]);
        });
      });

      test('a server without TLS is refused unless the secret opts out explicitly; never a silent fallback', async () => {
        await withServer({ tls: false }, async (plain) => {
          const { arn, username } = await userOn(plain);
          expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed' });
          expect(f.lastLine(arn)).toMatchObject({ errorCode: 'TLS_FAILED' });
          expect(await loginsOf(plain, username)).toEqual([]);
        });
      });

      test('with tls: disabled in the secret, rotation runs in plaintext', async () => {
        await withServer({ tls: false }, async (plain) => {
          let extra: Record<string, unknown> = { tls: 'disabled' };
          if (multiUser) {
            // the master's transport comes from the master secret: it opts out too
            const masterPassword = f.canary();
            await plain.createMaster('plain_master', masterPassword);
            extra = { ...extra, masterarn: await f.createSecret(f.secretJson('plain_master', masterPassword, { tls: 'disabled' }, plain)) };
          }
          const username = f.unique('plain_');
          const { arn } = await f.createUser(extra, username, plain);
          if (multiUser) await plain.prepareMasterFor(username, 'plain_master');
          expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
          const logins = [...await loginsOf(plain, username), ...await loginsOf(plain, 'plain_master')];
          expect(logins.length).toBeGreaterThan(0);
          expect(logins.every((c) => !c.ssl)).toBe(true);
        });
      });

      test('over TLS every login of the handler uses TLS', async () => {
        const { arn, username } = await newUser();
        const before = (await f.server.authorizedConnections()).length;
        expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
        const logins = (await f.server.authorizedConnections()).slice(before);
        const handlers = logins.filter((c) => [username, `${username}_clone`, master?.username].includes(c.user));
        expect(handlers.length).toBeGreaterThan(0);
        expect(handlers.every((c) => c.ssl)).toBe(true);
      });
    });

    describe('bounded time (invariant 9)', () => {
      test('a database that accepts connections but never answers fails the step with TIMEOUT before the function times out', async () => {
        const sockets: net.Socket[] = [];
        const blackHole = net.createServer((s) => sockets.push(s));
        await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
        const port = (blackHole.address() as net.AddressInfo).port;
        const restore = withEnv({ ROTATION_CALL_TIMEOUT_MS: '500' });
        try {
          const username = f.unique('hang_');
          const arn = await f.createSecret(f.secretJson(username, f.canary(), { port, ...(multiUser ? { masterarn: UNUSED_MASTER } : {}) }));
          const token = await f.beginManualRotation(arn);
          await f.invoke(ID, { Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
          const started = Date.now();
          await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token }, 30_000))
            .rejects.toMatchObject({ code: 'TIMEOUT' });
          expect(Date.now() - started).toBeLessThan(5_000);
          // with less time left than the call timeout, the remaining time is the bound
          process.env.ROTATION_CALL_TIMEOUT_MS = '20000';
          const started2 = Date.now();
          await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token }, 2_500))
            .rejects.toMatchObject({ code: expect.stringMatching(/^(TIMEOUT|DEADLINE_EXCEEDED)$/) });
          expect(Date.now() - started2).toBeLessThan(2_500);
        } finally {
          restore();
          for (const s of sockets) s.destroy();
          await new Promise<void>((resolve) => blackHole.close(() => resolve()));
        }
      });
    });

    describe('the secret JSON is untrusted input (docs/security.md)', () => {
      /** Puts `value` as a new AWSPENDING version (what a writer of the secret can do) and returns its token. */
      async function putPending(arn: string, value: Record<string, unknown>): Promise<string> {
        const out = await f.sm.client().send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(value), VersionStages: ['AWSPENDING'] }));
        return out.VersionId!;
      }

      /** Logins the server accepted for `user` after the first `since`. */
      async function loginsOf(user: string, since: number): Promise<Array<{ database: string; ssl: boolean }>> {
        return (await f.server.authorizedConnections()).slice(since).filter((c) => c.user === user);
      }

      async function connectionCount(): Promise<number> {
        return (await f.server.authorizedConnections()).length;
      }

      /** What a pending value of this scheme names: the same user, or for alternating users the clone. */
      function pendingOf(current: Record<string, unknown>): Record<string, unknown> {
        return multiUser ? { ...current, username: `${current.username}_clone` } : current;
      }

      describe('control characters never reach the driver (invariant 19)', () => {
        if (!multiUser) {
          test.each([
            ['username', { username: 'app\u0000options\u0000-c role=postgres' }],
            ['password', { password: 'secret\u0000' }],
            ['host', { host: 'localhost\n' }],
            ['dbname', { dbname: 'postgres\u0000replication\u0000database' }],
          ])('a %s with a control character is refused at parse; nothing logs in', async (field, change) => {
            const { arn } = await newUser();
            const current = await f.value(arn);
            const before = await connectionCount();
            const token = await putPending(arn, { ...current, ...change });
            await expect(f.invoke(ID, { Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({
              code: 'INVALID_SECRET_VALUE', message: `The pending secret value is invalid: ${field} must not contain control characters`,
            });
            expect((await f.server.authorizedConnections()).slice(before)).toEqual([]);
          });
        }

        if (multiUser) {
          test('a master secret with a control character is refused before the master logs in', async () => {
            const badMaster = await f.createSecret(f.secretJson(master!.username, `${master!.password}\u0000`));
            const { arn } = await newUser(undefined, { masterarn: badMaster });
            const before = await connectionCount();
            expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
            expect(f.lastLine(arn)).toMatchObject({ errorCode: 'INVALID_SECRET_VALUE', errorMessage: 'The master secret value is invalid: password must not contain control characters' });
            expect(await loginsOf(master!.username, before)).toEqual([]);
          });
        }
      });

      if (multiUser) {
        describe('the master\'s session is the master\'s (invariant 19)', () => {
          test('transport comes from the master secret: an application secret with tls disabled does not make the master log in over plaintext', async () => {
            const { arn } = await newUser(undefined, { tls: 'disabled' });
            const before = await connectionCount();
            expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
            const logins = await loginsOf(master!.username, before);
            expect(logins.length).toBeGreaterThan(0);
            expect(logins.every((c) => c.ssl)).toBe(true);
          });

          test('a master secret with tls disabled still verifies TLS while the application secret does (the stricter side)', async () => {
            const plaintextMaster = await f.createSecret(f.secretJson(master!.username, master!.password, { tls: 'disabled' }));
            const { arn } = await newUser(undefined, { masterarn: plaintextMaster });
            const before = await connectionCount();
            expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
            const logins = await loginsOf(master!.username, before);
            expect(logins.length).toBeGreaterThan(0);
            expect(logins.every((c) => c.ssl)).toBe(true);
          });
        });
      }

      describe('transport is bound to AWSCURRENT (invariant 20)', () => {
        test.each(['setSecret', 'testSecret', 'finishSecret'])('a pending version with tls disabled is refused in %s before any login', async (Step) => {
          const { arn } = await newUser();
          const token = await putPending(arn, { ...pendingOf(await f.value(arn)), password: f.canary(), tls: 'disabled' });
          const before = await connectionCount();
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({
            code: 'CONFUSED_DEPUTY', message: 'Refusing to rotate: pending and current name different servers: the TLS setting differs',
          });
          expect((await f.server.authorizedConnections()).slice(before)).toEqual([]);
        });

        if (!multiUser) {
          test('single user: a previous version with tls disabled is never the fallback login (invariant 20)', async () => {
            const { arn, username, password } = await newUser(undefined, { tls: 'disabled' });
            // current now verifies TLS; the database still has the previous password, so only previous would log in
            await f.sm.client().send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(f.secretJson(username, f.canary())) }));
            expect((await f.value(arn, { stage: 'AWSPREVIOUS' })).password).toBe(password);
            const before = await connectionCount();
            expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
            expect(f.lastLine(arn)).toMatchObject({
              errorCode: 'CONFUSED_DEPUTY', errorMessage: 'Refusing to rotate: previous and current name different servers: the TLS setting differs',
            });
            expect(await loginsOf(username, before)).toEqual([]);
          });
        }
      });

      describe('every step that logs in checks its target (invariant 21)', () => {
        let listener: net.Server;
        let port: number;
        let connections = 0;

        beforeAll(async () => {
          listener = net.createServer((socket) => {
            connections++;
            socket.destroy();
          });
          await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
          port = (listener.address() as net.AddressInfo).port;
        });

        afterAll(async () => {
          await new Promise((resolve) => listener.close(resolve));
        });

        test.each(['testSecret', 'finishSecret'])('%s invoked out of order with a pending version on another server logs in nowhere', async (Step) => {
          const { arn } = await newUser();
          const token = await putPending(arn, { ...pendingOf(await f.value(arn)), password: f.canary(), host: '127.0.0.1', port });
          const before = connections;
          await expect(f.invoke(ID, { Step, SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
          expect(connections - before).toBe(0);
          expect(f.sm.versionStages(arn)[token]).toEqual(['AWSPENDING']);
        });

        test('testSecret with a pending version naming another user is refused', async () => {
          const { arn } = await newUser();
          const other = await f.createUser();
          const token = await putPending(arn, { ...(await f.value(arn)), username: other.username, password: other.password });
          const before = await connectionCount();
          await expect(f.invoke(ID, { Step: 'testSecret', SecretId: arn, ClientRequestToken: token })).rejects.toMatchObject({ code: 'CONFUSED_DEPUTY' });
          expect(await loginsOf(other.username, before)).toEqual([]);
        });
      });

      test('fields rotation does not change are carried over exactly as written (invariant 22)', async () => {
        const username = f.unique('exact_');
        const password = f.canary();
        await f.server.createUser(username, password);
        if (multiUser) await f.server.prepareMasterFor(username, master!.username);
        const extra = '"big":123456789012345678901234567890,"version":1.10,"ratio":2.50e-3,"note":"caf\\u00e9","nested":{"n":9007199254740993}';
        const base = JSON.stringify(f.secretJson(username, password, multiUser ? { masterarn: master!.arn } : {}));
        const text = `${base.slice(0, -1)},${extra}}`;
        const arn = (await f.sm.client().send(new CreateSecretCommand({ Name: f.unique('exact-'), SecretString: text }))).ARN!;
        expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
        const rotated = (await f.sm.client().send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!;
        expect(rotated).toContain(extra);
        expect(JSON.parse(rotated).password).not.toBe(password);
      });
    });

    // runs last in the row: everything its tests logged or threw is captured by now
    test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
      expect(f.capture.stepLines.length).toBeGreaterThan(0);
      expect(f.leaks()).toEqual([]);
    });
  });
}
