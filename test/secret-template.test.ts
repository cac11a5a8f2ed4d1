import { App, SecretValue, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as docdb from 'aws-cdk-lib/aws-docdb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import {
  DatabaseSecretTemplateProps,
  DatabaseTls,
  OAuthClientAuthMethod,
  PasswordPolicy,
  RotationEngine,
  Secret,
  SecretTemplate,
  SecretTemplateKind,
} from '../src';
import { DEFAULT_EXCLUDE_CHARACTERS, OAUTH_AUTH_METHODS, TLS_MODES } from '../src/private/contract';

const SINGLE = RotationEngine.POSTGRES_SINGLE_USER;
const MULTI = RotationEngine.POSTGRES_MULTI_USER;

function stack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
}

/** The one secret's CloudFormation properties. */
function secretProperties(s: Stack): any {
  const secrets = Object.values(Template.fromStack(s).findResources('AWS::SecretsManager::Secret'));
  expect(secrets).toHaveLength(1);
  return (secrets[0] as any).Properties;
}

/** The CloudFormation properties of a Secret construct. */
function propertiesOf(secret: Secret): any {
  const s = Stack.of(secret);
  return Template.fromStack(s).toJSON().Resources[s.getLogicalId(secret.node.defaultChild as any)].Properties;
}

/** The literal secret string template (fails when it holds tokens). */
function templateJson(s: Stack, template: SecretTemplate): any {
  new Secret(s, 'Secret', { template });
  const generator = secretProperties(s).GenerateSecretString;
  expect(typeof generator.SecretStringTemplate).toBe('string');
  return JSON.parse(generator.SecretStringTemplate);
}

describe('SecretTemplate.database', () => {
  test.each([
    ['postgres', { engine: 'postgres', port: 5432, dbname: 'postgres' }, DEFAULT_EXCLUDE_CHARACTERS.postgres],
    ['aurora-postgresql', { engine: 'aurora-postgresql', port: 5432, dbname: 'postgres' }, DEFAULT_EXCLUDE_CHARACTERS.postgres],
    ['mysql', { engine: 'mysql', port: 3306 }, DEFAULT_EXCLUDE_CHARACTERS.common],
    ['aurora-mysql', { engine: 'aurora-mysql', port: 3306 }, DEFAULT_EXCLUDE_CHARACTERS.common],
    ['mariadb', { engine: 'mariadb', port: 3306 }, DEFAULT_EXCLUDE_CHARACTERS.common],
    ['redshift', { engine: 'redshift', port: 5439, dbname: 'dev' }, DEFAULT_EXCLUDE_CHARACTERS.redshift],
    ['mongo', { engine: 'mongo', port: 27017, dbname: 'admin' }, DEFAULT_EXCLUDE_CHARACTERS.common],
    ['docdb', { engine: 'docdb', port: 27017, dbname: 'admin' }, DEFAULT_EXCLUDE_CHARACTERS.common],
  ])('engine %s: default port and database, generated password excludes the engine\'s characters', (engine, expected, exclude) => {
    const s = stack();
    const template = SecretTemplate.database({ engine, host: 'db.internal', username: 'app' });
    expect(templateJson(s, template)).toEqual({ ...expected, host: 'db.internal', username: 'app' });
    expect(secretProperties(s).GenerateSecretString).toMatchObject({
      GenerateStringKey: 'password',
      ExcludeCharacters: exclude,
      PasswordLength: 32,
      RequireEachIncludedType: true,
    });
    expect(template.kind).toBe(SecretTemplateKind.DATABASE);
    expect(template.fieldNames).toEqual(['engine', 'host', 'port', 'username', ...('dbname' in expected ? ['dbname'] : []), 'password']);
  });

  test('a rotation engine supplies the engine value and its password policy', () => {
    const s = stack();
    const template = SecretTemplate.database({ rotationEngine: SINGLE, host: '10.0.0.5', port: 6432, username: 'app', dbname: 'orders' });
    expect(templateJson(s, template)).toEqual({ engine: 'postgres', host: '10.0.0.5', port: 6432, username: 'app', dbname: 'orders' });
    expect(template.passwordPolicy).toBe(SINGLE.defaultPasswordPolicy);
    expect(template.rotationEngine).toBe(SINGLE);
    expect(template.engine).toBe('postgres');
  });

  test('masterarn is the master secret\'s ARN; tls is written when given', () => {
    const s = stack();
    const master = new Secret(s, 'Master');
    const template = SecretTemplate.database({
      rotationEngine: MULTI, host: 'db.internal', username: 'app', masterSecret: master, tls: DatabaseTls.VERIFY_FULL,
    });
    new Secret(s, 'App', { template });
    const app = Template.fromStack(s).toJSON().Resources[s.getLogicalId((s.node.findChild('App').node.defaultChild) as any)];
    expect(app.Properties.GenerateSecretString.SecretStringTemplate).toEqual({
      'Fn::Join': ['', [
        '{"engine":"postgres","host":"db.internal","port":5432,"username":"app","dbname":"postgres","masterarn":"',
        { Ref: s.getLogicalId(master.node.defaultChild as any) },
        '","tls":"verify-full"}',
      ]],
    });
    expect(template.masterSecret).toBe(master);
  });

  test('a given password policy is used, with the engine\'s exclusions required', () => {
    const s = stack();
    const policy = SINGLE.passwordPolicy({ length: 48, excludeCharacters: '%' });
    new Secret(s, 'Secret', { template: SecretTemplate.database({ engine: 'postgres', host: 'h', username: 'u', passwordPolicy: policy }) });
    expect(secretProperties(s).GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludeCharacters: `${DEFAULT_EXCLUDE_CHARACTERS.postgres}%` });
  });

  test('the enums mirror the handler contract', () => {
    expect(Object.values(DatabaseTls).sort()).toEqual(Object.values(TLS_MODES).sort());
    expect(Object.values(OAuthClientAuthMethod).sort()).toEqual(Object.values(OAUTH_AUTH_METHODS).sort());
  });
});

