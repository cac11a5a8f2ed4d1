import { awscdk } from 'projen';

/** Directory of handler sources; every `lambda/handlers/*.ts` file is one bundled function. */
export const LAMBDA_DIR = 'lambda';
/** Generated bundles: `assets/<function>/index.js`. Built before compile and before tests, shipped in the npm tarball. */
export const ASSETS_DIR = 'assets';

/**
 * Adds the `bundle` task (esbuild via scripts/bundle.js) and wires it before compile.
 * The AWS SDK v3 stays external: every Node.js Lambda runtime provides it, and tests resolve it from node_modules.
 */
export function configureBundling(project: awscdk.AwsCdkConstructLibrary): void {
  const bundle = project.addTask('bundle', {
    description: 'Bundle the rotation handlers in lambda/ into assets/<function>/index.js',
  });
  // the entry list is read at run time, so a new lambda/handlers/<id>.ts is bundled without re-synthesizing projen
  bundle.exec('node scripts/bundle.js');
  project.preCompileTask.spawn(bundle);

  // `npm pack` / `npm publish` always ship the bundles and a compiled library, whatever was built before
  project.package.setScript('prepack', 'node scripts/prepack.js');

  project.gitignore.exclude(`/${ASSETS_DIR}/`);
  // ship the bundles, never the handler sources
  project.npmignore?.include(`/${ASSETS_DIR}/`);
  project.npmignore?.exclude(`/${LAMBDA_DIR}/`, '/integ/', '/examples/', '/bench/', '/scripts/', '/.ci/', '/cdk.out/');
}
