import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { importedVpc, onlyResource, secret, secretKey, testStack } from './fixtures';
import {
  RotationEngine, RotationFunction, RotationSchedule, SecretRotation, SecretRotationProps,
} from '../../src';

const SINGLE = RotationEngine.POSTGRES_SINGLE_USER;
const MULTI = RotationEngine.POSTGRES_MULTI_USER;

describe('SecretRotation', () => {
  test('renders one rotation schedule on the shared function, after its permission, policy and function', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const rotation = new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    const template = Template.fromStack(stack);

    const fn = RotationFunction.shared(stack, SINGLE);
    expect(rotation.rotationFunction).toBe(fn);
    const id = (c: any) => stack.getLogicalId(c);
    const schedule = onlyResource(template, 'AWS::SecretsManager::RotationSchedule').resource;
    expect(schedule.Properties).toEqual({
      SecretId: { Ref: id(s.node.defaultChild) },
      RotationLambdaARN: { 'Fn::GetAtt': [id(fn.lambdaFunction.node.defaultChild), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    expect(schedule.DependsOn.sort()).toEqual([
      id(fn.invokePermission),
      id(fn.policy.node.defaultChild),
      id(fn.lambdaFunction.node.defaultChild),
    ].sort());
  });

  test('cron schedule with a window and immediate rotation', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', {
      secret: s,
      engine: SINGLE,
      schedule: RotationSchedule.cron({ hour: '2', weekDay: 'SUN' }, { window: Duration.hours(3) }),
      rotateImmediatelyOnUpdate: true,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'cron(0 2 ? * SUN *)', Duration: '3h' },
      RotateImmediatelyOnUpdate: true,
    });
  });

  test('the shared function is placed by rotationFunctionOptions, in the secret\'s stack', () => {
    const app = new App();
    const secretStack = new Stack(app, 'Secrets');
    const otherStack = new Stack(app, 'Other');
    const s = secret(secretStack, 'Secret', secretKey(secretStack));
    const vpc = importedVpc(secretStack);
    const rotation = new SecretRotation(otherStack, 'Rotation', { secret: s, engine: SINGLE, rotationFunctionOptions: { vpc } });
    expect(rotation.rotationFunction).toBe(RotationFunction.shared(secretStack, SINGLE, { vpc }));
    expect(Stack.of(rotation.rotationFunction)).toBe(secretStack);
  });

  test('alternating users: the master secret is granted to the function', () => {
    const stack = testStack();
    const key = secretKey(stack);
    const master = secret(stack, 'Master', key);
    new SecretRotation(stack, 'Rotation', { secret: secret(stack, 'Secret', key), engine: MULTI, masterSecret: master });
    const template = Template.fromStack(stack);
    const statements = onlyResource(template, 'AWS::IAM::ManagedPolicy').resource.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Sid: 'ReadMasterSecrets',
      Resource: { Ref: stack.getLogicalId(master.node.defaultChild as secretsmanager.CfnSecret) },
    }));
  });

  test('addSecret puts the schedule under the secret; a function in another stack works without cycles', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const appStack = new Stack(app, 'App');
    const fn = RotationFunction.shared(platform, SINGLE);
    const s = secret(appStack, 'Secret', secretKey(appStack));
    const rotation = fn.addSecret('Rotation', s, { schedule: RotationSchedule.rate(Duration.days(7)) });
    expect(rotation.node.scope).toBe(s);
    expect(rotation.rotationFunction).toBe(fn);
    app.synth();
    Template.fromStack(appStack).resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    Template.fromStack(appStack).resourceCountIs('AWS::Lambda::Permission', 0);
    expect(appStack.dependencies).toContain(platform);
  });

  const errors: Array<[string, (stack: Stack) => SecretRotationProps, RegExp]> = [
    ['alternating users without masterSecret', (stack) => ({ secret: secret(stack, 'S', secretKey(stack)), engine: MULTI }),
      /masterSecret is required for the alternating-users engine 'postgres-multi-user'/],
    ['single user with masterSecret', (stack) => {
      const key = secretKey(stack);
      return { secret: secret(stack, 'S', key), engine: SINGLE, masterSecret: secret(stack, 'M', key) };
    }, /masterSecret is not allowed for the single-user engine 'postgres-single-user'/],
    ['neither engine nor rotationFunction', (stack) => ({ secret: secret(stack, 'S', secretKey(stack)) }),
      /engine is required when rotationFunction is not given/],
    ['an engine that is not the function\'s', (stack) => ({
      secret: secret(stack, 'S', secretKey(stack)), engine: MULTI, rotationFunction: RotationFunction.shared(stack, SINGLE),
    }), /engine 'postgres-multi-user' does not match the engine 'postgres-single-user' of rotationFunction/],
    ['rotationFunctionOptions with rotationFunction', (stack) => ({
      secret: secret(stack, 'S', secretKey(stack)),
      rotationFunction: RotationFunction.shared(stack, SINGLE),
      rotationFunctionOptions: { timeout: Duration.seconds(30) },
    }), /rotationFunctionOptions only apply to the shared function/],
  ];
  test.each(errors)('rejects %s, naming the property', (_name, props, message) => {
    const stack = testStack();
    expect(() => new SecretRotation(stack, 'Rotation', props(stack))).toThrow(message);
  });
});

