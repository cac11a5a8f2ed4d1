import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { ServiceError } from './errors';
import { PasswordPolicyError } from './password';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function targetOperation(req: IncomingMessage): string | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
    return undefined;
  }
  return target.slice(TARGET_PREFIX.length);
}

export function parseJson(body: string): unknown {
  if (body.trim() === '') {
    return {};
  }
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Blobs arrive base64-encoded. */
export function decodeInput(input: Record<string, unknown>): Record<string, unknown> {
  const binary = input.SecretBinary;
  if (binary === undefined || binary === null) {
    return input;
  }
  if (typeof binary !== 'string') {
    throw new ServiceError('SerializationException', 'SecretBinary must be a base64 string.');
  }
  return { ...input, SecretBinary: Buffer.from(binary, 'base64') };
}

/** Dates become epoch seconds, binary becomes base64, undefined members are dropped. */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) {
    return value.getTime() / 1000;
  }
  if (value instanceof Uint8Array) {
    return Buffer.from(value).toString('base64');
  }
  if (Array.isArray(value)) {
    return value.map(toWire);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

export function asServiceError(e: unknown): ServiceError {
  if (e instanceof ServiceError) {
    return e;
  }
  if (e instanceof PasswordPolicyError) {
    return new ServiceError(e.code, e.message);
  }
  return new ServiceError('InternalServiceError', 'An error occurred on the server side.');
}

export function errorCode(e: unknown): string {
  if (e instanceof ServiceError) {
    return e.code;
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? code : e.name;
  }
  return 'Error';
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) {
    return;
  }
  const payload = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, error: ServiceError): void {
  const status = error.code === 'InternalServiceError' ? 500 : 400;
  send(res, status, { __type: error.code, message: error.message }, { 'x-amzn-errortype': error.code });
}

