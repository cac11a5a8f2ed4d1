/**
 * Custom rotators: a user supplies what only they know (how to make a new credential valid and how to prove it works)
 * and gets a Lambda handler that runs the kit's rotation protocol around it: preamble, idempotency, label moves,
 * deadlines, redacted one-line logging, error codes and failure metrics.
 *
 * Everything a user function throws is mapped to the kit's codes: a RotationError keeps its code and message (the user
 * wrote them), anything else becomes INTERNAL with only its class name kept, because a client library's message may
 * embed a URL with credentials, a header or the value sent.
 */

import { ERROR_CODES, ConfusedDeputyError, InvalidSecretValueError, RedactedCause, RotationError } from './errors';
import { faultPoint } from './fault-points';
import { FALLBACK_POLICY, policyFromEnv } from './password';
import { HandlerOptions, RotationHandler, createRotationHandler } from './protocol';
import { hasControlCharacter, requireString } from './secret-fields';
import { parseSecretObject, withChangedMembers } from './secret-json';
import { AWSCURRENT } from './secrets-client';
import type { CredentialEngine, SecretObject, SecretRole, StepContext } from './types';
import { ENV, PasswordPolicyContract } from '../../src/private/contract';

/** The members of a secret's JSON object, as parsed; untrusted input until a parser has checked them. */
export type SecretFields = Readonly<Record<string, unknown>>;

/** What a custom rotator's functions may use during a step. */
export interface RotatorContext {
  /** The ARN of the secret being rotated. */
  readonly secretArn: string;
  /** The version id of the rotation (the event's ClientRequestToken). */
  readonly versionId: string;
  /** The function's environment. */
  readonly env: Readonly<NodeJS.ProcessEnv>;
  /**
   * Runs one network call bounded by the smaller of the per-call limit (`ROTATION_CALL_TIMEOUT_MS`) and the time the
   * invocation has left: pass `signal` on (`fetch(url, { signal })`); a call over its bound fails with TIMEOUT, and no
   * call starts when the invocation has no time left (DEADLINE_EXCEEDED).
   */
  call<R>(what: string, send: (signal: AbortSignal) => Promise<R>): Promise<R>;
  /**
   * The AWSCURRENT JSON object of another secret, for example the admin credential that sets keys. The function's role
   * must be allowed to read it (`RotationEngine.custom({ policyStatements })`). A missing secret fails with
   * MASTER_NOT_RESOLVED; a value that is not a JSON object with INVALID_SECRET_VALUE.
   */
  readSecret(secretId: string): Promise<SecretFields>;
}

/** What `setPending` gets. */
export interface CustomSetPendingArgs<S> {
  /** The AWSCURRENT value. */
  readonly current: S;
  /** The AWSPENDING value: the credential to make valid. */
  readonly pending: S;
  /** The AWSPREVIOUS value, read on demand (a single-credential scheme may need it when current no longer works). */
  readonly previous: () => Promise<S | undefined>;
  readonly ctx: RotatorContext;
}

/**
 * A custom rotator. Only `name`, `setPending` and `testPending` are required.
 *
 * `setPending` and `testPending` may run more than once for the same version (Secrets Manager retries, duplicate
 * invocations, a crash after a write): setting the same pending value again must be harmless.
 */
export interface CustomRotatorDefinition<S = SecretFields> {
  /**
   * The engine name in log lines and the `Engine` dimension of the failure metrics: use the id given to
   * `RotationEngine.custom`, so the monitor's per-engine views find it.
   */
  readonly name: string;

  /**
   * The member that holds the generated value (`password`, `api_key`, ...). Every other member is carried over byte
   * for byte, except those `alternate` names.
   *
   * @default 'password'
   */
  readonly field?: string;

  /**
   * The GetRandomPassword policy of new values, over the kit's default (length 32, excludes `/ @ " ' \`). The
   * function's `ROTATION_PASSWORD_POLICY` (set by `RotationEngine.custom({ passwordPolicy })`) takes precedence.
   *
   * @default - the kit's default policy
   */
  readonly passwordPolicy?: Partial<PasswordPolicyContract>;

  /**
   * Parses and validates a secret value's members. Throw `InvalidSecretValueError(role, 'slot must be A or B')`: name
   * the field, never echo its value. Any other error is reported as INVALID_SECRET_VALUE with its class name only.
   * `field` has already been checked to be a non-empty string without control characters.
   *
   * @default - the members as they are
   */
  readonly parse?: (fields: SecretFields, role: SecretRole) => S;

