import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as path from 'path';
import { promisify } from 'util';

const execFileAsync = promisify(execFile);

/** Short validity: these certificates only live as long as a test run. */
const VALID_DAYS = '2';
/** P-256 keys generate in milliseconds, unlike RSA. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TestCertificateOptions {
  /** DNS subject alternative names of the server certificate. */
  readonly hostnames: string[];
  /** IP subject alternative names of the server certificate. */
  readonly ipAddresses?: string[];
}

export interface TestCertificates {
  readonly caCertPath: string;
  readonly caCertPem: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
}

/**
 * Creates a throwaway CA and a server certificate signed by it in `dir` (created if missing).
 * Every call makes a new CA, so certificates from another call never verify against this one.
 */
export async function createTestCertificates(dir: string, options: TestCertificateOptions): Promise<TestCertificates> {
  const ipAddresses = options.ipAddresses ?? [];
  const altNames = subjectAltNames(options.hostnames, ipAddresses);
  await fs.mkdir(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);

  await createCa(file('ca.key'), file('ca.crt'));
  await createServerCertificate({
    caKeyPath: file('ca.key'),
    caCertPath: file('ca.crt'),
    keyPath: file('server.key'),
    certPath: file('server.crt'),
    workPrefix: file('server'),
    commonName: [...options.hostnames, ...ipAddresses][0],
    altNames,
  });
  // Servers such as PostgreSQL refuse private keys readable by others.
  await Promise.all([fs.chmod(file('ca.key'), 0o600), fs.chmod(file('server.key'), 0o600)]);

  return {
    caCertPath: file('ca.crt'),
    caCertPem: await fs.readFile(file('ca.crt'), 'utf8'),
    serverCertPath: file('server.crt'),
    serverKeyPath: file('server.key'),
  };
}

function subjectAltNames(hostnames: string[], ipAddresses: string[]): string {
  for (const hostname of hostnames) {
    // Anything else could inject extra entries into the openssl extension line.
    if (!/^[A-Za-z0-9*]([A-Za-z0-9.*-]*[A-Za-z0-9])?$/.test(hostname)) {
      throw new Error(`Invalid host name for a test certificate: ${JSON.stringify(hostname)}`);
    }
  }
  for (const ip of ipAddresses) {
    if (net.isIP(ip) === 0) throw new Error(`Invalid IP address for a test certificate: ${JSON.stringify(ip)}`);
  }
  if (hostnames.length + ipAddresses.length === 0) {
    throw new Error('A test certificate needs at least one host name or IP address');
  }
  return [...hostnames.map((h) => `DNS:${h}`), ...ipAddresses.map((ip) => `IP:${ip}`)].join(',');
}

async function createCa(keyPath: string, certPath: string): Promise<void> {
  // A random name keeps CAs from different calls apart in error messages too.
  const name = `Test CA ${randomBytes(6).toString('hex')}`;
  await openssl([
    'req', '-x509', ...NEW_EC_KEY, '-keyout', keyPath, '-out', certPath, '-days', VALID_DAYS, '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

interface ServerCertificateRequest {
  readonly caKeyPath: string;
  readonly caCertPath: string;
  readonly keyPath: string;
  readonly certPath: string;
  /** Path prefix for the CSR and extension file, removed afterwards. */
  readonly workPrefix: string;
  readonly commonName: string;
  readonly altNames: string;
}

async function createServerCertificate(request: ServerCertificateRequest): Promise<void> {
  const csrPath = `${request.workPrefix}.csr`;
  const extPath = `${request.workPrefix}.ext`;
  try {
    await openssl(['req', '-new', ...NEW_EC_KEY, '-keyout', request.keyPath, '-out', csrPath, '-subj', `/CN=${request.commonName}`]);
    await fs.writeFile(extPath, [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${request.altNames}`,
      '',
    ].join('\n'));
    await openssl([
      'x509', '-req', '-in', csrPath, '-CA', request.caCertPath, '-CAkey', request.caKeyPath,
      // An explicit random serial: no serial file next to the CA, and no two certificates share one.
      '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', VALID_DAYS, '-extfile', extPath, '-out', request.certPath,
    ]);
  } finally {
    await Promise.all([fs.rm(csrPath, { force: true }), fs.rm(extPath, { force: true })]);
  }
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${(err as Error).message}\n${stderr}`);
  }
}
