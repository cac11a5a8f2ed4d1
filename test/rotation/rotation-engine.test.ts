import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BUNDLED } from './fixtures';
import { PasswordPolicy, RotationEngine, SecretTemplateKind } from '../../src';
import { DEFAULT_EXCLUDE_CHARACTERS, FUNCTION_IDS, SECRET_ENGINES } from '../../src/private/contract';

/** What RotationFunction passes: the function's ARN as a literal. */
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:rotator';

describe('RotationEngine', () => {
  test('PostgreSQL single user', () => {
    const engine = RotationEngine.POSTGRES_SINGLE_USER;
    expect(engine.id).toBe(FUNCTION_IDS.POSTGRES_SINGLE_USER);
    expect(engine.multiUser).toBe(false);
    expect(engine.secretEngines).toEqual([...SECRET_ENGINES.postgres]);
    expect(engine.defaultPasswordPolicy.excludeCharacters).toBe(DEFAULT_EXCLUDE_CHARACTERS.postgres);
    expect(engine.defaultPort).toBe(5432);
    expect(engine.isBundled).toBe(true);
    expect(engine.handler).toBe('index.handler');
    expect(engine.policyStatements()).toEqual([]);
  });

  test('PostgreSQL alternating users needs the RDS describe calls', () => {
    const engine = RotationEngine.POSTGRES_MULTI_USER;
    expect(engine.id).toBe(FUNCTION_IDS.POSTGRES_MULTI_USER);
    expect(engine.multiUser).toBe(true);
    expect(engine.secretEngines).toEqual(['postgres', 'aurora-postgresql']);
    const [statement, ...rest] = engine.policyStatements();
    expect(rest).toEqual([]);
    expect(statement.actions.sort()).toEqual(['rds:DescribeDBClusters', 'rds:DescribeDBInstances']);
    expect(statement.resources).toEqual([
      `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:*`,
      `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:*`,
    ]);
    // fresh objects each time, so statements are never shared between policies
    expect(engine.policyStatements()[0]).not.toBe(statement);
  });

  test('custom engines carry their code, policy and statements', () => {
    const code = lambda.Code.fromInline('exports.handler = async () => {}');
    const statement = new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: ['arn:aws:ssm:us-east-1:111111111111:parameter/x'] });
    const policy = new PasswordPolicy({ length: 64 });
    const engine = RotationEngine.custom({ id: 'my-api', code, multiUser: true, passwordPolicy: policy, policyStatements: [statement], defaultPort: 8443 });
    expect(engine.isBundled).toBe(false);
    expect(engine._code).toBe(code);
    expect(engine.multiUser).toBe(true);
    expect(engine.defaultPasswordPolicy).toBe(policy);
    expect(engine.defaultPort).toBe(8443);
    const copies = engine.policyStatements();
    expect(copies[0]).not.toBe(statement);
    expect(copies[0].toStatementJson()).toEqual(statement.toStatementJson());
    expect(RotationEngine.custom({ id: 'x', code }).defaultPasswordPolicy._toContract()).toEqual(new PasswordPolicy()._toContract());
  });

  test.each(BUNDLED)('%s rotates database secrets', (_name, engine) => {
    expect(engine.secretKind).toBe(SecretTemplateKind.DATABASE);
  });

  test.each<[string, RotationEngine, string[], boolean, number, string]>([
    ['MYSQL_SINGLE_USER', RotationEngine.MYSQL_SINGLE_USER, ['mysql', 'aurora-mysql'], false, 3306, 'MySQL single user'],
    ['MYSQL_MULTI_USER', RotationEngine.MYSQL_MULTI_USER, ['mysql', 'aurora-mysql'], true, 3306, 'MySQL alternating users'],
    ['MARIADB_SINGLE_USER', RotationEngine.MARIADB_SINGLE_USER, ['mariadb'], false, 3306, 'MariaDB single user'],
    ['MARIADB_MULTI_USER', RotationEngine.MARIADB_MULTI_USER, ['mariadb'], true, 3306, 'MariaDB alternating users'],
  ])('%s: engine values, scheme, port, name, password policy and statements', (name, engine, values, multiUser, port, displayName) => {
    expect(engine.id).toBe((FUNCTION_IDS as Record<string, string>)[name]);
    expect(engine.secretEngines).toEqual(values);
    expect(engine.multiUser).toBe(multiUser);
    expect(engine.defaultPort).toBe(port);
    expect(engine.displayName).toBe(displayName);
    expect(engine.isBundled).toBe(true);
    expect(engine.handler).toBe('index.handler');
    expect(engine.defaultPasswordPolicy.excludeCharacters).toBe(DEFAULT_EXCLUDE_CHARACTERS.common);
    expect(engine.defaultPasswordPolicy.length).toBe(32);
    const statements = engine.policyStatements().map((s) => s.toStatementJson());
    expect(statements).toEqual(multiUser ? RotationEngine.POSTGRES_MULTI_USER.policyStatements().map((s) => s.toStatementJson()) : []);
  });

  test.each(BUNDLED)('%s: every wildcard of its statements carries a reason for the nag suppression', (_name, engine) => {
    for (const { statement, wildcardReason } of engine._policyStatementsWithReasons(FUNCTION_ARN)) {
      if (statement.resources.some((r) => r.includes('*'))) {
        expect(wildcardReason).toMatch(/.{40,}/);
      }
    }
  });

  test('a custom engine\'s statements carry no reason: their findings stay the user\'s to suppress', () => {
    const statement = new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: ['*'] });
    const engine = RotationEngine.custom({ id: 'x', code: lambda.Code.fromInline('x'), policyStatements: [statement] });
    expect(engine._policyStatementsWithReasons(FUNCTION_ARN).map((s) => s.wildcardReason)).toEqual([undefined]);
  });

  test.each<[string, { secretKind?: SecretTemplateKind; secretEngines?: string[] }, SecretTemplateKind | undefined]>([
    ['engine values declare a database engine', { secretEngines: ['mysql', 'aurora-mysql'] }, SecretTemplateKind.DATABASE],
    ['a kind declares that kind', { secretKind: SecretTemplateKind.OAUTH_REFRESH_TOKEN }, SecretTemplateKind.OAUTH_REFRESH_TOKEN],
    ['nothing declares nothing', {}, undefined],
  ])('custom: %s', (_name, declared, kind) => {
    const engine = RotationEngine.custom({ id: 'x', code: lambda.Code.fromInline('x'), ...declared });
    expect(engine.secretKind).toBe(kind);
    expect(engine.secretEngines).toEqual(declared.secretEngines ?? []);
  });

  test.each<[string, { secretKind?: SecretTemplateKind; secretEngines?: string[] }, RegExp]>([
    ['no engine values', { secretEngines: [] }, /secretEngines must hold 1 or more engine values .* got an empty list/],
    ['an empty engine value', { secretEngines: ['mysql', ''] }, /secretEngines\[1\] must be a literal engine value of 1 to 64 letters, digits, hyphens, dots or underscores, got ""/],
    ['an engine value with a space', { secretEngines: ['my sql'] }, /secretEngines\[0\] must be a literal engine value .* got "my sql"/],
    ['engine values for OAuth', { secretKind: SecretTemplateKind.OAUTH_CLIENT, secretEngines: ['mysql'] },
      /secretEngines applies only to secretKind database .* got secretKind 'oauth-client'/],
    ['an unknown kind', { secretKind: 'ldap' as SecretTemplateKind }, /secretKind must be one of database, oauth-client, oauth-refresh-token, got 'ldap'/],
  ])('custom rejects %s', (_name, declared, message) => {
    expect(() => RotationEngine.custom({ id: 'x', code: lambda.Code.fromInline('x'), ...declared })).toThrow(message);
  });

  const invalid: Array<[string, string, number | undefined, RegExp]> = [
    ['an upper-case id', 'MyEngine', undefined, /id must be 1 to 30 lower-case letters, digits or hyphens/],
    ['an empty id', '', undefined, /id must be 1 to 30 lower-case letters/],
    ['a long id', 'a'.repeat(31), undefined, /id must be 1 to 30/],
    ['a trailing hyphen', 'engine-', undefined, /id must be 1 to 30/],
    ['a bundled id', 'postgres-single-user', undefined, /id 'postgres-single-user' is a bundled engine id/],
    ['a bundled MariaDB id', 'mariadb-multi-user', undefined, /id 'mariadb-multi-user' is a bundled engine id; choose an id other than .*mysql-single-user/],
    ['the OAuth refresh-token id', 'oauth-refresh-token', undefined, /id 'oauth-refresh-token' is a bundled engine id; choose an id other than .*oauth-client-secret/],
    ['the OAuth client-secret id', 'oauth-client-secret', undefined, /id 'oauth-client-secret' is a bundled engine id/],
    ['port 0', 'engine', 0, /defaultPort must be an integer from 1 to 65535, got 0/],
    ['port 70000', 'engine', 70000, /defaultPort must be an integer from 1 to 65535, got 70000/],
  ];
  test.each(invalid)('custom rejects %s', (_name, id, defaultPort, message) => {
    expect(() => RotationEngine.custom({ id, code: lambda.Code.fromInline('x'), defaultPort })).toThrow(message);
  });
});
