import * as net from 'net';

/*
 * Evaluates an EventBridge event pattern against an event, locally, by the rules of EventBridge's documentation
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html, "Content filtering"
 * eb-event-patterns-content-based-filtering.html, "Arrays" eb-event-patterns-arrays.html, "Null values and empty
 * strings" eb-event-patterns-null-values.html). No maintained npm package that does this is among the project's
 * dependencies (AWS's own evaluator, Event Ruler, is Java), so the tests use this one.
 *
 * Rules implemented:
 * - A pattern is an object. A key whose value is an array is a leaf: the event's field must match one of the array's
 *   items. A key whose value is an object descends into the event's field of that name. Keys are case-sensitive.
 *   Fields the pattern does not name are ignored. All keys of an object must match (and).
 * - `$or`: an array of patterns; at least one of them must match at that level (and with the other keys).
 * - Items of a leaf: a string, number, `true`/`false` or `null` matches the same value exactly (strings character by
 *   character, no case folding); `{ prefix }`, `{ suffix }` (each with a string or `{ "equals-ignore-case": string }`),
 *   `{ "equals-ignore-case" }`, `{ wildcard }` (`*` is any run of characters, `\*` a star, `\\` a backslash; two stars
 *   in a row are rejected), `{ "anything-but" }` (a string, a number, a list of strings or of numbers, or one of
 *   `prefix`, `suffix`, `equals-ignore-case`, `wildcard`; a list of prefixes is rejected, as documented), `{ numeric }`
 *   (one or two comparisons, operands within ±5.0e9), `{ exists }` and `{ cidr }` (IPv4 and IPv6).
 * - An event field that is an array matches when any of its items matches. A nested pattern applied to an array of
 *   objects matches when one object matches it as a whole.
 * - `exists` looks at leaves: a missing field, an object and an empty array are "not there".
 * - A field the event lacks matches only `{ "exists": false }`; `anything-but` does not match a missing field, and it
 *   applies to strings and numbers only.
 *
 * Not reproduced: EventBridge compares exact numbers by their text (300 and 3.0e2 differ); after JSON.parse both are
 * the number 300. Case folding uses toLowerCase. Anything the rules above do not allow is rejected with
 * EventPatternError instead of being guessed, so a malformed pattern cannot pass or fail a test silently.
 */

/** The pattern is not one EventBridge accepts (or not one this evaluator understands). */
export class EventPatternError extends Error {
  public readonly code = 'INVALID_EVENT_PATTERN';
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'EventPatternError';
  }
}

type JsonObject = { [key: string]: unknown };

/** Stands for a field the event does not have. */
const MISSING = Symbol('missing');
type Field = unknown;

/** True when the event matches the pattern (both as EventBridge JSON: `detail-type`, not CDK's `detailType`). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}

/**
 * The pattern as a predicate. The whole pattern is checked here, before any event is seen, so a malformed part is
 * reported even where an event would never reach it.
 */
export function compileEventPattern(pattern: unknown): (event: unknown) => boolean {
  if (!isObject(pattern)) throw new EventPatternError('$', 'a pattern must be a JSON object');
  return compileObject(pattern, '$');
}

type Predicate = (field: Field) => boolean;

