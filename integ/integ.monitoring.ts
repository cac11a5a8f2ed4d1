import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { RotationEngine, RotationFunction, RotationMonitor } from '../src';

/**
 * A stack with a shared PostgreSQL rotation function, monitored with one call: alarms on the function and on every error
 * code, rotation event rules, the overdue check, the encrypted topic and the dashboard. No secret rotates here (no
 * database answers), so deploying it changes nothing in the account. When deployed, the assertions run the overdue
 * check (its only Secrets Manager permission is ListSecrets; a denied call fails the run) and read the topic's
 * attributes (encrypted with the monitor's key).
 */
const app = new App();
const stack = new Stack(app, 'MonitoringInteg');

RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER);

const monitor = RotationMonitor.enable(stack, { overdueCheckOptions: { interval: Duration.minutes(15), gracePeriod: Duration.hours(6) } });

const integ = new IntegTest(app, 'Monitoring', { testCases: [stack] });
integ.assertions.invokeFunction({ functionName: monitor.overdueCheck!.lambdaFunction.functionName })
  .expect(ExpectedResult.objectLike({ StatusCode: 200 }));
integ.assertions.awsApiCall('SNS', 'getTopicAttributes', { TopicArn: monitor.topic.topicArn })
  .expect(ExpectedResult.objectLike({ Attributes: { KmsMasterKeyId: monitor.encryptionKey!.keyArn } }));

app.synth();
