import { ERROR_CODES, RotationError } from '../kit/errors';

/**
 * SHOW GRANTS lines, parsed just enough to give them to another account.
 *
 * A line is kept as the server wrote it up to its grantee (privileges, object names with their `%`, `_` and doubled
 * backquotes, column lists, role names, the proxied account), and only the grantee and what follows it are replaced:
 * the clone's account (quoted by the driver) and the one option that belongs to the grant (WITH GRANT OPTION or
 * WITH ADMIN OPTION). Everything else after the grantee is an account property, not a grant, and is dropped: MariaDB
 * appends `IDENTIFIED BY PASSWORD '<hash>'` (which would give the clone the original's password), `REQUIRE ...` and
 * resource limits to the USAGE line; the TLS requirements are copied apart (ALTER USER ... REQUIRE).
 *
 * Lines this module does not recognise are refused, not guessed at; their text is never put in an error message
 * (it may hold a password hash).
 */

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** word: unquoted; quoted: backquotes or quotes; punct: ( ) , @ */
  readonly kind: 'word' | 'quoted' | 'punct';
}

export type GrantKind = 'grant' | 'revoke' | 'default-role';

/** One SHOW GRANTS line with its grantee taken out. */
export interface ParsedGrant {
  readonly kind: GrantKind;
  /** `GRANT <privileges> ON <object>`, `GRANT <roles>`, `REVOKE ... ON ...`, `SET DEFAULT ROLE <role>`: as the server wrote it. */
  readonly head: string;
  /** What follows the keyword before the grantee: `<privileges> ON <object>`, `<roles>`, `<role>`. */
  readonly body: string;
  /** The object after ON (`*.*`, `` `db`.* ``, `PROCEDURE `db`.`p``), when the line has one. */
  readonly object?: string;
  /** The privileges (or roles) as written, split at top-level commas: `SELECT`, `INSERT (`a`, `b`)`, `` `role` ``. */
  readonly items: readonly string[];
  /** PROXY ON an account. */
  readonly proxy: boolean;
  /** Global USAGE only (`GRANT USAGE ON *.*`): every account has it. */
  readonly usageOnly: boolean;
  readonly option?: 'GRANT OPTION' | 'ADMIN OPTION';
}

