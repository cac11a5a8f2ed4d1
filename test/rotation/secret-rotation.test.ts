import { App, Duration, SecretValue, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BUNDLED_FAMILIES, importedVpc, onlyResource, policyStatements, secret, secretKey, testStack } from './fixtures';
import { clientTemplate, httpAdapter, refreshTemplate, standInOAuthCode } from './oauth-fixtures';
import {
  RotationEngine, RotationFunction, RotationSchedule, Secret, SecretRotation, SecretRotationProps, SecretTemplate, SecretTemplateKind,
} from '../../src';
import { SECRET_ENGINES } from '../../src/private/contract';

const SINGLE = RotationEngine.POSTGRES_SINGLE_USER;
const MULTI = RotationEngine.POSTGRES_MULTI_USER;

describe('SecretRotation', () => {
  test('renders one rotation schedule on the shared function, after its permission, policy and function', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const rotation = new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    const template = Template.fromStack(stack);

    const fn = RotationFunction.shared(stack, SINGLE);
    expect(rotation.rotationFunction).toBe(fn);
    const id = (c: any) => stack.getLogicalId(c);
    const schedule = onlyResource(template, 'AWS::SecretsManager::RotationSchedule').resource;
    expect(schedule.Properties).toEqual({
      SecretId: { Ref: id(s.node.defaultChild) },
      RotationLambdaARN: { 'Fn::GetAtt': [id(fn.lambdaFunction.node.defaultChild), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    expect(schedule.DependsOn.sort()).toEqual([
      id(fn.invokePermission),
      id(fn.policy.node.defaultChild),
      id(fn.lambdaFunction.node.defaultChild),
    ].sort());
  });

  test('cron schedule with a window and immediate rotation', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', {
      secret: s,
      engine: SINGLE,
      schedule: RotationSchedule.cron({ hour: '2', weekDay: 'SUN' }, { window: Duration.hours(3) }),
      rotateImmediatelyOnUpdate: true,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'cron(0 2 ? * SUN *)', Duration: '3h' },
      RotateImmediatelyOnUpdate: true,
    });
  });

  test('the shared function is placed by rotationFunctionOptions, in the secret\'s stack', () => {
    const app = new App();
    const secretStack = new Stack(app, 'Secrets');
    const otherStack = new Stack(app, 'Other');
    const s = secret(secretStack, 'Secret', secretKey(secretStack));
    const vpc = importedVpc(secretStack);
    const rotation = new SecretRotation(otherStack, 'Rotation', { secret: s, engine: SINGLE, rotationFunctionOptions: { vpc } });
    expect(rotation.rotationFunction).toBe(RotationFunction.shared(secretStack, SINGLE, { vpc }));
    expect(Stack.of(rotation.rotationFunction)).toBe(secretStack);
  });

  test('alternating users: the master secret is granted to the function', () => {
    const stack = testStack();
    const key = secretKey(stack);
    const master = secret(stack, 'Master', key);
    new SecretRotation(stack, 'Rotation', { secret: secret(stack, 'Secret', key), engine: MULTI, masterSecret: master });
    const template = Template.fromStack(stack);
    const statements = onlyResource(template, 'AWS::IAM::ManagedPolicy').resource.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Sid: 'ReadMasterSecrets',
      Resource: { Ref: stack.getLogicalId(master.node.defaultChild as secretsmanager.CfnSecret) },
    }));
  });

  test('a rotation under the secret with a function of another stack works without cycles', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const appStack = new Stack(app, 'App');
    const fn = RotationFunction.shared(platform, SINGLE);
    const s = secret(appStack, 'Secret', secretKey(appStack));
    const rotation = new SecretRotation(s, 'Rotation', { secret: s, rotationFunction: fn, schedule: RotationSchedule.rate(Duration.days(7)) });
    expect(rotation.node.scope).toBe(s);
    expect(rotation.rotationFunction).toBe(fn);
    app.synth();
    Template.fromStack(appStack).resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    Template.fromStack(appStack).resourceCountIs('AWS::Lambda::Permission', 0);
    expect(appStack.dependencies).toContain(platform);
  });

  const errors: Array<[string, (stack: Stack) => SecretRotationProps, RegExp]> = [
    ['alternating users without masterSecret', (stack) => ({ secret: secret(stack, 'S', secretKey(stack)), engine: MULTI }),
      /masterSecret is required for the alternating-users engine 'postgres-multi-user'/],
    ['single user with masterSecret', (stack) => {
      const key = secretKey(stack);
      return { secret: secret(stack, 'S', key), engine: SINGLE, masterSecret: secret(stack, 'M', key) };
    }, /masterSecret is not allowed for the single-user engine 'postgres-single-user'/],
    ['neither engine nor rotationFunction', (stack) => ({ secret: secret(stack, 'S', secretKey(stack)) }),
      /engine is required when rotationFunction is not given \(for example RotationEngine.POSTGRES_SINGLE_USER, RotationEngine.MYSQL_SINGLE_USER or RotationEngine.MARIADB_SINGLE_USER for database secrets/],
    ['an engine that is not the function\'s', (stack) => ({
      secret: secret(stack, 'S', secretKey(stack)), engine: MULTI, rotationFunction: RotationFunction.shared(stack, SINGLE),
    }), /engine 'postgres-multi-user' does not match the engine 'postgres-single-user' of rotationFunction/],
    ['rotationFunctionOptions with rotationFunction', (stack) => ({
      secret: secret(stack, 'S', secretKey(stack)),
      rotationFunction: RotationFunction.shared(stack, SINGLE),
      rotationFunctionOptions: { timeout: Duration.seconds(30) },
    }), /rotationFunctionOptions only apply to the shared function/],
    ['a custom single-user engine of a database no bundled engine rotates, with masterSecret, suggesting a custom alternating-users engine', (stack) => {
      const key = secretKey(stack);
      return { secret: secret(stack, 'S', key), engine: custom({ secretEngines: ['oracle-ee'] }), masterSecret: secret(stack, 'M', key) };
    }, /masterSecret is not allowed for the single-user engine 'my-rotator' \(the user changes its own password\); use an alternating-users engine \(RotationEngine.custom\(\{ ..., multiUser: true \}\)\)/],
    ['a custom single-user MySQL engine with masterSecret, suggesting the bundled MySQL alternating-users engine', (stack) => {
      const key = secretKey(stack);
      return { secret: secret(stack, 'S', key), engine: custom({ secretEngines: ['mysql'] }), masterSecret: secret(stack, 'M', key) };
    }, /masterSecret is not allowed for the single-user engine 'my-rotator' \(the user changes its own password\); use an alternating-users engine such as RotationEngine.MYSQL_MULTI_USER to rotate with a master secret$/],
  ];
  test.each(errors)('rejects %s, naming the property', (_name, props, message) => {
    const stack = testStack();
    expect(() => new SecretRotation(stack, 'Rotation', props(stack))).toThrow(message);
  });
});

