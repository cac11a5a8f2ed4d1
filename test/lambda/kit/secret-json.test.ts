import { InvalidSecretValueError } from '../../../lambda/kit/errors';
import { parseSecretObject, withChangedMembers } from '../../../lambda/kit/secret-json';

const canary = 'CANARY-json-pw-4242';

describe('withChangedMembers', () => {
  test('members rotation does not change keep their exact text: big integers, number spellings, escapes, nesting', () => {
    const text = `{ "engine":"postgres", "password": "${canary}", "big": 123456789012345678901234567890, "version": 1.10,`
      + ' "exp": 1E+2, "neg": -0.0, "esc": "caf\\u00e9 \\"q\\" \\/", "nested": {"a": [1.0, {"b": 9007199254740993}], "s": "}],"},'
      + ' "nil": null }';
    const out = withChangedMembers(parseSecretObject(text, 'current'), { password: 'new' });
    expect(out).toBe('{"engine":"postgres","password":"new","big":123456789012345678901234567890,"version":1.10,"exp":1E+2,'
      + '"neg":-0.0,"esc":"caf\\u00e9 \\"q\\" \\/","nested":{"a": [1.0, {"b": 9007199254740993}], "s": "}],"},"nil":null}');
    expect(JSON.parse(out).password).toBe('new');
  });

  test('a changed member keeps its place; a new member is appended', () => {
    const source = parseSecretObject('{"username":"app","password":"x","port":5432}', 'current');
    expect(withChangedMembers(source, { username: 'app_clone', password: 'y' })).toBe('{"username":"app_clone","password":"y","port":5432}');
    expect(withChangedMembers(source, { extra: 1 })).toBe('{"username":"app","password":"x","port":5432,"extra":1}');
  });

  test('a member name written with escapes is the member it decodes to', () => {
    const source = parseSecretObject('{"pass\\u0077ord":"x"}', 'current');
    expect(withChangedMembers(source, { password: 'y' })).toBe('{"password":"y"}');
  });

  test('an empty object', () => {
    expect(withChangedMembers(parseSecretObject(' {  } ', 'current'), { a: 1 })).toBe('{"a":1}');
  });
});

describe('parseSecretObject', () => {
  test.each([
    ['a plain duplicate', `{"username":"app","username":"admin","password":"${canary}"}`],
    ['a duplicate spelled with an escape', `{"username":"app","user\\u006eame":"admin","password":"${canary}"}`],
  ])('%s is refused: parsers disagree on which one wins', (_name, text) => {
    expect(() => parseSecretObject(text, 'pending')).toThrow(InvalidSecretValueError);
    expect(() => parseSecretObject(text, 'pending')).toThrow('The pending secret value is invalid: a member name appears more than once');
  });

  test('a duplicate inside a nested object is the application\'s business', () => {
    expect(parseSecretObject('{"a":{"x":1,"x":2}}', 'current').sources.get('a')).toBe('{"x":1,"x":2}');
  });

  test.each([['not JSON', '{"a":'], ['an array', '[1]'], ['a string', '"s"'], ['null', 'null']])('%s is refused', (_name, text) => {
    expect(() => parseSecretObject(text, 'current')).toThrow(InvalidSecretValueError);
  });
});
