import { Duration, Lazy } from 'aws-cdk-lib';
import { RotationCronOptions, RotationSchedule, RotationScheduleOptions } from '../../src';

describe('RotationSchedule.rate', () => {
  const valid: Array<[string, Duration, string]> = [
    ['4 hours', Duration.hours(4), 'rate(4 hours)'],
    ['36 hours', Duration.hours(36), 'rate(36 hours)'],
    ['1 day', Duration.days(1), 'rate(1 day)'],
    ['48 hours as days', Duration.hours(48), 'rate(2 days)'],
    ['30 days', Duration.days(30), 'rate(30 days)'],
    ['240 minutes', Duration.minutes(240), 'rate(4 hours)'],
    ['1000 days', Duration.days(1000), 'rate(1000 days)'],
  ];
  test.each(valid)('%s renders %s', (_name, interval, expression) => {
    expect(RotationSchedule.rate(interval).expressionString).toBe(expression);
  });

  test('renders RotationRules with the window in hours', () => {
    const schedule = RotationSchedule.rate(Duration.days(7), { window: Duration.hours(3) });
    expect(schedule.toRotationRules()).toEqual({ scheduleExpression: 'rate(7 days)', duration: '3h' });
    expect(schedule.windowString).toBe('3h');
    expect(RotationSchedule.rate(Duration.days(7)).toRotationRules()).toEqual({ scheduleExpression: 'rate(7 days)', duration: undefined });
  });

  test('window boundaries: 1 hour, just under the interval, 24 hours for long intervals', () => {
    expect(RotationSchedule.rate(Duration.hours(4), { window: Duration.hours(3) }).windowString).toBe('3h');
    expect(RotationSchedule.rate(Duration.hours(4), { window: Duration.hours(1) }).windowString).toBe('1h');
    expect(RotationSchedule.rate(Duration.days(2), { window: Duration.hours(24) }).windowString).toBe('24h');
    expect(RotationSchedule.rate(Duration.days(1), { window: Duration.hours(23) }).windowString).toBe('23h');
  });

  const invalid: Array<[string, Duration, RotationScheduleOptions, RegExp]> = [
    ['under 4 hours', Duration.hours(3), {}, /interval must be a whole number of hours from 4 hours to 1000 days, got 3 hours/],
    ['not whole hours', Duration.minutes(270), {}, /interval must be a whole number of hours from 4 hours to 1000 days, got 4 hours 30 minutes/],
    ['seconds', Duration.seconds(30), {}, /interval must be a whole number of hours from 4 hours to 1000 days/],
    ['over 1000 days', Duration.days(1001), {}, /interval must be a whole number of hours from 4 hours to 1000 days, got 1001 days/],
    ['window as long as the interval', Duration.hours(4), { window: Duration.hours(4) },
      /window must be a whole number of hours from 1 to 3 \(shorter than the interval of 4 hours\), got 4 hours/],
    ['window longer than the interval', Duration.hours(6), { window: Duration.hours(8) }, /window must be a whole number of hours from 1 to 5/],
    ['window under 1 hour', Duration.days(30), { window: Duration.minutes(30) }, /window must be a whole number of hours from 1 to 24.*got 30 minutes/],
    ['window of 0', Duration.days(30), { window: Duration.hours(0) }, /window must be a whole number of hours from 1 to 24/],
    ['window over 24 hours', Duration.days(30), { window: Duration.hours(25) }, /window must be a whole number of hours from 1 to 24.*got 25 hours/],
    ['window not whole hours', Duration.days(30), { window: Duration.minutes(90) }, /window must be a whole number of hours from 1 to 24.*got 1 hour 30 minutes/],
  ];
  test.each(invalid)('rejects %s, naming the property and the allowed range', (_name, interval, options, message) => {
    expect(() => RotationSchedule.rate(interval, options)).toThrow(message);
  });

  test('rejects token durations', () => {
    const token = Duration.hours(Lazy.number({ produce: () => 5 }));
    expect(() => RotationSchedule.rate(token)).toThrow(/interval must be a literal value/);
  });
});

