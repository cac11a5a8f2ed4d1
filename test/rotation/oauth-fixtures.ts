import * as crypto from 'crypto';
import { SecretValue, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  ClientSecretAdapter, HttpAdapterAuth, HttpAdapterMethod, HttpClientSecretAdapterProps, RotationCode, RotationEngine, SecretTemplate,
} from '../../src';

/**
 * These tests are about the constructs (IAM, environment, validation), not the handlers' bundles, which are built and
 * tested on their own: the OAuth functions get a stand-in handler, so the tests neither need nor check `assets/oauth-*`.
 */
export function standInOAuthCode(): jest.SpyInstance {
  const original = RotationCode.forEngine.bind(RotationCode);
  return jest.spyOn(RotationCode, 'forEngine').mockImplementation((engine: RotationEngine) =>
    engine.isBundled && engine.id.startsWith('oauth-') ? lambda.Code.fromInline('exports.handler = async () => {};') : original(engine));
}

/** An `http` adapter of a provider API that adds secrets and retires them at a time. */
export function httpAdapterProps(overrides: Partial<HttpClientSecretAdapterProps> = {}): HttpClientSecretAdapterProps {
  return {
    add: { method: HttpAdapterMethod.POST, url: 'https://idp.example.com/api/clients/{client_id}/secrets', body: { secret: '{client_secret}' } },
    retire: {
      method: HttpAdapterMethod.PATCH,
      url: 'https://idp.example.com/api/clients/{client_id}/secrets',
      body: { secret: '{client_secret}', expires_at: '{not_after}' },
    },
    auth: HttpAdapterAuth.BEARER,
    ...overrides,
  };
}

export function httpAdapter(overrides: Partial<HttpClientSecretAdapterProps> = {}): ClientSecretAdapter {
  return ClientSecretAdapter.http(httpAdapterProps(overrides));
}

export const TOKEN_ENDPOINT = 'https://idp.example.com/oauth2/token';

/** An OAuth client template with an admin secret. */
export function clientTemplate(adminSecret: secretsmanager.ISecret | undefined, props: object = {}): SecretTemplate {
  return SecretTemplate.oauthClient({
    clientId: 'svc', clientSecret: SecretValue.secretsManager('idp/svc'), tokenEndpoint: TOKEN_ENDPOINT, adminSecret, ...props,
  });
}

/** An OAuth refresh-token template. */
export function refreshTemplate(props: object = {}): SecretTemplate {
  return SecretTemplate.oauthRefreshToken({ clientId: 'cli', refreshToken: SecretValue.secretsManager('idp/rt'), tokenEndpoint: TOKEN_ENDPOINT, ...props });
}

/**
 * The id `RotationFunction.shared` gave a database engine's function before OAuth configurations were part of the key
 * (engine id, placement, password policy): shared database functions must keep it, or deployed stacks would replace them.
 */
export function databaseSharedId(stack: Stack, engine: RotationEngine): string {
  const key = { engine: engine.id, subnets: [], securityGroups: [], passwordPolicy: engine.defaultPasswordPolicy._toContract() };
  const hash = crypto.createHash('sha256').update(JSON.stringify(stack.resolve(key))).digest('hex').slice(0, 8);
  return `RotationFunction-${engine.id}-${hash}`;
}
