import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as docdb from 'aws-cdk-lib/aws-docdb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { PasswordPolicy, RotationEngine, Secret, SecretTemplate } from '../src';
import { DatabaseSecretContract, SECRET_ENGINES } from '../src/private/contract';

function stack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
}

/** What CloudFormation would give for the attributes and references of a resource, by logical id. */
type Resolved = Record<string, Record<string, string>>;

/**
 * The secret string CloudFormation would generate the password into, with the template's GetAtt and Ref resolved
 * (`Fn::Join` of literals, `Fn::GetAtt` and `Ref`), parsed as the handlers parse it: as JSON.
 */
function resolvedJson(secret: Secret, resolved: Resolved): DatabaseSecretContract {
  const s = Stack.of(secret);
  const props = Template.fromStack(s).toJSON().Resources[s.getLogicalId(secret.node.defaultChild as any)].Properties;
  const template = props.GenerateSecretString.SecretStringTemplate;
  const part = (p: any): string => {
    if (typeof p === 'string') return p;
    if (p['Fn::GetAtt']) return resolved[p['Fn::GetAtt'][0]][p['Fn::GetAtt'][1]];
    if (p.Ref) return resolved[p.Ref].Ref;
    throw new Error(`unexpected part ${JSON.stringify(p)}`);
  };
  const text = typeof template === 'string' ? template : template['Fn::Join'][1].map(part).join('');
  return JSON.parse(text);
}

function id(s: Stack, construct: { node: any }): string {
  return s.getLogicalId(construct.node.defaultChild ?? construct);
}

function cluster(s: Stack, props: Partial<redshift.CfnClusterProps> = {}): redshift.CfnCluster {
  return new redshift.CfnCluster(s, 'Cluster', {
    clusterType: 'single-node', nodeType: 'ra3.xlplus', dbName: 'analytics', masterUsername: 'admin', manageMasterPassword: true, ...props,
  });
}

const CLUSTER_ENDPOINT = { 'Endpoint.Address': 'analytics.abc123.us-east-1.redshift.amazonaws.com', 'Endpoint.Port': '5439' };

