import { awscdk } from 'projen';

/** Directory of handler sources; every `lambda/handlers/*.ts` file is one bundled function. */
export const LAMBDA_DIR = 'lambda';
/** Generated bundles: `assets/<function>/index.js`. Built before compile and before tests, shipped in the npm tarball. */
export const ASSETS_DIR = 'assets';
/**
 * Generated deployment packages of the rotation bundles with their manifests (`zip/<function>.zip`,
 * `zip/<function>.manifest.json`) for AWS SAM and Terraform; shipped in the npm tarball. Outside `assets/`, so
 * `lambda.Code.fromAsset(assets/<function>)` never uploads them and scripts/bundle.js never removes them.
 */
export const ZIP_DIR = 'zip';

/**
 * Adds the `bundle` task (esbuild via scripts/bundle.js) and wires it before compile.
 * The AWS SDK v3 stays external: every Node.js Lambda runtime provides it, and tests resolve it from node_modules.
 */
export function configureBundling(project: awscdk.AwsCdkConstructLibrary): void {
  const bundle = project.addTask('bundle', {
    description: 'Bundle the rotation handlers in lambda/ into assets/<function>/index.js, and each rotation bundle into zip/<function>.zip with its manifest',
  });
  // the entry list is read at run time, so a new lambda/handlers/<id>.ts is bundled without re-synthesizing projen
  bundle.exec('node scripts/bundle.js');
  // zips and manifests of the bundles just built (a few seconds: the manifests come from the constructs themselves)
  bundle.exec('node scripts/bundle-zips.js');
  project.preCompileTask.spawn(bundle);

  // `npm pack` / `npm publish` always ship the bundles and a compiled library, whatever was built before
  project.package.setScript('prepack', 'node scripts/prepack.js');

  project.gitignore.exclude(`/${ASSETS_DIR}/`, `/${ZIP_DIR}/`);
  // ship the bundles and their deployment packages, never the handler sources
  project.npmignore?.include(`/${ASSETS_DIR}/`, `/${ZIP_DIR}/`);
  project.npmignore?.exclude(`/${LAMBDA_DIR}/`, '/integ/', '/examples/', '/bench/', '/scripts/', '/.ci/', '/cdk.out/');
}