describe('SecretTemplate from database constructs', () => {
  function vpc(s: Stack): ec2.IVpc {
    return new ec2.Vpc(s, 'Vpc', { maxAzs: 2 });
  }
  const id = (s: Stack, c: any) => s.getLogicalId(c.node.defaultChild);

  test('fromDatabaseInstance: host and port of the instance, engine of the instance', () => {
    const s = stack();
    const instance = new rds.DatabaseInstance(s, 'Db', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      vpc: vpc(s),
    });
    const template = SecretTemplate.fromDatabaseInstance(instance, { username: 'app', rotationEngine: SINGLE });
    const secret = new Secret(s, 'Secret', { template });
    expect(propertiesOf(secret).GenerateSecretString.SecretStringTemplate).toEqual({
      'Fn::Join': ['', [
        '{"engine":"postgres","host":"',
        { 'Fn::GetAtt': [id(s, instance), 'Endpoint.Address'] },
        '","port":',
        { 'Fn::GetAtt': [id(s, instance), 'Endpoint.Port'] },
        ',"username":"app","dbname":"postgres"}',
      ]],
    });
  });

  test('fromDatabaseInstance of MySQL: engine mysql, no dbname', () => {
    const s = stack();
    const instance = new rds.DatabaseInstance(s, 'Db', {
      engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_0 }),
      vpc: vpc(s),
    });
    const template = SecretTemplate.fromDatabaseInstance(instance, { username: 'app' });
    expect(template.engine).toBe('mysql');
    expect(template.fieldNames).toEqual(['engine', 'host', 'port', 'username', 'password']);
  });

  test.each<[string, () => rds.IInstanceEngine, RotationEngine, string]>([
    ['MySQL', () => rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_0 }), RotationEngine.MYSQL_SINGLE_USER, 'mysql'],
    ['MariaDB', () => rds.DatabaseInstanceEngine.mariaDb({ version: rds.MariaDbEngineVersion.VER_10_11 }), RotationEngine.MARIADB_SINGLE_USER, 'mariadb'],
  ])('fromDatabaseInstance of %s: the engine value of the instance, host and port from the instance, no dbname', (_name, engine, rotationEngine, value) => {
    const s = stack();
    const instance = new rds.DatabaseInstance(s, 'Db', { engine: engine(), vpc: vpc(s) });
    expect(instance.engine?.engineType).toBe(value);
    // from the instance alone, and agreeing with the rotation engine
    expect(SecretTemplate.fromDatabaseInstance(instance, { username: 'app' }).engine).toBe(value);
    const template = SecretTemplate.fromDatabaseInstance(instance, { username: 'app', rotationEngine });
    expect(template.engine).toBe(value);
    expect(template.passwordPolicy!._toContract()).toEqual(rotationEngine.defaultPasswordPolicy._toContract());
    const secret = new Secret(s, 'Secret', { template });
    expect(propertiesOf(secret).GenerateSecretString.SecretStringTemplate).toEqual({
      'Fn::Join': ['', [
        `{"engine":"${value}","host":"`,
        { 'Fn::GetAtt': [id(s, instance), 'Endpoint.Address'] },
        '","port":',
        { 'Fn::GetAtt': [id(s, instance), 'Endpoint.Port'] },
        ',"username":"app"}',
      ]],
    });
  });

  test.each<[string, () => rds.IClusterEngine, RotationEngine, string]>([
    ['Aurora MySQL', () => rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_08_0 }), RotationEngine.MYSQL_MULTI_USER, 'aurora-mysql'],
    ['Aurora PostgreSQL', () => rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }), MULTI, 'aurora-postgresql'],
  ])('fromDatabaseCluster of %s with alternating users: the engine value of the cluster and the master', (_name, engine, rotationEngine, value) => {
    const s = stack();
    const cluster = new rds.DatabaseCluster(s, 'Cluster', { engine: engine(), writer: rds.ClusterInstance.provisioned('Writer'), vpc: vpc(s) });
    expect(cluster.engine?.engineType).toBe(value);
    const master = new Secret(s, 'Master');
    expect(SecretTemplate.fromDatabaseCluster(cluster, { username: 'app' }).engine).toBe(value);
    const template = SecretTemplate.fromDatabaseCluster(cluster, { username: 'app', rotationEngine, masterSecret: master });
    expect(template.engine).toBe(value);
    const secret = new Secret(s, 'Secret', { template });
    const join = propertiesOf(secret).GenerateSecretString.SecretStringTemplate['Fn::Join'][1];
    expect(join[0]).toBe(`{"engine":"${value}","host":"`);
    expect(join).toContainEqual({ Ref: id(s, master) });
    expect(secret.addRotation().rotationFunction.engine).toBe(rotationEngine);
  });

  test.each<[string, RotationEngine, string, number]>([
    ['MySQL', RotationEngine.MYSQL_MULTI_USER, 'mysql', 26],
    ['MariaDB', RotationEngine.MARIADB_MULTI_USER, 'mariadb', 74],
    ['PostgreSQL', MULTI, 'postgres', 57],
  ])('%s alternating users: the longest username whose clone fits the limit is accepted, as is a clone at the limit', (_name, rotationEngine, value, longest) => {
    const s = stack();
    const master = new Secret(s, 'Master');
    const options = { host: 'db.internal', rotationEngine, masterSecret: master };
    expect(SecretTemplate.database({ ...options, username: 'u'.repeat(longest) }).engine).toBe(value);
    const limit = longest + '_clone'.length;
    expect(() => SecretTemplate.database({ ...options, username: `${'u'.repeat(longest)}_clone` })).not.toThrow();
    expect(() => SecretTemplate.database({ ...options, username: 'u'.repeat(limit) })).toThrow(`limit of ${limit}`);
  });

  test.each([
    [RotationEngine.MYSQL_SINGLE_USER, 'mysql', 32],
    [RotationEngine.MARIADB_SINGLE_USER, 'mariadb', 80],
  ])('%s: the engine value from the rotation engine, and a username of the full limit', (rotationEngine, value, limit) => {
    const template = SecretTemplate.database({ host: 'db.internal', username: 'u'.repeat(limit), rotationEngine });
    expect(template.engine).toBe(value);
    expect(templateJson(stack(), template)).toEqual({ engine: value, host: 'db.internal', port: 3306, username: 'u'.repeat(limit) });
  });

  test('fromDatabaseInstance of an imported instance: literal port; the engine must be given', () => {
    const s = stack();
    const imported = rds.DatabaseInstance.fromDatabaseInstanceAttributes(s, 'Db', {
      instanceIdentifier: 'db', instanceEndpointAddress: 'db.abc.us-east-1.rds.amazonaws.com', port: 5433, securityGroups: [],
    });
    expect(() => SecretTemplate.fromDatabaseInstance(imported, { username: 'app' }))
      .toThrow(/SecretTemplate.fromDatabaseInstance: engine is required \(it cannot be derived\)/);
    const template = SecretTemplate.fromDatabaseInstance(imported, { username: 'app', engine: 'postgres' });
    expect(templateJson(s, template)).toEqual({
      engine: 'postgres', host: 'db.abc.us-east-1.rds.amazonaws.com', port: 5433, username: 'app', dbname: 'postgres',
    });
  });

  test('fromDatabaseCluster: the writer (cluster) endpoint and the Aurora engine', () => {
    const s = stack();
    const cluster = new rds.DatabaseCluster(s, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
      writer: rds.ClusterInstance.provisioned('Writer'),
      vpc: vpc(s),
    });
    const master = new Secret(s, 'Master');
    const secret = new Secret(s, 'Secret', { template: SecretTemplate.fromDatabaseCluster(cluster, { username: 'app', rotationEngine: MULTI, masterSecret: master }) });
    const join = propertiesOf(secret).GenerateSecretString.SecretStringTemplate['Fn::Join'][1];
    expect(join.slice(0, 4)).toEqual([
      '{"engine":"aurora-postgresql","host":"',
      { 'Fn::GetAtt': [id(s, cluster), 'Endpoint.Address'] },
      '","port":',
      { 'Fn::GetAtt': [id(s, cluster), 'Endpoint.Port'] },
    ]);
  });

  test('fromDocDbCluster: engine mongo, database admin, cluster endpoint', () => {
    const s = stack();
    const cluster = new docdb.DatabaseCluster(s, 'DocDb', {
      masterUser: { username: 'admin' },
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.R5, ec2.InstanceSize.LARGE),
      vpc: vpc(s),
    });
    const template = SecretTemplate.fromDocDbCluster(cluster, { username: 'app' });
    const secret = new Secret(s, 'Secret', { template });
    expect(template.engine).toBe('mongo');
    const join = propertiesOf(secret).GenerateSecretString.SecretStringTemplate['Fn::Join'][1];
    expect(join).toEqual([
      '{"engine":"mongo","host":"',
      { 'Fn::GetAtt': [id(s, cluster), 'Endpoint'] },
      '","port":',
      { 'Fn::GetAtt': [id(s, cluster), 'Port'] },
      ',"username":"app","dbname":"admin"}',
    ]);
  });
});