/**
 * The statements of an alternating-users function that find the database of a master secret managed by the database
 * service, per family (keyed by the family's first engine value).
 */
const MASTER_RESOLUTION_SIDS: Record<string, string[]> = {
  postgres: ['DescribeRdsDatabasesOfMasterSecrets'],
  mysql: ['DescribeRdsDatabasesOfMasterSecrets'],
  mariadb: ['DescribeRdsDatabasesOfMasterSecrets'],
  redshift: ['DescribeRedshiftClustersOfAdminSecrets', 'ListRedshiftServerlessOfAdminSecrets'],
  mongo: ['DescribeDocumentDbClustersOfMasterSecrets'],
};

describe.each(BUNDLED_FAMILIES)('%s engines and master secrets', (family, single, alternating) => {
  const template = (engine: RotationEngine, masterSecret?: secretsmanager.ISecret) => SecretTemplate.database({
    engine: family, host: 'db.internal', username: 'app', rotationEngine: engine, masterSecret,
  });

  test('alternating users rotate a secret whose template names the master; the function may read it', () => {
    const stack = testStack();
    const key = secretKey(stack);
    const master = secret(stack, 'Master', key);
    const s = new Secret(stack, 'Secret', { template: template(alternating, master), encryptionKey: key });
    const rotation = s.addRotation();
    expect(rotation.rotationFunction.engine).toBe(alternating);
    const statements = onlyResource(Template.fromStack(stack), 'AWS::IAM::ManagedPolicy').resource.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Sid: 'ReadMasterSecrets',
      Resource: { Ref: stack.getLogicalId(master.node.defaultChild as secretsmanager.CfnSecret) },
    }));
    for (const sid of MASTER_RESOLUTION_SIDS[family]) {
      expect(statements).toContainEqual(expect.objectContaining({ Sid: sid }));
    }
    const others = Object.entries(MASTER_RESOLUTION_SIDS).filter(([f]) => f !== family).flatMap(([, sids]) => sids)
      .filter((sid) => !MASTER_RESOLUTION_SIDS[family].includes(sid));
    expect(statements.filter((st: any) => others.includes(st.Sid))).toEqual([]);
  });

  test('alternating users need a master secret, in the template and in SecretRotation', () => {
    expect(() => template(alternating)).toThrow(`masterSecret is required for the alternating-users rotation engine '${alternating.id}'`);
    const stack = testStack();
    expect(() => new SecretRotation(stack, 'Rotation', { secret: secret(stack, 'S', secretKey(stack)), engine: alternating }))
      .toThrow(`masterSecret is required for the alternating-users engine '${alternating.id}'`);
  });

  test('single user refuses a master secret and names the family\'s alternating-users engine', () => {
    const stack = testStack();
    const key = secretKey(stack);
    const name = `RotationEngine.${Object.entries(RotationEngine).find(([, e]) => e === alternating)![0]}`;
    expect(() => template(single, secret(stack, 'M1', key))).toThrow(`use an alternating-users engine such as ${name}`);
    expect(() => new SecretRotation(stack, 'Rotation', { secret: secret(stack, 'S', key), engine: single, masterSecret: secret(stack, 'M2', key) }))
      .toThrow(`masterSecret is not allowed for the single-user engine '${single.id}' (the user changes its own password); use an `
        + `alternating-users engine such as ${name} to rotate with a master secret`);
  });
});

