import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  ROTATION_ACTIVITY_EVENT_NAMES,
  ROTATION_EVENT_NAMES,
  ROTATION_FAILURE_EVENT_NAMES,
  SecretArnMatch,
  rotationEventPattern,
} from '../../src/private/rotation-event-pattern';
import { matchesEventPattern } from '../support/event-pattern-matcher';

// Every pattern is evaluated as CloudFormation receives it: the EventPattern of a real events.Rule in a synthesized
// template, with the intrinsics of token ARNs evaluated for a fixed account and region.

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'secretsmanager-events');
const ACCOUNT = '123456789012';
const REGION = 'us-east-2';
const SECRET_PREFIX = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:`;
/** The secret of the fixtures (the user guide's example). */
const SECRET = `${SECRET_PREFIX}MyDatabaseSecret-a1b2c3`;

type Event = { [key: string]: any };

const fixtures: Record<string, Event> = Object.fromEntries(
  fs.readdirSync(FIXTURES)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [file, JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'))]),
);

/** Which pattern each fixture must match (see the fixtures' README). */
const EXPECTED: Record<string, 'failure' | 'activity' | 'neither'> = {
  'rotation-started.json': 'activity',
  'rotation-succeeded.json': 'activity',
  'rotation-failed.json': 'failure',
  'rotation-abandoned.json': 'failure',
  'test-rotation-failed.json': 'failure',
  'test-rotation-started.json': 'neither',
  'test-rotation-succeeded.json': 'neither',
  'api-rotate-secret.json': 'neither',
  'api-put-secret-value.json': 'neither',
  'api-delete-secret-legacy-arn.json': 'neither',
  'start-secret-version-delete.json': 'neither',
  'end-secret-version-delete.json': 'neither',
  'kms-rotate-key.json': 'neither',
  'secret-label-updated.json': 'neither',
};

/** Values for the pseudo parameters and resources that token ARNs refer to. */
type Refs = Record<string, string>;
const PSEUDO: Refs = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };

/** Evaluates Ref and Fn::Join, the only intrinsics a token ARN becomes here; anything else is a test failure. */
function evaluate(value: unknown, refs: Refs): unknown {
  if (Array.isArray(value)) return value.map((item) => evaluate(item, refs));
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && keys[0] === 'Ref') {
    const name = object.Ref as string;
    if (!(name in refs)) throw new Error(`no value for Ref ${name}`);
    return refs[name];
  }
  if (keys.length === 1 && keys[0] === 'Fn::Join') {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => evaluate(part, refs)).join(separator);
  }
  if (keys.some((key) => key.startsWith('Fn::'))) throw new Error(`cannot evaluate ${JSON.stringify(value)}`);
  return Object.fromEntries(keys.map((key) => [key, evaluate(object[key], refs)]));
}

/** The EventPattern a real rule puts in the template. */
function synthesizedPattern(stack: Stack, id: string, pattern: events.EventPattern): unknown {
  const rule = new events.Rule(stack, id, { eventPattern: pattern });
  const logicalId = stack.getLogicalId(rule.node.defaultChild as events.CfnRule);
  return Template.fromStack(stack).toJSON().Resources[logicalId].Properties.EventPattern;
}

/** The pattern as CloudFormation gets it, for literal ARNs. */
function deployed(eventNames: readonly string[], secrets?: readonly SecretArnMatch[]): unknown {
  const stack = new Stack(new App(), 'Patterns');
  return evaluate(synthesizedPattern(stack, 'Rule', rotationEventPattern(eventNames, secrets)), PSEUDO);
}

/** A copy of a rotation fixture for another secret. */
function forSecret(event: Event, arn: string): Event {
  const copy = JSON.parse(JSON.stringify(event));
  copy.detail.additionalEventData.SecretId = arn;
  copy.detail.requestID = `Rotation-${arn}-eeb681b1-a07d-4aeb-9b61-1ee6590ec295`;
  return copy;
}

const rotationFixtures = Object.entries(fixtures).filter(([, event]) => event.detail?.additionalEventData?.SecretId === SECRET
  && event['detail-type'] === 'AWS Service Event via CloudTrail'
  && Object.values(ROTATION_EVENT_NAMES).includes(event.detail.eventName));

describe('the documented sample events', () => {
  test('every fixture has an expectation, and every expectation a fixture', () => {
    expect(Object.keys(fixtures).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test('the seven documented rotation events each have a fixture for the same secret', () => {
    expect(rotationFixtures.map(([, event]) => event.detail.eventName).sort())
      .toEqual(Object.values(ROTATION_EVENT_NAMES).sort());
  });

  const failure = deployed(ROTATION_FAILURE_EVENT_NAMES);
  const activity = deployed(ROTATION_ACTIVITY_EVENT_NAMES);

  test.each(Object.keys(EXPECTED))('%s', (file) => {
    expect({ failure: matchesEventPattern(failure, fixtures[file]), activity: matchesEventPattern(activity, fixtures[file]) })
      .toEqual({ failure: EXPECTED[file] === 'failure', activity: EXPECTED[file] === 'activity' });
  });

  test.each(Object.values(ROTATION_EVENT_NAMES))('a pattern for %s alone matches that event and no other fixture', (name) => {
    const pattern = deployed([name]);
    const matched = Object.keys(fixtures).filter((file) => matchesEventPattern(pattern, fixtures[file]));
    expect(matched.map((file) => fixtures[file].detail.eventName)).toEqual([name]);
  });
});

describe('the pattern CloudFormation gets', () => {
  test('every secret: source, detail-type, the service and the event names, nothing else', () => {
    expect(deployed([ROTATION_EVENT_NAMES.FAILED, ROTATION_EVENT_NAMES.ABANDONED])).toEqual({
      'source': ['aws.secretsmanager'],
      'detail-type': ['AWS Service Event via CloudTrail'],
      'detail': {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['RotationFailed', 'RotationAbandoned'],
      },
    });
  });

  test('given secrets: their ARNs in detail.additionalEventData.SecretId, exact or as a prefix ending in "-"', () => {
    const pattern = deployed([ROTATION_EVENT_NAMES.FAILED], [
      { arn: SECRET, complete: true },
      { arn: `${SECRET_PREFIX}Imported`, complete: false },
    ]) as Event;
    expect(pattern.detail.additionalEventData).toEqual({ SecretId: [SECRET, { prefix: `${SECRET_PREFIX}Imported-` }] });
  });

  test('a secret or an event name given twice appears once', () => {
    const pattern = deployed(['RotationFailed', 'RotationFailed'], [{ arn: SECRET, complete: true }, { arn: SECRET, complete: true }]) as Event;
    expect(pattern.detail.eventName).toEqual(['RotationFailed']);
    expect(pattern.detail.additionalEventData.SecretId).toEqual([SECRET]);
  });

  test('the envelope is pinned: the same record under another detail-type or source does not match', () => {
    const failure = deployed(ROTATION_FAILURE_EVENT_NAMES);
    const failed = fixtures['rotation-failed.json'];
    expect(matchesEventPattern(failure, failed)).toBe(true);
    expect(matchesEventPattern(failure, { ...failed, 'detail-type': 'AWS API Call via CloudTrail' })).toBe(false);
    expect(matchesEventPattern(failure, { ...failed, source: 'aws.kms' })).toBe(false);
    expect(matchesEventPattern(failure, { ...failed, detail: { ...failed.detail, eventSource: 'kms.amazonaws.com' } })).toBe(false);
  });

  test('no event names, or an empty list of secrets, is refused (EventBridge rejects empty lists)', () => {
    expect(() => rotationEventPattern([])).toThrow('rotationEventPattern: eventNames must name at least one event');
    expect(() => rotationEventPattern(['RotationFailed'], [])).toThrow(/secrets must list at least one secret when given/);
  });
});

describe('selecting secrets', () => {
  const failed = fixtures['rotation-failed.json'];
  const failureOf = (secrets: SecretArnMatch[]) => deployed(ROTATION_FAILURE_EVENT_NAMES, secrets);

  test('a complete ARN selects its secret\'s events, in every documented form, and no other secret\'s', () => {
    const pattern = failureOf([{ arn: SECRET, complete: true }]);
    for (const [file, event] of rotationFixtures) {
      expect([file, matchesEventPattern(pattern, event)]).toEqual([file, ROTATION_FAILURE_EVENT_NAMES.includes(event.detail.eventName)]);
    }
    for (const other of [
      `${SECRET_PREFIX}MyDatabaseSecret2-AbCdEf`,
      `${SECRET_PREFIX}MyDatabaseSecret-a1b2c4`, // a new secret of the same name: a new suffix
      `${SECRET_PREFIX}MyDatabaseSecret-a1b2c3-extra`,
      `arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:MyDatabaseSecret-a1b2c3`,
      `arn:aws:secretsmanager:${REGION}:210987654321:secret:MyDatabaseSecret-a1b2c3`,
    ]) {
      expect([other, matchesEventPattern(pattern, forSecret(failed, other))]).toEqual([other, false]);
    }
  });

  test('a partial ARN selects the secrets of that name, and "name" does not select "name2-AbCdEf"', () => {
    const pattern = failureOf([{ arn: `${SECRET_PREFIX}MyDatabaseSecret`, complete: false }]);
    expect(matchesEventPattern(pattern, failed)).toBe(true);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}MyDatabaseSecret-XyZ789`))).toBe(true);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}MyDatabaseSecret2-AbCdEf`))).toBe(false);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}MyDatabaseSecre-AbCdEf`))).toBe(false);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}prod/MyDatabaseSecret-AbCdEf`))).toBe(false);
  });

  test('known limit of a partial ARN: "name" also selects "name-other-AbCdEf" (EventBridge has no one-character wildcard)', () => {
    const pattern = failureOf([{ arn: `${SECRET_PREFIX}MyDatabaseSecret`, complete: false }]);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}MyDatabaseSecret-other-AbCdEf`))).toBe(true);
    const complete = failureOf([{ arn: SECRET, complete: true }]);
    expect(matchesEventPattern(complete, forSecret(failed, `${SECRET_PREFIX}MyDatabaseSecret-other-AbCdEf`))).toBe(false);
  });

  test('names with a path', () => {
    const pattern = failureOf([{ arn: `${SECRET_PREFIX}prod/db/app`, complete: false }]);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}prod/db/app-AbCdEf`))).toBe(true);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}prod/db/app2-AbCdEf`))).toBe(false);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}prod/db-AbCdEf`))).toBe(false);
  });

  test('several secrets: each is selected, nothing else', () => {
    const pattern = failureOf([
      { arn: SECRET, complete: true },
      { arn: `${SECRET_PREFIX}Imported`, complete: false },
    ]);
    expect(matchesEventPattern(pattern, failed)).toBe(true);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}Imported-AbCdEf`))).toBe(true);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}Imported2-AbCdEf`))).toBe(false);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}Other-AbCdEf`))).toBe(false);
  });

  test('the unrelated events stay out even when they name the selected secret', () => {
    const labelSecret = fixtures['secret-label-updated.json'].resources[0];
    const pattern = failureOf([{ arn: SECRET, complete: true }, { arn: labelSecret, complete: true }]);
    const activityPattern = deployed(ROTATION_ACTIVITY_EVENT_NAMES, [{ arn: SECRET, complete: true }, { arn: labelSecret, complete: true }]);
    for (const file of Object.keys(EXPECTED).filter((name) => EXPECTED[name] === 'neither')) {
      expect([file, matchesEventPattern(pattern, fixtures[file]), matchesEventPattern(activityPattern, fixtures[file])])
        .toEqual([file, false, false]);
    }
  });
});