describe('SecretTemplate OAuth', () => {
  test('oauthClient: the issued client secret is part of the value; a literal lands in the template', () => {
    const s = stack();
    const template = SecretTemplate.oauthClient({
      clientId: 'client-1',
      clientSecret: SecretValue.unsafePlainText('s3cr3t'),
      tokenEndpoint: 'https://idp.example.com/oauth2/token',
      scope: 'read write',
      audience: 'https://api.example.com',
    });
    new Secret(s, 'Secret', { template });
    const props = secretProperties(s);
    expect(props.GenerateSecretString).toBeUndefined();
    expect(JSON.parse(props.SecretString)).toEqual({
      client_id: 'client-1',
      token_endpoint: 'https://idp.example.com/oauth2/token',
      auth_method: 'client_secret_basic',
      scope: 'read write',
      audience: 'https://api.example.com',
      client_secret: 's3cr3t',
    });
    expect(template.kind).toBe(SecretTemplateKind.OAUTH_CLIENT);
    expect(template.passwordPolicy).toBeUndefined();
    expect(template.generateStringKey).toBeUndefined();
  });

  test('oauthClient with a Secrets Manager reference: the value is resolved by CloudFormation, not in the template', () => {
    const s = stack();
    new Secret(s, 'Secret', {
      template: SecretTemplate.oauthClient({
        clientId: 'client-1',
        clientSecret: SecretValue.secretsManager('idp/client', { jsonField: 'secret' }),
        issuer: 'https://login.example.com/realms/main',
        authMethod: OAuthClientAuthMethod.CLIENT_SECRET_POST,
      }),
    });
    const value = JSON.parse(secretProperties(s).SecretString);
    expect(value).toEqual({
      client_id: 'client-1',
      issuer: 'https://login.example.com/realms/main',
      auth_method: 'client_secret_post',
      client_secret: '{{resolve:secretsmanager:idp/client:SecretString:secret::}}',
    });
  });

  test('oauthRefreshToken: public client without secret; confidential client with one; admin secret ARN', () => {
    const s = stack();
    const admin = new Secret(s, 'Admin');
    const publicClient = SecretTemplate.oauthRefreshToken({
      clientId: 'cli', refreshToken: SecretValue.unsafePlainText('rt'), tokenEndpoint: 'https://idp.example.com/token',
    });
    new Secret(s, 'Public', { template: publicClient });
    const confidential = SecretTemplate.oauthRefreshToken({
      clientId: 'svc',
      clientSecret: SecretValue.unsafePlainText('cs'),
      refreshToken: SecretValue.unsafePlainText('rt2'),
      issuer: 'https://idp.example.com',
      adminSecret: admin,
    });
    new Secret(s, 'Confidential', { template: confidential });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: '{"client_id":"cli","token_endpoint":"https://idp.example.com/token","auth_method":"none","refresh_token":"rt"}',
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: {
        'Fn::Join': ['', [
          '{"client_id":"svc","issuer":"https://idp.example.com","auth_method":"client_secret_basic","adminsecretarn":"',
          { Ref: s.getLogicalId(admin.node.defaultChild as any) },
          '","client_secret":"cs","refresh_token":"rt2"}',
        ]],
      },
    });
    expect(publicClient.kind).toBe(SecretTemplateKind.OAUTH_REFRESH_TOKEN);
  });

  test('a token endpoint may contain tokens after a literal https:// prefix', () => {
    const s = stack();
    const domain = new Secret(s, 'Domain').secretName; // any token
    expect(() => SecretTemplate.oauthClient({
      clientId: 'c', clientSecret: SecretValue.unsafePlainText('x'), tokenEndpoint: `https://${domain}/oauth2/token`,
    })).not.toThrow();
  });
});

