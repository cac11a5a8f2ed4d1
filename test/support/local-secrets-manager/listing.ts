import type { Filter } from '@aws-sdk/client-secrets-manager';
import { ServiceError } from './errors';
import { SecretRecord } from './types';

export function matchesFilters(secret: SecretRecord, filters: Filter[]): boolean {
  return filters.every(filter => matchesFilter(secret, filter));
}

export function matchesFilter(secret: SecretRecord, filter: Filter): boolean {
  const candidates = filterCandidates(secret, filter.Key);
  return (filter.Values ?? []).every(raw => {
    const negated = raw.startsWith('!');
    const prefix = (negated ? raw.slice(1) : raw).toLowerCase();
    const found = candidates.some(c => c.toLowerCase().startsWith(prefix));
    return negated ? !found : found;
  });
}

export function filterCandidates(secret: SecretRecord, key: string | undefined): string[] {
  const tagKeys = secret.tags.map(t => t.Key ?? '');
  const tagValues = secret.tags.map(t => t.Value ?? '');
  switch (key) {
    case 'name': return [secret.name];
    case 'description': return [secret.description ?? ''];
    case 'tag-key': return tagKeys;
    case 'tag-value': return tagValues;
    case 'all': return [secret.name, secret.description ?? '', ...tagKeys, ...tagValues];
    default: throw new ServiceError('InvalidParameterException', `Unsupported filter key: ${key}`);
  }
}

function encodeNextToken(index: number): string {
  return Buffer.from(JSON.stringify({ index })).toString('base64');
}

function decodeNextToken(token: string | undefined): number {
  if (token === undefined) {
    return 0;
  }
  try {
    const index = JSON.parse(Buffer.from(token, 'base64').toString('utf8')).index;
    if (Number.isInteger(index) && index >= 0) {
      return index;
    }
  } catch {
    // fall through
  }
  throw new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/** One page of `items` (already validated MaxResults); NextToken only when more remain. */
export function pageOf<T>(items: T[], maxResults: number, nextToken: string | undefined): Page<T> {
  const start = decodeNextToken(nextToken);
  const end = start + maxResults;
  return { items: items.slice(start, end), nextToken: end < items.length ? encodeNextToken(end) : undefined };
}
