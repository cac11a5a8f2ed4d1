import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RotationEngine, RotationFunction, RotationOverdueCheck } from '../../src';
import { testStack } from '../rotation/fixtures';

describe('RotationOverdueCheck', () => {
  test('its only Secrets Manager permission is ListSecrets: it reads no secret value', () => {
    const stack = testStack();
    new RotationOverdueCheck(stack, 'Check');
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('secretsmanager:'))).toEqual(['secretsmanager:ListSecrets']);
    expect(actions.filter((a: string) => a.startsWith('kms:'))).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(statements.find((s: any) => s.Sid === 'EncryptDeadLetterMessagesViaSqs').Condition)
      .toEqual({ StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } });
    // no inline or AWS managed policy on the role
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  test('runs the bundled check on its interval, with the grace period and the engines of the functions added', () => {
    const stack = testStack();
    const check = new RotationOverdueCheck(stack, 'Check', { interval: Duration.minutes(30), gracePeriod: Duration.hours(6) });
    const fn = RotationFunction.shared(stack, RotationEngine.MARIADB_MULTI_USER);
    check.addRotationFunction(fn);
    check.addRotationFunction(fn);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
    const props = Object.values(template.findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'index.handler', Environment: { Variables: { OVERDUE_GRACE_PERIOD_SECONDS: '21600' } } },
    }))[0].Properties;
    expect(props).toMatchObject({ Runtime: 'nodejs24.x', ReservedConcurrentExecutions: 1, TracingConfig: { Mode: 'Active' } });
    const map = stack.resolve(props.Environment.Variables.OVERDUE_ENGINE_BY_FUNCTION);
    const rendered = JSON.stringify(map);
    expect(rendered.match(/mariadb-multi-user/g)).toHaveLength(1);
    expect(rendered).toContain(JSON.stringify(stack.resolve(fn.functionArn)).slice(1, -1));
  });

  test('at most 25 functions fit in the engine map (Lambda\'s 4 KB environment)', () => {
    const withFunctions = (n: number) => {
      const stack = testStack();
      const check = new RotationOverdueCheck(stack, 'Check');
      for (let i = 0; i < n; i++) check.addRotationFunction(new RotationFunction(stack, `Fn${i}`, { engine: RotationEngine.POSTGRES_SINGLE_USER }));
      return () => Template.fromStack(stack);
    };
    expect(withFunctions(25)).not.toThrow();
    expect(withFunctions(26)).toThrow(/26 rotation functions were added; the engine map of at most 25 fits/);
  });

  test('an imported key is named in a warning with each statement it needs, instead of being changed silently', () => {
    const stack = testStack();
    const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111111111111:key/abcd');
    new RotationOverdueCheck(stack, 'Check', { encryptionKey: key });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('the key arn:aws:kms:us-east-1:111111111111:key/abcd is imported'));
    expect(warnings.map((w) => /\(([A-Za-z]+)\)/.exec(String(w.entry.data))![1]).sort())
      .toEqual(['AllowCloudWatchLogsForTheRotationFunctionLogGroup', 'AllowEventBridgeToTheDeadLetterQueueViaSqs', 'AllowTheRotationFunctionDeadLetterQueueViaSqs']);
  });

  test('refuses a grace period the check would refuse at every run: over 366 days, or not whole seconds', () => {
    expect(() => new RotationOverdueCheck(testStack(), 'C', { gracePeriod: Duration.days(367) })).toThrow(/gracePeriod must be whole seconds and at most 366 days, got 367 days/);
    expect(() => new RotationOverdueCheck(testStack(), 'C', { gracePeriod: Duration.millis(1500) })).toThrow(/gracePeriod must be whole seconds/);
    expect(() => new RotationOverdueCheck(testStack(), 'C', { gracePeriod: Duration.days(366) })).not.toThrow();
  });

  test('refuses an interval under 5 minutes, over 1 day (the alarm period limit) or not in whole minutes', () => {
    expect(() => new RotationOverdueCheck(testStack(), 'C', { interval: Duration.minutes(2) }))
      .toThrow(/interval must be a whole number of minutes from 5 minutes to 1 day; got 2 minutes/);
    expect(() => new RotationOverdueCheck(testStack(), 'C', { interval: Duration.minutes(24 * 60 + 1) })).toThrow(/from 5 minutes to 1 day/);
    expect(() => new RotationOverdueCheck(testStack(), 'C', { interval: Duration.days(1) })).not.toThrow();
    expect(() => new RotationOverdueCheck(testStack(), 'C', { interval: Duration.seconds(330) })).toThrow(/interval must be a whole number of minutes/);
  });
});