describe('token ARNs', () => {
  test('a secret of the stack and one imported by name select their own events once CloudFormation resolves them', () => {
    const stack = new Stack(new App(), 'Tokens');
    const owned = new secretsmanager.Secret(stack, 'Owned');
    const imported = secretsmanager.Secret.fromSecretNameV2(stack, 'Imported', 'ImportedByName');
    expect(imported.secretFullArn).toBeUndefined();
    const template = synthesizedPattern(stack, 'Rule', rotationEventPattern(ROTATION_FAILURE_EVENT_NAMES, [
      { arn: owned.secretArn, complete: true },
      { arn: imported.secretArn, complete: false },
    ]));
    // The template carries intrinsics, not the ARNs: the function did not need to read them.
    expect(JSON.stringify(template)).toContain('Fn::Join');
    const ownedArn = `${SECRET_PREFIX}Owned-QwErTy`;
    const pattern = evaluate(template, { ...PSEUDO, [stack.getLogicalId(owned.node.defaultChild as secretsmanager.CfnSecret)]: ownedArn });
    const failed = fixtures['rotation-failed.json'];
    expect(matchesEventPattern(pattern, forSecret(failed, ownedArn))).toBe(true);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}ImportedByName-AbCdEf`))).toBe(true);
    expect(matchesEventPattern(pattern, forSecret(failed, `${SECRET_PREFIX}ImportedByName2-AbCdEf`))).toBe(false);
    expect(matchesEventPattern(pattern, failed)).toBe(false);
  });
});
