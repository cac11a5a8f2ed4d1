import { EventPatternError, matchesEventPattern } from './event-pattern-matcher';

// The patterns are the examples of EventBridge's "Event patterns", "Content filtering", "Arrays" and "Null values and
// empty strings" pages; the events are the pages' own where they give one, otherwise the smallest event that shows the
// documented behaviour, with one that must not match beside each.

const ec2Terminated = {
  'version': '0',
  'id': '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  'source': 'aws.ec2',
  'account': '111122223333',
  'time': '2017-12-22T18:43:48Z',
  'region': 'us-west-1',
  'resources': ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  'detail': { 'instance-id': 'i-1234567890abcdef0', 'state': 'terminated' },
};

const autoscalingLaunch = {
  'version': '0',
  'id': '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  'source': 'aws.autoscaling',
  'account': '123456789012',
  'time': '2015-11-11T21:31:47Z',
  'region': 'us-east-1',
  'resources': [],
  'detail': { eventVersion: '', responseElements: null },
};

function withDetail(detail: object): object {
  return { ...ec2Terminated, detail };
}

describe('event patterns', () => {
  test('source, detail-type and a detail field, each an array of values', () => {
    const pattern = { 'source': ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], 'detail': { state: ['terminated'] } };
    expect(matchesEventPattern(pattern, ec2Terminated)).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ state: 'running' }))).toBe(false);
    expect(matchesEventPattern(pattern, { ...ec2Terminated, source: 'aws.fargate' })).toBe(false);
  });

  test('an array of values is "or"', () => {
    const pattern = { source: ['aws.ec2', 'aws.fargate'] };
    expect(matchesEventPattern(pattern, ec2Terminated)).toBe(true);
    expect(matchesEventPattern(pattern, { ...ec2Terminated, source: 'aws.fargate' })).toBe(true);
    expect(matchesEventPattern(pattern, { ...ec2Terminated, source: 'aws.ecs' })).toBe(false);
  });

  test('strings match character by character, keys are case-sensitive, and every field named must be there', () => {
    expect(matchesEventPattern({ source: ['AWS.EC2'] }, ec2Terminated)).toBe(false);
    expect(matchesEventPattern({ Source: ['aws.ec2'] }, ec2Terminated)).toBe(false);
    expect(matchesEventPattern({ detail: { State: ['terminated'] } }, ec2Terminated)).toBe(false);
    expect(matchesEventPattern({ detail: { state: ['terminated'], missing: ['x'] } }, ec2Terminated)).toBe(false);
  });

  test('value matching in nested objects and numbers (the Macie example)', () => {
    const pattern = { 'source': ['aws.macie'], 'detail-type': ['Macie Finding'], 'detail': { severity: { score: [1] }, count: [2] } };
    const finding = { 'source': 'aws.macie', 'detail-type': 'Macie Finding', 'detail': { severity: { score: 1, description: 'Low' }, count: 2 } };
    expect(matchesEventPattern(pattern, finding)).toBe(true);
    expect(matchesEventPattern(pattern, { ...finding, detail: { severity: { score: 2 }, count: 2 } })).toBe(false);
    expect(matchesEventPattern(pattern, { ...finding, detail: { severity: { score: '1' }, count: 2 } })).toBe(false);
    expect(matchesEventPattern(pattern, { ...finding, detail: { severity: 1, count: 2 } })).toBe(false);
  });

  test('null and the empty string are values, and not the same value', () => {
    expect(matchesEventPattern({ 'source': ['aws.autoscaling'], 'detail-type': ['EC2 Instance Launch Successful'], 'detail': { responseElements: [null] } }, autoscalingLaunch)).toBe(true);
    expect(matchesEventPattern({ detail: { eventVersion: [''] } }, autoscalingLaunch)).toBe(true);
    expect(matchesEventPattern({ detail: { eventVersion: [null] } }, autoscalingLaunch)).toBe(false);
    expect(matchesEventPattern({ detail: { responseElements: [''] } }, autoscalingLaunch)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: [null] } }, autoscalingLaunch)).toBe(false);
  });

  test('arrays in events match when any item matches', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(matchesEventPattern(pattern, event)).toBe(true);
    expect(matchesEventPattern(pattern, { resources: [event.resources[0]] })).toBe(false);
    expect(matchesEventPattern(pattern, { resources: [] })).toBe(false);
  });

  test('a nested pattern on an array of objects needs one object that matches all of it', () => {
    const event = { detail: { resources: [{ ARN: 'arn:one', type: 'AWS::KMS::Key' }, { ARN: 'arn:two', type: 'AWS::S3::Bucket' }] } };
    expect(matchesEventPattern({ detail: { resources: { ARN: ['arn:two'] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { resources: { ARN: ['arn:one'], type: ['AWS::KMS::Key'] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { resources: { ARN: ['arn:one'], type: ['AWS::S3::Bucket'] } } }, event)).toBe(false);
  });
});

describe('content filtering', () => {
  test('prefix', () => {
    const pattern = { time: [{ prefix: '2017-10-02' }] };
    expect(matchesEventPattern(pattern, { time: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(matchesEventPattern(pattern, { time: '2017-10-03T18:43:48Z' })).toBe(false);
    expect(matchesEventPattern(pattern, { time: '2017-10-0' })).toBe(false);
  });

  test('prefix and suffix ignoring case', () => {
    expect(matchesEventPattern({ FileName: [{ prefix: { 'equals-ignore-case': 'file' } }] }, { FileName: 'FILE.png' })).toBe(true);
    expect(matchesEventPattern({ FileName: [{ prefix: 'file' }] }, { FileName: 'FILE.png' })).toBe(false);
    expect(matchesEventPattern({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { FileName: 'image.PNG' })).toBe(true);
    expect(matchesEventPattern({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { FileName: 'image.PNG.txt' })).toBe(false);
  });

  test('suffix', () => {
    const pattern = { FileName: [{ suffix: '.png' }] };
    expect(matchesEventPattern(pattern, { FileName: 'image.png' })).toBe(true);
    expect(matchesEventPattern(pattern, { FileName: 'image.PNG' })).toBe(false);
    expect(matchesEventPattern(pattern, { FileName: 'image.png.txt' })).toBe(false);
  });

  test('anything-but a string, a number, a list of strings, a list of numbers', () => {
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: { state: 'running' } })).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: { state: 'initializing' } })).toBe(false);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, { detail: { 'x-limit': 124 } })).toBe(true);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, { detail: { 'x-limit': 123 } })).toBe(false);
    const states = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matchesEventPattern(states, { detail: { state: 'running' } })).toBe(true);
    expect(matchesEventPattern(states, { detail: { state: 'overloaded' } })).toBe(false);
    const limits = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(matchesEventPattern(limits, { detail: { 'x-limit': 150 } })).toBe(true);
    expect(matchesEventPattern(limits, { detail: { 'x-limit': 200 } })).toBe(false);
  });

  test('anything-but does not match a field the event lacks', () => {
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: {} })).toBe(false);
  });

  test('anything-but a prefix, a suffix, ignoring case, a wildcard', () => {
    const noInit = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matchesEventPattern(noInit, { detail: { state: 'running' } })).toBe(true);
    expect(matchesEventPattern(noInit, { detail: { state: 'initializing' } })).toBe(false);
    const noTxt = { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } };
    expect(matchesEventPattern(noTxt, { detail: { FileName: 'notes.md' } })).toBe(true);
    expect(matchesEventPattern(noTxt, { detail: { FileName: 'notes.txt' } })).toBe(false);
    const noStopped = { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } };
    expect(matchesEventPattern(noStopped, { detail: { state: 'running' } })).toBe(true);
    expect(matchesEventPattern(noStopped, { detail: { state: 'STOPPED' } })).toBe(false);
    const noLib = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(matchesEventPattern(noLib, { detail: { FilePath: 'dir/src/main.ts' } })).toBe(true);
    expect(matchesEventPattern(noLib, { detail: { FilePath: 'dir/lib/main.ts' } })).toBe(false);
  });

  test('anything-but with a list of prefixes is rejected, as documented', () => {
    expect(() => matchesEventPattern({ detail: { state: [{ 'anything-but': { prefix: ['a', 'b'] } }] } }, { detail: { state: 'c' } }))
      .toThrow(EventPatternError);
  });

  test('numeric: every comparison of the pattern holds', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matchesEventPattern(pattern, { detail: { 'c-count': 5, 'd-count': 9.5, 'x-limit': 301.8 } })).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { 'c-count': 0, 'd-count': 9, 'x-limit': 301.8 } })).toBe(false);
    expect(matchesEventPattern(pattern, { detail: { 'c-count': 5, 'd-count': 10, 'x-limit': 301.8 } })).toBe(false);
    expect(matchesEventPattern(pattern, { detail: { 'c-count': 5, 'd-count': 9, 'x-limit': 302 } })).toBe(false);
    expect(matchesEventPattern(pattern, { detail: { 'c-count': '5', 'd-count': 9, 'x-limit': 301.8 } })).toBe(false);
    expect(() => matchesEventPattern({ n: [{ numeric: ['>', 6e9] }] }, { n: 1 })).toThrow(EventPatternError);
  });

  test('cidr: IPv4 and IPv6 blocks', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matchesEventPattern(pattern, { detail: { sourceIPAddress: '10.0.0.255' } })).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { sourceIPAddress: '10.0.1.0' } })).toBe(false);
    expect(matchesEventPattern(pattern, { detail: { sourceIPAddress: 'secretsmanager.amazonaws.com' } })).toBe(false);
    const v6 = { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } };
    expect(matchesEventPattern(v6, { detail: { sourceIPAddress: '2001:db8:1::5' } })).toBe(true);
    expect(matchesEventPattern(v6, { detail: { sourceIPAddress: '2001:db9::5' } })).toBe(false);
  });

  test('exists: the documented event with detail.state matches, the one without does not', () => {
    const pattern = { detail: { state: [{ exists: true }] } };
    const withState = {
      'version': '0',
      'id': '7bf73129-1428-4cd3-a780-95db273d1602',
      'detail-type': 'EC2 Instance State-change Notification',
      'source': 'aws.ec2',
      'account': '123456789012',
      'time': '2015-11-11T21:29:54Z',
      'region': 'us-east-1',
      'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
      'detail': { 'instance-id': 'i-abcd1111', 'state': 'pending' },
    };
    const withoutState = {
      'detail-type': ['EC2 Instance State-change Notification'],
      'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
      'detail': { 'c-count': { c1: 100 } },
    };
    expect(matchesEventPattern(pattern, withState)).toBe(true);
    expect(matchesEventPattern(pattern, withoutState)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ exists: false }] } }, withoutState)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ exists: false }] } }, withState)).toBe(false);
  });

  test('exists looks at leaves only, and exists: false holds when the parent is missing too', () => {
    const event = { detail: { 'c-count': { c1: 100 } } };
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { 'c-count': { c1: [{ exists: true }] } } }, event)).toBe(true);
    expect(matchesEventPattern({ other: { state: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesEventPattern({ other: { state: [{ exists: true }] } }, event)).toBe(false);
  });

  test('equals-ignore-case, on the documented event', () => {
    const pattern = { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] };
    const event = {
      'detail-type': ['EC2 Instance State-change Notification'],
      'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
      'detail': { 'c-count': { c1: 100 } },
    };
    expect(matchesEventPattern(pattern, event)).toBe(true);
    expect(matchesEventPattern(pattern, { 'detail-type': 'EC2 Instance State-change' })).toBe(false);
  });

  test('wildcard: * is any run of characters, \\* a star', () => {
    const bus = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
    expect(matchesEventPattern(bus, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' })).toBe(true);
    expect(matchesEventPattern(bus, { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/default' })).toBe(false);
    const png = { FilePath: [{ wildcard: 'dir/*.png' }] };
    expect(matchesEventPattern(png, { FilePath: 'dir/dir/dir/dir/dir/doc.png' })).toBe(true);
    expect(matchesEventPattern(png, { FilePath: 'dir/doc.png.txt' })).toBe(false);
    const star = { Name: [{ wildcard: 'a\\*b' }] };
    expect(matchesEventPattern(star, { Name: 'a*b' })).toBe(true);
    expect(matchesEventPattern(star, { Name: 'axxb' })).toBe(false);
    expect(() => matchesEventPattern({ Name: [{ wildcard: 'a**b' }] }, { Name: 'ab' })).toThrow(EventPatternError);
  });

  test('the complex example: several operators, all must hold', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        'state': [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    };
    const event = { time: '2017-10-02T18:43:48Z', detail: { 'state': 'running', 'c-count': 1, 'd-count': 2, 'x-limit': 101 } };
    expect(matchesEventPattern(pattern, event)).toBe(true);
    expect(matchesEventPattern(pattern, { ...event, detail: { ...event.detail, 'x-limit': 100 } })).toBe(false);
    expect(matchesEventPattern(pattern, { ...event, time: '2017-10-03T00:00:00Z' })).toBe(false);
  });

  test('$or: one of the alternatives must hold, with the other keys', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(matchesEventPattern(pattern, { detail: { 'c-count': 3 } })).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { 'd-count': 9 } })).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { 'x-limit': 301.8 } })).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { 'c-count': 6, 'd-count': 10, 'x-limit': 1 } })).toBe(false);
    const withSource = { source: ['aws.ec2'], $or: [{ 'detail-type': ['A'] }, { 'detail-type': ['B'] }] };
    expect(matchesEventPattern(withSource, { 'source': 'aws.ec2', 'detail-type': 'B' })).toBe(true);
    expect(matchesEventPattern(withSource, { 'source': 'aws.s3', 'detail-type': 'B' })).toBe(false);
  });
});