/** A custom engine with inline code. */
function custom(props: { secretKind?: SecretTemplateKind; secretEngines?: string[] } = {}): RotationEngine {
  return RotationEngine.custom({ id: 'my-rotator', code: lambda.Code.fromInline('exports.handler = async () => {}'), ...props });
}

const DATABASE = { host: 'db.internal', username: 'app' };
const OAUTH = { clientId: 'app', tokenEndpoint: 'https://idp.example.com/oauth2/token' };
/** An OAuth template of each kind, with what a message suggests for it: the bundled OAuth engine and its factory. */
const OAUTH_TEMPLATES: Array<[string, () => SecretTemplate, string]> = [
  ['an OAuth client', () => SecretTemplate.oauthClient({ ...OAUTH, clientSecret: SecretValue.unsafePlainText('s') }),
    'use RotationEngine.OAUTH_CLIENT_SECRET or RotationEngine.oauthClientSecret({ adapter, overlap })'],
  ['an OAuth refresh token', () => SecretTemplate.oauthRefreshToken({ ...OAUTH, refreshToken: SecretValue.unsafePlainText('t') }),
    'use RotationEngine.OAUTH_REFRESH_TOKEN or RotationEngine.oauthRefreshToken({ probeUrl })'],
];
const UNBUNDLED = OAUTH_TEMPLATES;

