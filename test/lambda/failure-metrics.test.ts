import type { FunctionId } from '../../src/private/contract';
import type { ConformanceServer, ConformanceServerFactory } from '../support/conformance-server';
import { MARIADB_CONFORMANCE } from '../support/mariadb-conformance-server';
import { POSTGRES_CONFORMANCE } from '../support/postgres-conformance-server';
import { FixtureUser, RotationFixture, functionArn } from '../support/rotation-fixture';
import { withEnv } from '../support/rotation-harness';

/**
 * The metric records (docs/rotation.md, "What every step writes") the SHIPPED bundles write on real failed and successful rotations
 * against real servers: one `RotationStepFailed` record after each failed step, one `RotationFinished` record after
 * the finishSecret that promoted the pending version, nothing else, and no secret material in any line.
 *
 * Every line the handlers write to stdout is parsed; records are asserted one by one, whole (the `_aws` metadata
 * exactly, except the timestamp, which must lie within the test's own run).
 */

/** Every stdout line from a mark on, parsed: the handlers write nothing but JSON lines there. */
class StdoutLines {
  private text = '';
  private restore?: () => void;

  public start(): void {
    const previous = process.stdout.write;
    const append = (chunk: unknown) => {
      this.text += typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    };
    process.stdout.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      append(chunk);
      return (previous as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    } as typeof process.stdout.write;
    this.restore = () => {
      process.stdout.write = previous;
    };
  }

  public stop(): void {
    this.restore?.();
    this.restore = undefined;
  }

  public mark(): number {
    return this.text.length;
  }

  /** The raw text written since `mark` (for the secret-material check). */
  public textSince(mark: number): string {
    return this.text.slice(mark);
  }

  public since(mark: number): Written {
    const parsed = this.textSince(mark).split('\n').filter((l) => l !== '').map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        // the line itself is not printed: it could hold what the test is looking for
        throw new Error(`stdout line ${i} (${line.length} characters) is not JSON`);
      }
    });
    return new Written(parsed);
  }
}

/** Parsed lines, by kind. */
class Written {
  constructor(public readonly lines: ReadonlyArray<Record<string, unknown>>) {}

  public get records(): Array<Record<string, any>> {
    return this.lines.filter((l) => '_aws' in l);
  }

  public get stepLines(): Array<Record<string, unknown>> {
    return this.lines.filter((l) => typeof l.message === 'string' && l.message.startsWith('rotation step '));
  }

  /** Lines that are neither: none is expected. */
  public get others(): Array<Record<string, unknown>> {
    return this.lines.filter((l) => !('_aws' in l) && !this.stepLines.includes(l));
  }

  public recordsOf(metric: string): Array<Record<string, any>> {
    return this.records.filter((r) => metric in r);
  }
}

const NAMESPACE = 'SecretsPlatform/Rotation';

/** A whole RotationStepFailed record: exactly these members, the metadata exactly, the timestamp within [from, now]. */
function expectStepFailed(record: Record<string, any>, engine: string, errorCode: string, from: number): void {
  const { _aws, ...members } = record;
  expect(members).toEqual({ Engine: engine, ErrorCode: errorCode, RotationStepFailed: 1 });
  expect(_aws).toEqual({
    Timestamp: expect.any(Number),
    CloudWatchMetrics: [{
      Namespace: NAMESPACE,
      Dimensions: [['Engine', 'ErrorCode'], ['Engine'], ['ErrorCode'], []],
      Metrics: [{ Name: 'RotationStepFailed', Unit: 'Count' }],
    }],
  });
  expectTimestampWithin(_aws.Timestamp, from);
}

function expectFinished(record: Record<string, any>, engine: string, from: number): void {
  const { _aws, ...members } = record;
  expect(members).toEqual({ Engine: engine, RotationFinished: 1 });
  expect(_aws).toEqual({
    Timestamp: expect.any(Number),
    CloudWatchMetrics: [{
      Namespace: NAMESPACE,
      Dimensions: [['Engine'], []],
      Metrics: [{ Name: 'RotationFinished', Unit: 'Count' }],
    }],
  });
  expectTimestampWithin(_aws.Timestamp, from);
}

/** A number of milliseconds since the epoch taken while the test ran (not a timing assertion: a bound on the clock). */
function expectTimestampWithin(timestamp: number, from: number): void {
  expect(Number.isInteger(timestamp)).toBe(true);
  expect(timestamp).toBeGreaterThanOrEqual(from);
  expect(timestamp).toBeLessThanOrEqual(Date.now());
}

interface EngineRow {
  readonly family: string;
  readonly single: FunctionId;
  readonly multi: FunctionId;
  readonly server: ConformanceServerFactory;
}

