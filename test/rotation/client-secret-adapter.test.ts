import { Duration, Lazy } from 'aws-cdk-lib';
import { httpAdapter, httpAdapterProps } from './oauth-fixtures';
import {
  ClientSecretAdapter, HttpAdapterAuth, HttpAdapterMethod, HttpAdapterRequest, HttpClientSecretAdapterProps, PasswordPolicy, RotationEngine,
} from '../../src';

const ADD = httpAdapterProps().add;
const RETIRE = httpAdapterProps().retire;

/** The adapter's props with one request changed. */
function withRequest(which: 'add' | 'retire', change: Partial<HttpAdapterRequest>): Partial<HttpClientSecretAdapterProps> {
  return { [which]: { ...(which === 'add' ? ADD : RETIRE), ...change } };
}

describe('ClientSecretAdapter.rfc7592', () => {
  test('holds one secret per client; its contract is its type', () => {
    const adapter = ClientSecretAdapter.rfc7592();
    expect(adapter.type).toBe('rfc7592');
    expect(adapter.holdsOneSecret).toBe(true);
    expect(adapter.allowsLoopbackHttp).toBe(false);
    expect(adapter._toContract()).toEqual({ type: 'rfc7592' });
  });
});

describe('ClientSecretAdapter.http', () => {
  test('the contract holds the requests and the auth as given', () => {
    const adapter = httpAdapter({ auth: HttpAdapterAuth.BASIC });
    expect(adapter.type).toBe('http');
    expect(adapter.holdsOneSecret).toBe(false);
    expect(adapter._toContract()).toEqual({ type: 'http', add: ADD, retire: RETIRE, auth: 'basic' });
  });

  test('a request without a body has none in the contract; the contract is a copy', () => {
    const adapter = httpAdapter(withRequest('retire', { method: HttpAdapterMethod.DELETE, url: 'https://idp.example.com/s/{client_id}', body: { secret: '{client_secret}' } }));
    const contract = adapter._toContract() as any;
    contract.retire.url = 'changed';
    expect((adapter._toContract() as any).retire.url).toBe('https://idp.example.com/s/{client_id}');
  });

  test('a URL with a token after a literal https:// prefix is accepted', () => {
    const domain = Lazy.string({ produce: () => 'idp.example.com' });
    expect(() => httpAdapter(withRequest('add', { url: `https://${domain}/clients/{client_id}/secrets` }))).not.toThrow();
  });

  test('a URL with a token still may not carry the client secret', () => {
    const domain = Lazy.string({ produce: () => 'idp.example.com' });
    expect(() => httpAdapter(withRequest('retire', { url: `https://${domain}/secrets/{client_secret}` })))
      .toThrow(/retire.url must not hold \{client_secret\}/);
  });

  test.each<[string, Partial<HttpClientSecretAdapterProps>, RegExp]>([
    ['an http URL', withRequest('add', { url: 'http://idp.example.com/clients/{client_id}/secrets' }),
      /ClientSecretAdapter.http: add.url must be an https:\/\/ URL \(TLS only\), got "http:\/\/idp.example.com\/clients\/\{client_id\}\/secrets"/],
    ['http to localhost without allowLoopbackHttp', withRequest('retire', { url: 'http://localhost:8080/s' }),
      /retire.url must be an https:\/\/ URL \(TLS only\), got "http:\/\/localhost:8080\/s"; plain http:\/\/ to a loopback address is allowed only for tests, with allowLoopbackHttp: true/],
    ['a relative URL', withRequest('add', { url: '/clients/{client_id}/secrets' }), /add.url must be an absolute https:\/\/ URL/],
    ['credentials in the URL', withRequest('add', { url: 'https://admin:hunter2@idp.example.com/s' }),
      /add.url must not contain credentials or a fragment, got "https:\/\/<redacted>@idp.example.com\/s"/],
    ['a token URL without a literal https:// prefix', withRequest('add', { url: Lazy.string({ produce: () => 'https://idp.example.com' }) }),
      /add.url must be an https:\/\/ URL; a token is accepted only after a literal 'https:\/\/' prefix/],
    ['an unknown placeholder in the URL', withRequest('add', { url: 'https://idp.example.com/clients/{clientId}/secrets' }),
      /add.url holds the unknown placeholder "\{clientId\}"; the placeholders are \{client_id\} \{client_secret\} \{not_after\} \{not_after_epoch\}/],
    ['an unknown placeholder in a body', withRequest('retire', { body: { secret: '{client_secret}', at: '{now}' } }),
      /retire.body.at holds the unknown placeholder "\{now\}"/],
    ['an unbalanced brace', withRequest('add', { body: { secret: '{client_secret' } }), /add.body.secret has an unbalanced '\{' or '\}'/],
    ['a placeholder in the host', withRequest('add', { url: 'https://{client_id}.idp.example.com/secrets' }),
      /add.url may hold placeholders in its path and query only, not in its host, got "https:\/\/\{client_id\}.idp.example.com\/secrets"/],
    ['a placeholder in the port', withRequest('retire', { url: 'https://idp.example.com:{not_after_epoch}/secrets' }),
      /retire.url may hold placeholders in its path and query only, not in its host/],
    ['the client secret in a URL', withRequest('retire', { url: 'https://idp.example.com/secrets/{client_secret}' }),
      /retire.url must not hold \{client_secret\}: URLs are written to access logs; put the secret in retire.body/],
    ['an add body without the secret', withRequest('add', { body: { name: 'rotated' } }),
      /add.body must hold \{client_secret\} \(the new secret the handler generated\), got keys name/],
    ['an add request without a body', withRequest('add', { body: undefined }), /add.body must hold \{client_secret\} .* got no body/],
    ['a retire body without the secret', withRequest('retire', { body: { expires_at: '{not_after}' } }),
      /retire.body must hold \{client_secret\} \(which secret to retire\)/],
    ['an empty body', withRequest('add', { body: {} }), /add.body must hold 1 to 32 keys \(leave it out for no body\), got 0/],
    ['a token in a body', withRequest('add', { body: { secret: Lazy.string({ produce: () => '{client_secret}' }) } }),
      /add.body.secret must be a literal string template of at most 1024 characters, got a token/],
    ['an unknown method', withRequest('add', { method: 'GET' as HttpAdapterMethod }),
      /add.method must be one of POST, PUT, PATCH, DELETE, got "GET"/],
    ['an unknown auth', { auth: 'oauth' as HttpAdapterAuth }, /auth must be one of bearer, basic, got "oauth"/],
    ['no add request', { add: undefined as unknown as HttpAdapterRequest }, /add is required: \{ method, url, body\? \}/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => httpAdapter(change)).toThrow(message);
  });

  test.each(['http://localhost:8080/s/{client_id}', 'http://127.0.0.1/s', 'http://[::1]:9000/s'])('allowLoopbackHttp admits %s', (url) => {
    const adapter = httpAdapter({ ...withRequest('add', { url }), allowLoopbackHttp: true });
    expect(adapter.allowsLoopbackHttp).toBe(true);
  });

  test('allowLoopbackHttp admits no other http host', () => {
    expect(() => httpAdapter({ ...withRequest('add', { url: 'http://idp.internal/s' }), allowLoopbackHttp: true }))
      .toThrow(/add.url must be an https:\/\/ URL, or http:\/\/ to localhost, 127.0.0.1, \[::1\] \(TLS only\), got "http:\/\/idp.internal\/s"/);
  });

  test('a message about a URL with credentials never shows them', () => {
    expect(() => httpAdapter(withRequest('add', { url: 'https://admin:hunter2@idp.example.com/s' }))).toThrow(expect.objectContaining({
      message: expect.not.stringContaining('hunter2'),
    }));
  });
});

