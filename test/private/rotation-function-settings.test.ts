import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { conflictingSettings, physicalFunctionName, validateSettings } from '../../src/private/rotation-function-settings';

test('defaults: 60 s timeout, a quarter of it per call (at most 10 s), one year of logs, retained, 5 at once', () => {
  const settings = validateSettings('Owner', {});
  expect(settings.timeout.toSeconds()).toBe(60);
  expect(settings.callTimeout.toMilliseconds()).toBe(10_000);
  expect(settings.logRetention).toBe(logs.RetentionDays.ONE_YEAR);
  expect(settings.logRemovalPolicy).toBe(RemovalPolicy.RETAIN);
  expect(settings.reservedConcurrentExecutions).toBe(5);
  expect(validateSettings('Owner', { timeout: Duration.seconds(20) }).callTimeout.toMilliseconds()).toBe(5_000);
});

test('messages name the owner, the property and the allowed range', () => {
  expect(() => validateSettings('Owner', { timeout: Duration.seconds(5) }))
    .toThrow('Owner: timeout must be whole seconds from 10 seconds to 15 minutes, got 5 seconds');
  expect(() => validateSettings('Owner', { timeout: Duration.seconds(20), callTimeout: Duration.seconds(11) }))
    .toThrow('Owner: callTimeout must be from 1 second to half the timeout (10 seconds), got 11 seconds');
});

test('shared(): only given settings that differ conflict', () => {
  const stack = new Stack();
  const existing = validateSettings('Owner', { timeout: Duration.seconds(90) });
  expect(conflictingSettings(stack, {}, existing)).toEqual([]);
  expect(conflictingSettings(stack, { timeout: Duration.seconds(90), reservedConcurrentExecutions: 5 }, existing)).toEqual([]);
  expect(conflictingSettings(stack, { timeout: Duration.seconds(60), probeQuery: 'SELECT 2', logRetention: logs.RetentionDays.ONE_DAY }, existing))
    .toEqual(['timeout', 'logRetention', 'probeQuery']);
});

test('function names: at most 64 characters, stable per stack name and path, different per path', () => {
  const stack = new Stack(new App(), 'A-very-long-stack-name-that-goes-on-and-on');
  const a = physicalFunctionName(new Construct(stack, 'One'), 'mariadb-multi-user');
  const b = physicalFunctionName(new Construct(stack, 'Two'), 'mariadb-multi-user');
  expect(a).toMatch(/^A-very-long-stack-na-mariadb-multi-user-[0-9a-f]{8}$/);
  expect(a.length).toBeLessThanOrEqual(64);
  expect(a).not.toBe(b);
  expect(physicalFunctionName(new Construct(new Stack(new App(), 'A-very-long-stack-name-that-goes-on-and-on'), 'One'), 'mariadb-multi-user')).toBe(a);
});