describe('malformed patterns are rejected, never guessed', () => {
  test.each([
    ['a scalar instead of an array', { source: 'aws.ec2' }],
    ['an empty array', { source: [] }],
    ['an empty object', { detail: {} }],
    ['an unknown operator', { source: [{ contains: 'ec2' }] }],
    ['two operators in one matcher', { source: [{ prefix: 'aws', suffix: 'ec2' }] }],
    ['a $or that is not a list of patterns', { $or: { source: ['aws.ec2'] } }],
    ['exists with a string', { source: [{ exists: 'yes' }] }],
    ['a numeric range upside down', { n: [{ numeric: ['<', 5, '>', 1] }] }],
    ['a cidr that is not a block', { ip: [{ cidr: '10.0.0.0' }] }],
  ])('%s', (_name, pattern) => {
    expect(() => matchesEventPattern(pattern, ec2Terminated)).toThrow(EventPatternError);
  });

  test('the error carries a stable code and the path of the fault', () => {
    try {
      matchesEventPattern({ detail: { state: [{ contains: 'x' }] } }, ec2Terminated);
      throw new Error('expected an EventPatternError');
    } catch (err) {
      expect(err).toBeInstanceOf(EventPatternError);
      expect((err as EventPatternError).code).toBe('INVALID_EVENT_PATTERN');
      expect((err as EventPatternError).path).toBe('$.detail.state[0]');
    }
  });
});
