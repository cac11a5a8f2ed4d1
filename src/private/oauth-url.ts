import { Token, Tokenization } from 'aws-cdk-lib';

/**
 * URL checks shared by the OAuth secret templates, the client-secret adapters and the refresh-token probe: the handlers
 * send credentials to these URLs, so anything but TLS is refused unless a test explicitly allows plain HTTP to a loopback
 * address (which never leaves the host).
 */

/** Host names `allowLoopbackHttp` admits for `http://` URLs, as the WHATWG URL parser writes them. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** What an OAuth URL may be. */
export interface OAuthUrlRules {
  /** Admit `http://` to a loopback host (tests only). */
  readonly allowLoopbackHttp?: boolean;
  /**
   * Placeholders (`{name}`) the URL may hold, replaced by the handler; any other `{...}` is refused. Absent: none.
   */
  readonly placeholders?: readonly string[];
  /** What the message names as the option that admits loopback http, for example `allowLoopbackHttp`. */
  readonly loopbackOption?: string;
}

/** What a checked URL turned out to be. */
export interface CheckedOAuthUrl {
  /** True for an `http://` URL to a loopback host (admitted because `allowLoopbackHttp` was set). */
  readonly loopbackHttp: boolean;
}

/**
 * Refuses a URL that is not an absolute `https://` URL (or, with `allowLoopbackHttp`, `http://` to a loopback host),
 * has credentials or a fragment, or holds an unknown placeholder. A token is accepted only after a literal `https://`
 * prefix (`https://${domain}/oauth2/token`), which is all that can be checked at synth.
 *
 * @param owner what the message starts with
 * @param property the property holding the URL
 */
export function checkOAuthUrl(owner: string, property: string, value: string, rules: OAuthUrlRules = {}): CheckedOAuthUrl {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`${owner}: ${property} must be a non-empty https:// URL, got ${JSON.stringify(value)}`);
  }
  const loopback = rules.allowLoopbackHttp ? `, or http:// to ${LOOPBACK_HOSTS.join(', ')}` : '';
  const allowed = `an https:// URL${loopback}`;
  if (Token.isUnresolved(value)) {
    const first = Tokenization.reverseString(value).firstValue;
    if (typeof first !== 'string' || !first.toLowerCase().startsWith('https://')) {
      throw new Error(`${owner}: ${property} must be ${allowed}; a token is accepted only after a literal 'https://' prefix`);
    }
    checkPlaceholders(owner, property, literalText(value), rules.placeholders ?? []);
    return { loopbackHttp: false };
  }
  checkPlaceholders(owner, property, value, rules.placeholders ?? []);
  // placeholders are replaced percent-encoded, so a plain word stands in for each when parsing
  const sample = value.replace(/\{([a-z_]+)\}/g, 'x');
  let url: URL;
  try {
    url = new URL(sample);
  } catch {
    throw new Error(`${owner}: ${property} must be an absolute https:// URL${loopback}, got ${JSON.stringify(value)}`);
  }
  if (url.username || url.password || url.hash || value.includes('#')) {
    // credentials in a URL end up in logs; a fragment is never sent
    throw new Error(`${owner}: ${property} must not contain credentials or a fragment, got ${JSON.stringify(redactUserinfo(value))}`);
  }
  if (url.protocol === 'https:' && url.hostname.length > 0) {
    return { loopbackHttp: false };
  }
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname)) {
    if (rules.allowLoopbackHttp) {
      return { loopbackHttp: true };
    }
    throw new Error(`${owner}: ${property} must be an https:// URL (TLS only), got ${JSON.stringify(value)}; plain http:// to a `
      + `loopback address is allowed only for tests, with ${rules.loopbackOption ?? 'allowLoopbackHttp'}: true`);
  }
  throw new Error(`${owner}: ${property} must be ${allowed} (TLS only), got ${JSON.stringify(value)}`);
}

/** Refuses `{...}` that is not one of the placeholders, and unbalanced braces. */
export function checkPlaceholders(owner: string, property: string, text: string, placeholders: readonly string[]): void {
  const known = placeholders.length > 0 ? placeholders.map((p) => `{${p}}`).join(' ') : 'none';
  for (const match of text.matchAll(/\{([^{}]*)\}/g)) {
    if (!placeholders.includes(match[1])) {
      throw new Error(`${owner}: ${property} holds the unknown placeholder ${JSON.stringify(match[0])}; the placeholders are ${known}`);
    }
  }
  const rest = text.replace(/\{[^{}]*\}/g, '');
  if (/[{}]/.test(rest)) {
    throw new Error(`${owner}: ${property} has an unbalanced '{' or '}' (placeholders are ${known}), got ${JSON.stringify(text)}`);
  }
}

/** The placeholders a text uses. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]);
}

/** The literal parts of a string with tokens, concatenated (the tokens left out). */
function literalText(value: string): string {
  return Tokenization.reverseString(value)
    .mapTokens({ mapToken: () => '' })
    .join({ join: (left: any, right: any) => `${left ?? ''}${right ?? ''}` });
}

/** A URL for a message, with any `user:password@` replaced: it may be a credential. */
function redactUserinfo(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1<redacted>@');
}
