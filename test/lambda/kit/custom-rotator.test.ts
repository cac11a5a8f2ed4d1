import { randomBytes, randomUUID } from 'crypto';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  CustomRotatorDefinition, RotatorContext, SecretFields, createCustomRotationHandler,
} from '../../../lambda/kit/custom-rotator';
import { ERROR_CODES, RotationError } from '../../../lambda/kit/errors';
import type { RotationHandler } from '../../../lambda/kit/protocol';
import { stopAll } from '../../support/lifecycle';
import { LocalSecretsManager, RotationOutcome } from '../../support/local-secrets-manager';
import { localSecretsManagerEnvironment } from '../../support/local-secrets-manager/testing';
import { describeError, lambdaContext, withEnv } from '../../support/rotation-harness';

/**
 * The custom-rotator API (lambda/kit/custom-rotator.ts) over the kit's protocol, through the real SDK against the local
 * Secrets Manager: what the user supplies, what the kit derives, checks and carries over, and how what a user function
 * throws is reported (codes kept, anything else INTERNAL with its class name only).
 */

const ACCOUNT = '123456789012';
let sm: LocalSecretsManager;
let restoreEnv: () => void;
let counter = 0;

beforeAll(async () => {
  sm = await LocalSecretsManager.start({ maxRotationAttempts: 1 });
  restoreEnv = withEnv({
    ...localSecretsManagerEnvironment(sm),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ROTATION_CALL_TIMEOUT_MS: '5000',
    ROTATION_PASSWORD_POLICY: undefined,
  });
});

afterAll(async () => {
  restoreEnv?.();
  await stopAll([sm].filter((s) => s !== undefined));
});

/** A rotator under test: its handler registered as a rotation function, its log lines and what its functions saw. */
interface Rotator {
  readonly arn: string;
  readonly handler: RotationHandler;
  readonly lines: string[];
  readonly errors: unknown[];
}

