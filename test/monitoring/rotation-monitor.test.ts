import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { platformStack } from './fixtures';
import { RotationEngine, RotationFunction, RotationMonitor, SecretRotation } from '../../src';
import { ERROR_CODES, ERROR_CODE_GUIDE, ROTATION_METRICS } from '../../src/private/contract';
import { secret, secretKey } from '../rotation/fixtures';
import { matchesEventPattern } from '../support/event-pattern-matcher';

const ALL_CODES = Object.values(ERROR_CODES);

function alarms(template: Template): Array<{ id: string; props: any }> {
  return Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, r]) => ({ id, props: r.Properties }));
}

/** The metric an alarm watches, whichever form CloudFormation got (plain or `Metrics` with one MetricStat). */
function alarmMetric(props: any): { namespace: string; name: string; dimensions: Record<string, unknown>; stat: string; period: number } {
  if (props.Metrics) {
    expect(props.Metrics).toHaveLength(1);
    const stat = props.Metrics[0].MetricStat;
    return {
      namespace: stat.Metric.Namespace,
      name: stat.Metric.MetricName,
      dimensions: Object.fromEntries((stat.Metric.Dimensions ?? []).map((d: any) => [d.Name, d.Value])),
      stat: stat.Stat,
      period: stat.Period,
    };
  }
  return {
    namespace: props.Namespace,
    name: props.MetricName,
    dimensions: Object.fromEntries((props.Dimensions ?? []).map((d: any) => [d.Name, d.Value])),
    stat: props.Statistic ?? props.ExtendedStatistic,
    period: props.Period,
  };
}

function topicRef(template: Template): { Ref: string } {
  const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
  expect(topics).toHaveLength(1);
  return { Ref: topics[0] };
}

