import { SecretValue, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as docdb from 'aws-cdk-lib/aws-docdb';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { PasswordPolicy } from './password-policy';
import {
  CLONE_SUFFIX,
  DATABASE_ENGINE_DEFAULTS,
  DatabaseEngineDefaults,
  DatabaseEngineFamily,
  MAX_SECRET_VALUE_BYTES,
  OAUTH_AUTH_METHODS,
  OAUTH_SECRET_FIELDS,
  SECRET_ENGINES,
  engineFamilyOf,
} from './private/contract';
import { checkOAuthUrl } from './private/oauth-url';
import { ENGINE_FAMILIES } from './rotation/engines';
import { EngineFamily, assertPasswordRules } from './rotation/engines/engine-family';
// SecretTemplateKind lives with RotationEngine (what an engine rotates), so this file can import both without a cycle
import { RotationEngine, SecretTemplateKind } from './rotation/rotation-engine';

/** The JSON key of the generated password in database secrets. */
const PASSWORD_KEY = 'password';

/**
 * TLS setting written into a database secret's `tls` field, read by every bundled rotation handler (a custom engine's
 * handler decides for itself whether it reads it).
 */
export enum DatabaseTls {
  /** Verify the server certificate and host name (what the bundled handlers do when the field is absent). */
  VERIFY_FULL = 'verify-full',
  /** Plaintext: the only way to turn TLS off, for databases that cannot do TLS. */
  DISABLED = 'disabled',
}

/**
 * How an OAuth client authenticates at the token endpoint (the secret's `auth_method`).
 */
export enum OAuthClientAuthMethod {
  /** HTTP Basic authentication with the form-urlencoded client id and secret (RFC 6749 section 2.3.1). */
  CLIENT_SECRET_BASIC = 'client_secret_basic',
  /** Client id and secret in the form body. */
  CLIENT_SECRET_POST = 'client_secret_post',
  /**
   * A JWT signed with the client's private key (`private_key_jwt`, RFC 7523 and OpenID Connect Core section 9): the
   * secret holds `privateKey` (and `keyId`) instead of a client secret.
   */
  PRIVATE_KEY_JWT = 'private_key_jwt',
  /** A public client: only the client id is sent (refresh tokens of public clients). */
  NONE = 'none',
}

/**
 * What every database secret template takes besides host and port.
 */
export interface DatabaseSecretOptions {
  /**
   * The database user the secret holds: non-empty, at most the engine's limit (PostgreSQL 63 bytes, MySQL and Aurora
   * MySQL 32 characters, MariaDB 80 characters, Redshift 127 bytes, DocumentDB 63 characters). With an
   * alternating-users `rotationEngine`, the clone's name (`<username>_clone`) must fit that limit too.
   */
  readonly username: string;

  /**
   * The secret's `engine` value: `postgres`, `aurora-postgresql`, `mysql`, `aurora-mysql`, `mariadb`, `redshift`,
   * `mongo` or `docdb`. Sets the default port, database and password exclusions.
   *
   * @default - the first engine value of `rotationEngine`, or (for `fromDatabaseInstance`, `fromDatabaseCluster`,
   * `fromDocDbCluster`, `fromRedshiftCluster` and `fromRedshiftServerlessWorkgroup`) the engine of the database
   * construct; one of them is required
   */
  readonly engine?: string;

  /**
   * The engine that will rotate the secret. Supplies the default engine value and password policy, and checks that the
   * template fits it (`masterSecret` for alternating users).
   *
   * @default - none: the engine value alone sets the defaults
   */
  readonly rotationEngine?: RotationEngine;

  /**
   * The database name (non-empty, at most the engine's limit).
   *
   * @default - the database construct's (`fromRedshiftCluster`: the cluster's `dbName`; `fromRedshiftServerlessWorkgroup`:
   * the namespace's `dbName`), else the engine's default database: `postgres` (PostgreSQL), `dev` (Redshift), `admin`
   * (DocumentDB, the authentication database); none for MySQL and MariaDB
   */
  readonly dbname?: string;

  /**
   * The secret whose credential creates and updates the alternate user (`masterarn`). Required by alternating-users
   * rotation engines, not allowed for single-user ones.
   *
   * @default - no `masterarn`
   */
  readonly masterSecret?: secretsmanager.ISecret;

  /**
   * The `tls` field for the rotation handler.
   *
   * @default - no `tls` field: the bundled handlers verify the certificate and host name
   */
  readonly tls?: DatabaseTls;

  /**
   * How the password is generated, for the first value and (through `Secret.addRotation`) every rotation. It must
   * exclude the engine's required characters, respect its longest password and guarantee its password rules (Redshift:
   * 8 to 64 characters with an upper-case letter, a lower-case letter and a digit, none of `' " \ / @` or space).
   *
   * @default - `rotationEngine`'s default policy, or length 32 excluding the engine's characters
   */
  readonly passwordPolicy?: PasswordPolicy;
}

/**
 * Properties of {@link SecretTemplate.database}.
 */
export interface DatabaseSecretTemplateProps extends DatabaseSecretOptions {
  /** Host name or IP address of the database, without scheme, port or path (tokens are fine). */
  readonly host: string;

  /**
   * TCP port, from 1 to 65535 (tokens are fine).
   *
   * @default - the engine's default port: 5432 PostgreSQL, 3306 MySQL and MariaDB, 5439 Redshift, 27017 DocumentDB
   */
  readonly port?: number;
}

/**
 * Options of {@link SecretTemplate.fromRedshiftServerlessWorkgroup}.
 */
export interface RedshiftServerlessSecretOptions extends DatabaseSecretOptions {
  /**
   * The workgroup's namespace, whose first database (`dbName`) becomes the secret's `dbname` unless `dbname` is given.
   * Its name must be the workgroup's `namespaceName` when both are literal.
   *
   * @default - none: `dbname` or `dev` (the namespace's default first database)
   */
  readonly namespace?: redshiftserverless.CfnNamespace;
}

/**
 * What both OAuth secret templates take.
 */
export interface OAuthSecretTemplateBaseProps {
  /** The OAuth client id (non-empty; tokens are fine). */
  readonly clientId: string;

  /**
   * The token endpoint, an `https://` URL. Exactly one of `tokenEndpoint` and `issuer`.
   *
   * @default - none: `issuer` is required
   */
  readonly tokenEndpoint?: string;

  /**
   * The OpenID Connect issuer, an `https://` URL, from which a client discovers the token endpoint
   * (`<issuer>/.well-known/openid-configuration`). Exactly one of `tokenEndpoint` and `issuer`.
   *
   * @default - none: `tokenEndpoint` is required
   */
  readonly issuer?: string;

  /**
   * Space-separated scopes requested with every token request.
   *
   * @default - no `scope` field
   */
  readonly scope?: string;

  /**
   * The `audience` sent with token requests (identity providers such as Auth0 require it).
   *
   * @default - no `audience` field
   */
  readonly audience?: string;

  /**
   * A secret with the admin credential of the identity provider's client administration (`adminsecretarn`): required by
   * the client-secret engines (`RotationEngine.OAUTH_CLIENT_SECRET`, `RotationEngine.oauthClientSecret(...)`), which
   * register the new client secret with it; `Secret.addRotation` lets the rotation function read it. For
   * `ClientSecretAdapter.rfc7592()` it holds `registration_client_uri` and `registration_access_token`; for
   * `ClientSecretAdapter.http(...)` a `token` (bearer) or `username` and `password` (basic).
   *
   * @default - no `adminsecretarn`
   */
  readonly adminSecret?: secretsmanager.ISecret;

  /**
   * The client's private key for `OAuthClientAuthMethod.PRIVATE_KEY_JWT` (`private_key`): PKCS #8 PEM
   * (`-----BEGIN PRIVATE KEY-----`), RSA (RS256) or EC P-256 (ES256). Required with that method, not allowed with any
   * other. It lands in the template when literal; see `clientSecret` of `OAuthClientSecretTemplateProps` for the sources
   * that do not.
   *
   * @default - none
   */
  readonly privateKey?: SecretValue;

  /**
   * The `kid` under which the client's key is registered at the provider (`key_id`), with `PRIVATE_KEY_JWT` only.
   *
   * @default - no `kid` header in the client's JWTs
   */
  readonly keyId?: string;

  /**
   * Allow `tokenEndpoint` or `issuer` to be an `http://` URL to `localhost`, `127.0.0.1` or `[::1]`: for tests against a
   * local identity provider only. A rotation engine must allow it too (`allowLoopbackHttp` of
   * `RotationEngine.oauthRefreshToken` / `RotationEngine.oauthClientSecret`), checked by `SecretRotation`.
   *
   * @default false: https:// only
   */
  readonly allowLoopbackHttp?: boolean;
}

/**
 * Properties of {@link SecretTemplate.oauthClient}.
 */
export interface OAuthClientSecretTemplateProps extends OAuthSecretTemplateBaseProps {
  /**
   * The client secret issued by the identity provider (`client_secret`). It is not generated, so it is part of the
   * secret's CloudFormation value: a literal (`SecretValue.unsafePlainText`) lands in the template in plain text; a
   * Secrets Manager reference (`SecretValue.secretsManager`, `SecretValue.cfnDynamicReference`) or a `NoEcho`
   * parameter (`SecretValue.cfnParameter`) does not. `SecretValue.ssmSecure` is refused: CloudFormation does not
   * resolve `ssm-secure` references in `AWS::SecretsManager::Secret`. Required unless `authMethod` is
   * `PRIVATE_KEY_JWT`, which authenticates with `privateKey` instead.
   *
   * @default - none: only with `OAuthClientAuthMethod.PRIVATE_KEY_JWT`
   */
  readonly clientSecret?: SecretValue;

  /**
   * How the client authenticates at the token endpoint (`NONE` is not allowed: client credentials need a credential).
   *
   * @default OAuthClientAuthMethod.CLIENT_SECRET_BASIC
   */
  readonly authMethod?: OAuthClientAuthMethod;
}

/**
 * Properties of {@link SecretTemplate.oauthRefreshToken}.
 */
export interface OAuthRefreshTokenSecretTemplateProps extends OAuthSecretTemplateBaseProps {
  /**
   * The refresh token (`refresh_token`). Lands in the template when literal; see `clientSecret` of
   * `OAuthClientSecretTemplateProps` for the sources that do not.
   */
  readonly refreshToken: SecretValue;

  /**
   * The client secret of a confidential client (`client_secret`), with the same template caveats as `refreshToken`.
   *
   * @default - none: a public client
   */
  readonly clientSecret?: SecretValue;

  /**
   * How the client authenticates at the token endpoint.
   *
   * @default - `CLIENT_SECRET_BASIC` with a `clientSecret`, `PRIVATE_KEY_JWT` with a `privateKey`, `NONE` with neither
   */
  readonly authMethod?: OAuthClientAuthMethod;
}

/**
 * The CloudFormation value of a secret built from a template.
 *
 * @internal
 */
export interface RenderedSecretValue {
  readonly generateSecretString?: secretsmanager.SecretStringGenerator;
  readonly secretString?: string;
}

type FieldValue = string | number | SecretValue;

interface TemplateSpec {
  readonly kind: SecretTemplateKind;
  readonly fields: Record<string, FieldValue>;
  readonly engine?: string;
  readonly rotationEngine?: RotationEngine;
  readonly passwordPolicy?: PasswordPolicy;
  readonly masterSecret?: secretsmanager.ISecret;
  readonly adminSecret?: secretsmanager.ISecret;
  readonly authMethod?: OAuthClientAuthMethod;
  readonly loopbackHttp?: boolean;
}

/**
 * The JSON of a secret, by kind: database credentials whose password Secrets Manager generates with a
 * {@link PasswordPolicy}, or OAuth credentials issued by an identity provider. Database fields are those of RDS and
 * Secrets Manager database secrets (`engine, host, port, username, password, dbname, masterarn, tls`), which the
 * bundled handlers read; OAuth fields are `client_id, client_secret, token_endpoint, issuer, auth_method, scope,
 * audience, refresh_token, adminsecretarn, private_key, key_id`.
 *
 * Bundled rotation engines exist for every database family (PostgreSQL, MySQL and Aurora MySQL, MariaDB, Redshift,
 * DocumentDB), for OAuth refresh tokens (`RotationEngine.OAUTH_REFRESH_TOKEN`) and for OAuth client secrets
 * (`RotationEngine.OAUTH_CLIENT_SECRET`, `RotationEngine.oauthClientSecret(...)`); `SecretRotation` refuses an engine
 * that does not rotate the template's kind and engine value at synth.
 *
 * Use it as `template` of a `Secret`. Every factory validates its input and names the property that is wrong.
 */
export class SecretTemplate {
  /**
   * Database credentials: `{engine, host, port, username, dbname, masterarn?, tls?}` plus a generated `password`.
   *
   * @param props the database and user
   */
  public static database(props: DatabaseSecretTemplateProps): SecretTemplate {
    return SecretTemplate.databaseFrom('SecretTemplate.database', props.host, props.port, undefined, props);
  }

  /**
   * Database credentials for an RDS instance: host and port from the instance (tokens resolved by CloudFormation),
   * engine from the instance's engine when known (`postgres`, `mysql`, `mariadb`).
   *
   * @param instance the database instance
   * @param options user, database and rotation settings
   */
  public static fromDatabaseInstance(instance: rds.IDatabaseInstance, options: DatabaseSecretOptions): SecretTemplate {
    const port = Token.isUnresolved(instance.dbInstanceEndpointPort)
      ? Token.asNumber(instance.dbInstanceEndpointPort)
      : Number(instance.dbInstanceEndpointPort);
    return SecretTemplate.databaseFrom('SecretTemplate.fromDatabaseInstance', instance.dbInstanceEndpointAddress, port,
      instance.engine?.engineType, options);
  }

  /**
   * Database credentials for an Aurora or RDS cluster: the writer (cluster) endpoint's host and port, engine from the
   * cluster's engine when known (`aurora-postgresql`, `aurora-mysql`).
   *
   * @param cluster the database cluster
   * @param options user, database and rotation settings
   */
  public static fromDatabaseCluster(cluster: rds.IDatabaseCluster, options: DatabaseSecretOptions): SecretTemplate {
    const endpoint = cluster.clusterEndpoint;
    return SecretTemplate.databaseFrom('SecretTemplate.fromDatabaseCluster', endpoint.hostname, endpoint.port,
      cluster.engine?.engineType, options);
  }

  /**
   * Database credentials for an Amazon DocumentDB cluster: the cluster endpoint's host and port, engine `mongo`.
   *
   * @param cluster the DocumentDB cluster
   * @param options user, database and rotation settings
   */
  public static fromDocDbCluster(cluster: docdb.IDatabaseCluster, options: DatabaseSecretOptions): SecretTemplate {
    const endpoint = cluster.clusterEndpoint;
    return SecretTemplate.databaseFrom('SecretTemplate.fromDocDbCluster', endpoint.hostname, endpoint.port,
      SECRET_ENGINES.documentdb[0], options);
  }

  /**
   * Database credentials for a provisioned Amazon Redshift cluster (`aws_redshift.CfnCluster`): engine `redshift`, host
   * and port from the cluster's endpoint (`Endpoint.Address`, `Endpoint.Port`, resolved by CloudFormation), `dbname`
   * the cluster's `dbName` unless `options.dbname` is given.
   *
   * For alternating users, `masterSecret` may be the cluster's Redshift-managed admin secret (`manageMasterPassword`:
   * `Secret.fromSecretCompleteArn(scope, id, cluster.attrMasterPasswordSecretArn)`) or a full database secret of an
   * admin user.
   *
   * @param cluster the Redshift cluster
   * @param options user, database and rotation settings (`engine`, if given, must be `redshift`)
   */
  public static fromRedshiftCluster(cluster: redshift.CfnCluster, options: DatabaseSecretOptions): SecretTemplate {
    const owner = 'SecretTemplate.fromRedshiftCluster';
    // Endpoint.Port is a string attribute; in the secret's JSON it is written without quotes, a number
    return SecretTemplate.databaseFrom(owner, cluster.attrEndpointAddress, Token.asNumber(cluster.attrEndpointPort),
      SECRET_ENGINES.redshift[0], { ...options, dbname: options.dbname ?? literalOrToken(cluster.dbName) });
  }

  /**
   * Database credentials for an Amazon Redshift Serverless workgroup (`aws_redshiftserverless.CfnWorkgroup`): engine
   * `redshift`, host and port from the workgroup's endpoint (`Workgroup.Endpoint.Address`, `Workgroup.Endpoint.Port`),
   * `dbname` from `options.dbname`, else the namespace's `dbName`, else `dev`.
   *
   * For alternating users, `masterSecret` may be the namespace's Redshift-managed admin secret (`manageAdminPassword`,
   * imported by its ARN) or a full database secret of an admin user.
   *
   * @param workgroup the Redshift Serverless workgroup
   * @param options user, database, namespace and rotation settings (`engine`, if given, must be `redshift`)
   */
  public static fromRedshiftServerlessWorkgroup(workgroup: redshiftserverless.CfnWorkgroup,
    options: RedshiftServerlessSecretOptions): SecretTemplate {
    const owner = 'SecretTemplate.fromRedshiftServerlessWorkgroup';
    const namespace = options.namespace;
    if (namespace !== undefined) {
      const expected = workgroup.namespaceName;
      const given = namespace.namespaceName;
      if (expected === undefined) {
        throw new Error(`${owner}: namespace is given but the workgroup names no namespaceName; leave out namespace or set the `
          + 'workgroup\'s namespaceName');
      }
      if (!Token.isUnresolved(expected) && !Token.isUnresolved(given) && expected !== given) {
        throw new Error(`${owner}: namespace '${given}' is not the workgroup's namespace '${expected}'`);
      }
    }
    return SecretTemplate.databaseFrom(owner, workgroup.attrWorkgroupEndpointAddress, workgroup.attrWorkgroupEndpointPort,
      SECRET_ENGINES.redshift[0], { ...options, dbname: options.dbname ?? literalOrToken(namespace?.dbName) });
  }

  /**
   * OAuth 2.0 client credentials: `{client_id, client_secret, token_endpoint | issuer, auth_method, scope?, audience?,
   * adminsecretarn?}`. Nothing is generated: the identity provider issues the client secret.
   *
   * @param props the client and identity provider
   */
  public static oauthClient(props: OAuthClientSecretTemplateProps): SecretTemplate {
    const owner = 'SecretTemplate.oauthClient';
    const authMethod = props.authMethod
      ?? (props.privateKey !== undefined && props.clientSecret === undefined
        ? OAuthClientAuthMethod.PRIVATE_KEY_JWT : OAuthClientAuthMethod.CLIENT_SECRET_BASIC);
    if (authMethod === OAuthClientAuthMethod.NONE) {
      throw new Error(`${owner}: authMethod must be ${OAuthClientAuthMethod.CLIENT_SECRET_BASIC}, ${OAuthClientAuthMethod.CLIENT_SECRET_POST} `
        + `or ${OAuthClientAuthMethod.PRIVATE_KEY_JWT}; '${OAuthClientAuthMethod.NONE}' sends no client credential and cannot obtain `
        + 'client-credentials tokens');
    }
    if (authMethod !== OAuthClientAuthMethod.PRIVATE_KEY_JWT) {
      requireSecretValue(owner, 'clientSecret', props.clientSecret);
    }
    const fields = oauthFields(owner, props, authMethod);
    if (props.clientSecret !== undefined) {
      fields[OAUTH_SECRET_FIELDS.CLIENT_SECRET] = props.clientSecret;
    }
    return SecretTemplate.oauth(SecretTemplateKind.OAUTH_CLIENT, fields, props, authMethod);
  }

  /**
   * An OAuth 2.0 refresh token: `{client_id, client_secret?, refresh_token, token_endpoint | issuer, auth_method,
   * scope?, audience?, adminsecretarn?}`.
   *
   * @param props the client, the refresh token and the identity provider
   */
  public static oauthRefreshToken(props: OAuthRefreshTokenSecretTemplateProps): SecretTemplate {
    const owner = 'SecretTemplate.oauthRefreshToken';
    requireSecretValue(owner, 'refreshToken', props.refreshToken);
    if (props.clientSecret !== undefined) {
      requireSecretValue(owner, 'clientSecret', props.clientSecret);
    }
    const authMethod = props.authMethod
      ?? (props.clientSecret ? OAuthClientAuthMethod.CLIENT_SECRET_BASIC
        : props.privateKey !== undefined ? OAuthClientAuthMethod.PRIVATE_KEY_JWT : OAuthClientAuthMethod.NONE);
    if (authMethod === OAuthClientAuthMethod.NONE && props.clientSecret !== undefined) {
      throw new Error(`${owner}: authMethod '${OAuthClientAuthMethod.NONE}' sends no client secret; leave out clientSecret or use `
        + `${OAuthClientAuthMethod.CLIENT_SECRET_BASIC} or ${OAuthClientAuthMethod.CLIENT_SECRET_POST}`);
    }
    if (authMethod !== OAuthClientAuthMethod.NONE && authMethod !== OAuthClientAuthMethod.PRIVATE_KEY_JWT
      && props.clientSecret === undefined) {
      throw new Error(`${owner}: clientSecret is required with authMethod '${authMethod}'; use authMethod `
        + `${OAuthClientAuthMethod.NONE} for a public client`);
    }
    const fields = oauthFields(owner, props, authMethod);
    if (props.clientSecret !== undefined) {
      fields[OAUTH_SECRET_FIELDS.CLIENT_SECRET] = props.clientSecret;
    }
    fields[OAUTH_SECRET_FIELDS.REFRESH_TOKEN] = props.refreshToken;
    return SecretTemplate.oauth(SecretTemplateKind.OAUTH_REFRESH_TOKEN, fields, props, authMethod);
  }

  /**
   * The CloudFormation value of a string secret value, checked (no `ssm-secure`, at most 65,536 bytes of literal text).
   *
   * @internal
   */
  public static _renderString(scope: IConstruct, owner: string, property: string, value: SecretValue): RenderedSecretValue {
    if (!SecretValue.isSecretValue(value)) {
      throw new Error(`${owner}: ${property} must be a SecretValue`);
    }
    assertSupportedSecretValue(Stack.of(scope), owner, property, value);
    const unwrapped = value.unsafeUnwrap();
    if (!Token.isUnresolved(unwrapped) && unwrapped.length === 0) {
      throw new Error(`${owner}: ${property} must not be empty (Secrets Manager stores 1 to ${MAX_SECRET_VALUE_BYTES} bytes)`);
    }
    assertSecretSize(owner, property, literalJsonBytes(unwrapped), 'the value');
    return { secretString: unwrapped };
  }

  /**
   * The CloudFormation value of a JSON object secret value, checked like `_renderString`.
   *
   * @internal
   */
  public static _renderObject(scope: IConstruct, owner: string, property: string, value: { [key: string]: SecretValue }): RenderedSecretValue {
    const stack = Stack.of(scope);
    const entries = Object.entries(value);
    if (entries.length === 0) {
      throw new Error(`${owner}: ${property} must hold 1 or more keys`);
    }
    for (const [key, item] of entries) {
      if (key.length === 0) {
        throw new Error(`${owner}: ${property} keys must be non-empty`);
      }
      if (!SecretValue.isSecretValue(item)) {
        throw new Error(`${owner}: ${property}.${key} must be a SecretValue`);
      }
      assertSupportedSecretValue(stack, owner, `${property}.${key}`, item);
    }
    const unwrapped = Object.fromEntries(entries.map(([key, item]) => [key, item.unsafeUnwrap()]));
    assertSecretSize(owner, property, literalJsonBytes(unwrapped), 'the JSON of the object');
    return { secretString: stack.toJsonString(unwrapped) };
  }

  private static oauth(kind: SecretTemplateKind, fields: Record<string, FieldValue>, props: OAuthSecretTemplateBaseProps,
    authMethod: OAuthClientAuthMethod): SecretTemplate {
    const endpoint = props.tokenEndpoint ?? props.issuer;
    const loopbackHttp = typeof endpoint === 'string' && !Token.isUnresolved(endpoint) && endpoint.toLowerCase().startsWith('http://');
    return new SecretTemplate({ kind, fields, adminSecret: props.adminSecret, authMethod, loopbackHttp });
  }

  private static databaseFrom(owner: string, host: string, port: number | undefined, constructEngine: string | undefined,
    options: DatabaseSecretOptions): SecretTemplate {
    const engine = resolveEngine(owner, constructEngine, options);
    const family = engineFamilyOf(engine)!;
    const defaults = DATABASE_ENGINE_DEFAULTS[family];

    requireString(owner, 'host', host);
    if (!Token.isUnresolved(host)) {
      validateHost(owner, host);
    }
    const effectivePort = port ?? defaults.port;
    if (!Token.isUnresolved(effectivePort) && !isPort(effectivePort)) {
      throw new Error(`${owner}: port must be an integer from 1 to 65535, got ${effectivePort}`);
    }
    validateIdentifier(owner, 'username', options.username, defaults.maxUsernameLength, defaults.usernameLengthUnit, engine);
    if (family === 'documentdb' && !Token.isUnresolved(options.username) && /[,=]/.test(options.username)) {
      // the mongodb driver escapes SCRAM user names incompletely: such a user never logs in, and the handler refuses it
      throw new Error(`${owner}: username must not contain ',' or '=' for engine '${engine}' (the mongodb driver cannot `
        + `authenticate such a user), got ${JSON.stringify(options.username)}`);
    }
    const dbname = options.dbname ?? defaults.dbname;
    if (options.dbname !== undefined) {
      validateIdentifier(owner, 'dbname', options.dbname, defaults.maxDbnameLength, defaults.dbnameLengthUnit, engine);
    }
    if (options.tls !== undefined && !Object.values(DatabaseTls).includes(options.tls)) {
      throw new Error(`${owner}: tls must be DatabaseTls.VERIFY_FULL or DatabaseTls.DISABLED, got '${options.tls}'`);
    }

    const rotationEngine = options.rotationEngine;
    if (rotationEngine?.multiUser && !options.masterSecret) {
      throw new Error(`${owner}: masterSecret is required for the alternating-users rotation engine '${rotationEngine.id}' `
        + '(its masterarn names the credential that creates and updates the alternate user)');
    }
    if (rotationEngine && !rotationEngine.multiUser && options.masterSecret) {
      throw new Error(`${owner}: masterSecret is not allowed for the single-user rotation engine '${rotationEngine.id}'; `
        + `use ${rotationEngine._alternatingUsersAlternative()}`);
    }

    if (rotationEngine?.multiUser) {
      validateCloneName(owner, options.username, defaults, engine, rotationEngine.id);
    }

    const passwordPolicy = resolvePasswordPolicy(owner, options, defaults, family);

    const fields: Record<string, FieldValue> = {
      engine,
      host,
      port: effectivePort,
      username: options.username,
    };
    if (dbname !== undefined) {
      fields.dbname = dbname;
    }
    if (options.masterSecret) {
      fields.masterarn = options.masterSecret.secretFullArn ?? options.masterSecret.secretArn;
    }
    if (options.tls !== undefined) {
      fields.tls = options.tls;
    }
    return new SecretTemplate({
      kind: SecretTemplateKind.DATABASE,
      fields,
      engine,
      rotationEngine,
      passwordPolicy,
      masterSecret: options.masterSecret,
    });
  }

  /** What the template describes. */
  public readonly kind: SecretTemplateKind;
  /** The database secret's `engine` value (database templates only). */
  public readonly engine?: string;
  /** The rotation engine the template was made for, if one was given. */
  public readonly rotationEngine?: RotationEngine;
  /**
   * The policy the password is generated with (database templates only). `Secret.addRotation` passes it to the
   * rotation function, so the first value and every rotation follow one policy.
   */
  public readonly passwordPolicy?: PasswordPolicy;
  /** The JSON key of the generated value (`password` for database templates; none for OAuth templates). */
  public readonly generateStringKey?: string;
  /** The master secret named in `masterarn`, if any. */
  public readonly masterSecret?: secretsmanager.ISecret;
  /** The admin secret named in `adminsecretarn` (OAuth templates), if any. */
  public readonly adminSecret?: secretsmanager.ISecret;
  /** How the client authenticates at the token endpoint (OAuth templates only). */
  public readonly authMethod?: OAuthClientAuthMethod;
  /**
   * Whether the token endpoint or issuer is `http://` to a loopback host (`allowLoopbackHttp`, tests only).
   *
   * @internal
   */
  public readonly _loopbackHttp: boolean;
  /** The JSON field names of the secret value, generated key included, in order. */
  public readonly fieldNames: string[];

  private readonly fields: Record<string, FieldValue>;

  private constructor(spec: TemplateSpec) {
    this.kind = spec.kind;
    this.engine = spec.engine;
    this.rotationEngine = spec.rotationEngine;
    this.passwordPolicy = spec.passwordPolicy;
    this.masterSecret = spec.masterSecret;
    this.adminSecret = spec.adminSecret;
    this.authMethod = spec.authMethod;
    this._loopbackHttp = spec.loopbackHttp ?? false;
    this.fields = spec.fields;
    this.generateStringKey = spec.passwordPolicy ? PASSWORD_KEY : undefined;
    this.fieldNames = [...Object.keys(spec.fields), ...(this.generateStringKey ? [this.generateStringKey] : [])];
  }

  /**
   * The CloudFormation value of a secret in `scope`'s stack: a generator for database templates, a string for OAuth
   * templates. Refuses values over Secrets Manager's 65,536 bytes (literal parts only: tokens cannot be measured).
   *
   * @internal
   */
  public _render(scope: IConstruct, owner: string, property: string): RenderedSecretValue {
    const stack = Stack.of(scope);
    if (this.passwordPolicy) {
      // The generated value is the template plus `,"password":"<password>"`; a password character is at most 2 bytes in
      // JSON (`"` and `\` are escaped, every other generated character is printable ASCII).
      const escapable = ['"', '\\'].filter((c) => !this.passwordPolicy!.excludeCharacters.includes(c)).length > 0;
      const passwordBytes = this.passwordPolicy.length * (escapable ? 2 : 1);
      const overhead = Buffer.byteLength(`,"${PASSWORD_KEY}":""`);
      assertSecretSize(owner, property, literalJsonBytes(this.fields) + overhead + passwordBytes,
        `the template's JSON plus a generated ${this.passwordPolicy.length}-character password`);
      return {
        generateSecretString: this.passwordPolicy.toSecretStringGenerator({
          secretStringTemplate: stack.toJsonString(this.fields),
          generateStringKey: PASSWORD_KEY,
        }),
      };
    }
    const unwrapped = Object.fromEntries(Object.entries(this.fields).map(([key, value]) =>
      [key, value instanceof SecretValue ? value.unsafeUnwrap() : value]));
    for (const [key, value] of Object.entries(this.fields)) {
      if (value instanceof SecretValue) {
        assertSupportedSecretValue(stack, owner, `${property} (${key})`, value);
      }
    }
    assertSecretSize(owner, property, literalJsonBytes(unwrapped), 'the JSON of the template');
    return { secretString: stack.toJsonString(unwrapped) };
  }
}

/** A construct property that is set (a literal or a token), or undefined when it is absent or empty. */
function literalOrToken(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function resolveEngine(owner: string, constructEngine: string | undefined, options: DatabaseSecretOptions): string {
  const allowed = Object.values(SECRET_ENGINES).flat() as string[];
  const given = options.engine;
  if (given !== undefined) {
    requireString(owner, 'engine', given);
    if (Token.isUnresolved(given) || !allowed.includes(given)) {
      throw new Error(`${owner}: engine must be one of ${allowed.join(', ')}, got '${given}'`);
    }
  }
  const rotationEngine = options.rotationEngine;
  const kindMismatch = rotationEngine?._mismatch(SecretTemplateKind.DATABASE, undefined);
  if (kindMismatch !== undefined) {
    throw new Error(`${owner}: rotationEngine does not fit a database template: ${kindMismatch}`);
  }
  const givenMismatch = given !== undefined ? rotationEngine?._mismatch(SecretTemplateKind.DATABASE, given) : undefined;
  if (givenMismatch !== undefined) {
    throw new Error(`${owner}: rotationEngine does not fit engine '${given}': ${givenMismatch}`);
  }
  const fromConstruct = constructEngine !== undefined && allowed.includes(constructEngine) ? constructEngine : undefined;
  if (given !== undefined && fromConstruct !== undefined && engineFamilyOf(given) !== engineFamilyOf(fromConstruct)) {
    throw new Error(`${owner}: engine '${given}' does not match the database's engine '${fromConstruct}'`);
  }
  const fromRotation = rotationEngine?.secretEngines.find((e) => allowed.includes(e));
  const constructMismatch = given === undefined && fromConstruct !== undefined
    ? rotationEngine?._mismatch(SecretTemplateKind.DATABASE, fromConstruct)
    : undefined;
  if (constructMismatch !== undefined) {
    throw new Error(`${owner}: rotationEngine does not fit the database's engine '${fromConstruct}': ${constructMismatch}`);
  }
  const engine = given ?? fromConstruct ?? fromRotation;
  if (engine === undefined) {
    const why = constructEngine !== undefined
      ? `the database's engine '${constructEngine}' is not one this library writes secrets for`
      : 'it cannot be derived';
    throw new Error(`${owner}: engine is required (${why}); give engine (one of ${allowed.join(', ')}) or a rotationEngine`);
  }
  return engine;
}

function resolvePasswordPolicy(owner: string, options: DatabaseSecretOptions, defaults: DatabaseEngineDefaults,
  family: DatabaseEngineFamily): PasswordPolicy {
  const familyFile: EngineFamily | undefined = (ENGINE_FAMILIES as Partial<Record<DatabaseEngineFamily, EngineFamily>>)[family];
  const policy = options.passwordPolicy
    ?? options.rotationEngine?.defaultPasswordPolicy
    ?? new PasswordPolicy({ excludeCharacters: defaults.excludeCharacters });
  const missing = [...defaults.excludeCharacters].filter((c) => !policy.excludeCharacters.includes(c));
  if (missing.length > 0) {
    throw new Error(`${owner}: passwordPolicy.excludeCharacters must include ${JSON.stringify(defaults.excludeCharacters)} for `
      + `${family} secrets (they break its connection strings); missing ${JSON.stringify(missing.join(''))}`);
  }
  if (policy.length > defaults.maxPasswordLength) {
    throw new Error(`${owner}: passwordPolicy.length must be at most ${defaults.maxPasswordLength} for ${family} secrets, got ${policy.length}`);
  }
  if (familyFile !== undefined) {
    // the first value is generated with this policy, and Secret.addRotation hands it to the rotation function
    assertPasswordRules(owner, 'passwordPolicy', familyFile, policy);
  }
  return policy;
}

function oauthFields(owner: string, props: OAuthSecretTemplateBaseProps & { readonly clientSecret?: SecretValue },
  authMethod: OAuthClientAuthMethod): Record<string, FieldValue> {
  requireString(owner, 'clientId', props.clientId);
  if (!Object.values(OAUTH_AUTH_METHODS).includes(authMethod)) {
    throw new Error(`${owner}: authMethod must be one of ${Object.values(OAUTH_AUTH_METHODS).join(', ')}, got '${authMethod}'`);
  }
  if ((props.tokenEndpoint === undefined) === (props.issuer === undefined)) {
    throw new Error(`${owner}: exactly one of tokenEndpoint and issuer is required (an https:// URL), got `
      + (props.tokenEndpoint === undefined ? 'neither' : 'both'));
  }
  const fields: Record<string, FieldValue> = { [OAUTH_SECRET_FIELDS.CLIENT_ID]: props.clientId };
  const allowLoopbackHttp = props.allowLoopbackHttp ?? false;
  if (props.tokenEndpoint !== undefined) {
    validateHttpsUrl(owner, 'tokenEndpoint', props.tokenEndpoint, allowLoopbackHttp);
    fields[OAUTH_SECRET_FIELDS.TOKEN_ENDPOINT] = props.tokenEndpoint;
  } else {
    validateHttpsUrl(owner, 'issuer', props.issuer!, allowLoopbackHttp);
    fields[OAUTH_SECRET_FIELDS.ISSUER] = props.issuer!;
  }
  fields[OAUTH_SECRET_FIELDS.AUTH_METHOD] = authMethod;
  if (authMethod === OAuthClientAuthMethod.PRIVATE_KEY_JWT) {
    requireSecretValue(owner, 'privateKey', props.privateKey);
    if (props.clientSecret !== undefined) {
      throw new Error(`${owner}: clientSecret is not allowed with authMethod '${authMethod}' (the client authenticates with `
        + 'privateKey); leave it out');
    }
    validatePrivateKey(owner, props.privateKey!);
    fields[OAUTH_SECRET_FIELDS.PRIVATE_KEY] = props.privateKey!;
    if (props.keyId !== undefined) {
      requireString(owner, 'keyId', props.keyId);
      fields[OAUTH_SECRET_FIELDS.KEY_ID] = props.keyId;
    }
  } else if (props.privateKey !== undefined || props.keyId !== undefined) {
    throw new Error(`${owner}: ${props.privateKey !== undefined ? 'privateKey' : 'keyId'} applies only to authMethod `
      + `'${OAuthClientAuthMethod.PRIVATE_KEY_JWT}', got authMethod '${authMethod}'`);
  }
  if (props.scope !== undefined) {
    requireString(owner, 'scope', props.scope);
    if (!Token.isUnresolved(props.scope) && !/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(props.scope)) {
      throw new Error(`${owner}: scope must be scope tokens separated by single spaces (printable ASCII without '"' or '\\', `
        + `RFC 6749 section 3.3), got ${JSON.stringify(props.scope)}`);
    }
    fields[OAUTH_SECRET_FIELDS.SCOPE] = props.scope;
  }
  if (props.audience !== undefined) {
    requireString(owner, 'audience', props.audience);
    fields[OAUTH_SECRET_FIELDS.AUDIENCE] = props.audience;
  }
  if (props.adminSecret) {
    fields[OAUTH_SECRET_FIELDS.ADMIN_SECRET_ARN] = props.adminSecret.secretFullArn ?? props.adminSecret.secretArn;
  }
  return fields;
}

function requireString(owner: string, property: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`${owner}: ${property} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  if (!Token.isUnresolved(value) && value.trim().length === 0) {
    throw new Error(`${owner}: ${property} must not be blank, got ${JSON.stringify(value)}`);
  }
}

function requireSecretValue(owner: string, property: string, value: unknown): void {
  if (!(value instanceof SecretValue) && !SecretValue.isSecretValue(value)) {
    throw new Error(`${owner}: ${property} is required and must be a SecretValue (for example SecretValue.secretsManager(...))`);
  }
}

const MAX_HOST_LENGTH = 253;

function validateHost(owner: string, host: string): void {
  const ipv6 = /^[0-9a-fA-F]*:[0-9a-fA-F:.]*$/.test(host) && host.split(':').length >= 3;
  const hostname = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(host);
  if (host.length > MAX_HOST_LENGTH || !(ipv6 || hostname)) {
    throw new Error(`${owner}: host must be a host name or IP address of 1 to ${MAX_HOST_LENGTH} characters, without scheme, `
      + `port, path or spaces, got ${JSON.stringify(host)}`);
  }
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function validateIdentifier(owner: string, property: string, value: string, max: number, unit: 'bytes' | 'characters', engine: string): void {
  requireString(owner, property, value);
  if (Token.isUnresolved(value)) {
    return;
  }
  const length = unit === 'bytes' ? Buffer.byteLength(value, 'utf8') : [...value].length;
  if (length > max) {
    throw new Error(`${owner}: ${property} must be 1 to ${max} ${unit} for engine '${engine}', got ${length} ${unit}`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(`${owner}: ${property} must not contain control characters, got ${JSON.stringify(value)}`);
  }
}

/**
 * Alternating users: the clone of `username` (`<username>_clone`, or the name without the suffix for a user that is
 * already the clone) must fit the engine's user-name limit too, or every rotation would fail at its first step.
 */
function validateCloneName(owner: string, username: string, defaults: DatabaseEngineDefaults, engine: string, rotationEngineId: string): void {
  if (Token.isUnresolved(username) || username.endsWith(CLONE_SUFFIX)) {
    return;
  }
  const unit = defaults.usernameLengthUnit;
  const length = (name: string) => unit === 'bytes' ? Buffer.byteLength(name, 'utf8') : [...name].length;
  const max = defaults.maxUsernameLength;
  if (length(username + CLONE_SUFFIX) > max) {
    throw new Error(`${owner}: username must be 1 to ${max - length(CLONE_SUFFIX)} ${unit} for the alternating-users rotation engine `
      + `'${rotationEngineId}', got ${length(username)} ${unit}: its clone '${username}${CLONE_SUFFIX}' must fit the limit of `
      + `${max} ${unit} for engine '${engine}'`);
  }
}

function validateHttpsUrl(owner: string, property: string, value: string, allowLoopbackHttp: boolean): void {
  requireString(owner, property, value);
  // `https://${domain}/oauth2/token` is accepted: the literal start must already be https://
  checkOAuthUrl(owner, property, value, { allowLoopbackHttp });
}

/** PEM labels of private keys the handlers cannot use: PKCS #1 and SEC 1 (not PKCS #8), and encrypted PKCS #8. */
const PKCS8_LABEL = 'PRIVATE KEY';

/**
 * A literal private key must be one unencrypted PKCS #8 PEM block (what the handlers import); a token is checked by the
 * handler. The message never shows the key.
 */
function validatePrivateKey(owner: string, value: SecretValue): void {
  const text = value.unsafeUnwrap();
  if (Token.isUnresolved(text)) {
    return;
  }
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]);
  const pem = new RegExp(`^\\s*-----BEGIN ${PKCS8_LABEL}-----\\s+[A-Za-z0-9+/=\\s]+-----END ${PKCS8_LABEL}-----\\s*$`);
  if (labels.length !== 1 || labels[0] !== PKCS8_LABEL || !pem.test(text)) {
    const found = labels.length === 0 ? 'no PEM block' : labels.length > 1 ? `${labels.length} PEM blocks` : `a '${labels[0]}' PEM block`;
    throw new Error(`${owner}: privateKey must be one unencrypted PKCS #8 PEM block (-----BEGIN ${PKCS8_LABEL}-----), got ${found}; `
      + 'convert it with `openssl pkcs8 -topk8 -nocrypt`');
  }
}

