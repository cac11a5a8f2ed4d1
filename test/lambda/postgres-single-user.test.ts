import { PostgresRotationFixture, functionArn } from '../support/postgres-rotation-fixture';

/** What only the single-user scheme does; the shared protocol is in postgres-conformance.test.ts. */
const ARN = functionArn('postgres-single-user');
let f: PostgresRotationFixture;

beforeAll(async () => {
  f = await PostgresRotationFixture.start();
});

afterAll(async () => {
  const leaked = f.capture.leaked(f.secretMaterial());
  await f.stop();
  expect(leaked).toEqual([]);
});

async function setPassword(username: string, password: string): Promise<void> {
  const [{ stmt }] = await f.pg.query<{ stmt: string }>('SELECT format(\'ALTER ROLE %I PASSWORD %L\', $1::text, $2::text) AS stmt', [username, password]);
  await f.pg.query(stmt);
}

describe('postgres-single-user', () => {
  test('falls back to the previous credential when current no longer logs in (a restored database)', async () => {
    const username = f.unique('restored_');
    const password = f.canary();
    await f.createRole(username, password);
    const arn = await f.createSecret(f.secretJson(username, password));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const previous = await f.value(arn, { stage: 'AWSPREVIOUS' });
    await setPassword(username, previous.password);
    expect(await f.login(await f.value(arn))).toBe(false);

    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await f.login(await f.value(arn))).toBe(true);
  });

  test('a previous credential of another user is never used', async () => {
    const username = f.unique('other_prev_');
    const password = f.canary();
    await f.createRole(username, password);
    const arn = await f.createSecret(f.secretJson(username, password));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    // current stops working; the previous version would work but only as itself, so it must not be borrowed
    await setPassword(username, f.canary());
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    const line = f.capture.stepLines.reverse().find((l) => l.secretArn === arn && l.step === 'setSecret');
    expect(line).toMatchObject({ errorCode: 'LOGIN_FAILED', errorMessage: 'Neither the current nor the previous credential logs in' });
  });
});