describe('RotationMonitor with defaults', () => {
  const { stack, functions } = platformStack();
  const monitor = RotationMonitor.enable(stack);
  const template = Template.fromStack(stack);

  test('the topic is encrypted with the monitor\'s customer-managed key, which rotates', () => {
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('rotation monitor') } }));
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('rotation monitor'), EnableKeyRotation: true });
  });

  test('the key lets EventBridge and CloudWatch encrypt for the topic', () => {
    const keys = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('rotation monitor') } });
    const statements = Object.values(keys)[0].Properties.KeyPolicy.Statement;
    const publishers = statements.find((s: any) => s.Sid === 'AllowEventBridgeAndCloudWatchToPublishToTheEncryptedTopic');
    expect(publishers.Principal.Service.sort()).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
    expect(publishers.Action.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  test('the topic policy: TLS only; EventBridge and CloudWatch of this account may publish; nobody else may', () => {
    const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0].Properties.PolicyDocument.Statement;
    const topic = topicRef(template);
    expect(policy).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Principal: '*', Resource: topic, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Principal: { Service: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] },
        Resource: topic,
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Principal: { AWS: '*' },
        Condition: { StringNotEqualsIfExists: { 'aws:PrincipalServiceName': ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] } },
      }),
    ]));
    // no other Allow: the rule target must not have added an unconditioned statement
    expect(policy.filter((s: any) => s.Effect === 'Allow')).toHaveLength(1);
  });

  test('failed, abandoned and failed-validation rotations go to the topic, with a dead-letter queue and retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        'detail': { eventSource: ['secretsmanager.amazonaws.com'], eventName: ['RotationFailed', 'RotationAbandoned', 'TestRotationFailed'] },
      },
      Targets: [Match.objectLike({
        Arn: topicRef(template),
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RotationMonitorDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 185 },
      })],
    });
  });

  test('succeeded and started rotations are counted by rules of their own, without targets', () => {
    for (const name of ['RotationSucceeded', 'RotationStarted']) {
      const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { eventName: [name] } } } });
      expect(Object.values(rules)).toHaveLength(1);
      expect(Object.values(rules)[0].Properties.Targets).toBeUndefined();
    }
  });

  test('every alarm notifies the topic when it fires and when it clears', () => {
    const topic = topicRef(template);
    const all = alarms(template);
    expect(all.length).toBeGreaterThan(0);
    for (const { props } of all) {
      expect(props.AlarmActions).toEqual([topic]);
      expect(props.OKActions).toEqual([topic]);
      expect(props.AlarmDescription.length).toBeGreaterThan(20);
    }
    expect(monitor.alarms).toHaveLength(all.length);
  });

  test('each rotation function has four alarms: errors, throttles, duration at 80% of its timeout, dead-letter queue', () => {
    for (const fn of functions) {
      const fnRef = stack.resolve(fn.lambdaFunction.functionName);
      const mine = alarms(template).map((a) => ({ ...a, metric: alarmMetric(a.props) }))
        .filter((a) => JSON.stringify(a.metric.dimensions.FunctionName) === JSON.stringify(fnRef));
      const byName = Object.fromEntries(mine.map((a) => [a.metric.name, a]));
      expect(Object.keys(byName).sort()).toEqual(['Duration', 'Errors', 'Throttles']);
      expect(byName.Errors.props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
      expect(byName.Errors.metric).toMatchObject({ namespace: 'AWS/Lambda', stat: 'Sum', period: 300 });
      expect(byName.Throttles.props.Threshold).toBe(1);
      expect(byName.Duration.metric.stat).toBe('Maximum');
      expect(byName.Duration.props.Threshold).toBe(fn.lambdaFunction.timeout!.toMilliseconds() * 0.8);
      const dlqName = stack.resolve((fn.deadLetterQueue as any).queueName);
      const dlq = alarms(template).filter((a) => JSON.stringify(alarmMetric(a.props).dimensions.QueueName) === JSON.stringify(dlqName));
      expect(dlq).toHaveLength(1);
      expect(alarmMetric(dlq[0].props)).toMatchObject({ namespace: 'AWS/SQS', name: 'ApproximateNumberOfMessagesVisible', stat: 'Maximum' });
    }
  });

  test('one alarm per error code on RotationStepFailed by ErrorCode, whose description says what it means and what to do', () => {
    const byCode = alarms(template).map((a) => ({ ...a, metric: alarmMetric(a.props) }))
      .filter((a) => a.metric.name === ROTATION_METRICS.STEP_FAILED);
    expect(byCode.map((a) => a.metric.dimensions.ErrorCode).sort()).toEqual([...ALL_CODES].sort());
    for (const a of byCode) {
      const code = a.metric.dimensions.ErrorCode as keyof typeof ERROR_CODE_GUIDE;
      expect(a.metric).toMatchObject({ namespace: 'SecretsPlatform/Rotation', stat: 'Sum', period: 300, dimensions: { ErrorCode: code } });
      expect(Object.keys(a.metric.dimensions)).toEqual(['ErrorCode']);
      expect(a.props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
      expect(a.props.AlarmDescription).toContain(code);
      expect(a.props.AlarmDescription).toContain(ERROR_CODE_GUIDE[code].meaning);
      expect(a.props.AlarmDescription).toContain(ERROR_CODE_GUIDE[code].action);
      expect(monitor.errorCodeAlarm(code)).toBeDefined();
    }
  });

  test('the overdue check alarms when a secret is overdue, when a schedule cannot be evaluated, and when the check stops publishing', () => {
    const metrics = alarms(template).map((a) => ({ ...a, metric: alarmMetric(a.props) }));
    const overdue = metrics.filter((a) => a.metric.name === ROTATION_METRICS.OVERDUE_SECRETS);
    expect(overdue).toHaveLength(1);
    expect(overdue[0].metric).toMatchObject({ namespace: 'SecretsPlatform/Rotation', stat: 'Maximum', period: 3600, dimensions: {} });
    // a failed run keeps the state (no false "resolved"); the not-running alarm reports it
    expect(overdue[0].props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'ignore' });
    const unknown = metrics.filter((a) => a.metric.name === ROTATION_METRICS.UNKNOWN_SCHEDULE_SECRETS);
    expect(unknown).toHaveLength(1);
    expect(unknown[0].metric).toMatchObject({ stat: 'Maximum', period: 3600, dimensions: {} });
    expect(unknown[0].props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'ignore' });
    const running = metrics.filter((a) => a.metric.name === ROTATION_METRICS.ROTATION_ENABLED_SECRETS);
    expect(running).toHaveLength(1);
    expect(running[0].metric).toMatchObject({ stat: 'SampleCount', period: 3600, dimensions: {} });
    expect(running[0].props).toMatchObject({
      Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', EvaluationPeriods: 2, DatapointsToAlarm: 2,
    });
  });

  test('the overdue check counts the monitored functions\' secrets under their engines', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { OVERDUE_GRACE_PERIOD_SECONDS: '86400' } } },
    }));
    expect(fn).toHaveLength(1);
    const map = fn[0].Properties.Environment.Variables.OVERDUE_ENGINE_BY_FUNCTION;
    const rendered = JSON.stringify(map);
    for (const f of functions) {
      expect(rendered).toContain(JSON.stringify(stack.resolve(f.functionArn)).slice(1, -1));
      expect(rendered).toContain(f.engine.id);
    }
  });

  test('the dashboard shows rotations, failures by error code, overdue secrets and every function', () => {
    const body = JSON.stringify(stack.resolve(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody));
    for (const title of ['Rotations (Secrets Manager events)', 'Failed steps by error code', 'Overdue secrets', 'Oldest rotation age',
      'Function errors', 'Function duration (max)', 'Function throttles', 'Dead-letter queue messages', 'Alarms']) {
      expect(body).toContain(title);
    }
    expect(body).toContain('SEARCH(');
    expect(body).toContain('ErrorCode');
    for (const f of functions) expect(body).toContain(f.node.path);
  });
});