/** Bytes of the literal parts of a value's JSON: a lower bound of the value CloudFormation stores (tokens count 0). */
function literalJsonBytes(value: unknown): number {
  const strip = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return Token.isUnresolved(v) ? literalParts(v) : v;
    }
    if (typeof v === 'number') {
      return Token.isUnresolved(v) ? 0 : v;
    }
    if (Array.isArray(v)) {
      return v.map(strip);
    }
    if (v !== null && typeof v === 'object' && !Token.isUnresolved(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
    }
    return Token.isUnresolved(v) ? '' : v;
  };
  return Buffer.byteLength(typeof value === 'string' ? strip(value) as string : JSON.stringify(strip(value)), 'utf8');
}

/** The literal parts of a string with tokens, concatenated (the tokens left out). */
function literalParts(value: string): string {
  return Tokenization.reverseString(value)
    .mapTokens({ mapToken: () => '' })
    .join({ join: (left: any, right: any) => `${left ?? ''}${right ?? ''}` });
}

/** Refuses a value over Secrets Manager's limit. */
function assertSecretSize(owner: string, property: string, bytes: number, what: string): void {
  if (bytes > MAX_SECRET_VALUE_BYTES) {
    throw new Error(`${owner}: ${property} is too large: ${what} is at least ${bytes} bytes, and Secrets Manager stores at most `
      + `${MAX_SECRET_VALUE_BYTES} bytes (64 KB) per secret value`);
  }
}

/**
 * Refuses SecretValues CloudFormation cannot put into `AWS::SecretsManager::Secret`: `ssm-secure` dynamic references
 * are resolved only in a fixed list of resource properties, which does not include it.
 */
function assertSupportedSecretValue(stack: Stack, owner: string, property: string, value: SecretValue): void {
  const resolved = JSON.stringify(stack.resolve(value.unsafeUnwrap()) ?? '');
  if (resolved.includes('{{resolve:ssm-secure:')) {
    throw new Error(`${owner}: ${property} uses an ssm-secure reference (SecretValue.ssmSecure), which CloudFormation does not `
      + 'resolve in AWS::SecretsManager::Secret (deployment fails with "SSM Secure reference is not supported"); use '
      + 'SecretValue.secretsManager, a NoEcho SecretValue.cfnParameter, or a generated value');
  }
}
