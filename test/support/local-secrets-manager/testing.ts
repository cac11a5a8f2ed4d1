import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceError } from './errors';
import { LocalSecretsManager, LocalSecretsManagerOptions } from './server';

/**
 * The environment that sends AWS SDK v3 clients (a handler's, a test's) to this local endpoint, with fixed test
 * credentials and no session token from the machine.
 */
export function localSecretsManagerEnvironment(sm: LocalSecretsManager): Record<string, string | undefined> {
  return {
    AWS_REGION: sm.region,
    AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret-key',
    AWS_SESSION_TOKEN: undefined,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
  };
}

/** The endpoint of the test that is running, and a client for it. */
export interface EndpointPerTest {
  readonly sm: LocalSecretsManager;
  readonly client: SecretsManagerClient;
}

/**
 * Jest hooks that start a fresh endpoint before each test (no state leaks between tests) and stop it after.
 * Read `sm` and `client` inside tests and hooks only: they are a different endpoint in every test.
 */
export function endpointPerTest(options: LocalSecretsManagerOptions = {}): EndpointPerTest {
  let current: EndpointPerTest | undefined;
  beforeEach(async () => {
    const sm = await LocalSecretsManager.start(options);
    current = { sm, client: sm.client() };
  });
  afterEach(async () => {
    await current?.sm.stop();
    current = undefined;
  });
  const running = (): EndpointPerTest => {
    if (current === undefined) {
      throw new Error('The local Secrets Manager runs only inside a test or its hooks');
    }
    return current;
  };
  return {
    get sm() {
      return running().sm;
    },
    get client() {
      return running().client;
    },
  };
}

/** The service error code a direct store call fails with; a call that succeeds fails the test. */
export function serviceErrorCode(call: () => unknown): string {
  try {
    call();
  } catch (e) {
    if (e instanceof ServiceError) {
      return e.code;
    }
    throw e;
  }
  throw new Error('expected the call to fail with a service error');
}