/** The message of what `make` throws. */
function thrown(make: () => unknown): string {
  try {
    make();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

/** A template of every engine value with bundled engines, and the statics a message suggests for it. */
const BUNDLED: Array<[string, string[]]> = [
  ['postgres', ['POSTGRES_SINGLE_USER', 'POSTGRES_MULTI_USER']],
  ['aurora-postgresql', ['POSTGRES_SINGLE_USER', 'POSTGRES_MULTI_USER']],
  ['mysql', ['MYSQL_SINGLE_USER', 'MYSQL_MULTI_USER']],
  ['aurora-mysql', ['MYSQL_SINGLE_USER', 'MYSQL_MULTI_USER']],
  ['mariadb', ['MARIADB_SINGLE_USER', 'MARIADB_MULTI_USER']],
  ['redshift', ['REDSHIFT_SINGLE_USER', 'REDSHIFT_MULTI_USER']],
  ['mongo', ['DOCUMENTDB_SINGLE_USER', 'DOCUMENTDB_MULTI_USER']],
  ['docdb', ['DOCUMENTDB_SINGLE_USER', 'DOCUMENTDB_MULTI_USER']],
];

describe('SecretRotation refuses an engine that does not rotate the secret\'s template', () => {
  test.each(BUNDLED)('an engine of another family on %s: suggests that engine value\'s bundled engines, and only them', (engine, statics) => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: SecretTemplate.database({ ...DATABASE, engine }) });
    const wrong = engine.includes('postgres') ? RotationEngine.MARIADB_SINGLE_USER : RotationEngine.POSTGRES_SINGLE_USER;
    const message = thrown(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: wrong }));
    expect(message).toMatch(new RegExp(`^SecretRotation: engine '${wrong.id}' rotates database secrets with engine .*, but the `
      + `secret's template has engine '${engine}'; use ${statics.map((name) => `RotationEngine\\.${name}`).join(' or ')}$`));
    const rotated = statics.map((name) => (RotationEngine as any)[name].secretEngines);
    expect(rotated).toEqual([expect.arrayContaining([engine]), expect.arrayContaining([engine])]);
  });

  test.each(OAUTH_TEMPLATES)('PostgreSQL single user on %s: suggests the bundled OAuth engine of its kind, no PostgreSQL engine', (_name, template, hint) => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: template() });
    const message = thrown(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: RotationEngine.POSTGRES_SINGLE_USER }));
    expect(message).toMatch(new RegExp('^SecretRotation: engine \'postgres-single-user\' rotates database secrets with engine \'postgres\' or '
      + '\'aurora-postgresql\', but the secret\'s template is an OAuth .* secret; '));
    expect(message.endsWith(hint)).toBe(true);
    expect(message).not.toMatch(/RotationEngine\.POSTGRES/);
  });

  test('every database engine value a template accepts has bundled engines to suggest', () => {
    for (const value of Object.values(SECRET_ENGINES).flat()) {
      expect(RotationEngine._suggest(SecretTemplateKind.DATABASE, value)).toMatch(/^use RotationEngine\.[A-Z_]+ or RotationEngine\.[A-Z_]+$/);
    }
  });

  test('a database engine value without a bundled engine: the custom engine to declare lists the value', () => {
    expect(RotationEngine._suggest(SecretTemplateKind.DATABASE, 'oracle-ee'))
      .toBe("there is no bundled rotation engine for oracle-ee secrets yet; use RotationEngine.custom({ id, code, secretEngines: ['oracle-ee'] }) with your own handler");
  });

  test('an alternating-users engine on an OAuth client template: the bundled client-secret engines are suggested', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: UNBUNDLED[0][1]() });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: RotationEngine.POSTGRES_MULTI_USER, masterSecret: secret(stack, 'M', secretKey(stack)) }))
      .toThrow('use RotationEngine.OAUTH_CLIENT_SECRET or RotationEngine.oauthClientSecret({ adapter, overlap })');
  });

  test('a custom engine for another database on a PostgreSQL template: the bundled PostgreSQL engines are suggested', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: SecretTemplate.database({ ...DATABASE, engine: 'postgres' }) });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: custom({ secretEngines: ['mysql'] }) }))
      .toThrow(/^SecretRotation: engine 'my-rotator' rotates database secrets with engine 'mysql', but the secret's template has engine 'postgres'; use RotationEngine.POSTGRES_SINGLE_USER or RotationEngine.POSTGRES_MULTI_USER$/);
  });

  test('a custom OAuth engine on a database template is refused', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: SecretTemplate.database({ ...DATABASE, engine: 'postgres' }) });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: custom({ secretKind: SecretTemplateKind.OAUTH_CLIENT }) }))
      .toThrow(/engine 'my-rotator' rotates OAuth client secrets, but the secret's template is a database secret with engine 'postgres'/);
  });

  test.each<[string, SecretTemplateKind | undefined, string[] | undefined, () => SecretTemplate]>([
    ['its kind', SecretTemplateKind.OAUTH_CLIENT, undefined, UNBUNDLED[0][1]],
    ['its engine values (a family with bundled engines too)', undefined, ['mongo', 'docdb'],
      () => SecretTemplate.database({ ...DATABASE, engine: 'docdb' })],
    ['nothing (not checked)', undefined, undefined, UNBUNDLED[0][1]],
  ])('a custom engine that declares %s rotates the template', (_name, secretKind, secretEngines, template) => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: template() });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: custom({ secretKind, secretEngines }) })).not.toThrow();
  });

  test('Secret.addRotation refuses a bundled engine for an OAuth template', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: UNBUNDLED[1][1]() });
    expect(() => s.addRotation({ engine: RotationEngine.POSTGRES_SINGLE_USER }))
      .toThrow(/engine 'postgres-single-user' rotates database secrets .*, but the secret's template is an OAuth refresh token secret; use RotationEngine.OAUTH_REFRESH_TOKEN or /);
  });

  test('without an engine, the message suggests what fits the template', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: UNBUNDLED[0][1]() });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s }))
      .toThrow('engine is required when rotationFunction is not given (use RotationEngine.OAUTH_CLIENT_SECRET or RotationEngine.oauthClientSecret({ adapter, overlap }))');
  });

  test.each(BUNDLED)('without an engine on %s, the message suggests its bundled engines', (engine, statics) => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: SecretTemplate.database({ ...DATABASE, engine }) });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s }))
      .toThrow(`engine is required when rotationFunction is not given (use ${statics.map((name) => `RotationEngine.${name}`).join(' or ')})`);
  });
});