  /**
   * The alternating scheme: the members that name the other credential (`{ slot: 'B' }` when current is slot A). The
   * pending value is current with these members and a new `field`, so the current credential keeps working throughout
   * the rotation and `setPending` creates or updates the alternate. Refused (CONFUSED_DEPUTY) when it names the current
   * credential itself.
   *
   * @default - single credential: the pending value changes `field` only
   */
  readonly alternate?: (current: S) => SecretFields;

  /**
   * The new value of `field`, derived from a value drawn with GetRandomPassword and the policy (for example a prefix:
   * `` `sk_${random}` ``). Must be a non-empty string without control characters.
   *
   * @default - the drawn value
   */
  readonly derive?: (random: string, current: S) => string | Promise<string>;

  /** Makes the pending credential valid (setSecret). */
  setPending(args: CustomSetPendingArgs<S>): Promise<void>;

  /** Proves the pending credential works (testSecret, and again in finishSecret before AWSCURRENT moves); throws otherwise. */
  testPending(pending: S, ctx: RotatorContext): Promise<void>;
}

/** A parsed value: the user's view and the exact JSON members behind it. */
interface ParsedSecret<S> {
  readonly object: SecretObject;
  readonly secret: S;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Builds the Lambda handler of a custom rotator: `export const handler = createCustomRotationHandler({ ... })`.
 *
 * @throws RotationError (INVALID_CONFIGURATION) when the definition is malformed, so the mistake shows at load
 */
export function createCustomRotationHandler<S = SecretFields>(
  definition: CustomRotatorDefinition<S>, options: HandlerOptions = {},
): RotationHandler {
  return createRotationHandler(customRotationEngine(definition), options);
}

/** The kit's engine of a custom rotator (what {@link createCustomRotationHandler} runs). */
export function customRotationEngine<S>(definition: CustomRotatorDefinition<S>): CredentialEngine<ParsedSecret<S>> {
  const def = checkDefinition(definition);
  const field = def.field ?? 'password';
  const defaultPasswordPolicy = definitionPolicy(def);

  /** The alternate's members for `current`, checked to name another credential. */
  const alternateOf = (current: ParsedSecret<S>): SecretFields => {
    if (def.alternate === undefined) return {};
    const alternate = userSync('alternate', () => def.alternate!(current.secret));
    if (typeof alternate !== 'object' || alternate === null || Array.isArray(alternate)) {
      throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, 'alternate must return an object of members');
    }
    const names = Object.keys(alternate);
    if (names.length === 0 || names.includes(field) || names.some((name) => JSON.stringify(alternate[name]) === undefined)) {
      throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `alternate must return 1 or more JSON members other than ${field}`);
    }
    // writing the new value over the credential in use would break every client until they read the new version
    if (names.every((name) => sameJson(current.object.fields[name], alternate[name]))) {
      throw new ConfusedDeputyError('the alternate names the current credential itself');
    }
    return alternate;
  };

  return {
    name: def.name,
    defaultPasswordPolicy,
    parse(value: string, role: SecretRole): ParsedSecret<S> {
      const object = parseSecretObject(value, role);
      requireString(object.fields, field, role);
      if (def.parse === undefined) return { object, secret: object.fields as S };
      try {
        return { object, secret: def.parse(object.fields, role) };
      } catch (err) {
        if (err instanceof RotationError) throw err;
        throw new InvalidSecretValueError(role, `rejected by parse (${className(err)})`);
      }
    },
    async nextValue(current, random) {
      const value = def.derive === undefined ? random : await user('derive', () => def.derive!(random, current.secret));
      if (typeof value !== 'string' || value.length === 0 || hasControlCharacter(value)) {
        throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, 'derive must return a non-empty string without control characters');
      }
      return withChangedMembers(current.object, { ...alternateOf(current), [field]: value });
    },
    checkTarget(current, pending) {
      // pending must be current with a new `field` (and the alternate's members): a pending value pointing somewhere
      // else (another URL, another admin secret) would send a new credential, or an admin credential, there
      const alternate = alternateOf(current);
      const changes = new Set([field, ...Object.keys(alternate)]);
      for (const [name, text] of current.object.sources) {
        // member names come from the secret: never echoed
        if (!changes.has(name) && pending.object.sources.get(name) !== text) {
          throw new ConfusedDeputyError('the pending value changes a member that rotation does not change');
        }
      }
      for (const name of pending.object.sources.keys()) {
        if (!changes.has(name) && !current.object.sources.has(name)) {
          throw new ConfusedDeputyError('the pending value has a member the current value does not have');
        }
      }
      for (const [name, value] of Object.entries(alternate)) {
        if (!sameJson(pending.object.fields[name], value)) {
          throw new ConfusedDeputyError(`the pending value's ${name} is not the alternate of the current one`);
        }
      }
    },
    async setPending({ current, pending, previous, ctx }) {
      await user('setPending', () => def.setPending({
        current: current.secret,
        pending: pending.secret,
        previous: async () => (await previous())?.secret,
        ctx: rotatorContext(ctx),
      }));
      // the user's write has happened: the tests crash here to prove a retry converges
      await faultPoint(`${def.name}:setPending`);
      return 'pending-set';
    },
    async testPending(pending, ctx) {
      await user('testPending', () => def.testPending(pending.secret, rotatorContext(ctx)));
    },
  };
}