describe('SecretTemplate refuses bad input, naming the property', () => {
  const s = stack();
  const master = new Secret(s, 'Master');
  const base: DatabaseSecretTemplateProps = { engine: 'postgres', host: 'db.internal', username: 'app' };
  const db = (props: Partial<DatabaseSecretTemplateProps>) => () => SecretTemplate.database({ ...base, ...props } as DatabaseSecretTemplateProps);
  const secretValue = SecretValue.unsafePlainText('x');
  const oauth = (props: object) => () => SecretTemplate.oauthClient({
    clientId: 'c', clientSecret: secretValue, tokenEndpoint: 'https://idp.example.com/token', ...props,
  } as any);
  const refresh = (props: object) => () => SecretTemplate.oauthRefreshToken({
    clientId: 'c', refreshToken: secretValue, tokenEndpoint: 'https://idp.example.com/token', ...props,
  } as any);

  test.each<[string, () => unknown, RegExp]>([
    ['no engine', db({ engine: undefined }), /engine is required \(it cannot be derived\); give engine \(one of postgres, aurora-postgresql, mysql/],
    ['unknown engine', db({ engine: 'oracle' }), /engine must be one of postgres, .*, got 'oracle'/],
    ['engine not rotated by the rotation engine', db({ engine: 'mysql', rotationEngine: SINGLE }),
      /database: rotationEngine does not fit engine 'mysql': engine 'postgres-single-user' rotates database secrets with engine 'postgres' or 'aurora-postgresql'/],
    ['a Redshift template for the PostgreSQL engine: the Redshift engines suggested, no PostgreSQL engine', db({ engine: 'redshift', rotationEngine: MULTI, masterSecret: master }),
      /rotationEngine does not fit engine 'redshift': engine 'postgres-multi-user' rotates database secrets with engine 'postgres' or 'aurora-postgresql', but the secret's template has engine 'redshift'; use RotationEngine.REDSHIFT_SINGLE_USER or RotationEngine.REDSHIFT_MULTI_USER$/],
    ['a DocumentDB template for the MySQL engine: the DocumentDB engines suggested', db({ engine: 'docdb', rotationEngine: RotationEngine.MYSQL_SINGLE_USER }),
      /rotationEngine does not fit engine 'docdb': engine 'mysql-single-user' rotates .* has engine 'docdb'; use RotationEngine.DOCUMENTDB_SINGLE_USER or RotationEngine.DOCUMENTDB_MULTI_USER$/],
    ['an OAuth rotation engine', db({ rotationEngine: RotationEngine.custom({ id: 'oauth', code: lambda.Code.fromInline('x'), secretKind: SecretTemplateKind.OAUTH_CLIENT }) }),
      /database: rotationEngine does not fit a database template: engine 'oauth' rotates OAuth client secrets, but the secret's template is a database secret; use RotationEngine.POSTGRES_SINGLE_USER or RotationEngine.POSTGRES_MULTI_USER/],
    ['a custom single-user engine that declares no engine values, with master: a custom alternating-users engine suggested',
      db({ engine: 'redshift', rotationEngine: RotationEngine.custom({ id: 'rs', code: lambda.Code.fromInline('x') }), masterSecret: master }),
      /masterSecret is not allowed for the single-user rotation engine 'rs'; use an alternating-users engine \(RotationEngine.custom\(\{ ..., multiUser: true \}\)\)/],
    ['a custom single-user Redshift engine with master: the bundled Redshift alternating-users engine suggested',
      db({ engine: 'redshift', rotationEngine: RotationEngine.custom({ id: 'rs', code: lambda.Code.fromInline('x'), secretEngines: ['redshift'] }), masterSecret: master }),
      /masterSecret is not allowed for the single-user rotation engine 'rs'; use an alternating-users engine such as RotationEngine.REDSHIFT_MULTI_USER$/],
    ['a custom single-user MySQL engine with master: the bundled MySQL alternating-users engine suggested',
      db({ engine: 'mysql', rotationEngine: RotationEngine.custom({ id: 'my', code: lambda.Code.fromInline('x'), secretEngines: ['mysql'] }), masterSecret: master }),
      /masterSecret is not allowed for the single-user rotation engine 'my'; use an alternating-users engine such as RotationEngine.MYSQL_MULTI_USER$/],
    ['a MySQL template for the MariaDB engine: the MySQL engines suggested', db({ engine: 'aurora-mysql', rotationEngine: RotationEngine.MARIADB_SINGLE_USER }),
      /rotationEngine does not fit engine 'aurora-mysql': engine 'mariadb-single-user' rotates database secrets with engine 'mariadb', but the secret's template has engine 'aurora-mysql'; use RotationEngine.MYSQL_SINGLE_USER or RotationEngine.MYSQL_MULTI_USER$/],
    ['port 0', db({ port: 0 }), /port must be an integer from 1 to 65535, got 0/],
    ['port 65536', db({ port: 65536 }), /port must be an integer from 1 to 65535, got 65536/],
    ['port 5432.5', db({ port: 5432.5 }), /port must be an integer from 1 to 65535/],
    ['empty username', db({ username: '' }), /username must be a non-empty string/],
    ['blank username', db({ username: '   ' }), /username must not be blank/],
    ['PostgreSQL username of 64 bytes', db({ username: 'é'.repeat(32) }), /username must be 1 to 63 bytes for engine 'postgres', got 64 bytes/],
    ['MySQL username of 33 characters', db({ engine: 'mysql', username: 'u'.repeat(33) }), /username must be 1 to 32 characters for engine 'mysql', got 33/],
    ['Aurora MySQL username of 33 characters', db({ engine: 'aurora-mysql', username: 'ü'.repeat(33) }), /username must be 1 to 32 characters for engine 'aurora-mysql', got 33 characters/],
    ['MariaDB username of 81 characters', db({ engine: 'mariadb', username: 'u'.repeat(81) }), /username must be 1 to 80 characters for engine 'mariadb', got 81 characters/],
    ['MySQL alternating users: a username whose clone exceeds 32 characters',
      db({ engine: undefined, rotationEngine: RotationEngine.MYSQL_MULTI_USER, masterSecret: master, username: 'u'.repeat(27) }),
      /username must be 1 to 26 characters for the alternating-users rotation engine 'mysql-multi-user', got 27 characters: its clone 'u{27}_clone' must fit the limit of 32 characters for engine 'mysql'$/],
    ['MariaDB alternating users: a username whose clone exceeds 80 characters',
      db({ engine: undefined, rotationEngine: RotationEngine.MARIADB_MULTI_USER, masterSecret: master, username: 'u'.repeat(75) }),
      /username must be 1 to 74 characters for the alternating-users rotation engine 'mariadb-multi-user', got 75 characters: .* limit of 80 characters for engine 'mariadb'/],
    ['PostgreSQL alternating users: a username whose clone exceeds 63 bytes',
      db({ rotationEngine: MULTI, masterSecret: master, username: 'é'.repeat(29) }),
      /username must be 1 to 57 bytes for the alternating-users rotation engine 'postgres-multi-user', got 58 bytes/],
    ['username with a control character', db({ username: 'a\nb' }), /username must not contain control characters/],
    ['empty host', db({ host: '' }), /host must be a non-empty string/],
    ['host with a scheme', db({ host: 'postgres://db.internal' }), /host must be a host name or IP address .* without scheme, port, path or spaces/],
    ['host with a port', db({ host: 'db.internal:5432' }), /host must be a host name or IP address/],
    ['host with a space', db({ host: 'db internal' }), /host must be a host name or IP address/],
    ['host too long', db({ host: `${'a'.repeat(250)}.com` }), /host must be a host name or IP address of 1 to 253 characters/],
    ['empty dbname', db({ dbname: '' }), /dbname must be a non-empty string/],
    ['dbname too long', db({ dbname: 'd'.repeat(64) }), /dbname must be 1 to 63 bytes for engine 'postgres'/],
    ['alternating users without master', db({ engine: undefined, rotationEngine: MULTI }), /masterSecret is required for the alternating-users rotation engine 'postgres-multi-user'/],
    ['single user with master', db({ rotationEngine: SINGLE, masterSecret: master }), /masterSecret is not allowed for the single-user rotation engine/],
    ['policy without the engine\'s exclusions', db({ passwordPolicy: new PasswordPolicy() }), /passwordPolicy.excludeCharacters must include .* for postgres secrets .* missing ":"/],
    ['Redshift password over 64', db({ engine: 'redshift', passwordPolicy: new PasswordPolicy({ length: 65, excludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.redshift }) }), /passwordPolicy.length must be at most 64 for redshift secrets, got 65/],
    ['unknown tls', db({ tls: 'require' as DatabaseTls }), /tls must be DatabaseTls.VERIFY_FULL or DatabaseTls.DISABLED, got 'require'/],
    ['OAuth without endpoint', oauth({ tokenEndpoint: undefined }), /oauthClient: exactly one of tokenEndpoint and issuer is required \(an https:\/\/ URL\), got neither/],
    ['OAuth with both', oauth({ issuer: 'https://idp.example.com' }), /exactly one of tokenEndpoint and issuer is required .* got both/],
    ['OAuth http endpoint', oauth({ tokenEndpoint: 'http://idp.example.com/token' }), /tokenEndpoint must be an https:\/\/ URL \(TLS only\)/],
    ['OAuth relative endpoint', oauth({ tokenEndpoint: '/token' }), /tokenEndpoint must be an absolute https:\/\/ URL/],
    ['OAuth endpoint with credentials', oauth({ tokenEndpoint: 'https://u:p@idp.example.com/token' }), /tokenEndpoint must not contain credentials or a fragment/],
    ['OAuth http issuer', oauth({ tokenEndpoint: undefined, issuer: 'http://idp.example.com' }), /issuer must be an https:\/\/ URL/],
    ['OAuth token endpoint token without https prefix', oauth({ tokenEndpoint: `${master.secretName}/token` }), /tokenEndpoint must be an https:\/\/ URL; a token is accepted only after a literal 'https:\/\/' prefix/],
    ['OAuth empty client id', oauth({ clientId: '' }), /oauthClient: clientId must be a non-empty string/],
    ['OAuth client without secret', oauth({ clientSecret: undefined }), /oauthClient: clientSecret is required and must be a SecretValue/],
    ['OAuth client with auth method none', oauth({ authMethod: OAuthClientAuthMethod.NONE }), /oauthClient: authMethod must be client_secret_basic, client_secret_post or private_key_jwt; 'none' sends no client credential/],
    ['OAuth scope with two spaces', oauth({ scope: 'a  b' }), /scope must be scope tokens separated by single spaces/],
    ['OAuth scope with a quote', oauth({ scope: 'a"b' }), /scope must be scope tokens separated by single spaces/],
    ['OAuth empty audience', oauth({ audience: '' }), /audience must be a non-empty string/],
    ['refresh token missing', refresh({ refreshToken: undefined }), /oauthRefreshToken: refreshToken is required and must be a SecretValue/],
    ['refresh token: none with a secret', refresh({ clientSecret: secretValue, authMethod: OAuthClientAuthMethod.NONE }), /authMethod 'none' sends no client secret; leave out clientSecret/],
    ['refresh token: basic without a secret', refresh({ authMethod: OAuthClientAuthMethod.CLIENT_SECRET_BASIC }), /clientSecret is required with authMethod 'client_secret_basic'/],
  ])('%s', (_name, make, error) => {
    expect(make).toThrow(error);
  });

  test('database constructs: an unsupported engine needs engine; a mismatching engine is refused', () => {
    const t = stack();
    const vpc = new ec2.Vpc(t, 'Vpc', { maxAzs: 2 });
    const oracle = new rds.DatabaseInstance(t, 'Oracle', {
      engine: rds.DatabaseInstanceEngine.oracleSe2({ version: rds.OracleEngineVersion.VER_19_0_0_0_2020_04_R1 }),
      licenseModel: rds.LicenseModel.LICENSE_INCLUDED,
      vpc,
    });
    expect(() => SecretTemplate.fromDatabaseInstance(oracle, { username: 'app' }))
      .toThrow(/fromDatabaseInstance: engine is required \(the database's engine 'oracle-se2' is not one this library writes secrets for\)/);
    const cluster = new rds.DatabaseCluster(t, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
      writer: rds.ClusterInstance.provisioned('Writer'),
      vpc,
    });
    expect(() => SecretTemplate.fromDatabaseCluster(cluster, { username: 'app', engine: 'mysql' }))
      .toThrow(/fromDatabaseCluster: engine 'mysql' does not match the database's engine 'aurora-postgresql'/);
    const mysql = new rds.DatabaseCluster(t, 'Mysql', {
      engine: rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_07_1 }),
      writer: rds.ClusterInstance.provisioned('Writer'),
      vpc,
    });
    expect(() => SecretTemplate.fromDatabaseCluster(mysql, { username: 'app', rotationEngine: SINGLE }))
      .toThrow(/rotationEngine does not fit the database's engine 'aurora-mysql': engine 'postgres-single-user' rotates database secrets/);
  });
});

/** A PKCS #8 PEM block of the right shape (the bytes are not a key: only the shape is checked at synth). */
const PKCS8 = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

describe('OAuth templates: private_key_jwt', () => {
  const base = { clientId: 'svc', tokenEndpoint: 'https://idp.example.com/token' };

  test('oauthClient with a private key: auth_method private_key_jwt, private_key and key_id, no client_secret', () => {
    const s = stack();
    const template = SecretTemplate.oauthClient({ ...base, authMethod: OAuthClientAuthMethod.PRIVATE_KEY_JWT, privateKey: SecretValue.secretsManager('idp/key'), keyId: 'k1' });
    new Secret(s, 'Secret', { template });
    expect(JSON.parse(secretProperties(s).SecretString)).toEqual({
      client_id: 'svc',
      token_endpoint: 'https://idp.example.com/token',
      auth_method: 'private_key_jwt',
      private_key: '{{resolve:secretsmanager:idp/key:SecretString:::}}',
      key_id: 'k1',
    });
    expect(template.authMethod).toBe(OAuthClientAuthMethod.PRIVATE_KEY_JWT);
  });

  test('a private key alone makes private_key_jwt the default, for clients and refresh tokens', () => {
    const client = SecretTemplate.oauthClient({ ...base, privateKey: SecretValue.unsafePlainText(PKCS8) });
    expect(client.authMethod).toBe(OAuthClientAuthMethod.PRIVATE_KEY_JWT);
    expect(SecretTemplate.oauthRefreshToken({ ...base, refreshToken: SecretValue.unsafePlainText('rt'), privateKey: SecretValue.unsafePlainText(PKCS8) })
      .authMethod).toBe(OAuthClientAuthMethod.PRIVATE_KEY_JWT);
  });

  test('a literal PKCS #8 key is accepted', () => {
    expect(() => SecretTemplate.oauthClient({ ...base, privateKey: SecretValue.unsafePlainText(PKCS8) })).not.toThrow();
  });

  const pkcs1 = '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n';
  test.each<[string, () => unknown, RegExp]>([
    ['private_key_jwt without a key', () => SecretTemplate.oauthClient({ ...base, authMethod: OAuthClientAuthMethod.PRIVATE_KEY_JWT }),
      /^SecretTemplate.oauthClient: privateKey is required and must be a SecretValue/],
    ['private_key_jwt with a client secret too', () => SecretTemplate.oauthClient({
      ...base, authMethod: OAuthClientAuthMethod.PRIVATE_KEY_JWT, privateKey: SecretValue.unsafePlainText(PKCS8), clientSecret: SecretValue.unsafePlainText('cs'),
    }), /clientSecret is not allowed with authMethod 'private_key_jwt' \(the client authenticates with privateKey\)/],
    ['a private key with client_secret_basic', () => SecretTemplate.oauthClient({
      ...base, clientSecret: SecretValue.unsafePlainText('cs'), privateKey: SecretValue.unsafePlainText(PKCS8),
    }), /privateKey applies only to authMethod 'private_key_jwt', got authMethod 'client_secret_basic'/],
    ['a key id without private_key_jwt', () => SecretTemplate.oauthRefreshToken({ ...base, refreshToken: SecretValue.unsafePlainText('rt'), keyId: 'k1' }),
      /oauthRefreshToken: keyId applies only to authMethod 'private_key_jwt', got authMethod 'none'/],
    ['an empty key id', () => SecretTemplate.oauthClient({ ...base, privateKey: SecretValue.unsafePlainText(PKCS8), keyId: '' }),
      /keyId must be a non-empty string/],
    ['a PKCS #1 key', () => SecretTemplate.oauthClient({ ...base, privateKey: SecretValue.unsafePlainText(pkcs1) }),
      /privateKey must be one unencrypted PKCS #8 PEM block \(-----BEGIN PRIVATE KEY-----\), got a 'RSA PRIVATE KEY' PEM block; convert it with `openssl pkcs8 -topk8 -nocrypt`/],
    ['an encrypted PKCS #8 key', () => SecretTemplate.oauthClient({ ...base, privateKey: SecretValue.unsafePlainText(PKCS8.replace(/PRIVATE KEY/g, 'ENCRYPTED PRIVATE KEY')) }),
      /got a 'ENCRYPTED PRIVATE KEY' PEM block/],
    ['something that is no PEM', () => SecretTemplate.oauthClient({ ...base, privateKey: SecretValue.unsafePlainText('not-a-key') }),
      /privateKey must be one unencrypted PKCS #8 PEM block .*, got no PEM block/],
  ])('refuses %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('a refused key is never shown in the message', () => {
    const make = () => SecretTemplate.oauthClient({ ...base, privateKey: SecretValue.unsafePlainText(pkcs1) });
    expect(make).toThrow(expect.objectContaining({ message: expect.not.stringContaining('MIIBOgIBAAJBAKj34') }));
  });
});

describe('OAuth templates: loopback http for tests', () => {
  const base = { clientId: 'svc', clientSecret: SecretValue.unsafePlainText('cs') };

  test.each(['http://localhost:4000/token', 'http://127.0.0.1/token', 'http://[::1]:4000/token'])('allowLoopbackHttp admits %s', (tokenEndpoint) => {
    expect(() => SecretTemplate.oauthClient({ ...base, tokenEndpoint, allowLoopbackHttp: true })).not.toThrow();
  });

  test('without allowLoopbackHttp a loopback http endpoint is refused, naming the option', () => {
    expect(() => SecretTemplate.oauthClient({ ...base, tokenEndpoint: 'http://localhost:4000/token' }))
      .toThrow(/^SecretTemplate.oauthClient: tokenEndpoint must be an https:\/\/ URL \(TLS only\), got "http:\/\/localhost:4000\/token"; plain http:\/\/ to a loopback address is allowed only for tests, with allowLoopbackHttp: true$/);
  });

  test('allowLoopbackHttp admits no other http host', () => {
    expect(() => SecretTemplate.oauthRefreshToken({ clientId: 'c', refreshToken: SecretValue.unsafePlainText('rt'), issuer: 'http://idp.internal', allowLoopbackHttp: true }))
      .toThrow(/oauthRefreshToken: issuer must be an https:\/\/ URL, or http:\/\/ to localhost, 127.0.0.1, \[::1\] \(TLS only\), got "http:\/\/idp.internal"/);
  });

  test('the template remembers a loopback endpoint; an https one with the option set is not one', () => {
    expect(SecretTemplate.oauthClient({ ...base, tokenEndpoint: 'http://localhost/token', allowLoopbackHttp: true })._loopbackHttp).toBe(true);
    expect(SecretTemplate.oauthClient({ ...base, tokenEndpoint: 'https://idp.example.com/token', allowLoopbackHttp: true })._loopbackHttp).toBe(false);
  });

  test('the admin secret is the template\'s adminSecret', () => {
    const s = stack();
    const admin = new Secret(s, 'Admin');
    expect(SecretTemplate.oauthClient({ ...base, tokenEndpoint: 'https://idp.example.com/token', adminSecret: admin }).adminSecret).toBe(admin);
  });
});