describe('one rotation schedule per secret', () => {
  test('a schedule from aws-cdk-lib\'s addRotationSchedule is refused, with how to replace it in place', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    s.addRotationSchedule('Rotation', { hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser() });
    expect(() => new SecretRotation(stack, 'NewRotation', { secret: s, engine: RotationEngine.POSTGRES_SINGLE_USER }))
      .toThrow(/^SecretRotation: secret Test\/Secret already has a rotation schedule, aws-cdk-lib's RotationSchedule Test\/Secret\/Rotation \(addRotationSchedule\); a secret has one rotation schedule .*; to replace it in place, remove it and create the SecretRotation with the secret as scope and its id 'Rotation'/);
  });

  test('addRotationSchedule after a SecretRotation fails the synthesis', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: RotationEngine.POSTGRES_SINGLE_USER });
    s.addRotationSchedule('HostedRotation', { hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser() });
    expect(() => Template.fromStack(stack))
      .toThrow(/\[Test\/Rotation\] SecretRotation: secret Test\/Secret already has a rotation schedule, aws-cdk-lib's RotationSchedule Test\/Secret\/HostedRotation \(addRotationSchedule\)/);
  });

  test('addRotationSchedule with the id of a SecretRotation under the secret: the construct id is taken', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(s, 'Rotation', { secret: s, engine: RotationEngine.POSTGRES_SINGLE_USER });
    expect(() => s.addRotationSchedule('Rotation', { hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser() }))
      .toThrow(/There is already a Construct with name 'Rotation'/);
  });

  test('a second SecretRotation of the same secret is refused', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: RotationEngine.POSTGRES_SINGLE_USER });
    expect(() => new SecretRotation(s, 'Again', { secret: s, rotationFunction: RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER) }))
      .toThrow(/^SecretRotation: secret Test\/Secret already has a rotation schedule, the SecretRotation Test\/Rotation;/);
  });

  test('a schedule of the secret in another stack is found', () => {
    const app = new App();
    const secrets = new Stack(app, 'Secrets');
    const s = secret(secrets, 'Secret', secretKey(secrets));
    s.addRotationSchedule('Rotation', { hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser() });
    expect(() => new SecretRotation(new Stack(app, 'Other'), 'Rotation', { secret: s, engine: RotationEngine.POSTGRES_SINGLE_USER }))
      .toThrow(/secret Secrets\/Secret already has a rotation schedule/);
  });
});