function checkDefinition<S>(def: CustomRotatorDefinition<S>): CustomRotatorDefinition<S> {
  const problem = (text: string) => new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `Custom rotator: ${text}`);
  if (typeof def !== 'object' || def === null) throw problem('the definition must be an object');
  // the name is the metric dimension and appears in alarm names: the same rule as the metric records
  if (typeof def.name !== 'string' || !NAME.test(def.name)) {
    throw problem('name must be 1 to 64 letters, digits, dots, hyphens or underscores, starting with a letter or digit');
  }
  if (def.field !== undefined && (typeof def.field !== 'string' || def.field.length === 0)) throw problem('field must be a non-empty string');
  for (const fn of ['setPending', 'testPending'] as const) {
    if (typeof def[fn] !== 'function') throw problem(`${fn} must be a function`);
  }
  for (const fn of ['parse', 'alternate', 'derive'] as const) {
    if (def[fn] !== undefined && typeof def[fn] !== 'function') throw problem(`${fn} must be a function when given`);
  }
  return def;
}

/** The definition's policy over the kit's default, validated by the same rules as the function's environment. */
function definitionPolicy<S>(def: CustomRotatorDefinition<S>): PasswordPolicyContract {
  try {
    return policyFromEnv({ [ENV.PASSWORD_POLICY]: JSON.stringify(def.passwordPolicy ?? {}) }, FALLBACK_POLICY);
  } catch (err) {
    if (!(err instanceof RotationError)) throw err;
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `Custom rotator: passwordPolicy${err.message.slice(ENV.PASSWORD_POLICY.length)}`);
  }
}

function rotatorContext(ctx: StepContext): RotatorContext {
  return {
    secretArn: ctx.secretArn,
    versionId: ctx.token,
    env: ctx.env,
    call: (what, send) => ctx.deadline.run(what, (signal) => send(signal)),
    readSecret: async (secretId) => {
      if (typeof secretId !== 'string' || secretId.length === 0) {
        throw new RotationError(ERROR_CODES.MASTER_NOT_RESOLVED, 'readSecret needs a secret ARN or name');
      }
      const value = await ctx.secrets.getValue(secretId, { stage: AWSCURRENT });
      if (value === undefined) throw new RotationError(ERROR_CODES.MASTER_NOT_RESOLVED, 'The secret read by the rotator has no AWSCURRENT value');
      return parseSecretObject(value, 'master').fields;
    },
  };
}

/** Runs a user function; what it throws leaves as a RotationError (see the file comment). */
async function user<R>(what: string, call: () => R | Promise<R>): Promise<R> {
  try {
    return await call();
  } catch (err) {
    throw fromUser(what, err);
  }
}

function userSync<R>(what: string, call: () => R): R {
  try {
    return call();
  } catch (err) {
    throw fromUser(what, err);
  }
}

function fromUser(what: string, err: unknown): RotationError {
  if (err instanceof RotationError) return err;
  // neither the message nor a `code` property: either may carry what the function was handling
  const stripped = new Error();
  stripped.name = className(err);
  return new RotationError(ERROR_CODES.INTERNAL, `The rotator's ${what} failed`, new RedactedCause(stripped));
}

/** The class of a thrown value as its code names it (not its `name` property, which is data). */
function className(err: unknown): string {
  if (typeof err !== 'object' || err === null) return typeof err;
  const name = (err as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/.test(name) ? name : 'Object';
}

function sameJson(a: unknown, b: unknown): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