describe('SecretTemplate.fromRedshiftCluster', () => {
  test('engine redshift, host and port from the cluster endpoint (port a JSON number), dbname the cluster\'s dbName', () => {
    const s = stack();
    const c = cluster(s);
    const template = SecretTemplate.fromRedshiftCluster(c, { username: 'app' });
    expect(template.engine).toBe('redshift');
    const secret = new Secret(s, 'Secret', { template });
    const join = Template.fromStack(s).toJSON().Resources[id(s, secret)].Properties.GenerateSecretString.SecretStringTemplate['Fn::Join'][1];
    expect(join).toEqual([
      '{"engine":"redshift","host":"',
      { 'Fn::GetAtt': [id(s, c), 'Endpoint.Address'] },
      '","port":',
      { 'Fn::GetAtt': [id(s, c), 'Endpoint.Port'] },
      ',"username":"app","dbname":"analytics"}',
    ]);
    expect(resolvedJson(secret, { [id(s, c)]: CLUSTER_ENDPOINT })).toEqual({
      engine: 'redshift', host: 'analytics.abc123.us-east-1.redshift.amazonaws.com', port: 5439, username: 'app', dbname: 'analytics',
    });
    // the Redshift family's default policy: at most 64 characters, Redshift's exclusions
    expect(template.passwordPolicy!.toJson()).toBe(RotationEngine.REDSHIFT_SINGLE_USER.defaultPasswordPolicy.toJson());
    expect(template.generateStringKey).toBe('password');
  });

  test('dbname given wins over the cluster\'s; a token dbName is kept as a token', () => {
    const s = stack();
    const c = cluster(s);
    expect(resolvedJson(new Secret(s, 'Secret', { template: SecretTemplate.fromRedshiftCluster(c, { username: 'app', dbname: 'sales' }) }),
      { [id(s, c)]: CLUSTER_ENDPOINT }).dbname).toBe('sales');
    const t = stack();
    const tc = cluster(t, { dbName: new CfnParameter(t, 'DbName', { type: 'String' }).valueAsString });
    const secret = new Secret(t, 'Secret', { template: SecretTemplate.fromRedshiftCluster(tc, { username: 'app' }) });
    expect(resolvedJson(secret, { [id(t, tc)]: CLUSTER_ENDPOINT, DbName: { Ref: 'reports' } })).toMatchObject({ dbname: 'reports' });
  });

  test('alternating users with the cluster\'s Redshift-managed admin secret as master; the function may read it and describe clusters', () => {
    const s = stack();
    const c = cluster(s);
    const master = secretsmanager.Secret.fromSecretCompleteArn(s, 'Admin', c.attrMasterPasswordSecretArn);
    const template = SecretTemplate.fromRedshiftCluster(c, { username: 'app', rotationEngine: RotationEngine.REDSHIFT_MULTI_USER, masterSecret: master });
    const secret = new Secret(s, 'Secret', { template });
    const rotation = secret.addRotation();
    expect(resolvedJson(secret, {
      [id(s, c)]: { ...CLUSTER_ENDPOINT, MasterPasswordSecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:redshift!analytics-admin-AbCdEf' },
    })).toEqual({
      engine: 'redshift',
      host: 'analytics.abc123.us-east-1.redshift.amazonaws.com',
      port: 5439,
      username: 'app',
      dbname: 'analytics',
      masterarn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:redshift!analytics-admin-AbCdEf',
    });
    expect(rotation.rotationFunction.engine).toBe(RotationEngine.REDSHIFT_MULTI_USER);
    const statements = Object.values(Template.fromStack(s).findResources('AWS::IAM::ManagedPolicy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Sid: 'ReadMasterSecrets', Resource: { 'Fn::GetAtt': [id(s, c), 'MasterPasswordSecretArn'] } }));
    expect(statements).toContainEqual(expect.objectContaining({ Sid: 'DescribeRedshiftClustersOfAdminSecrets' }));
  });

  test('refuses what does not fit Redshift, naming the property', () => {
    const s = stack();
    const c = cluster(s);
    const owner = 'SecretTemplate.fromRedshiftCluster';
    expect(() => SecretTemplate.fromRedshiftCluster(c, { username: 'app', engine: 'postgres' }))
      .toThrow(`${owner}: engine 'postgres' does not match the database's engine 'redshift'`);
    expect(() => SecretTemplate.fromRedshiftCluster(c, { username: 'app', rotationEngine: RotationEngine.POSTGRES_SINGLE_USER }))
      .toThrow(/fromRedshiftCluster: rotationEngine does not fit the database's engine 'redshift': .* use RotationEngine.REDSHIFT_SINGLE_USER or RotationEngine.REDSHIFT_MULTI_USER$/);
    expect(() => SecretTemplate.fromRedshiftCluster(c, { username: 'app', rotationEngine: RotationEngine.REDSHIFT_MULTI_USER }))
      .toThrow(`${owner}: masterSecret is required for the alternating-users rotation engine 'redshift-multi-user'`);
    expect(() => SecretTemplate.fromRedshiftCluster(c, { username: 'u'.repeat(128) }))
      .toThrow(`${owner}: username must be 1 to 127 bytes for engine 'redshift', got 128 bytes`);
    expect(() => SecretTemplate.fromRedshiftCluster(c, { username: 'app', passwordPolicy: new PasswordPolicy({ excludeCharacters: '/@"\'\\:', excludeNumbers: true }) }))
      .toThrow(`${owner}: passwordPolicy cannot guarantee Amazon Redshift's password rules`);
    expect(() => SecretTemplate.fromRedshiftCluster(c, { username: 'app', dbname: '' })).toThrow(`${owner}: dbname must be a non-empty string`);
  });
});

function workgroup(s: Stack, namespaceName: string | undefined): redshiftserverless.CfnWorkgroup {
  return new redshiftserverless.CfnWorkgroup(s, 'Workgroup', { workgroupName: 'analytics-wg', namespaceName });
}

function namespace(s: Stack, props: Partial<redshiftserverless.CfnNamespaceProps> = {}): redshiftserverless.CfnNamespace {
  return new redshiftserverless.CfnNamespace(s, 'Namespace', { namespaceName: 'analytics', dbName: 'warehouse', ...props });
}

const WORKGROUP_ENDPOINT = {
  'Workgroup.Endpoint.Address': 'analytics-wg.111111111111.us-east-1.redshift-serverless.amazonaws.com',
  'Workgroup.Endpoint.Port': '5439',
};

describe('SecretTemplate.fromRedshiftServerlessWorkgroup', () => {
  test('engine redshift, host and port from the workgroup endpoint, dbname dev by default', () => {
    const s = stack();
    const wg = workgroup(s, 'analytics');
    const secret = new Secret(s, 'Secret', { template: SecretTemplate.fromRedshiftServerlessWorkgroup(wg, { username: 'app' }) });
    const join = Template.fromStack(s).toJSON().Resources[id(s, secret)].Properties.GenerateSecretString.SecretStringTemplate['Fn::Join'][1];
    expect(join).toEqual([
      '{"engine":"redshift","host":"',
      { 'Fn::GetAtt': [id(s, wg), 'Workgroup.Endpoint.Address'] },
      '","port":',
      { 'Fn::GetAtt': [id(s, wg), 'Workgroup.Endpoint.Port'] },
      ',"username":"app","dbname":"dev"}',
    ]);
    expect(resolvedJson(secret, { [id(s, wg)]: WORKGROUP_ENDPOINT })).toEqual({
      engine: 'redshift', host: 'analytics-wg.111111111111.us-east-1.redshift-serverless.amazonaws.com', port: 5439, username: 'app', dbname: 'dev',
    });
  });

  test('the namespace\'s dbName, unless dbname is given', () => {
    const s = stack();
    const wg = workgroup(s, 'analytics');
    const ns = namespace(s);
    expect(SecretTemplate.fromRedshiftServerlessWorkgroup(wg, { username: 'app', namespace: ns }).fieldNames).toContain('dbname');
    const secret = new Secret(s, 'Secret', { template: SecretTemplate.fromRedshiftServerlessWorkgroup(wg, { username: 'app', namespace: ns }) });
    const other = new Secret(s, 'Other', { template: SecretTemplate.fromRedshiftServerlessWorkgroup(wg, { username: 'app', namespace: ns, dbname: 'sales' }) });
    expect(resolvedJson(secret, { [id(s, wg)]: WORKGROUP_ENDPOINT }).dbname).toBe('warehouse');
    expect(resolvedJson(other, { [id(s, wg)]: WORKGROUP_ENDPOINT }).dbname).toBe('sales');
    // a namespace without dbName: its first database is dev
    const t = stack();
    const plain = new Secret(t, 'Secret', {
      template: SecretTemplate.fromRedshiftServerlessWorkgroup(workgroup(t, 'analytics'), { username: 'app', namespace: namespace(t, { dbName: undefined }) }),
    });
    expect(resolvedJson(plain, { [id(t, t.node.findChild('Workgroup'))]: WORKGROUP_ENDPOINT }).dbname).toBe('dev');
  });

  test('refuses a namespace that is not the workgroup\'s, and one for a workgroup that names none', () => {
    const s = stack();
    const ns = namespace(s, { namespaceName: 'finance' });
    const owner = 'SecretTemplate.fromRedshiftServerlessWorkgroup';
    expect(() => SecretTemplate.fromRedshiftServerlessWorkgroup(workgroup(s, 'analytics'), { username: 'app', namespace: ns }))
      .toThrow(`${owner}: namespace 'finance' is not the workgroup's namespace 'analytics'`);
    const t = stack();
    expect(() => SecretTemplate.fromRedshiftServerlessWorkgroup(workgroup(t, undefined), { username: 'app', namespace: namespace(t) }))
      .toThrow(`${owner}: namespace is given but the workgroup names no namespaceName`);
    // a namespace name that is a token cannot be compared: accepted
    const u = stack();
    const tokenNs = namespace(u);
    expect(() => SecretTemplate.fromRedshiftServerlessWorkgroup(workgroup(u, tokenNs.attrNamespaceNamespaceName), { username: 'app', namespace: tokenNs }))
      .not.toThrow();
  });

  test('alternating users rotate with the Redshift engine; a single-user engine refuses a master secret', () => {
    const s = stack();
    const wg = workgroup(s, 'analytics');
    const master = new Secret(s, 'Master');
    const template = SecretTemplate.fromRedshiftServerlessWorkgroup(wg, { username: 'app', rotationEngine: RotationEngine.REDSHIFT_MULTI_USER, masterSecret: master });
    const secret = new Secret(s, 'Secret', { template });
    expect(secret.addRotation().rotationFunction.engine).toBe(RotationEngine.REDSHIFT_MULTI_USER);
    expect(() => SecretTemplate.fromRedshiftServerlessWorkgroup(wg, { username: 'app', rotationEngine: RotationEngine.REDSHIFT_SINGLE_USER, masterSecret: master }))
      .toThrow('masterSecret is not allowed for the single-user rotation engine \'redshift-single-user\'; use an alternating-users engine such as RotationEngine.REDSHIFT_MULTI_USER');
  });
});

describe('SecretTemplate.fromDocDbCluster: what the DocumentDB handler reads, and nothing wrong', () => {
  function docDb(s: Stack, port?: number): docdb.DatabaseCluster {
    return new docdb.DatabaseCluster(s, 'DocDb', {
      masterUser: { username: 'root' },
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.R5, ec2.InstanceSize.LARGE),
      vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2 }),
      port,
    });
  }
  const ENDPOINT = { Endpoint: 'docdb.cluster-abc.us-east-1.docdb.amazonaws.com', Port: '27017' };

  test('engine mongo, host and port from the cluster endpoint, the authentication database admin, user and password', () => {
    const s = stack();
    const c = docDb(s);
    const secret = new Secret(s, 'Secret', { template: SecretTemplate.fromDocDbCluster(c, { username: 'app' }) });
    const json = resolvedJson(secret, { [id(s, c)]: ENDPOINT });
    expect(json).toEqual({ engine: 'mongo', host: 'docdb.cluster-abc.us-east-1.docdb.amazonaws.com', port: 27017, username: 'app', dbname: 'admin' });
    expect(SECRET_ENGINES.documentdb).toContain(json.engine);
    // no tls field: the handler verifies the certificate and host name
    expect(json).not.toHaveProperty('tls');
    expect(secret.passwordPolicy!.toJson()).toBe(RotationEngine.DOCUMENTDB_SINGLE_USER.defaultPasswordPolicy.toJson());
  });

  test('engine docdb when asked; the authentication database and the master as given', () => {
    const s = stack();
    const c = docDb(s, 27018);
    const master = new Secret(s, 'Master');
    const template = SecretTemplate.fromDocDbCluster(c, {
      username: 'app', engine: 'docdb', dbname: 'orders', rotationEngine: RotationEngine.DOCUMENTDB_MULTI_USER, masterSecret: master,
    });
    const secret = new Secret(s, 'Secret', { template });
    expect(resolvedJson(secret, { [id(s, c)]: { ...ENDPOINT, Port: '27018' }, [id(s, master)]: { Ref: 'arn:master' } })).toEqual({
      engine: 'docdb', host: 'docdb.cluster-abc.us-east-1.docdb.amazonaws.com', port: 27018, username: 'app', dbname: 'orders', masterarn: 'arn:master',
    });
    expect(secret.addRotation().rotationFunction.engine).toBe(RotationEngine.DOCUMENTDB_MULTI_USER);
  });

  test('refuses what the handler could never rotate, naming the property', () => {
    const s = stack();
    const c = docDb(s);
    const owner = 'SecretTemplate.fromDocDbCluster';
    expect(() => SecretTemplate.fromDocDbCluster(c, { username: 'app', engine: 'postgres' }))
      .toThrow(`${owner}: engine 'postgres' does not match the database's engine 'mongo'`);
    for (const username of ['a,b', 'a=b']) {
      expect(() => SecretTemplate.fromDocDbCluster(c, { username }))
        .toThrow(`${owner}: username must not contain ',' or '=' for engine 'mongo' (the mongodb driver cannot authenticate such a user), got "${username}"`);
    }
    expect(() => SecretTemplate.fromDocDbCluster(c, { username: 'u'.repeat(64) })).toThrow(`${owner}: username must be 1 to 63 characters for engine 'mongo'`);
    expect(() => SecretTemplate.fromDocDbCluster(c, { username: 'u'.repeat(58), rotationEngine: RotationEngine.DOCUMENTDB_MULTI_USER, masterSecret: new Secret(s, 'M') }))
      .toThrow(/username must be 1 to 57 characters for the alternating-users rotation engine 'documentdb-multi-user'/);
  });
});