describe('1 vs 50 secrets on one shared function', () => {
  function build(count: number, engine: RotationEngine): Template {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const key = secretKey(stack);
    const master = engine.multiUser ? secret(stack, 'Master', key) : undefined;
    for (let i = 0; i < count; i++) {
      new SecretRotation(stack, `Rotation${i}`, {
        secret: secret(stack, `Secret${i}`, key),
        engine,
        masterSecret: master,
        rotationFunctionOptions: { vpc },
      });
    }
    return Template.fromStack(stack);
  }

  function countByType(template: Template): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of Object.values<any>(template.toJSON().Resources)) {
      counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    }
    return counts;
  }

  test.each([['single user', SINGLE], ['alternating users', MULTI]])('%s: 49 more schedules and secrets, nothing else', (_name, engine) => {
    const one = build(1, engine);
    const fifty = build(50, engine);
    const oneCounts = countByType(one);
    const fiftyCounts = countByType(fifty);

    const difference: Record<string, number> = {};
    for (const type of new Set([...Object.keys(oneCounts), ...Object.keys(fiftyCounts)])) {
      const d = (fiftyCounts[type] ?? 0) - (oneCounts[type] ?? 0);
      if (d !== 0) difference[type] = d;
    }
    expect(difference).toEqual({ 'AWS::SecretsManager::RotationSchedule': 49, 'AWS::SecretsManager::Secret': 49 });
    expect(fiftyCounts['AWS::Lambda::Function']).toBe(1);
    expect(fiftyCounts['AWS::Lambda::Permission']).toBe(1);
    expect(fiftyCounts['AWS::IAM::ManagedPolicy']).toBe(1);
    expect(fiftyCounts['AWS::IAM::Policy']).toBeUndefined();

    // every resource other than the added secrets and schedules is byte-for-byte the same, policies included
    const shared = (t: Template) => Object.fromEntries(Object.entries<any>(t.toJSON().Resources)
      .filter(([, r]) => r.Type !== 'AWS::SecretsManager::RotationSchedule' && r.Type !== 'AWS::SecretsManager::Secret'));
    expect(JSON.stringify(shared(fifty))).toBe(JSON.stringify(shared(one)));
    const policyDocument = (t: Template) => JSON.stringify(onlyResource(t, 'AWS::IAM::ManagedPolicy').resource.Properties.PolicyDocument);
    expect(policyDocument(fifty)).toBe(policyDocument(one));
    const keyPolicy = (t: Template) => JSON.stringify(Object.values<any>(t.findResources('AWS::KMS::Key')).map((k) => k.Properties.KeyPolicy));
    expect(keyPolicy(fifty)).toBe(keyPolicy(one));

    // and the 50 schedules all point at the one function
    const arns = Object.values<any>(fifty.findResources('AWS::SecretsManager::RotationSchedule')).map((s) => JSON.stringify(s.Properties.RotationLambdaARN));
    expect(new Set(arns).size).toBe(1);
  });
});

