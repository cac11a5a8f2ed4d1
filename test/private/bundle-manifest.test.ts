import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RotationCode, RotationEngine, RotationFunction, RotationFunctionOptions, SecretTemplateKind } from '../../src';
import {
  BUNDLE_ENVIRONMENT, BundleManifestError, LINKED_BUT_NOT_READ, NODE_EXTRA_CA_CERTS, buildBundleManifest, bundledEngineById,
} from '../../src/private/bundle-manifest';
import { ENV, OAUTH_ENV, OVERDUE_ENV, RotatorFunctionId, rotatorFunctionIds } from '../../src/private/contract';

/**
 * The manifests of the rotation bundles: what the constructs deploy (read from a RotationFunction of each engine), and
 * the environment each bundle really reads.
 */
const ROOT = path.join(__dirname, '..', '..');
const built = rotatorFunctionIds().filter((id) => fs.existsSync(path.join(ROOT, 'assets', id, 'index.js')));

/** Every environment variable name the contract knows, with the key that names it in its contract object. */
const KNOWN = [ENV, OAUTH_ENV, OVERDUE_ENV].flatMap((names) => Object.entries(names).map(([key, name]) => ({ key, name })));

/**
 * The contract variables a minified bundle reads. esbuild keeps a contract object whole (`{PROBE_QUERY:"ROTATION_PROBE_QUERY",...}`)
 * wherever one of its names is used, so a name's presence proves nothing: a variable is read when its key is accessed
 * (`U.PROBE_QUERY`, `U["PROBE_QUERY"]`) or its name appears anywhere but in that object (`process.env.NAME`, `env["NAME"]`).
 */
function readsOf(code: string): string[] {
  const count = (re: RegExp) => (code.match(re) ?? []).length;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return KNOWN.filter(({ key, name }) => {
    const accessed = count(new RegExp(`(?:[\\w$\\])]\\??\\.${escape(key)}(?![\\w$])|\\[["'\`]${escape(key)}["'\`]\\])`, 'g')) > 0;
    const named = count(new RegExp(`(?<![\\w$])${escape(name)}(?![\\w$])`, 'g'));
    const defined = count(new RegExp(`(?<![\\w$])${escape(key)}:["'\`]${escape(name)}["'\`]`, 'g'));
    return accessed || named > defined;
  }).map(({ name }) => name).sort();
}

function manifestOf(id: RotatorFunctionId) {
  return buildBundleManifest(id, { fileName: `${id}.zip`, sha256: 'not-computed' });
}

test('the bundle scan finds reads, and only reads', () => {
  // a contract object alone is no read; a key access and a direct name are
  const object = 'var U={PASSWORD_POLICY:"ROTATION_PASSWORD_POLICY",PROBE_QUERY:"ROTATION_PROBE_QUERY"};';
  expect(readsOf(object)).toEqual([]);
  expect(readsOf(`${object}function f(t){return t[U.PROBE_QUERY]}`)).toEqual(['ROTATION_PROBE_QUERY']);
  expect(readsOf(`${object}x=process.env.ROTATION_OAUTH_PROBE_URL;y=e?.["CALL_TIMEOUT_MS"]`)).toEqual(['ROTATION_CALL_TIMEOUT_MS', 'ROTATION_OAUTH_PROBE_URL']);
  // a longer name that starts with a known one is not that one
  expect(readsOf('x=U.PROBE_QUERY_TEXT;y="ROTATION_PROBE_QUERY_X"')).toEqual([]);
});

test('there are built rotation bundles to check', () => {
  expect(built).toEqual(expect.arrayContaining(['postgres-single-user', 'mariadb-multi-user', 'redshift-multi-user', 'documentdb-multi-user']));
});

test.each(built)('%s reads exactly the environment variables BUNDLE_ENVIRONMENT lists for it', (id) => {
  const code = fs.readFileSync(path.join(ROOT, 'assets', id, 'index.js'), 'utf8');
  const listed = BUNDLE_ENVIRONMENT[id].map((v) => v.name);
  const linked = (LINKED_BUT_NOT_READ[id] ?? []).map((v) => v.name);
  expect(readsOf(code)).toEqual([...listed, ...linked].sort());
  // and the manifest lists exactly those, with Node.js's own for the CA bundle
  expect(manifestOf(id).environment.map((v) => v.name).sort()).toEqual([...listed, NODE_EXTRA_CA_CERTS].sort());
});