describe('RotationEngine.oauthClientSecret', () => {
  test.each<[string, () => RotationEngine, RegExp]>([
    ['an overlap with RFC 7592', () => RotationEngine.oauthClientSecret({ adapter: ClientSecretAdapter.rfc7592(), overlap: Duration.minutes(5) }),
      /RotationEngine.oauthClientSecret: overlap must be 0 with the rfc7592 adapter, got 5 minutes: the provider holds one secret per client/],
    ['an overlap without a retire time', () => RotationEngine.oauthClientSecret({
      adapter: httpAdapter(withRequest('retire', { body: { secret: '{client_secret}' } })), overlap: Duration.hours(1),
    }), /overlap is 1 hour, but the adapter's retire request holds neither \{not_after\} nor \{not_after_epoch\}/],
    ['an overlap in milliseconds', () => RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.millis(1500) }),
      /overlap must be whole seconds from 0 to 1000 days, got 1 second 500 millis/],
    ['an overlap beyond 1000 days', () => RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.days(1001) }),
      /overlap must be whole seconds from 0 to 1000 days, got 1001 days/],
    ['a password policy with RFC 7592', () => RotationEngine.oauthClientSecret({ adapter: ClientSecretAdapter.rfc7592(), passwordPolicy: new PasswordPolicy() }),
      /passwordPolicy does not apply to the rfc7592 adapter: the provider issues the client secret/],
    ['allowLoopbackHttp false with a loopback adapter', () => RotationEngine.oauthClientSecret({
      adapter: httpAdapter({ ...withRequest('add', { url: 'http://localhost/s' }), allowLoopbackHttp: true }), allowLoopbackHttp: false,
    }), /allowLoopbackHttp is false, but the adapter allows http:\/\/ to loopback hosts/],
    ['no adapter', () => RotationEngine.oauthClientSecret({} as any), /adapter is required: ClientSecretAdapter.rfc7592\(\) or ClientSecretAdapter.http/],
  ])('refuses %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('an overlap with {not_after_epoch} in the retire URL is accepted', () => {
    const adapter = httpAdapter(withRequest('retire', { url: 'https://idp.example.com/s/{client_id}?until={not_after_epoch}' }));
    expect(RotationEngine.oauthClientSecret({ adapter, overlap: Duration.minutes(30) }).overlap!.toSeconds()).toBe(1800);
  });

  test('a loopback adapter makes a loopback engine', () => {
    const adapter = httpAdapter({ ...withRequest('add', { url: 'http://127.0.0.1:4000/s' }), allowLoopbackHttp: true });
    expect(RotationEngine.oauthClientSecret({ adapter })._allowsLoopbackHttp).toBe(true);
    expect(RotationEngine.oauthClientSecret({ adapter: httpAdapter() })._allowsLoopbackHttp).toBe(false);
  });
});

describe('RotationEngine.oauthRefreshToken', () => {
  test.each<[string, string, boolean, RegExp]>([
    ['an http probe', 'http://api.example.com/me', false, /RotationEngine.oauthRefreshToken: probeUrl must be an https:\/\/ URL \(TLS only\)/],
    ['a loopback probe without allowLoopbackHttp', 'http://localhost/me', false, /probeUrl must be .* with allowLoopbackHttp: true/],
    ['a placeholder in the probe', 'https://api.example.com/{client_id}', false, /probeUrl holds the unknown placeholder "\{client_id\}"; the placeholders are none/],
  ])('refuses %s', (_name, probeUrl, allowLoopbackHttp, message) => {
    expect(() => RotationEngine.oauthRefreshToken({ probeUrl, allowLoopbackHttp })).toThrow(message);
  });
});