function unrecognized(problem: string): RotationError {
  return new RotationError(ERROR_CODES.DATABASE_ERROR, `Cannot copy a grant of the original user: ${problem}`);
}

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '`' || c === '\'' || c === '"') {
      const start = i;
      i += 1;
      for (;;) {
        if (i >= line.length) throw unrecognized('an unterminated quoted name');
        if (c !== '`' && line[i] === '\\') {
          i += 2;
        } else if (line[i] === c && line[i + 1] === c) {
          i += 2;
        } else if (line[i] === c) {
          i += 1;
          break;
        } else {
          i += 1;
        }
      }
      tokens.push({ text: line.slice(start, i), start, end: i, kind: 'quoted' });
    } else if ('(),@'.includes(c)) {
      tokens.push({ text: c, start: i, end: i + 1, kind: 'punct' });
      i += 1;
    } else {
      const start = i;
      while (i < line.length && !/[\s`'"(),@]/.test(line[i])) i += 1;
      tokens.push({ text: line.slice(start, i), start, end: i, kind: 'word' });
    }
  }
  return tokens;
}

const isWord = (t: Token | undefined, word: string): boolean => t?.kind === 'word' && t.text.toUpperCase() === word;

/** Index of the first `word` outside parentheses, from `from`. */
function topLevel(tokens: Token[], word: string, from = 0): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.text === '(' && t.kind === 'punct') depth += 1;
    else if (t.text === ')' && t.kind === 'punct') depth -= 1;
    else if (depth === 0 && isWord(t, word)) return i;
  }
  return -1;
}

/** Skips an account (`user`, `user@host`, `'user'@'host'`) starting at `i`; returns the index after it. */
function skipAccount(tokens: Token[], i: number): number {
  const user = tokens[i];
  if (!user || user.kind === 'punct') throw unrecognized('a grant without a grantee');
  if (tokens[i + 1]?.text === '@' && tokens[i + 1].kind === 'punct') {
    const host = tokens[i + 2];
    if (!host || host.kind === 'punct') throw unrecognized('a grantee without a host');
    return i + 3;
  }
  return i + 1;
}

/** The grant option a tail (what follows the grantee) carries. */
function optionOf(tokens: Token[], from: number): ParsedGrant['option'] {
  for (let i = from; i < tokens.length; i++) {
    if (isWord(tokens[i], 'GRANT') && isWord(tokens[i + 1], 'OPTION')) return 'GRANT OPTION';
    if (isWord(tokens[i], 'ADMIN') && isWord(tokens[i + 1], 'OPTION')) return 'ADMIN OPTION';
  }
  return undefined;
}

/** The source text of tokens[from, to) split at commas outside parentheses. */
function splitTopLevel(line: string, tokens: Token[], from: number, to: number): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i <= to; i++) {
    const t = tokens[i];
    if (i === to || (depth === 0 && t.kind === 'punct' && t.text === ',')) {
      if (i > start) items.push(line.slice(tokens[start].start, tokens[i - 1].end));
      start = i + 1;
    } else if (t.kind === 'punct' && t.text === '(') {
      depth += 1;
    } else if (t.kind === 'punct' && t.text === ')') {
      depth -= 1;
    }
  }
  return items;
}

/** Parses one SHOW GRANTS line. */
export function parseGrant(line: string): ParsedGrant {
  const tokens = tokenize(line);
  let kind: GrantKind;
  let keyword: string;
  let bodyFrom: number;
  if (isWord(tokens[0], 'GRANT')) {
    kind = 'grant';
    keyword = 'TO';
    bodyFrom = 1;
  } else if (isWord(tokens[0], 'REVOKE')) {
    kind = 'revoke';
    keyword = 'FROM';
    bodyFrom = 1;
  } else if (isWord(tokens[0], 'SET') && isWord(tokens[1], 'DEFAULT') && isWord(tokens[2], 'ROLE')) {
    kind = 'default-role';
    keyword = 'FOR';
    bodyFrom = 3;
  } else {
    throw unrecognized('a statement that is not GRANT, REVOKE or SET DEFAULT ROLE');
  }
  const at = topLevel(tokens, keyword, bodyFrom);
  if (at <= bodyFrom) throw unrecognized(`a ${tokens[0].text.toUpperCase()} without ${keyword}`);
  const afterGrantee = skipAccount(tokens, at + 1);
  const head = line.slice(0, tokens[at - 1].end);
  const body = line.slice(tokens[bodyFrom].start, tokens[at - 1].end);
  const on = topLevel(tokens, 'ON', bodyFrom);
  const object = on > bodyFrom && on < at - 1 ? line.slice(tokens[on + 1].start, tokens[at - 1].end) : undefined;
  const items = splitTopLevel(line, tokens, bodyFrom, on > bodyFrom && on < at ? on : at);
  const proxy = kind !== 'default-role' && isWord(tokens[bodyFrom], 'PROXY') && on === bodyFrom + 1;
  const usageOnly = kind === 'grant' && at - bodyFrom === 3 && isWord(tokens[bodyFrom], 'USAGE') && on === bodyFrom + 1
    && tokens[bodyFrom + 2].text === '*.*';
  return { kind, head, body, object, items, proxy, usageOnly, option: kind === 'default-role' ? undefined : optionOf(tokens, afterGrantee) };
}

/** The statement that gives `grant` to `grantee` (an account already quoted by the driver). */
export function grantStatement(grant: ParsedGrant, grantee: string): string {
  if (grant.kind === 'default-role') return `${grant.head} FOR ${grantee}`;
  if (grant.kind === 'revoke') return `${grant.head} FROM ${grantee}`;
  return `${grant.head} TO ${grantee}${grant.option ? ` WITH ${grant.option}` : ''}`;
}

/**
 * One privilege a line gives (a privilege on an object, one column's privilege, a role, a grant option, a default
 * role): lines that merge several (`GRANT SELECT, INSERT (`a`) ON ...`) compare privilege by privilege, so a grant added
 * to a line is a new atom, not a different line. `key` compares; `undo` takes just that atom away from a grantee.
 */
export interface GrantAtom {
  readonly key: string;
  undo(grantee: string): string;
}

export function atoms(grant: ParsedGrant): GrantAtom[] {
  if (grant.kind === 'default-role') {
    return [{ key: `DEFAULT ROLE ${grant.body}`, undo: (g) => `SET DEFAULT ROLE NONE FOR ${g}` }];
  }
  if (grant.kind === 'revoke') {
    // MySQL's partial revokes: undone by granting what they took
    return [{ key: `REVOKE ${grant.body}`, undo: (g) => `GRANT ${grant.body} TO ${g}` }];
  }
  const object = grant.object;
  if (object === undefined) {
    // roles (`GRANT `r1`, `r2` TO ...`); revoking a role takes its ADMIN OPTION with it
    return grant.items.flatMap((role) => [
      { key: `ROLE ${role}`, undo: (g: string) => `REVOKE ${role} FROM ${g}` },
      ...(grant.option === 'ADMIN OPTION' ? [{ key: `ADMIN OPTION ${role}`, undo: (g: string) => `REVOKE ${role} FROM ${g}` }] : []),
    ]);
  }
  if (grant.proxy) {
    return [
      { key: `PROXY ON ${object}`, undo: (g) => `REVOKE PROXY ON ${object} FROM ${g}` },
      ...(grant.option ? [{ key: `PROXY WITH GRANT OPTION ON ${object}`, undo: (g: string) => `REVOKE PROXY ON ${object} FROM ${g}` }] : []),
    ];
  }
  const result: GrantAtom[] = [];
  for (const item of grant.items) {
    const columns = /^([^(]*?)\s*\((.*)\)$/s.exec(item);
    if (columns) {
      for (const column of splitTopLevel(columns[2], tokenize(columns[2]), 0, tokenize(columns[2]).length)) {
        const privilege = `${columns[1]} (${column})`;
        result.push({ key: `${privilege} ON ${object}`, undo: (g) => `REVOKE ${privilege} ON ${object} FROM ${g}` });
      }
    } else if (item.toUpperCase() !== 'USAGE') {
      result.push({ key: `${item} ON ${object}`, undo: (g) => `REVOKE ${item} ON ${object} FROM ${g}` });
    }
  }
  if (grant.option === 'GRANT OPTION') {
    result.push({ key: `GRANT OPTION ON ${object}`, undo: (g) => `REVOKE GRANT OPTION ON ${object} FROM ${g}` });
  }
  return result;
}

/** Every atom of some lines, by key. */
export function atomsOf(grants: readonly ParsedGrant[]): Map<string, GrantAtom> {
  return new Map(grants.flatMap(atoms).map((a) => [a.key, a]));
}

/** The grants worth copying: every line but the bare `GRANT USAGE ON *.*` every account has. */
export function significant(lines: readonly string[]): ParsedGrant[] {
  return lines.map(parseGrant).filter((g) => !(g.usageOnly && g.option === undefined));
}
