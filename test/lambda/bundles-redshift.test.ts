import * as fs from 'fs';
import * as path from 'path';
import { FUNCTION_IDS } from '../../src/private/contract';
import { initLoad } from '../support/bundle-init';
import { ASSETS_DIR } from '../support/rotation-harness';

/**
 * The clients that resolve managed master secrets are loaded on that path only: a cold start of any bundled function
 * pays for the Secrets Manager client and never for the RDS, Redshift or Redshift Serverless clients.
 */
const MANAGED_MASTER_CLIENTS = ['@aws-sdk/client-rds', '@aws-sdk/client-redshift', '@aws-sdk/client-redshift-serverless'];

/** The package of each module under node_modules that a fresh process loaded by requiring the bundle. */
function packagesAtInit(id: string): Set<string> {
  const files = initLoad(id).files.filter((f) => f.includes('node_modules'));
  return new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)![1]));
}

test.each(Object.values(FUNCTION_IDS))('%s loads none of the RDS, Redshift and Redshift Serverless clients at init', (id) => {
  const packages = packagesAtInit(id);
  expect(packages.has('@aws-sdk/client-secrets-manager')).toBe(true);
  expect(MANAGED_MASTER_CLIENTS.filter((p) => packages.has(p))).toEqual([]);
});

test('the alternating-users bundle of Redshift requires the Redshift clients, each by its package name, on the managed-master path', () => {
  // the clients stay external (the Lambda runtime has them) and their require stays in the bundle, unevaluated at init
  const source = fs.readFileSync(path.join(ASSETS_DIR, FUNCTION_IDS.REDSHIFT_MULTI_USER, 'index.js'), 'utf8');
  const required = [...source.matchAll(/require\("(@aws-sdk\/[a-z-]+)"\)/g)].map((m) => m[1]);
  expect(required).toEqual(expect.arrayContaining(MANAGED_MASTER_CLIENTS));
});