/** The options that make a RotationFunction set every variable it can, for the engine's kind of secret. */
function everyOption(engine: RotationEngine): RotationFunctionOptions {
  if (engine.secretKind !== SecretTemplateKind.DATABASE) return { tlsCaBundle: '/opt/ca.pem' };
  return { tlsCaBundle: '/opt/ca.pem', usernameLengthLimit: 100, probeQuery: engine.id.startsWith('documentdb-') ? 'ping' : 'SELECT 1' };
}

describe.each(built)('the %s manifest is what RotationFunction deploys', (id) => {
  const engine = bundledEngineById(id)!;
  const manifest = manifestOf(id);
  // built here the way an app builds it, and read back from the template only
  const stack = new Stack(new App(), 'App');
  const fn = new RotationFunction(stack, 'Rotation', { engine, ...everyOption(engine) });
  if (engine.multiUser || (engine as { requiresAdminSecret?: boolean }).requiresAdminSecret) {
    fn.addMasterSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:master-AbCdEf'));
  }
  const template = Template.fromStack(stack).toJSON();
  const resource = (type: string) => Object.values(template.Resources as Record<string, any>).filter((r) => r.Type === type).map((r) => r.Properties);
  const [lambdaProps] = resource('AWS::Lambda::Function');

  test('runtime, handler, architectures, memory, timeout, concurrency and tracing', () => {
    expect(manifest).toMatchObject({
      functionId: id,
      runtime: lambdaProps.Runtime,
      handler: lambdaProps.Handler,
      architectures: lambdaProps.Architectures,
      memorySizeMb: lambdaProps.MemorySize,
      timeoutSeconds: lambdaProps.Timeout,
      reservedConcurrentExecutions: lambdaProps.ReservedConcurrentExecutions,
      tracingMode: lambdaProps.TracingConfig.Mode,
    });
    expect(manifest.handler).toBe(engine.handler);
    expect(manifest.runtime).toMatch(/^nodejs\d+\.x$/);
  });

  test('every variable the function sets is in the manifest, unless the bundle never reads it; with its default value', () => {
    const listed = manifest.environment.map((v) => v.name);
    const reads = readsOf(fs.readFileSync(path.join(ROOT, 'assets', id, 'index.js'), 'utf8'));
    const omitted = Object.keys(lambdaProps.Environment.Variables).filter((name) => !listed.includes(name));
    expect(omitted.filter((name) => reads.includes(name) && !(LINKED_BUT_NOT_READ[id] ?? []).some((v) => v.name === name))).toEqual([]);
    const defaults = new RotationFunction(new Stack(new App(), 'Defaults'), 'Rotation', { engine });
    const defaultEnv = Template.fromStack(Stack.of(defaults)).findResources('AWS::Lambda::Function');
    const variables = Object.values(defaultEnv)[0].Properties.Environment.Variables as Record<string, string>;
    for (const v of manifest.environment) {
      expect({ name: v.name, value: v.recommendedValue }).toEqual({ name: v.name, value: variables[v.name] });
    }
  });

  test('the same policy statements, each with the same actions and condition keys', () => {
    const [policy] = resource('AWS::IAM::ManagedPolicy');
    const shape = (statements: any[]) => statements.map((s) => ({
      sid: s.Sid,
      effect: s.Effect,
      actions: [s.Action].flat().sort(),
      conditions: Object.fromEntries(Object.entries(s.Condition ?? {}).map(([op, kv]) => [op, Object.keys(kv as object).sort()])),
      resources: [s.Resource].flat().length,
    }));
    expect(shape(manifest.policyDocument.Statement)).toEqual(shape(policy.PolicyDocument.Statement));
    expect(manifest.policyDocument.Version).toBe(policy.PolicyDocument.Version);
  });

  test('the invoke permission: Secrets Manager of the account, for its secrets', () => {
    const [permission] = resource('AWS::Lambda::Permission');
    expect(manifest.invokePermission).toMatchObject({ action: permission.Action, principal: permission.Principal });
    expect(permission.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
    expect(manifest.invokePermission.sourceAccount).toBe('${AccountId}');
    expect(manifest.invokePermission.sourceArn).toBe('arn:${Partition}:secretsmanager:${Region}:${AccountId}:secret:*');
    expect(manifest.invokePermission.statement).toEqual({
      Sid: 'AllowSecretsManagerToInvoke',
      Effect: 'Allow',
      Principal: { Service: 'secretsmanager.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: 'arn:${Partition}:lambda:${Region}:${AccountId}:function:${FunctionName}',
      Condition: {
        StringEquals: { 'aws:SourceAccount': '${AccountId}' },
        ArnLike: { 'aws:SourceArn': 'arn:${Partition}:secretsmanager:${Region}:${AccountId}:secret:*' },
      },
    });
  });

  test('the rotated secrets are those that name the function, by the placeholder of its name', () => {
    const rotate = manifest.policyDocument.Statement.find((s: any) => s.Sid === 'RotateSecretsThatNameThisFunction');
    expect(rotate.Condition.StringEquals['secretsmanager:resource/AllowRotationLambdaArn'])
      .toBe('arn:${Partition}:lambda:${Region}:${AccountId}:function:${FunctionName}');
    expect(rotate.Resource).toBe('arn:${Partition}:secretsmanager:${Region}:${AccountId}:secret:*');
  });

  test('every ${...} in the shipped manifest is a described placeholder, and nothing else looks like a template', () => {
    const text = fs.readFileSync(path.join(ROOT, 'zip', `${id}.manifest.json`), 'utf8');
    const used = [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
    expect(manifest.placeholders.map((p) => p.name).sort()).toEqual(used);
    for (const p of manifest.placeholders) expect(p.description.length).toBeGreaterThan(10);
    // Terraform's templatefile reads `${` and `%{`; only the placeholders may use them
    expect(text.replace(/\$\{\w+\}/g, '')).not.toMatch(/[$%]\{/);
    expect(text).not.toMatch(/Fn::|"Ref"|Token\[/);
  });

  test('the shipped manifest is the one the current constructs give', () => {
    const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'zip', `${id}.manifest.json`), 'utf8'));
    expect(shipped).toEqual({ ...manifest, zipSha256: shipped.zipSha256, schemaVersion: RotationCode.MANIFEST_SCHEMA_VERSION });
  });
});

test('every variable of the manifests is documented', () => {
  for (const id of built) {
    for (const v of manifestOf(id).environment) {
      expect(v.description.length).toBeGreaterThan(20);
      expect(v.whenUnset.length).toBeGreaterThan(0);
      expect(['handler', 'runtime']).toContain(v.readBy);
    }
  }
});

test('a bundle without a registered engine is refused with its own code', () => {
  expect(bundledEngineById('no-such-bundle')).toBeUndefined();
  let error: unknown;
  try {
    buildBundleManifest('no-such-bundle' as RotatorFunctionId, { fileName: 'x.zip', sha256: 'x' });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(BundleManifestError);
  expect((error as BundleManifestError).code).toBe('BUNDLE_MANIFEST_NO_ENGINE');
});

describe('README: Outside CDK', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = /\n### Outside CDK\n([\s\S]*?)\n## /.exec(readme)![1];
  const block = (lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)![1];
  const manifest = manifestOf('postgres-single-user');
  /** `${Partition}` as CloudFormation's `!Sub` writes it; the queue as the template names it. */
  const toSam = (value: string) => value.replace(/\$\{(Partition|Region|AccountId)\}/g, '${AWS::$1}')
    .replace('${DeadLetterQueueArn}', '!GetAtt RotationDeadLetterQueue.Arn');

  test('the SAM template has the manifest\'s package, handler, runtime and settings', () => {
    const sam = block('yaml');
    expect(sam).toContain(`CodeUri: node_modules/cdk-secrets-platform/zip/${manifest.zipFile}\n`);
    expect(sam).toContain(`Handler: ${manifest.handler}\n`);
    expect(sam).toContain(`Runtime: ${manifest.runtime}\n`);
    expect(sam).toContain(`Architectures: [${manifest.architectures.join(', ')}]\n`);
    expect(sam).toContain(`MemorySize: ${manifest.memorySizeMb}\n`);
    expect(sam).toContain(`Timeout: ${manifest.timeoutSeconds}\n`);
    expect(sam).toContain(`ReservedConcurrentExecutions: ${manifest.reservedConcurrentExecutions}\n`);
    expect(sam).toContain(`Tracing: ${manifest.tracingMode}\n`);
  });

  test('the SAM template sets every recommended variable to its value and names the others', () => {
    const sam = block('yaml');
    for (const v of manifest.environment) {
      if (v.recommendedValue === undefined) {
        expect(sam).toMatch(new RegExp(`# optional: .*\\b${v.name}\\b`));
        continue;
      }
      const line = new RegExp(`\\n\\s+${v.name}: (.*)\\n`).exec(sam);
      expect(line).not.toBeNull();
      const raw = line![1];
      // YAML: single-quoted ('' is one quote) or plain
      const value = raw.startsWith('\'') ? raw.slice(1, -1).replace(/''/g, '\'') : raw;
      expect({ name: v.name, value }).toEqual({ name: v.name, value: v.recommendedValue });
    }
  });

  test('the SAM policy is the manifest\'s, statement by statement, but the one for a KMS-encrypted queue', () => {
    const sam = block('yaml');
    const policies = sam.slice(sam.indexOf('      Policies:'), sam.indexOf('  SecretsManagerInvoke:'));
    const blocks = policies.split(/\n\s+- Sid: /).slice(1).map((b) => `${b}\n`);
    const expected = manifest.policyDocument.Statement.filter((s: any) => !JSON.stringify(s).includes('${EncryptionKeyArn}'));
    expect(blocks.map((b) => b.split('\n')[0])).toEqual(expected.map((s: any) => s.Sid));
    expected.forEach((statement: any, i: number) => {
      const text = blocks[i];
      const actions = [statement.Action].flat();
      expect(text).toContain(`Action: ${actions.length === 1 ? actions[0] : `[${actions.join(', ')}]`}\n`);
      const resource = toSam(statement.Resource);
      expect(text).toMatch(new RegExp(`Resource: (!Sub |')?${resource.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'?\\n`));
      for (const [operator, pairs] of Object.entries(statement.Condition ?? {})) {
        expect(text).toContain(`${operator}:\n`);
        for (const [key, value] of Object.entries(pairs as Record<string, string>)) {
          expect(text).toContain(`${key}: !Sub ${toSam(value)}\n`);
        }
      }
    });
  });

  test('the SAM permission is the manifest\'s invoke permission', () => {
    const sam = block('yaml');
    const permission = sam.slice(sam.indexOf('Type: AWS::Lambda::Permission'));
    expect(permission).toContain(`Action: ${manifest.invokePermission.action}\n`);
    expect(permission).toContain(`Principal: ${manifest.invokePermission.principal}\n`);
    expect(permission).toContain('SourceAccount: !Ref AWS::AccountId\n');
    expect(permission).toContain(`SourceArn: !Sub ${toSam(manifest.invokePermission.sourceArn)}\n`);
  });

  test('Terraform reads only fields the manifest has, and fills exactly its placeholders', () => {
    const hcl = block('hcl');
    const has = (root: any, fieldPath: string) => fieldPath.split('.').reduce((at, key) => (at === undefined ? undefined : at[key]), root) !== undefined;
    const read = [...hcl.matchAll(/local\.(manifest|filled)\.([\w.]+)/g)].map((m) => m[2].replace(/\.$/, ''));
    expect(read).toEqual(expect.arrayContaining(['handler', 'runtime', 'environment', 'policyDocument', 'zipFile']));
    for (const field of read) expect({ field, present: has(manifest, field) }).toEqual({ field, present: true });
    const vars = /templatefile\([^{]*\{([\s\S]*?)\}\)\)/.exec(hcl)![1];
    const names = [...vars.matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]).sort();
    expect(names).toEqual(manifest.placeholders.map((p) => p.name).sort());
    for (const resource of ['aws_lambda_function', 'aws_iam_policy', 'aws_lambda_permission', 'aws_secretsmanager_secret_rotation']) {
      expect(hcl).toContain(`resource "${resource}"`);
    }
    expect(hcl).toContain('jsondecode(file("${local.zip_dir}/${local.engine}.manifest.json"))');
    expect(hcl).toContain('source_code_hash');
    expect(hcl).toContain(`engine        = "${manifest.functionId}"`);
  });

  test('the CDK sample uses RotationCode and the manifest (it is type-checked with the other samples)', () => {
    const sample = block('ts');
    for (const use of ['RotationCode.manifest(engine)', 'RotationCode.forEngine(engine)', 'manifest.handler', 'manifest.runtime',
      'manifest.environment', 'manifest.policyDocument', 'manifest.invokePermission']) {
      expect(sample).toContain(use);
    }
  });
});