describe('RotationMonitor options', () => {
  test('a topic of your own receives the events and the alarms; none is created', () => {
    const { stack } = platformStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:us-east-1:111111111111:ops');
    new RotationMonitor(stack, 'Monitor', { topic, overdueCheck: false });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: 'arn:aws:sns:us-east-1:111111111111:ops' })] });
    for (const { props } of alarms(template)) expect(props.AlarmActions).toEqual(['arn:aws:sns:us-east-1:111111111111:ops']);
  });

  test('a topic of this app gets the publish statement for EventBridge and CloudWatch of this account', () => {
    const { stack } = platformStack();
    const ops = new sns.Topic(stack, 'OpsTopic', { masterKey: new kms.Key(stack, 'OpsKey', { enableKeyRotation: true }), enforceSSL: true });
    new RotationMonitor(stack, 'Monitor', { topic: ops, overdueCheck: false });
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0].Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Sid: 'AllowRotationMonitorEventsAndAlarms',
      Effect: 'Allow',
      Principal: { Service: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    }));
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('is imported'))).toEqual([]);
  });

  test('an imported topic is left as it is, with a warning naming what its policy must allow', () => {
    const { stack } = platformStack();
    new RotationMonitor(stack, 'Monitor', { topic: sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:us-east-1:111111111111:ops'), overdueCheck: false });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cdk-secrets-platform:rotationMonitorTopicPolicy'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toContain('must allow sns:Publish to events.amazonaws.com and cloudwatch.amazonaws.com');
  });

  test('two monitors watching one account and region get a warning; narrowed monitors without overdue checks do not', () => {
    const app = new App();
    const env = { account: '111111111111', region: 'eu-west-1' };
    const a = new Stack(app, 'A', { env });
    const b = new Stack(app, 'B', { env });
    new RotationMonitor(a, 'Monitor');
    new RotationMonitor(b, 'Monitor');
    expect(Annotations.fromStack(b).findWarning('*', Match.stringLikeRegexp('rotationMonitorDuplicate'))).toHaveLength(1);
    expect(String(Annotations.fromStack(b).findWarning('*', Match.stringLikeRegexp('rotationMonitorDuplicate'))[0].entry.data)).toContain('(A/Monitor)');

    const app2 = new App();
    const c = new Stack(app2, 'C', { env });
    const d = new Stack(app2, 'D', { env });
    const other = new Stack(app2, 'Other', { env: { account: '111111111111', region: 'us-east-1' } });
    new RotationMonitor(c, 'Monitor');
    new RotationMonitor(d, 'Monitor', { overdueCheck: false, secrets: [secretsmanager.Secret.fromSecretNameV2(d, 'S', 'team/db')] });
    new RotationMonitor(other, 'Monitor');
    for (const st of [c, d, other]) expect(Annotations.fromStack(st).findWarning('*', Match.stringLikeRegexp('rotationMonitorDuplicate'))).toEqual([]);
  });

  test('alarm actions replace the topic on alarms; events still go to the topic', () => {
    const { stack } = platformStack();
    const pager = new sns.Topic(stack, 'Pager', { masterKey: new kms.Key(stack, 'PagerKey', { enableKeyRotation: true }) });
    const monitor = new RotationMonitor(stack, 'Monitor', { alarmActions: [new cloudwatchActions.SnsAction(pager)] });
    monitor.monitorScope(stack);
    const template = Template.fromStack(stack);
    const pagerRef = stack.resolve(pager.topicArn);
    for (const { props } of alarms(template)) expect(props.AlarmActions).toEqual([pagerRef]);
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: stack.resolve((monitor.topic as sns.Topic).topicArn) })],
    });
  });

  test('secrets narrow the events to them: a complete ARN exactly, a partial one as a prefix', () => {
    const { stack } = platformStack();
    const key = secretKey(stack, 'K2');
    const owned = secret(stack, 'Owned', key);
    const byName = secretsmanager.Secret.fromSecretNameV2(stack, 'ByName', 'team/db');
    const monitor = new RotationMonitor(stack, 'Monitor', { secrets: [owned], overdueCheck: false, dashboard: false });
    monitor.monitorSecret(byName);
    monitor.monitorSecret(owned); // twice: once in the pattern
    const rule = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { detail: { eventName: Match.arrayWith(['RotationFailed']) } } },
    }))[0];
    const secretIds = rule.Properties.EventPattern.detail.additionalEventData.SecretId;
    expect(secretIds).toHaveLength(2);
    expect(secretIds).toContainEqual(stack.resolve(owned.secretArn));
    expect(JSON.stringify(secretIds)).toContain('prefix');
    expect(JSON.stringify(secretIds)).toContain('secret:team/db-');
  });

  test('at most 15 secrets: one event pattern holds 2,048 characters', () => {
    const { stack } = platformStack();
    const monitor = new RotationMonitor(stack, 'Monitor', { overdueCheck: false, dashboard: false });
    // ARNs of about 100 characters (a 30-character name in a long region name)
    const arn = (i: number) => `arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:platform/team-a/production/dbs-${String(i).padStart(4, '0')}-AbCdEf`;
    expect(arn(0).length).toBe(100);
    for (let i = 0; i < 15; i++) monitor.monitorSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `S${i}`, arn(i)));
    // the same secret again is not one more
    monitor.monitorSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Again', arn(0)));
    expect(() => monitor.monitorSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'S15', arn(15))))
      .toThrow(/at most 15 secrets fit in one event pattern/);
    for (const rule of Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'))) {
      expect(JSON.stringify(rule.Properties.EventPattern).length).toBeLessThanOrEqual(2048);
    }
  });

  test('errorCodeAlarms picks the codes; an unknown code is refused', () => {
    const { stack } = platformStack();
    new RotationMonitor(stack, 'Monitor', { errorCodeAlarms: ['TLS_FAILED', 'MASTER_LOGIN_FAILED'], overdueCheck: false });
    const codes = alarms(Template.fromStack(stack)).map((a) => alarmMetric(a.props)).filter((m) => m.name === 'RotationStepFailed')
      .map((m) => m.dimensions.ErrorCode);
    expect(codes.sort()).toEqual(['MASTER_LOGIN_FAILED', 'TLS_FAILED']);
    expect(() => new RotationMonitor(platformStack().stack, 'M', { errorCodeAlarms: ['TLS_FAIL'] }))
      .toThrow(/errorCodeAlarms has unknown codes TLS_FAIL/);
  });

  test('thresholds are typed props: custom values land in the alarms; out-of-range values are refused', () => {
    const { stack, functions } = platformStack();
    const monitor = new RotationMonitor(stack, 'Monitor', {
      functionAlarms: {
        errorsThreshold: 3,
        throttlesThreshold: 2,
        durationThresholdRatio: 0.5,
        deadLetterQueueThreshold: 4,
        period: Duration.minutes(15),
      },
    });
    const alarmsOfFn = monitor.monitorFunction(functions[0]);
    const template = Template.fromStack(stack);
    const byId = (a: cloudwatch.Alarm) => alarms(template).find((x) => x.id === stack.getLogicalId(a.node.defaultChild as any))!;
    expect(byId(alarmsOfFn.errorsAlarm).props.Threshold).toBe(3);
    expect(byId(alarmsOfFn.throttlesAlarm).props.Threshold).toBe(2);
    expect(byId(alarmsOfFn.deadLetterQueueAlarm).props.Threshold).toBe(4);
    expect(byId(alarmsOfFn.durationAlarm).props.Threshold).toBe(functions[0].lambdaFunction.timeout!.toMilliseconds() / 2);
    expect(alarmMetric(byId(alarmsOfFn.errorsAlarm).props).period).toBe(900);
    // per-function options win over the monitor's
    expect(monitor.monitorFunction(functions[0], { errorsThreshold: 9 })).toBe(alarmsOfFn);

    const m = () => new RotationMonitor(platformStack().stack, 'M', { overdueCheck: false, dashboard: false, errorCodeAlarms: [] });
    expect(() => m().monitorFunction(platformStack().functions[0], { durationThresholdRatio: 1.5 })).toThrow(/durationThresholdRatio must be greater than 0 and at most 1, got 1.5/);
    expect(() => m().monitorFunction(platformStack().functions[0], { errorsThreshold: 0 })).toThrow(/errorsThreshold must be a whole number of at least 1, got 0/);
    expect(() => m().monitorFunction(platformStack().functions[0], { period: Duration.seconds(90) })).toThrow(/period must be a whole number of minutes/);
  });

  test('overdueCheck false and dashboard false leave them out', () => {
    const { stack } = platformStack();
    const monitor = RotationMonitor.enable(stack, { overdueCheck: false, dashboard: false });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(monitor.overdueCheck).toBeUndefined();
    expect(alarms(template).some((a) => alarmMetric(a.props).name === 'OverdueSecrets')).toBe(false);
    template.resourceCountIs('AWS::Events::Rule', 3);
  });
});

