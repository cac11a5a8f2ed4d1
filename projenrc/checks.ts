import { awscdk } from 'projen';

/** Directories with their own tsconfig.json that are type-checked (src/ is checked by jsii, test/ by its own config). */
export const TYPECHECKED_DIRS = ['lambda', 'test', 'integ', 'examples', 'bench'];

/**
 * The test task: bundle, type-check and lint everything, run jest with JSON results,
 * and always end with a plain `N passed, N failed` line.
 */
export function configureChecks(project: awscdk.AwsCdkConstructLibrary): void {
  project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');
  // modules form a tree: a cycle hides an unclear boundary and breaks module initialisation order
  project.eslint?.addRules({ 'import/no-cycle': 'error' });
  // import/no-cycle does not follow `import type`, so in src/ every local import is a plain import the rule sees: a cycle
  // through types alone is still a cycle between files
  project.eslint?.addOverride({
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'no-type-imports' }] },
  });
  const typecheck = project.addTask('typecheck', {
    description: 'Type-check lambda/, test/, integ/, examples/ and bench/',
  });
  // directories without sources yet (e.g. bench/ before its first benchmark) are reported and skipped
  typecheck.exec(`node scripts/typecheck.js ${TYPECHECKED_DIRS.join(' ')}`);

  // integ/: snapshots verified offline (no AWS account); a changed template or handler bundle fails until updated
  const integApp = '--directory integ --language typescript --app "node -r ts-node/register/transpile-only {filePath}"';
  const integ = project.addTask('integ', {
    description: 'Verify the committed snapshots of integ/*.ts (offline)',
    exec: `integ-runner ${integApp}`,
  });
  project.addTask('integ:update', {
    description: 'Re-synthesize integ/*.ts and rewrite the snapshots that changed (no deployment)',
    exec: `integ-runner ${integApp} --update-on-failed --dry-run`,
  });

  // the README's commands install what they need: the Debian packages of the test servers (when root with apt-get;
  // otherwise the script says what is missing and the suite reports which servers it cannot start)
  const systemDeps = project.addTask('system-deps', {
    description: 'Install the Debian packages the test servers need when they are missing (openssl, PostgreSQL, MariaDB)',
    exec: 'bash scripts/install-system-deps.sh',
  });

  const bundle = project.tasks.tryFind('bundle');
  const test = project.testTask;
  test.reset();
  test.spawn(systemDeps);
  if (bundle) test.spawn(bundle);
  // API.md is committed (as Construct Hub libraries do) and must match the compiled surface
  const docgenCheck = project.addTask('docgen:check', {
    description: 'Regenerate API.md and fail when the committed file was out of date',
    exec: 'node scripts/docgen-check.js',
  });
  // The checks are single-threaded: two lanes keep both cores busy. Lane 1 type-checks and lints; lane 2 proves src/ is
  // a valid jsii surface (compile), that API.md matches it, and that the integ snapshots match the templates.
  const lanes = [
    [typecheck.name, ...(project.eslint ? [project.eslint.eslintTask.name] : [])],
    [project.compileTask.name, docgenCheck.name, integ.name],
  ];
  test.exec(`node scripts/run-lanes.js ${lanes.map((lane) => `"${lane.join(' ')}"`).join(' ')}`);
  // two workers even on two cores: the long files wait on database servers more than they compute, and one worker
  // (jest's default there) leaves the conformance suite and everything else in one queue
  test.exec('node scripts/run-jest.js --maxWorkers=2', { receiveArgs: true });

  project.addTask('demo', {
    description: 'Synthesize the example platform app and rotate secrets against real local PostgreSQL and MariaDB servers',
    steps: [
      { spawn: 'system-deps' },
      { spawn: 'bundle' },
      // the typecheck task type-checks examples/; the demo itself only needs to run
      { exec: 'ts-node --transpile-only --project examples/tsconfig.json examples/demo.ts' },
    ],
  });
}
