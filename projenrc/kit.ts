import { JsonFile, awscdk } from 'projen';

/** Generated: the published rotation kit, `cdk-secrets-platform/kit` (`kit/index.js` and `kit/index.d.ts`). */
export const KIT_DIR = 'kit';
/** What users import: the custom-rotator API, errors and types, not the database internals. */
export const KIT_ENTRY = 'lambda/kit/public.ts';
/** The declarations' own compiler settings (the jsii tsconfig covers src/ only). */
export const KIT_TSCONFIG = 'tsconfig.kit.json';

/**
 * Adds the `kit` task and runs it before compile: an esbuild bundle (CommonJS, Node.js 20, `@aws-sdk/*` external, as
 * the Lambda runtime provides it) and declarations emitted by tsc. The declarations keep the sources' layout under
 * `kit/types/` (the kit imports the contract from src/private/), and `kit/index.d.ts` re-exports the entry's, so a
 * `kit/` folder with `index.js` and `index.d.ts` resolves `cdk-secrets-platform/kit` without an `exports` field.
 */
export function configureKit(project: awscdk.AwsCdkConstructLibrary): void {
  new JsonFile(project, KIT_TSCONFIG, {
    obj: {
      compilerOptions: {
        declaration: true,
        emitDeclarationOnly: true,
        declarationDir: `${KIT_DIR}/types`,
        rootDir: '.',
        module: 'node16',
        moduleResolution: 'node16',
        target: 'ES2022',
        lib: ['es2022'],
        types: ['node'],
        strict: true,
        skipLibCheck: true,
        stripInternal: true,
      },
      files: [KIT_ENTRY],
    },
  });

  const declarations = `${KIT_DIR}/types/${KIT_ENTRY.replace(/\.ts$/, '')}`;
  const kit = project.addTask('kit', {
    description: `Build the published rotation kit (${KIT_ENTRY}) into ${KIT_DIR}/index.js and ${KIT_DIR}/index.d.ts`,
    steps: [
      // files of an earlier build that this one no longer writes must not ship
      { exec: `node -e "require('fs').rmSync('${KIT_DIR}', { recursive: true, force: true })"` },
      {
        exec: `esbuild ${KIT_ENTRY} --bundle --platform=node --target=node20 --format=cjs --external:@aws-sdk/* `
          + `--legal-comments=none --log-level=warning --outfile=${KIT_DIR}/index.js`,
      },
      { exec: `tsc -p ${KIT_TSCONFIG}` },
      { exec: `echo "export * from './${declarations.slice(KIT_DIR.length + 1)}';" > ${KIT_DIR}/index.d.ts` },
    ],
  });
  project.preCompileTask.spawn(kit);

  // examples/api-key-rotator imports the kit as an app does; examples/tsconfig.json maps that import to the source
  const eslintrc = project.tryFindObjectFile('.eslintrc.json');
  eslintrc?.addOverride('settings.import/resolver.typescript.project', ['./tsconfig.json', './examples/tsconfig.json']);
  eslintrc?.addOverride('settings.import/resolver.typescript.noWarnOnMultipleProjects', true);

  project.gitignore.exclude(`/${KIT_DIR}/`);
  project.npmignore?.include(`/${KIT_DIR}/`);
  project.npmignore?.exclude(`/${KIT_TSCONFIG}`);
}
