import { PostgresRotationFixture, functionArn } from '../support/postgres-rotation-fixture';

/** What only the single-user scheme does; the shared protocol is in the conformance suite (conformance/). */
const ARN = functionArn('postgres-single-user');
let f: PostgresRotationFixture;

beforeAll(async () => {
  f = await PostgresRotationFixture.start();
});

afterAll(async () => {
  await f?.stop();
});

describe('postgres-single-user', () => {
  test('falls back to the previous credential when current no longer logs in (a restored database)', async () => {
    const username = f.unique('restored_');
    const password = f.canary();
    await f.createRole(username, password);
    const arn = await f.createSecret(f.secretJson(username, password));
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'succeeded' });
    const previous = await f.value(arn, { stage: 'AWSPREVIOUS' });
    await f.setPassword(username, previous.password);
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
    await f.setPassword(username, f.canary());
    expect(await f.rotate(arn, ARN)).toMatchObject({ status: 'failed', step: 'setSecret' });
    const line = f.capture.stepLines.reverse().find((l) => l.secretArn === arn && l.step === 'setSecret');
    expect(line).toMatchObject({ errorCode: 'LOGIN_FAILED', errorMessage: 'Neither the current nor the previous credential logs in' });
  });
});

// runs last: everything the file's tests logged or threw is captured by now
test('invariant 10: no password, rotation token or secret JSON in any log line or error message', () => {
  expect(f.capture.stepLines.length).toBeGreaterThan(0);
  expect(f.leaks()).toEqual([]);
});