describe('RotationMonitor.enable: one call for everything a stack rotates', () => {
  test('monitors every rotation function of the stack; a second call returns the same monitor', () => {
    const { stack, functions } = platformStack();
    const monitor = RotationMonitor.enable(stack);
    expect(monitor.monitoredFunctions.sort((a, b) => a.node.path.localeCompare(b.node.path)))
      .toEqual([...functions].sort((a, b) => a.node.path.localeCompare(b.node.path)));
    expect(RotationMonitor.enable(stack)).toBe(monitor);
    expect(() => RotationMonitor.enable(stack, {})).toThrow(/already has its monitor; pass props only on the first call/);
  });

  test('a rotation function defined after enable fails synthesis with its path', () => {
    const { stack } = platformStack();
    RotationMonitor.enable(stack);
    const late = secret(stack, 'Late', secretKey(stack, 'LateKey'));
    new SecretRotation(stack, 'LateRotation', { secret: late, engine: RotationEngine.MARIADB_SINGLE_USER });
    expect(() => Template.fromStack(stack)).toThrow(/rotation function .*mariadb-single-user.* was defined after monitorScope\(\)\/RotationMonitor.enable\(\)/);
  });

  test('a function of another stack can be monitored; its alarms live in the monitor\'s stack', () => {
    const app = new App();
    const platform = new Stack(app, 'PlatformStack');
    const fn = RotationFunction.shared(platform, RotationEngine.POSTGRES_SINGLE_USER);
    const ops = new Stack(app, 'Ops');
    const monitor = new RotationMonitor(ops, 'Monitor');
    monitor.monitorFunction(fn);
    const template = Template.fromStack(ops);
    expect(alarms(template).some((a) => alarmMetric(a.props).name === 'Errors')).toBe(true);
    Template.fromStack(platform);
  });
});