const ROWS: EngineRow[] = [
  { family: 'PostgreSQL', single: 'postgres-single-user', multi: 'postgres-multi-user', server: POSTGRES_CONFORMANCE },
  // no skip when MariaDB is missing: like the conformance suite, a missing server fails the file
  { family: 'MariaDB', single: 'mariadb-single-user', multi: 'mariadb-multi-user', server: MARIADB_CONFORMANCE },
];

describe.each(ROWS)('$family', (row) => {
  let f: RotationFixture;
  let master: FixtureUser;
  const out = new StdoutLines();

  beforeAll(async () => {
    f = await RotationFixture.startOn(row.server);
    // after the fixture's own capture, so it is undone first
    out.start();
    master = await f.createMaster();
  });

  afterAll(async () => {
    out.stop();
    await f?.stop();
  });

  /** Secret material a test made (passwords of current, pending, master): none may be in any line. */
  async function expectNoSecretIn(mark: number, arn: string, token: string, extra: string[] = []): Promise<void> {
    const material = [...extra];
    for (const select of [{ stage: 'AWSCURRENT' }, { versionId: token, stage: 'AWSPENDING' }]) {
      const value = await f.value(arn, select).catch(() => undefined);
      if (typeof value?.password === 'string') material.push(value.password);
    }
    expect(material.length).toBeGreaterThan(0);
    const text = out.textSince(mark);
    expect(material.filter((m) => text.includes(m))).toEqual([]);
  }

  /** A rotation whose steps the test drives (createSecret already done), so each failure is one invocation. */
  async function manualRotation(id: FunctionId, user: FixtureUser): Promise<string> {
    const token = await f.beginManualRotation(user.arn);
    await f.invoke(id, { Step: 'createSecret', SecretId: user.arn, ClientRequestToken: token });
    return token;
  }

  test('single user, a server certificate for another host: one RotationStepFailed record, TLS_FAILED, after the failed step line', async () => {
    const other: ConformanceServer = await f.startServer(row.server, { tls: { hostnames: ['db.other.example'], ipAddresses: [] } });
    try {
      const user = await f.createUser({}, f.unique('tls_'), other);
      const token = await manualRotation(row.single, user);
      // the CA is trusted: only the host name is wrong
      const restore = withEnv({ ROTATION_TLS_CA_BUNDLE: other.caCertPath });
      const from = Date.now();
      const mark = out.mark();
      try {
        await expect(f.invoke(row.single, { Step: 'setSecret', SecretId: user.arn, ClientRequestToken: token }))
          .rejects.toMatchObject({ code: 'TLS_FAILED' });
      } finally {
        restore();
      }
      const written = out.since(mark);
      expect(written.others).toEqual([]);
      expect(written.lines).toHaveLength(2);
      expect(written.lines[0]).toMatchObject({ step: 'setSecret', outcome: 'failed', errorCode: 'TLS_FAILED', secretArn: user.arn });
      expect(written.records).toHaveLength(1);
      expect(written.lines[1]).toBe(written.records[0]);
      expectStepFailed(written.records[0], row.single, 'TLS_FAILED', from);
      await expectNoSecretIn(mark, user.arn, token, [user.password, other.superuser.password]);
    } finally {
      await other.stop();
    }
  });

  test('single user, a certificate from an untrusted CA: one RotationStepFailed record, TLS_FAILED', async () => {
    const untrusted: ConformanceServer = await f.startServer(row.server, {});
    try {
      const user = await f.createUser({}, f.unique('ca_'), untrusted);
      const token = await manualRotation(row.single, user);
      // ROTATION_TLS_CA_BUNDLE still trusts only the fixture server's CA
      const from = Date.now();
      const mark = out.mark();
      await expect(f.invoke(row.single, { Step: 'setSecret', SecretId: user.arn, ClientRequestToken: token }))
        .rejects.toMatchObject({ code: 'TLS_FAILED' });
      const written = out.since(mark);
      expect(written.others).toEqual([]);
      expect(written.records).toHaveLength(1);
      expectStepFailed(written.records[0], row.single, 'TLS_FAILED', from);
      await expectNoSecretIn(mark, user.arn, token, [user.password]);
    } finally {
      await untrusted.stop();
    }
  });

  test('alternating users, a master secret with a wrong password: one RotationStepFailed record, MASTER_LOGIN_FAILED', async () => {
    const wrongPassword = f.canary();
    const badMaster = await f.createSecret(f.secretJson(master.username, wrongPassword));
    const user = await f.createUser({ masterarn: badMaster }, f.unique('mst_'));
    const token = await manualRotation(row.multi, user);
    const from = Date.now();
    const mark = out.mark();
    await expect(f.invoke(row.multi, { Step: 'setSecret', SecretId: user.arn, ClientRequestToken: token }))
      .rejects.toMatchObject({ code: 'MASTER_LOGIN_FAILED' });
    const written = out.since(mark);
    expect(written.others).toEqual([]);
    expect(written.lines).toHaveLength(2);
    expect(written.lines[0]).toMatchObject({ step: 'setSecret', outcome: 'failed', errorCode: 'MASTER_LOGIN_FAILED' });
    expect(written.lines[1]).toBe(written.records[0]);
    expect(written.records).toHaveLength(1);
    expectStepFailed(written.records[0], row.multi, 'MASTER_LOGIN_FAILED', from);
    await expectNoSecretIn(mark, user.arn, token, [user.password, wrongPassword, master.password]);
  });

  test('driven by the service: one RotationStepFailed record per failed attempt, no RotationFinished', async () => {
    const wrongPassword = f.canary();
    const badMaster = await f.createSecret(f.secretJson(master.username, wrongPassword));
    const user = await f.createUser({ masterarn: badMaster }, f.unique('svc_'));
    const invocationsBefore = f.sm.invocations.length;
    const from = Date.now();
    const mark = out.mark();
    const outcome = await f.rotate(user.arn, functionArn(row.multi));
    expect(outcome).toMatchObject({ status: 'failed', step: 'setSecret' });
    const failedInvocations = f.sm.invocations.slice(invocationsBefore).filter((i) => i.event.SecretId === user.arn && i.error !== undefined);
    expect(failedInvocations.length).toBe(outcome.attempts);
    expect(failedInvocations.length).toBeGreaterThan(1);
    const written = out.since(mark);
    expect(written.others).toEqual([]);
    expect(written.recordsOf('RotationFinished')).toEqual([]);
    expect(written.records).toHaveLength(failedInvocations.length);
    for (const record of written.records) expectStepFailed(record, row.multi, 'MASTER_LOGIN_FAILED', from);
    await expectNoSecretIn(mark, user.arn, outcome.token, [user.password, wrongPassword, master.password]);
  });

  test('a successful rotation: exactly one RotationFinished record, after the promoting finishSecret; a late retry adds none', async () => {
    const user = await f.createUser({}, f.unique('ok_'));
    const from = Date.now();
    const mark = out.mark();
    const outcome = await f.rotate(user.arn, functionArn(row.single));
    expect(outcome).toMatchObject({ status: 'succeeded', attempts: 1 });
    const written = out.since(mark);
    expect(written.others).toEqual([]);
    expect(written.stepLines.map((l) => [l.step, l.outcome, l.action])).toEqual([
      ['createSecret', 'succeeded', 'created'],
      ['setSecret', 'succeeded', 'password-changed'],
      ['testSecret', 'succeeded', 'tested'],
      ['finishSecret', 'succeeded', 'promoted'],
    ]);
    expect(written.recordsOf('RotationStepFailed')).toEqual([]);
    expect(written.records).toHaveLength(1);
    expect(written.lines[written.lines.length - 1]).toBe(written.records[0]);
    expectFinished(written.records[0], row.single, from);

    // a late finishSecret for the finished token succeeds as already-current: not a second rotation
    const lateMark = out.mark();
    await f.invoke(row.single, { Step: 'finishSecret', SecretId: user.arn, ClientRequestToken: outcome.token });
    const late = out.since(lateMark);
    expect(late.stepLines).toEqual([expect.objectContaining({ step: 'finishSecret', action: 'already-current' })]);
    expect(late.records).toEqual([]);
    await expectNoSecretIn(mark, user.arn, outcome.token, [user.password]);
  });

  test('a stdout that refuses the metric record does not replace the step\'s error', async () => {
    const wrongPassword = f.canary();
    const badMaster = await f.createSecret(f.secretJson(master.username, wrongPassword));
    const user = await f.createUser({ masterarn: badMaster }, f.unique('full_'));
    const token = await manualRotation(row.multi, user);
    const mark = out.mark();
    const write = process.stdout.write;
    process.stdout.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      if (String(chunk).includes('"_aws"')) throw new Error('EPIPE');
      return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    } as typeof process.stdout.write;
    try {
      await expect(f.invoke(row.multi, { Step: 'setSecret', SecretId: user.arn, ClientRequestToken: token }))
        .rejects.toMatchObject({ name: 'LoginFailedError', code: 'MASTER_LOGIN_FAILED' });
    } finally {
      process.stdout.write = write;
    }
    const written = out.since(mark);
    expect(written.records).toEqual([]);
    expect(written.lines).toEqual([
      expect.objectContaining({ step: 'setSecret', outcome: 'failed', errorCode: 'MASTER_LOGIN_FAILED' }),
      { level: 'WARN', message: 'rotation metric not written', errorName: 'Error' },
    ]);
  });

  // runs last in its block: everything the block's tests wrote or threw is captured by now
  test('invariant 10: no password, rotation token or secret JSON in any line (metric or log) or error', () => {
    expect(f.capture.stepLines.length).toBeGreaterThan(0);
    expect(f.leaks()).toEqual([]);
  });
});
