import * as path from 'path';
import { chownTree, ServerUser } from './server-user';
import { createTestCertificates, TestCertificates } from './tls';

/** Names for a test server's certificate; by default `localhost` and the address the server listens on. */
export interface ServerTlsOptions {
  readonly hostnames?: string[];
  readonly ipAddresses?: string[];
}

export interface ServerTls {
  readonly certificates: TestCertificates;
  /** The name a harness verifies the server certificate against: the certificate's first name. */
  readonly verifyName: string;
}

/**
 * A throwaway CA and server certificate in `<tempDir>/tls`, owned by the server user when there is one: servers
 * read their key (mode 0600) as that user, and PostgreSQL insists on owning it.
 */
export async function createServerTls(
  tempDir: string, options: ServerTlsOptions, user: ServerUser | undefined, listenAddress: string,
): Promise<ServerTls> {
  const hostnames = options.hostnames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? [listenAddress];
  const tlsDir = path.join(tempDir, 'tls');
  const certificates = await createTestCertificates(tlsDir, { hostnames, ipAddresses });
  if (user) await chownTree(tlsDir, user);
  return { certificates, verifyName: [...hostnames, ...ipAddresses][0] };
}