describe('1 vs 50 secrets on one shared function', () => {
  function build(count: number, engine: RotationEngine): Template {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const key = secretKey(stack);
    const master = engine.multiUser ? secret(stack, 'Master', key) : undefined;
    for (let i = 0; i < count; i++) {
      new SecretRotation(stack, `Rotation${i}`, {
        secret: secret(stack, `Secret${i}`, key),
        engine,
        masterSecret: master,
        rotationFunctionOptions: { vpc },
      });
    }
    return Template.fromStack(stack);
  }

  function countByType(template: Template): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of Object.values<any>(template.toJSON().Resources)) {
      counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    }
    return counts;
  }

  test.each([['single user', SINGLE], ['alternating users', MULTI]])('%s: 49 more schedules and secrets, nothing else', (_name, engine) => {
    const one = build(1, engine);
    const fifty = build(50, engine);
    const oneCounts = countByType(one);
    const fiftyCounts = countByType(fifty);

    const difference: Record<string, number> = {};
    for (const type of new Set([...Object.keys(oneCounts), ...Object.keys(fiftyCounts)])) {
      const d = (fiftyCounts[type] ?? 0) - (oneCounts[type] ?? 0);
      if (d !== 0) difference[type] = d;
    }
    expect(difference).toEqual({ 'AWS::SecretsManager::RotationSchedule': 49, 'AWS::SecretsManager::Secret': 49 });
    expect(fiftyCounts['AWS::Lambda::Function']).toBe(1);
    expect(fiftyCounts['AWS::Lambda::Permission']).toBe(1);
    expect(fiftyCounts['AWS::IAM::ManagedPolicy']).toBe(1);
    expect(fiftyCounts['AWS::IAM::Policy']).toBeUndefined();

    // every resource other than the added secrets and schedules is byte-for-byte the same, policies included
    const shared = (t: Template) => Object.fromEntries(Object.entries<any>(t.toJSON().Resources)
      .filter(([, r]) => r.Type !== 'AWS::SecretsManager::RotationSchedule' && r.Type !== 'AWS::SecretsManager::Secret'));
    expect(JSON.stringify(shared(fifty))).toBe(JSON.stringify(shared(one)));
    const policyDocument = (t: Template) => JSON.stringify(onlyResource(t, 'AWS::IAM::ManagedPolicy').resource.Properties.PolicyDocument);
    expect(policyDocument(fifty)).toBe(policyDocument(one));
    const keyPolicy = (t: Template) => JSON.stringify(Object.values<any>(t.findResources('AWS::KMS::Key')).map((k) => k.Properties.KeyPolicy));
    expect(keyPolicy(fifty)).toBe(keyPolicy(one));

    // and the 50 schedules all point at the one function
    const arns = Object.values<any>(fifty.findResources('AWS::SecretsManager::RotationSchedule')).map((s) => JSON.stringify(s.Properties.RotationLambdaARN));
    expect(new Set(arns).size).toBe(1);
  });
});