function compileObject(pattern: JsonObject, path: string): Predicate {
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new EventPatternError(path, 'an empty object matches nothing useful; EventBridge rejects it');
  const checks: Array<(object: JsonObject, value: Field) => boolean> = keys.map((key) => {
    const sub = pattern[key];
    const subPath = `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length === 0 || !sub.every(isObject)) {
        throw new EventPatternError(subPath, '$or takes a non-empty array of patterns');
      }
      const alternatives = sub.map((alternative, i) => compileObject(alternative as JsonObject, `${subPath}[${i}]`));
      return (_object, value) => alternatives.some((alternative) => alternative(value));
    }
    let check: Predicate;
    if (Array.isArray(sub)) check = compileLeaf(sub, subPath);
    else if (isObject(sub)) check = compileObject(sub, subPath);
    else throw new EventPatternError(subPath, 'a value in a pattern must be an array of matchers or an object');
    return (object) => check(Object.prototype.hasOwnProperty.call(object, key) ? object[key] : MISSING);
  });
  const matchOne = (value: Field): boolean => {
    if (value !== MISSING && !isObject(value)) return false;
    // A field the event lacks is treated as an empty object, so that `exists: false` below it still holds.
    const object: JsonObject = isObject(value) ? value : {};
    return checks.every((check) => check(object, value));
  };
  // A nested pattern on an array of objects: one object must match all of it.
  return (value) => (Array.isArray(value) ? value.some((item) => isObject(item) && matchOne(item)) : matchOne(value));
}

function compileLeaf(matchers: unknown[], path: string): Predicate {
  if (matchers.length === 0) throw new EventPatternError(path, 'an empty array matches nothing; EventBridge rejects it');
  const compiled = matchers.map((matcher, index) => {
    const matcherPath = `${path}[${index}]`;
    if (isObject(matcher) && Object.prototype.hasOwnProperty.call(matcher, 'exists')) {
      onlyKey(matcher, matcherPath);
      const wanted = matcher.exists;
      if (typeof wanted !== 'boolean') throw new EventPatternError(matcherPath, 'exists takes true or false');
      return (field: Field) => wanted === isPresentLeaf(field);
    }
    const test = compileMatcher(matcher, matcherPath);
    return (field: Field) => leafValues(field).some(test);
  });
  return (field) => compiled.some((check) => check(field));
}

/** `exists` looks at leaves: a missing field, an object and an empty array are not there. */
function isPresentLeaf(field: Field): boolean {
  return field !== MISSING && !isObject(field) && !(Array.isArray(field) && field.length === 0);
}

function leafValues(field: Field): unknown[] {
  if (field === MISSING) return [];
  return Array.isArray(field) ? field.flat(Infinity) : [field];
}

function compileMatcher(matcher: unknown, path: string): (value: unknown) => boolean {
  if (matcher === null || typeof matcher === 'string' || typeof matcher === 'number' || typeof matcher === 'boolean') {
    return (value) => value === matcher;
  }
  if (!isObject(matcher)) throw new EventPatternError(path, 'a matcher is a value or an object with one operator');
  const operator = onlyKey(matcher, path);
  const operand = matcher[operator];
  switch (operator) {
    case 'prefix':
      return onString(affix(operand, path, (text, wanted) => text.startsWith(wanted)));
    case 'suffix':
      return onString(affix(operand, path, (text, wanted) => text.endsWith(wanted)));
    case 'equals-ignore-case': {
      const wanted = fold(stringOperand(operand, path));
      return onString((value) => fold(value) === wanted);
    }
    case 'wildcard': {
      const regex = wildcard(stringOperand(operand, path), path);
      return onString((value) => regex.test(value));
    }
    case 'anything-but':
      return anythingBut(operand, path);
    case 'numeric':
      return numeric(operand, path);
    case 'cidr':
      return cidr(operand, path);
    default:
      throw new EventPatternError(path, `unknown operator ${JSON.stringify(operator)}`);
  }
}

function onString(test: (value: string) => boolean): (value: unknown) => boolean {
  return (value) => typeof value === 'string' && test(value);
}

/** `prefix`/`suffix` take a string or `{ "equals-ignore-case": string }`. */
function affix(operand: unknown, path: string, test: (text: string, wanted: string) => boolean): (value: string) => boolean {
  if (typeof operand === 'string') return (value) => test(value, operand);
  if (isObject(operand) && onlyKey(operand, path) === 'equals-ignore-case') {
    const wanted = fold(stringOperand(operand['equals-ignore-case'], path));
    return (value) => test(fold(value), wanted);
  }
  throw new EventPatternError(path, 'prefix and suffix take a string or { "equals-ignore-case": string }');
}

/** Matches strings and numbers that are not what the operand names; never a missing field, null or a boolean. */
function anythingBut(operand: unknown, path: string): (value: unknown) => boolean {
  const scalar = (value: unknown): value is string | number => typeof value === 'string' || typeof value === 'number';
  if (typeof operand === 'string' || typeof operand === 'number') return (value) => scalar(value) && value !== operand;
  if (Array.isArray(operand)) {
    const allStrings = operand.every((item) => typeof item === 'string');
    const allNumbers = operand.every((item) => typeof item === 'number');
    if (operand.length === 0 || !(allStrings || allNumbers)) {
      throw new EventPatternError(path, 'anything-but takes a non-empty list of only strings or only numbers');
    }
    const excluded: unknown[] = operand;
    return (value) => scalar(value) && !excluded.includes(value);
  }
  if (!isObject(operand)) throw new EventPatternError(path, 'anything-but takes a value, a list or one operator');
  const inner = onlyKey(operand, path);
  const innerOperand = operand[inner];
  switch (inner) {
    case 'prefix': {
      const prefix = stringOperand(innerOperand, path, 'anything-but takes a single prefix, not a list');
      return onString((value) => !value.startsWith(prefix));
    }
    case 'suffix': {
      const suffix = stringOperand(innerOperand, path, 'anything-but takes a single suffix, not a list');
      return onString((value) => !value.endsWith(suffix));
    }
    case 'equals-ignore-case': {
      const folded = stringOrList(innerOperand, path).map(fold);
      return onString((value) => !folded.includes(fold(value)));
    }
    case 'wildcard': {
      const regexes = stringOrList(innerOperand, path).map((item) => wildcard(item, path));
      return onString((value) => !regexes.some((regex) => regex.test(value)));
    }
    default:
      throw new EventPatternError(path, `anything-but does not take ${JSON.stringify(inner)}`);
  }
}

const NUMERIC_LIMIT = 5.0e9;
const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

function numeric(operand: unknown, path: string): (value: unknown) => boolean {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new EventPatternError(path, 'numeric takes [op, n] or [op, n, op, n]');
  }
  const comparisons: Array<[string, number]> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const [op, n] = [operand[i], operand[i + 1]];
    if (typeof op !== 'string' || !['=', '<', '<=', '>', '>='].includes(op)) {
      throw new EventPatternError(path, `numeric operator ${JSON.stringify(op)} is not one of = < <= > >=`);
    }
    if (typeof n !== 'number' || Math.abs(n) > NUMERIC_LIMIT) {
      throw new EventPatternError(path, 'numeric operands are numbers from -5.0e9 to 5.0e9');
    }
    comparisons.push([op, n]);
  }
  if (comparisons.length === 2 && !(LOWER.has(comparisons[0][0]) && UPPER.has(comparisons[1][0]))) {
    throw new EventPatternError(path, 'a numeric range is a lower bound (> or >=) followed by an upper bound (< or <=)');
  }
  return (value) => typeof value === 'number' && comparisons.every(([op, n]) => {
    switch (op) {
      case '=': return value === n;
      case '<': return value < n;
      case '<=': return value <= n;
      case '>': return value > n;
      default: return value >= n;
    }
  });
}

function cidr(operand: unknown, path: string): (value: unknown) => boolean {
  const text = stringOperand(operand, path);
  const slash = text.lastIndexOf('/');
  const address = text.slice(0, slash);
  const bits = Number(text.slice(slash + 1));
  const family = net.isIP(address);
  if (slash < 0 || family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
    throw new EventPatternError(path, `cidr takes an IPv4 or IPv6 block, got ${JSON.stringify(text)}`);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const block = new net.BlockList();
  block.addSubnet(address, bits, type);
  return (value) => typeof value === 'string' && net.isIP(value) === family && block.check(value, type);
}

/** A wildcard as a regular expression: `*` any run, `\*` a star, `\\` a backslash. */
function wildcard(text: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') throw new EventPatternError(path, 'in a wildcard, \\ escapes only * and \\');
      source += escapeRegExp(next);
      i++;
    } else if (c === '*') {
      if (text[i + 1] === '*') throw new EventPatternError(path, 'a wildcard cannot have two * in a row');
      source += '.*';
    } else {
      source += escapeRegExp(c);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function stringOperand(operand: unknown, path: string, reason = 'this operator takes a string'): string {
  if (typeof operand !== 'string') throw new EventPatternError(path, reason);
  return operand;
}

function stringOrList(operand: unknown, path: string): string[] {
  if (typeof operand === 'string') return [operand];
  if (Array.isArray(operand) && operand.length > 0 && operand.every((item) => typeof item === 'string')) return operand;
  throw new EventPatternError(path, 'this operator takes a string or a non-empty list of strings');
}

function onlyKey(matcher: JsonObject, path: string): string {
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new EventPatternError(path, `a matcher object has exactly one operator, got ${keys.length}`);
  return keys[0];
}

function fold(text: string): string {
  return text.toLowerCase();
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