describe('RotationSchedule.cron', () => {
  const valid: Array<[string, RotationCronOptions, string]> = [
    ['daily', { hour: '3' }, 'cron(0 3 * * ? *)'],
    ['weekly', { hour: '3', weekDay: 'SUN' }, 'cron(0 3 ? * SUN *)'],
    ['twice a month', { hour: '23', day: '1,15' }, 'cron(0 23 1,15 * ? *)'],
    ['last day of month', { hour: '0', day: 'L' }, 'cron(0 0 L * ? *)'],
    ['nearest weekday', { hour: '0', day: '15W' }, 'cron(0 0 15W * ? *)'],
    ['first Monday', { hour: '6', weekDay: '2#1' }, 'cron(0 6 ? * 2#1 *)'],
    ['last Friday', { hour: '6', weekDay: '6L' }, 'cron(0 6 ? * 6L *)'],
    ['quarterly', { hour: '2', day: '1', month: 'JAN,APR,JUL,OCT' }, 'cron(0 2 1 JAN,APR,JUL,OCT ? *)'],
    ['every 4 hours', { hour: '*/4' }, 'cron(0 */4 * * ? *)'],
    ['every 6 hours on weekdays', { hour: '0-18/6', weekDay: 'MON-FRI' }, 'cron(0 0-18/6 ? * MON-FRI *)'],
    ['explicit ? and defaults', { minute: '0', hour: '5', day: '?', weekDay: 'WED', month: '*', year: '*' }, 'cron(0 5 ? * WED *)'],
    ['two hours 22 apart on one weekday', { hour: '0,22', weekDay: 'MON' }, 'cron(0 0,22 ? * MON *)'],
  ];
  test.each(valid)('%s renders %s', (_name, cron, expression) => {
    expect(RotationSchedule.cron(cron).expressionString).toBe(expression);
  });

  const windows: Array<[string, RotationCronOptions, number]> = [
    ['daily at 0: the whole day', { hour: '0' }, 24],
    ['daily at 3', { hour: '3' }, 21],
    ['twice a day', { hour: '0,12' }, 12],
    ['every 4 hours', { hour: '*/4' }, 4],
    ['0 and 22 on Mondays: until midnight', { hour: '0,22', weekDay: 'MON' }, 2],
    ['0 and 10 on Mondays', { hour: '0,10', weekDay: 'MON' }, 10],
  ];
  test.each(windows)('%s allows a window of up to %d hours', (_name, cron, max) => {
    expect(RotationSchedule.cron(cron, { window: Duration.hours(max) }).toRotationRules().duration).toBe(`${max}h`);
    expect(() => RotationSchedule.cron(cron, { window: Duration.hours(max + 1) })).toThrow(`window must be a whole number of hours from 1 to ${max}`);
  });

  const invalid: Array<[string, RotationCronOptions, RotationScheduleOptions, RegExp]> = [
    ['minutes other than 0', { minute: '30', hour: '3' }, {}, /minute must be '0' \(rotation windows start on the hour\), got '30'/],
    ['minutes as a list', { minute: '0,30', hour: '3' }, {}, /minute must be '0'/],
    ['a year', { hour: '3', year: '2030' }, {}, /year must be '\*' \(rotation schedules repeat every year\), got '2030'/],
    ['no hour', { hour: '' }, {}, /hour is required: hours 0-23/],
    ['hour 24', { hour: '24' }, {}, /hour must be a cron field with values 0-23 .*got '24': 24 is outside 0-23/],
    ['hour as a name', { hour: 'noon' }, {}, /hour must be a cron field with values 0-23/],
    ['every hour', { hour: '*' }, {}, /hour '\*' fires 1 hour apart; rotations must be at least 4 hours apart/],
    ['every 3 hours', { hour: '*/3' }, {}, /hour '\*\/3' fires 3 hours apart; rotations must be at least 4 hours apart/],
    ['two hours apart', { hour: '1,3' }, {}, /fires 2 hours apart/],
    ['close across midnight', { hour: '0,22' }, {}, /hour '0,22' fires 2 hours apart.*including across midnight/],
    ['backwards range', { hour: '10-2' }, {}, /hour must be a cron field.*range '10-2' runs backwards/],
    ['zero step', { hour: '0/0' }, {}, /hour must be a cron field.*step must be from 1 to 23/],
    ['day and weekDay', { hour: '3', day: '1', weekDay: 'MON' }, {},
      /day and weekDay cannot both be specified; give one of them \(day 1-31 or weekDay 1-7\/SUN-SAT\)/],
    ['day * and weekDay', { hour: '3', day: '*', weekDay: 'MON' }, {}, /day and weekDay cannot both be specified/],
    ['day 32', { hour: '3', day: '32' }, {}, /day must be a cron field with values 1-31 .*got '32'/],
    ['day 0', { hour: '3', day: '0' }, {}, /day must be a cron field with values 1-31/],
    ['day 40W', { hour: '3', day: '40W' }, {}, /day must be a cron field with values 1-31 .*40 is outside 1-31/],
    ['month 13', { hour: '3', month: '13' }, {}, /month must be a cron field with values 1-12 or JAN-DEC .*got '13'/],
    ['unknown month name', { hour: '3', month: 'JANUARY' }, {}, /month must be a cron field with values 1-12 or JAN-DEC/],
    ['weekDay 8', { hour: '3', weekDay: '8' }, {}, /weekDay must be a cron field with values 1-7 or SUN-SAT .*got '8'/],
    ['weekDay 0', { hour: '3', weekDay: '0' }, {}, /weekDay must be a cron field with values 1-7 or SUN-SAT/],
    ['empty list item', { hour: '3,' }, {}, /hour must be a cron field.*empty list item/],
    ['window into the next UTC day', { hour: '22' }, { window: Duration.hours(3) },
      /window must be a whole number of hours from 1 to 2 \(ending by midnight UTC after the rotation starting at hour 22\), got 3 hours/],
    ['window into the next rotation', { hour: '0,6,12' }, { window: Duration.hours(7) },
      /window must be a whole number of hours from 1 to 6 \(no longer than the 6 hours between rotations\), got 7 hours/],
    ['window under 1 hour', { hour: '0' }, { window: Duration.minutes(30) }, /window must be a whole number of hours from 1 to 24/],
    ['window over 24 hours', { hour: '0' }, { window: Duration.hours(25) }, /window must be a whole number of hours from 1 to 24.*got 25 hours/],
  ];
  test.each(invalid)('rejects %s, naming the property and the allowed range', (_name, cron, options, message) => {
    expect(() => RotationSchedule.cron(cron, options)).toThrow(message);
  });

  test('month and weekday names are case-insensitive', () => {
    expect(RotationSchedule.cron({ hour: '1', weekDay: 'mon-fri', month: 'jan-mar' }).expressionString).toBe('cron(0 1 ? jan-mar mon-fri *)');
  });
});