describe('RotationMonitor rules against the documented sample events (test/fixtures/secretsmanager-events)', () => {
  const fixtures = path.join(__dirname, '..', 'fixtures', 'secretsmanager-events');
  const sample = (name: string) => JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8'));
  const { stack } = platformStack();
  const monitor = RotationMonitor.enable(stack, { overdueCheck: false, dashboard: false });
  const template = Template.fromStack(stack);
  const patternOf = (rule: Construct) =>
    template.toJSON().Resources[stack.getLogicalId(rule.node.defaultChild as CfnResource)].Properties.EventPattern;
  const unrelated = ['api-delete-secret-legacy-arn', 'api-put-secret-value', 'api-rotate-secret', 'end-secret-version-delete', 'kms-rotate-key',
    'secret-label-updated', 'start-secret-version-delete', 'test-rotation-started', 'test-rotation-succeeded'];

  test.each([
    ['failure rule', () => monitor.failureRule, ['rotation-failed', 'rotation-abandoned', 'test-rotation-failed']],
    ['success rule', () => monitor.successRule, ['rotation-succeeded']],
    ['start rule', () => monitor.startRule, ['rotation-started']],
  ] as const)('the %s matches exactly its events', (_name, rule, expected) => {
    const pattern = patternOf(rule());
    const all = fs.readdirSync(fixtures).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    expect(all).toEqual(expect.arrayContaining([...expected, ...unrelated]));
    const matched = all.filter((name) => matchesEventPattern(pattern, sample(name)));
    expect(matched.sort()).toEqual([...expected].sort());
  });
});
