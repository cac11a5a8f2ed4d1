import * as http from 'http';
import { AddressInfo } from 'net';
import { Deadline } from '../../../lambda/kit/deadline';
import { ERROR_CODES } from '../../../lambda/kit/errors';
import {
  MAX_RESPONSE_BYTES, ProviderError, basicAuthorization, checkEndpointUrl, formBody, httpRequest, requestHadNoEffect,
} from '../../../lambda/kit/http';
import type { StepContext } from '../../../lambda/kit/types';

/** The kit's HTTP client on its error paths, against a loopback server (https is covered by the OAuth handler tests). */
let server: http.Server;
let base: string;
const ctx = (env: NodeJS.ProcessEnv = { ROTATION_OAUTH_ALLOW_LOOPBACK_HTTP: 'true' }): StepContext => ({
  secretArn: 'arn', token: 't', deadline: new Deadline(() => 60_000, 2_000), secrets: undefined as never, env,
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://127.0.0.1:1/steal' }).end();
    } else if (req.url === '/big') {
      res.writeHead(200).end('x'.repeat(MAX_RESPONSE_BYTES + 1));
    } else if (req.url === '/hang') {
      // never answers: the deadline ends the call
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('RFC 6749 2.3.1: id and secret are form-urlencoded before Base64', () => {
  const decoded = Buffer.from(basicAuthorization('a:b c', 'p%w+d!').slice(6), 'base64').toString();
  expect(decoded).toBe('a%3Ab+c:p%25w%2Bd%21');
  expect(formBody({ grant_type: 'refresh_token', refresh_token: 'a b&c', scope: undefined })).toBe('grant_type=refresh_token&refresh_token=a+b%26c');
});

test.each([
  ['http:// without the loopback opt-in', 'http://127.0.0.1/token', {}],
  ['http:// to a non-loopback host even with the opt-in', 'http://idp.example.com/token', { ROTATION_OAUTH_ALLOW_LOOPBACK_HTTP: 'true' }],
  ['credentials in the URL', 'https://user:pw@idp.example.com/token', {}],
  ['a fragment', 'https://idp.example.com/token#x', {}],
  ['not a URL', 'idp.example.com/token', {}],
])('refuses %s', (_, url, env) => {
  expect(() => checkEndpointUrl(url, 'the token endpoint', env)).toThrow(expect.objectContaining({ code: ERROR_CODES.INVALID_SECRET_VALUE }));
});

test('a redirect is not followed: the credential reaches only the URL it was meant for', async () => {
  const response = await httpRequest({ method: 'POST', url: `${base}/redirect`, body: 'secret', what: 'the token endpoint' }, ctx());
  expect(response.status).toBe(302);
});

test('an answer over the cap is refused', async () => {
  await expect(httpRequest({ method: 'GET', url: `${base}/big`, what: 'discovery' }, ctx())).rejects.toBeInstanceOf(ProviderError);
});

test('a server that never answers fails TIMEOUT within the call bound, and the call may have taken effect', async () => {
  const started = Date.now();
  const err = await httpRequest({ method: 'POST', url: `${base}/hang`, what: 'the refresh exchange' }, ctx()).catch((e) => e);
  expect(err.code).toBe(ERROR_CODES.TIMEOUT);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(requestHadNoEffect(err)).toBe(false);
});

test('a refused connection had no effect; an HTTP error answer had none; a 200 with an unusable body may have', async () => {
  const refused = await httpRequest({ method: 'POST', url: 'http://127.0.0.1:1/token', what: 'x' }, ctx()).catch((e) => e);
  expect(refused).toBeInstanceOf(ProviderError);
  expect(requestHadNoEffect(refused)).toBe(true);
  expect(requestHadNoEffect(new ProviderError('answered HTTP 500', undefined, 500))).toBe(true);
  expect(requestHadNoEffect(new ProviderError('answered an unusable access_token'))).toBe(false);
});
