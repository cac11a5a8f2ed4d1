import { InvalidSecretValueError } from './errors';
import type { SecretObject, SecretRole } from './types';

/**
 * Parses a secret value that must be one JSON object. Duplicate member names are refused: parsers disagree on
 * which one wins, and a check that reads one while a driver uses the other is exactly what an attacker wants.
 */
export function parseSecretObject(value: string, role: SecretRole): SecretObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidSecretValueError(role, 'not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidSecretValueError(role, 'not a JSON object');
  }
  const sources = new Map<string, string>();
  for (const [name, text] of topLevelMembers(value)) {
    if (sources.has(name)) throw new InvalidSecretValueError(role, 'a member name appears more than once');
    sources.set(name, text);
  }
  return { fields: parsed as Record<string, unknown>, sources };
}

/** The JSON of `source` with `changes` applied: changed members are re-serialized, all others keep their text. */
export function withChangedMembers(source: SecretObject, changes: Readonly<Record<string, unknown>>): string {
  const members: string[] = [];
  for (const [name, text] of source.sources) {
    const replaced = Object.prototype.hasOwnProperty.call(changes, name);
    members.push(`${JSON.stringify(name)}:${replaced ? JSON.stringify(changes[name]) : text}`);
  }
  for (const [name, value] of Object.entries(changes)) {
    if (!source.sources.has(name)) members.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * Splits a JSON text already known to be a valid object into its top-level members. Only structure is scanned
 * (strings, nesting, commas): JSON.parse has validated the grammar.
 */
function topLevelMembers(json: string): Array<[string, string]> {
  const members: Array<[string, string]> = [];
  let i = skipSpace(json, json.indexOf('{') + 1);
  while (json[i] !== '}') {
    const nameEnd = endOfString(json, i);
    const name = JSON.parse(json.slice(i, nameEnd)) as string;
    const valueStart = skipSpace(json, skipSpace(json, nameEnd) + 1); // past the colon
    const valueEnd = endOfValue(json, valueStart);
    members.push([name, json.slice(valueStart, valueEnd).trimEnd()]);
    i = skipSpace(json, valueEnd);
    if (json[i] === ',') i = skipSpace(json, i + 1);
  }
  return members;
}

function skipSpace(json: string, i: number): number {
  while (i < json.length && ' \t\n\r'.includes(json[i])) i++;
  return i;
}

/** Index just past the string that starts at `i` (an opening quote). */
function endOfString(json: string, i: number): number {
  for (let j = i + 1; j < json.length; j++) {
    if (json[j] === '\\') j++;
    else if (json[j] === '"') return j + 1;
  }
  return json.length;
}

/** Index just past the value that starts at `i`: the next top-level comma or closing brace ends it. */
function endOfValue(json: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < json.length) {
    const ch = json[j];
    if (ch === '"') {
      j = endOfString(json, j);
      continue;
    }
    if ((ch === '}' || ch === ']' || ch === ',') && depth === 0) return j;
    if (ch === '{' || ch === '[') depth++;
    if (ch === '}' || ch === ']') depth--;
    j++;
  }
  return j;
}