describe('SecretRotation with the bundled OAuth engines', () => {
  let code: jest.SpyInstance;
  beforeEach(() => {
    code = standInOAuthCode();
  });
  afterEach(() => code.mockRestore());

  const REFRESH = RotationEngine.OAUTH_REFRESH_TOKEN;
  const CLIENT = RotationEngine.OAUTH_CLIENT_SECRET;
  const hourly = () => RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(1) });

  function clientSecret(stack: Stack, withAdmin = true, props: object = {}): Secret {
    const admin = withAdmin ? secret(stack, 'Admin', secretKey(stack)) : undefined;
    return new Secret(stack, 'Client', { template: clientTemplate(admin, props) });
  }

  test('the refresh-token engine rotates a refresh-token template', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Refresh', { template: refreshTemplate() });
    expect(new SecretRotation(stack, 'Rotation', { secret: s, engine: REFRESH }).rotationFunction.engine).toBe(REFRESH);
  });

  test.each<[string, () => SecretTemplate, RotationEngine, RegExp]>([
    ['the refresh-token engine on a client template', () => clientTemplate(undefined), RotationEngine.OAUTH_REFRESH_TOKEN,
      /^SecretRotation: engine 'oauth-refresh-token' rotates OAuth refresh token secrets, but the secret's template is an OAuth client secret; use RotationEngine.OAUTH_CLIENT_SECRET or RotationEngine.oauthClientSecret\(\{ adapter, overlap \}\)$/],
    ['the client-secret engine on a refresh-token template', () => refreshTemplate(), RotationEngine.OAUTH_CLIENT_SECRET,
      /^SecretRotation: engine 'oauth-client-secret' rotates OAuth client secrets, but the secret's template is an OAuth refresh token secret; use RotationEngine.OAUTH_REFRESH_TOKEN or RotationEngine.oauthRefreshToken\(\{ probeUrl \}\)$/],
    ['the refresh-token engine on a database template', () => SecretTemplate.database({ ...DATABASE, engine: 'mysql' }), RotationEngine.OAUTH_REFRESH_TOKEN,
      /engine 'oauth-refresh-token' rotates OAuth refresh token secrets, but the secret's template is a database secret with engine 'mysql'; use RotationEngine.MYSQL_SINGLE_USER or RotationEngine.MYSQL_MULTI_USER$/],
  ])('refuses %s', (_name, template, engine, message) => {
    const stack = testStack();
    const s = new Secret(stack, 'Secret', { template: template() });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s, engine })).toThrow(message);
  });

  test('the client-secret engine needs the template\'s adminSecret', () => {
    const stack = testStack();
    const s = clientSecret(stack, false);
    expect(() => s.addRotation({ engine: CLIENT })).toThrow(/^SecretRotation: the secret's template has no adminSecret, which engine 'oauth-client-secret' requires: .*give SecretTemplate.oauthClient\(\{ adminSecret \}\)$/);
  });

  test('the client-secret engine on a secret without template needs adminSecret', () => {
    const stack = testStack();
    expect(() => new SecretRotation(stack, 'Rotation', { secret: secret(stack, 'S', secretKey(stack)), engine: CLIENT }))
      .toThrow(/^SecretRotation: adminSecret is required for engine 'oauth-client-secret': the secret holding the identity provider's admin credential/);
  });

  test('adminSecret given for a secret without template is read by the function', () => {
    const stack = testStack();
    const key = secretKey(stack);
    const admin = secret(stack, 'Admin', key);
    new SecretRotation(stack, 'Rotation', { secret: secret(stack, 'S', key), engine: CLIENT, adminSecret: admin });
    expect(policyStatements(Template.fromStack(stack)).ReadMasterSecrets).toEqual({
      Sid: 'ReadMasterSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: { Ref: stack.getLogicalId(admin.node.defaultChild as secretsmanager.CfnSecret) },
    });
  });

  test('an adminSecret other than the template\'s is refused', () => {
    const stack = testStack();
    const s = clientSecret(stack);
    const other = secret(stack, 'Other', secretKey(stack, 'OtherKey'));
    expect(() => s.addRotation({ engine: CLIENT, adminSecret: other }))
      .toThrow(/^Secret.addRotation: adminSecret differs from the template's adminSecret \(its adminsecretarn\)/);
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: CLIENT, adminSecret: other }))
      .toThrow(/^SecretRotation: adminSecret differs from the template's adminSecret/);
  });

  test('adminSecret is refused for an engine that uses none', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Refresh', { template: refreshTemplate() });
    expect(() => new SecretRotation(stack, 'Rotation', { secret: s, engine: REFRESH, adminSecret: secret(stack, 'A', secretKey(stack)) }))
      .toThrow(/^SecretRotation: adminSecret is not allowed for engine 'oauth-refresh-token', which uses no admin credential/);
  });

  test('the client-secret engine refuses a private_key_jwt client: there is no client secret to rotate', () => {
    const stack = testStack();
    const s = clientSecret(stack, true, { clientSecret: undefined, privateKey: SecretValue.secretsManager('idp/key') });
    expect(() => s.addRotation({ engine: CLIENT }))
      .toThrow(/engine 'oauth-client-secret' rotates client secrets, but the secret's template authenticates with private_key_jwt and holds no client secret/);
  });

  test('a template with a loopback http endpoint needs an engine that allows loopback http', () => {
    const stack = testStack();
    const s = new Secret(stack, 'Refresh', { template: refreshTemplate({ tokenEndpoint: 'http://127.0.0.1:4000/token', allowLoopbackHttp: true }) });
    expect(() => s.addRotation({ engine: REFRESH }))
      .toThrow(/the secret's template has an http:\/\/ endpoint \(allowLoopbackHttp\), but engine 'oauth-refresh-token' does not allow loopback http/);
    const stack2 = testStack();
    const s2 = new Secret(stack2, 'Refresh', { template: refreshTemplate({ tokenEndpoint: 'http://127.0.0.1:4000/token', allowLoopbackHttp: true }) });
    expect(() => s2.addRotation({ engine: RotationEngine.oauthRefreshToken({ allowLoopbackHttp: true }) })).not.toThrow();
  });

  test.each<[string, RotationSchedule]>([
    ['a rate schedule in hours minus its default one-hour window', RotationSchedule.rate(Duration.hours(5))],
    ['a rate schedule in days minus its window', RotationSchedule.rate(Duration.days(1), { window: Duration.hours(2) })],
    ['a cron schedule\'s gap minus its window', RotationSchedule.cron({ hour: '0,12' }, { window: Duration.hours(3) })],
  ])('an overlap shorter than %s is accepted', (_name, schedule) => {
    const stack = testStack();
    expect(() => clientSecret(stack).addRotation({ engine: hourly(), schedule })).not.toThrow();
  });

  test('an overlap as long as the rate period minus the window is refused, naming period, window and the least time', () => {
    const stack = testStack();
    const engine = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(22) });
    expect(() => clientSecret(stack).addRotation({ engine, schedule: RotationSchedule.rate(Duration.days(1), { window: Duration.hours(2) }) }))
      .toThrow(/^SecretRotation: the overlap of engine 'oauth-client-secret' \(22 hours\) must be shorter than the least time between two rotations of rate\(1 day\), 22 hours: its period of 1 day minus its window of 2 hours, in which a rotation may start at any time. Otherwise the previous client secret is still valid when the next rotation adds another/);
  });

  test('a daily rate schedule with the default window (the whole UTC day) admits no overlap', () => {
    const stack = testStack();
    expect(() => clientSecret(stack).addRotation({ engine: hourly(), schedule: RotationSchedule.rate(Duration.days(1)) }))
      .toThrow(/least time between two rotations of rate\(1 day\), no time at all: its period of 1 day minus the default window of 1 day/);
  });

  test('the default 30-day schedule admits an overlap of up to 29 days', () => {
    const under = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(29 * 24 - 1) });
    expect(() => clientSecret(testStack()).addRotation({ engine: under })).not.toThrow();
    const equal = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.days(29) });
    expect(() => clientSecret(testStack()).addRotation({ engine: equal }))
      .toThrow(/least time between two rotations of rate\(30 days\), 29 days: its period of 30 days minus the default window of 1 day/);
  });

  test('a cron schedule: the gap between its hours minus the window, conservatively at most a day', () => {
    const stack = testStack();
    const fiveHours = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.hours(5) });
    expect(() => clientSecret(stack).addRotation({ engine: fiveHours, schedule: RotationSchedule.cron({ hour: '0,6,12,18' }, { window: Duration.hours(1) }) }))
      .toThrow(/least time between two rotations of cron\(0 0,6,12,18 \* \* \? \*\), 5 hours: the shortest gap between its hours that can be proven at synth, 6 hours \(cron schedules count the gaps within a day; use a rate schedule for a longer overlap\) minus its window of 1 hour/);
    const stack2 = testStack();
    const twoDays = RotationEngine.oauthClientSecret({ adapter: httpAdapter(), overlap: Duration.days(2) });
    expect(() => clientSecret(stack2).addRotation({ engine: twoDays, schedule: RotationSchedule.cron({ hour: '3', weekDay: 'SUN' }, { window: Duration.hours(2) }) }))
      .toThrow(/, 22 hours: the shortest gap between its hours that can be proven at synth, 1 day /);
  });

  test('a cron schedule without a window counts the longest window it admits', () => {
    const stack = testStack();
    expect(() => clientSecret(stack).addRotation({ engine: hourly(), schedule: RotationSchedule.cron({ hour: '0,12' }) }))
      .toThrow(/least time between two rotations of cron\(0 0,12 \* \* \? \*\), no time at all: .* minus the default window of 12 hours/);
  });

  test('overlap 0 fits any schedule', () => {
    const stack = testStack();
    expect(() => clientSecret(stack).addRotation({ engine: CLIENT, schedule: RotationSchedule.rate(Duration.hours(4)) })).not.toThrow();
  });
});

describe('SecretRotation: a master secret on the OAuth client-secret engine', () => {
  test('is refused, naming adminSecret', () => {
    const code = standInOAuthCode();
    try {
      const stack = testStack();
      const key = secretKey(stack);
      expect(() => new SecretRotation(stack, 'Rotation', {
        secret: secret(stack, 'S', key), engine: RotationEngine.OAUTH_CLIENT_SECRET, adminSecret: secret(stack, 'A', key), masterSecret: secret(stack, 'M', key),
      })).toThrow(/^SecretRotation: masterSecret is not allowed for engine 'oauth-client-secret'; the identity provider's admin credential is adminSecret/);
    } finally {
      code.mockRestore();
    }
  });
});