function rotator<S = SecretFields>(definition: CustomRotatorDefinition<S>): Rotator {
  counter += 1;
  const arn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:custom-${counter}`;
  const lines: string[] = [];
  const errors: unknown[] = [];
  const handler = createCustomRotationHandler(definition, { log: (line) => lines.push(line) });
  sm.registerFunction(arn, async (event) => {
    try {
      await handler(event, lambdaContext());
    } catch (err) {
      errors.push(err);
      throw err;
    }
  });
  return { arn, handler, lines, errors };
}

async function createSecret(secretString: string): Promise<string> {
  counter += 1;
  return (await sm.client().send(new CreateSecretCommand({ Name: `custom-${counter}`, SecretString: secretString }))).ARN!;
}

async function rotate(secretArn: string, r: Rotator): Promise<RotationOutcome> {
  await sm.client().send(new RotateSecretCommand({ SecretId: secretArn, RotationLambdaARN: r.arn, RotationRules: { ScheduleExpression: 'rate(4 hours)' } }));
  return sm.rotationSettled(secretArn);
}

async function raw(secretArn: string, stage = 'AWSCURRENT'): Promise<string> {
  return (await sm.client().send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: stage }))).SecretString!;
}

function stepLines(r: Rotator): Array<Record<string, any>> {
  return r.lines.filter((l) => l.includes('"rotation step')).map((l) => JSON.parse(l));
}

function failures(r: Rotator): Array<Record<string, any>> {
  return stepLines(r).filter((l) => l.outcome === 'failed');
}

const noop = async () => undefined;

describe('the definition', () => {
  test.each([
    [{ name: 'has space', setPending: noop, testPending: noop }, /name must be 1 to 64 letters/],
    [{ name: 'ok', testPending: noop }, /setPending must be a function/],
    [{ name: 'ok', setPending: noop, testPending: noop, field: '' }, /field must be a non-empty string/],
    [{ name: 'ok', setPending: noop, testPending: noop, alternate: 'B' }, /alternate must be a function when given/],
    [{ name: 'ok', setPending: noop, testPending: noop, passwordPolicy: { passwordLength: 0 } }, /^Custom rotator: passwordPolicy passwordLength must be an integer/],
    [{ name: 'ok', setPending: noop, testPending: noop, passwordPolicy: { length: 20 } }, /^Custom rotator: passwordPolicy has unknown fields: length$/],
  ])('is checked when the handler is built: %j', (definition, message) => {
    let thrown: unknown;
    try {
      createCustomRotationHandler(definition as unknown as CustomRotatorDefinition);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RotationError);
    expect((thrown as RotationError).code).toBe(ERROR_CODES.INVALID_CONFIGURATION);
    expect((thrown as RotationError).message).toMatch(message);
  });
});

describe('a single credential (no alternate)', () => {
  test('pending is current with a new `password`; every other member is carried over as written; previous is offered', async () => {
    const seen: Array<{ current: SecretFields; pending: SecretFields; previous?: SecretFields }> = [];
    const tested: string[] = [];
    const r = rotator({
      name: 'single',
      async setPending({ current, pending, previous }) {
        seen.push({ current, pending, previous: await previous() });
      },
      async testPending(pending) {
        tested.push(pending.password as string);
      },
    });
    const arn = await createSecret('{ "url" : "https://a.example.com/x" , "password":"first-password-value", "n": 12345678901234567890, "f": 1.10, "u": "\\u00e9" }');
    expect(await rotate(arn, r)).toMatchObject({ status: 'succeeded' });
    const after = await raw(arn);
    const password = JSON.parse(after).password;
    // the kit's default policy: 32 characters without / @ " ' \
    expect(password).toMatch(/^[^/@"'\\]{32}$/);
    expect(after).toBe(`{"url":"https://a.example.com/x","password":${JSON.stringify(password)},"n":12345678901234567890,"f":1.10,"u":"\\u00e9"}`);
    expect(seen).toHaveLength(1);
    expect(seen[0].current.password).toBe('first-password-value');
    expect(seen[0].pending.password).toBe(password);
    expect(seen[0].previous).toBeUndefined();
    // testSecret, and again in finishSecret before AWSCURRENT moves
    expect(tested).toEqual([password, password]);
    expect(stepLines(r).map((l) => [l.step, l.outcome, l.action, l.engine])).toEqual([
      ['createSecret', 'succeeded', 'created', 'single'],
      ['setSecret', 'succeeded', 'pending-set', 'single'],
      ['testSecret', 'succeeded', 'tested', 'single'],
      ['finishSecret', 'succeeded', 'promoted', 'single'],
    ]);
    // the RotationFinished record carries the rotator's name
    expect(r.lines.filter((l) => l.includes('"RotationFinished"'))).toEqual([expect.stringContaining('"Engine":"single"')]);

    expect(await rotate(arn, r)).toMatchObject({ status: 'succeeded' });
    expect(seen[1].previous?.password).toBe('first-password-value');
    expect(seen[1].current.password).toBe(password);
  });

  test('field, passwordPolicy and derive shape the new value; the function\'s ROTATION_PASSWORD_POLICY takes precedence', async () => {
    const r = rotator({
      name: 'derived',
      field: 'api_key',
      passwordPolicy: { passwordLength: 20, excludePunctuation: true },
      derive: (random) => `sk_${random}`,
      setPending: noop,
      testPending: noop,
    });
    const arn = await createSecret('{"api_key":"sk_initial"}');
    expect(await rotate(arn, r)).toMatchObject({ status: 'succeeded' });
    expect(JSON.parse(await raw(arn)).api_key).toMatch(/^sk_[A-Za-z0-9]{20}$/);
    const restore = withEnv({ ROTATION_PASSWORD_POLICY: JSON.stringify({ passwordLength: 12 }) });
    try {
      expect(await rotate(arn, r)).toMatchObject({ status: 'succeeded' });
    } finally {
      restore();
    }
    expect(JSON.parse(await raw(arn)).api_key).toMatch(/^sk_[A-Za-z0-9]{12}$/);
  });

  test('a derive that returns no usable string fails createSecret with INVALID_CONFIGURATION before anything is stored', async () => {
    const r = rotator({ name: 'bad-derive', derive: () => 'a\nb', setPending: noop, testPending: noop });
    const arn = await createSecret('{"password":"initial-password"}');
    expect(await rotate(arn, r)).toMatchObject({ status: 'failed' });
    expect(failures(r).map((l) => [l.step, l.errorCode])).toEqual([['createSecret', 'INVALID_CONFIGURATION']]);
    expect(sm.calls.filter((c) => c.operation === 'PutSecretValue' && c.input.SecretId === arn)).toEqual([]);
  });
});

describe('the alternating scheme', () => {
  const slots = (setPending: CustomRotatorDefinition<SecretFields>['setPending'] = noop) => rotator({
    name: 'slots',
    field: 'key',
    alternate: (current) => ({ slot: current.slot === 'A' ? 'B' : 'A' }),
    setPending,
    testPending: noop,
  });

  test('pending names the alternate: the slots take turns', async () => {
    const pendings: SecretFields[] = [];
    const r = slots(async ({ pending }) => {
      pendings.push(pending);
    });
    const arn = await createSecret('{"slot":"A","key":"initial-key-value","url":"https://k.example.com"}');
    for (const expected of ['B', 'A', 'B']) {
      expect(await rotate(arn, r)).toMatchObject({ status: 'succeeded' });
      expect(JSON.parse(await raw(arn)).slot).toBe(expected);
    }
    expect(pendings.map((p) => p.slot)).toEqual(['B', 'A', 'B']);
  });

  test('an alternate that names the current credential itself is refused (CONFUSED_DEPUTY) before anything is stored', async () => {
    const r = rotator({ name: 'same-slot', alternate: (current) => ({ slot: current.slot }), setPending: noop, testPending: noop });
    const arn = await createSecret('{"slot":"A","password":"initial-password"}');
    expect(await rotate(arn, r)).toMatchObject({ status: 'failed' });
    expect(failures(r).map((l) => [l.step, l.errorCode])).toEqual([['createSecret', 'CONFUSED_DEPUTY']]);
  });

  test.each([
    ['another url', (v: Record<string, unknown>) => ({ ...v, url: 'https://attacker.example.com' }), 'the pending value changes a member that rotation does not change'],
    ['an extra member', (v: Record<string, unknown>) => ({ ...v, admin: 'x' }), 'the pending value has a member the current value does not have'],
    ['the current slot', (v: Record<string, unknown>) => ({ ...v, slot: 'B' }), "the pending value's slot is not the alternate of the current one"],
  ])('a pending value with %s is refused in setSecret before setPending runs (CONFUSED_DEPUTY)', async (_, tamper, message) => {
    let calls = 0;
    const r = slots(async () => {
      calls += 1;
    });
    const arn = await createSecret('{"slot":"A","key":"initial-key-value","url":"https://k.example.com"}');
    // one rotation turns rotation on (slot B is current), then someone else writes an AWSPENDING version
    expect(await rotate(arn, r)).toMatchObject({ status: 'succeeded' });
    const current = JSON.parse(await raw(arn));
    const token = randomUUID();
    await sm.client().send(new PutSecretValueCommand({
      SecretId: arn,
      ClientRequestToken: token,
      VersionStages: ['AWSPENDING'],
      SecretString: JSON.stringify(tamper({ ...current, slot: 'A', key: 'pending-key-value' })),
    }));
    const err = await r.handler({ Step: 'setSecret', SecretId: arn, ClientRequestToken: token }, lambdaContext()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RotationError);
    expect((err as RotationError).code).toBe(ERROR_CODES.CONFUSED_DEPUTY);
    expect((err as RotationError).message).toBe(`Refusing to rotate: ${message}`);
    expect(calls).toBe(1); // the first rotation's only
  });
});

describe('what a user function throws', () => {
  const SECRET_TEXT = `CANARY${randomBytes(10).toString('hex')}`;

  test('a RotationError keeps its code and message', async () => {
    const r = rotator({
      name: 'coded',
      setPending: async () => {
        throw new RotationError(ERROR_CODES.MASTER_LOGIN_FAILED, 'The admin API answered 401');
      },
      testPending: noop,
    });
    const arn = await createSecret('{"password":"initial-password"}');
    expect(await rotate(arn, r)).toMatchObject({ status: 'failed' });
    expect(failures(r)).toEqual([expect.objectContaining({ step: 'setSecret', errorCode: 'MASTER_LOGIN_FAILED', errorMessage: 'The admin API answered 401' })]);
    expect(r.lines.filter((l) => l.includes('RotationStepFailed'))).toEqual([
      expect.stringMatching(/"Engine":"coded","ErrorCode":"MASTER_LOGIN_FAILED"/),
    ]);
  });

  test('anything else becomes INTERNAL with only its class name: neither message nor code nor name reach the log or the error', async () => {
    class ServiceClientError extends Error {}
    const r = rotator({
      name: 'leaky',
      setPending: noop,
      testPending: async () => {
        const err = new ServiceClientError(`refused key ${SECRET_TEXT}`);
        Object.assign(err, { code: SECRET_TEXT, name: SECRET_TEXT });
        throw err;
      },
    });
    const arn = await createSecret('{"password":"initial-password"}');
    expect(await rotate(arn, r)).toMatchObject({ status: 'failed' });
    expect(failures(r)).toEqual([expect.objectContaining({
      step: 'testSecret', errorCode: 'INTERNAL', errorName: 'RotationError', errorMessage: "The rotator's testPending failed", causeCode: 'ServiceClientError',
    })]);
    const everything = [...r.lines, ...r.errors.map(describeError)].join('\n');
    expect(everything).not.toContain(SECRET_TEXT);
  });

  test('a parser error names the version and the class; the value is never echoed', async () => {
    const r = rotator({
      name: 'parsed',
      parse: (fields) => {
        throw new TypeError(`bad url ${String(fields.url)}`);
      },
      setPending: noop,
      testPending: noop,
    });
    const arn = await createSecret(JSON.stringify({ password: 'initial-password', url: SECRET_TEXT }));
    expect(await rotate(arn, r)).toMatchObject({ status: 'failed' });
    expect(failures(r)).toEqual([expect.objectContaining({
      step: 'createSecret', errorCode: 'INVALID_SECRET_VALUE', errorMessage: 'The current secret value is invalid: rejected by parse (TypeError)',
    })]);
    expect([...r.lines, ...r.errors.map(describeError)].join('\n')).not.toContain(SECRET_TEXT);
  });

  test('a missing generated field is named (INVALID_SECRET_VALUE)', async () => {
    const r = rotator({ name: 'missing', field: 'api_key', setPending: noop, testPending: noop });
    const arn = await createSecret(JSON.stringify({ password: SECRET_TEXT }));
    expect(await rotate(arn, r)).toMatchObject({ status: 'failed' });
    expect(failures(r)).toEqual([expect.objectContaining({ errorCode: 'INVALID_SECRET_VALUE', errorMessage: 'The current secret value is invalid: api_key must be a non-empty string' })]);
  });
});

describe('the context', () => {
  test('call bounds a network call by ROTATION_CALL_TIMEOUT_MS (TIMEOUT) and passes an AbortSignal that fires', async () => {
    let aborted = false;
    const r = rotator({
      name: 'hangs',
      setPending: async ({ ctx }: { ctx: RotatorContext }) => {
        // never settles: only the bound ends it
        await ctx.call('hanging call', (signal) => new Promise<void>(() => signal.addEventListener('abort', () => {
          aborted = true;
        })));
      },
      testPending: noop,
    });
    const arn = await createSecret('{"password":"initial-password"}');
    const restore = withEnv({ ROTATION_CALL_TIMEOUT_MS: '200' });
    try {
      expect(await rotate(arn, r)).toMatchObject({ status: 'failed' });
    } finally {
      restore();
    }
    expect(aborted).toBe(true);
    expect(failures(r)).toEqual([expect.objectContaining({ step: 'setSecret', errorCode: 'TIMEOUT', errorMessage: 'hanging call did not complete within 200 ms' })]);
  });

  test('readSecret gives another secret\'s AWSCURRENT object; a missing one fails with MASTER_NOT_RESOLVED', async () => {
    const admin = await createSecret('{"token":"admin-token-value","url":"https://k.example.com"}');
    const read: SecretFields[] = [];
    const r = rotator({
      name: 'reads',
      setPending: async ({ pending, ctx }) => {
        read.push(await ctx.readSecret(pending.adminarn as string));
      },
      testPending: noop,
    });
    const ok = await createSecret(JSON.stringify({ password: 'initial-password', adminarn: admin }));
    expect(await rotate(ok, r)).toMatchObject({ status: 'succeeded' });
    expect(read).toEqual([{ token: 'admin-token-value', url: 'https://k.example.com' }]);
    const missing = await createSecret(JSON.stringify({ password: 'initial-password', adminarn: `${admin.slice(0, -6)}zzzzzz` }));
    expect(await rotate(missing, r)).toMatchObject({ status: 'failed' });
    expect(failures(r)).toEqual([expect.objectContaining({ step: 'setSecret', errorCode: 'MASTER_NOT_RESOLVED' })]);
  });
});
