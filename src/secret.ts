import { Annotations, Aws, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { SecretEncryptionKey } from './encryption-key';
import { PasswordPolicy } from './password-policy';
import { assertLiteral } from './private/validation';
import { SecretPolicy } from './resource-policy';
import { RotationEngine } from './rotation/rotation-engine';
import { IRotationFunction, RotationFunction, RotationFunctionOptions } from './rotation/rotation-function';
import { SecretRotation, SecretRotationOptions } from './rotation/secret-rotation';
import { RenderedSecretValue, SecretTemplate } from './secret-template';

const OWNER = 'Secret';
const ACCOUNT_ID_PATTERN = /^\d{12}$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>` */
const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/;
/** The hyphen and 6 random letters or digits Secrets Manager appends to a secret's name in its complete ARN. */
const COMPLETE_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;
/** IAM principals of one account that may appear in a resource policy's Principal element. */
const IAM_PRINCIPAL_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):(root|(role|user)\/[\w+=,.@\-/]+)$/;
/** Secret names usable in an ARN pattern of a key-policy condition: no IAM wildcard can slip in (see shareWithAccount). */
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** The id of the warning that an account a secret is shared with may not reach the VPC endpoints its policy requires. */
const SHARE_OUTSIDE_ENDPOINTS_WARNING = 'cdk-secrets-platform:shareWithAccountOutsideVpcEndpoints';
const READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];

/**
 * Which customer-managed key encrypts a {@link Secret} that is given no `encryptionKey`.
 */
export enum SecretKeyStrategy {
  /**
   * The stack's one shared `SecretEncryptionKey` (`SecretEncryptionKey.shared(stack)`), with removal policy RETAIN:
   * one key, one alias and one monthly key charge per stack, however many secrets it encrypts. Its policy does not grow
   * with the secrets; what one secret shared with another account adds to it is limited to that secret when the secret
   * has a literal `secretName`.
   */
  SHARED_PER_STACK = 'SHARED_PER_STACK',

  /**
   * A `SecretEncryptionKey` of the secret's own (id `Key` under the secret, alias from its path) with the secret's
   * removal policy: a key policy, CloudTrail record and key charge per secret, and a key that can be disabled or
   * deleted for this secret alone. Adds an `AWS::KMS::Key` and an `AWS::KMS::Alias` per secret.
   */
  PER_SECRET = 'PER_SECRET',
}

/**
 * A replica of a secret in another region.
 */
export interface SecretReplica {
  /**
   * The replica's region, for example `eu-west-1`; not the secret's own region (checked at synth when the stack's region
   * is known).
   */
  readonly region: string;

  /**
   * A customer-managed key in the replica's region (for example a `SecretEncryptionKey` of a stack in that region,
   * or `kms.Key.fromKeyArn` with an ARN of that region). Its key policy must let Secrets Manager in that region use it
   * for the account, as `SecretEncryptionKey`'s does. Required: without it Secrets Manager would use the AWS managed key.
   */
  readonly encryptionKey: kms.IKey;
}

/**
 * Properties of a {@link Secret}.
 *
 * The value is given by at most one of `template`, `generateSecretString`, `secretStringValue`, `secretObjectValue`
 * and `withoutInitialValue`; with none of them Secrets Manager generates a password with `passwordPolicy`.
 */
export interface SecretProps {
  /**
   * The secret's name (1 to 256 of letters, digits and `/_+=.@-`; do not end it with a hyphen and 6 characters).
   *
   * @default - a name CloudFormation generates
   */
  readonly secretName?: string;

  /**
   * A description of the secret.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * The customer-managed KMS key that encrypts the secret. The AWS managed key (`alias/aws/secretsmanager`) is refused:
   * it cannot be shared with other accounts and its policy cannot be restricted.
   *
   * A `kms.Key` of this app gets aws-cdk-lib's key-policy statements for Secrets Manager; an imported key's policy must
   * already allow the account to use it through Secrets Manager.
   *
   * @default - the key `keyStrategy` selects: the stack's shared `SecretEncryptionKey`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Which key encrypts the secret when `encryptionKey` is not given (giving both is refused).
   *
   * @default SecretKeyStrategy.SHARED_PER_STACK
   */
  readonly keyStrategy?: SecretKeyStrategy;

  /**
   * What happens to the secret, its resource policy and (with `SecretKeyStrategy.PER_SECRET`) its key when they leave
   * the stack. The stack's shared key is always RETAIN: it must outlive every secret it encrypts.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Regions to replicate the secret to, each with its own customer-managed key in that region.
   *
   * @default - not replicated
   */
  readonly replicaRegions?: SecretReplica[];

  /**
   * A typed JSON value: database credentials whose `password` Secrets Manager generates with the template's
   * `PasswordPolicy` (not in the template: only the JSON without the password is), or OAuth credentials whose issued
   * values follow the rules of `secretStringValue`. Use `addRotation` so the rotation function uses the same policy.
   *
   * @default - no template
   */
  readonly template?: SecretTemplate;

  /**
   * A generator exactly as aws-cdk-lib's `secretsmanager.Secret` takes it, rendered unchanged into the secret's
   * `GenerateSecretString`. It is for secrets migrated from aws-cdk-lib: CloudFormation generates a new value when
   * `GenerateSecretString` changes, and keeps the value while it stays the same. An aws-cdk-lib secret created without
   * `generateSecretString`, `secretStringValue` and `secretObjectValue` was generated with `{}`: pass `{}`.
   *
   * New secrets should use `template` or `passwordPolicy`: their one `PasswordPolicy` also drives rotation. With this
   * generator the secret has no `passwordPolicy`, so give `addRotation` a `rotationFunctionOptions.passwordPolicy` that
   * matches it.
   *
   * @default - none
   */
  readonly generateSecretString?: secretsmanager.SecretStringGenerator;

  /**
   * How the value is generated when no `template`, `generateSecretString`, `secretStringValue`, `secretObjectValue`
   * or `withoutInitialValue` is given. Generated values never appear in the CloudFormation template.
   *
   * @default - `new PasswordPolicy()`: 32 characters, excluding `/ @ " ' \`
   */
  readonly passwordPolicy?: PasswordPolicy;

  /**
   * A string value. Where it ends up:
   *
   * - a literal (`SecretValue.unsafePlainText('...')`) is written into the CloudFormation template in plain text (and
   *   into `cdk.out`, the CDK asset bucket and CloudFormation's stored template);
   * - `SecretValue.secretsManager(...)`, `SecretValue.cfnDynamicReference(...)` of a Secrets Manager reference and
   *   resource attributes (`accessKey.secretAccessKey`) are resolved by CloudFormation and are not in the template;
   * - a `NoEcho` parameter (`SecretValue.cfnParameter`) is not in the template, but passes through the deployment;
   * - `SecretValue.ssmSecure(...)` is refused: CloudFormation resolves `ssm-secure` references only in a fixed list of
   *   resource properties, which does not include `AWS::SecretsManager::Secret`.
   *
   * At most 65,536 bytes; literal values are measured at synth, tokens cannot be (only their literal parts count).
   *
   * @default - no string value
   */
  readonly secretStringValue?: SecretValue;

  /**
   * A JSON object value, one `SecretValue` per key; each value lands in the template or not as described for
   * `secretStringValue`. CloudFormation inserts values it resolves (references, attributes, parameters) into the JSON
   * as they are, without escaping, so they must not contain `"` or `\`. The JSON is at most 65,536 bytes (literal parts
   * measured at synth).
   *
   * @default - no object value
   */
  readonly secretObjectValue?: { [key: string]: SecretValue };

  /**
   * Create the secret without a value (no version) and put the value outside CloudFormation. This is how a binary
   * secret is stored: CloudFormation's `AWS::SecretsManager::Secret` has no `SecretBinary`, so after deploying, put the
   * bytes with `aws secretsmanager put-secret-value --secret-id <arn> --secret-binary fileb://<file>` (or the SDK's
   * `PutSecretValue` with `SecretBinary`) as a principal allowed by `grantWrite`. The bytes never enter the template;
   * later deployments leave the value alone. Until a value is put, `GetSecretValue` fails and rotation cannot start.
   *
   * @default false
   */
  readonly withoutInitialValue?: boolean;
}

/**
 * Options of {@link Secret.shareWithAccount}.
 */
export interface ShareWithAccountOptions {
  /**
   * IAM principals of the other account that may read the secret, as ARNs
   * (`arn:<partition>:iam::<accountId>:role/<name>`, `...:user/<name>` or `...:root`); every one must be in `accountId`.
   *
   * @default - the whole account (its root ARN): the other account's IAM policies decide which of its principals read
   */
  readonly principalArns?: string[];
}

/**
 * Options of {@link Secret.addRotation}.
 */
export interface SecretAddRotationOptions extends SecretRotationOptions {
  /**
   * What rotates the secret.
   *
   * @default - the engine of `rotationFunction`, else the template's `rotationEngine`; one is required
   */
  readonly engine?: RotationEngine;

  /**
   * The function that rotates the secret.
   *
   * @default - `RotationFunction.shared(...)` with `rotationFunctionOptions` and the template's password policy
   */
  readonly rotationFunction?: IRotationFunction;

  /**
   * Placement and settings of the shared function when `rotationFunction` is not given. Its `passwordPolicy`, if
   * given, must equal the template's.
   *
   * @default - the template's password policy, not in a VPC
   */
  readonly rotationFunctionOptions?: RotationFunctionOptions;
}

/**
 * Options of {@link Secret.fromArn}.
 */
export interface SecretArnImportOptions {
  /**
   * The key that encrypts the secret. For a `kms.Key` of this app, `grantRead` and `grantWrite` then also add key-policy
   * statements for the grantee through Secrets Manager; for an imported key aws-cdk-lib adds nothing, so give the reader
   * `kms:Decrypt` on it yourself.
   *
   * @default - no key: grants cover the secret only
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * A Secrets Manager secret with hardened defaults; an `ISecret` (and a `secretsmanager.Secret`), so `grantRead`,
 * `secretValueFromJson`, `addRotationSchedule`, `attach` and the static imports keep working.
 *
 * - Encrypted with a customer-managed key, never the AWS managed key: the given one, else the stack's shared
 *   `SecretEncryptionKey` (or one per secret with `SecretKeyStrategy.PER_SECRET`).
 * - Always has a resource policy, with `BlockPublicPolicy: true` and checked at synth to be not public (whatever adds
 *   statements to it later, including `SecretPolicy` presets).
 * - Denies `secretsmanager:DeleteSecret` to the account's root user (see {@link Secret.denyAccountRootDelete}).
 * - Removal policy RETAIN by default, for the secret and its resource policy; always for the stack's shared key.
 * - Replicas only with their own customer-managed key.
 * - Values from a typed `SecretTemplate` (one `PasswordPolicy` for the first value and, with `addRotation`, every
 *   rotation), a string, a JSON object, a generated password, or none (binary values, put outside CloudFormation).
 * - `grantReadWithManagedPolicy` (customer-managed policy, cdk-nag clean) and `shareWithAccount` (resource policy and
 *   key policy in one call).
 */
export class Secret extends secretsmanager.Secret {
  /**
   * Imports a secret by ARN, telling complete from partial ARNs: a literal ARN whose name ends in a hyphen and 6 letters
   * or digits is complete (grants name that exact ARN), any other is partial (grants add `-??????`, which matches the
   * random suffix and nothing longer).
   *
   * A partial ARN of a secret whose name itself ends in a hyphen and 6 characters (which AWS advises against) is taken
   * as complete; grants then name an ARN that does not exist and access is denied, never widened: import such secrets
   * with `Secret.fromSecretPartialArn`.
   *
   * Tokens are refused: whether a token ARN is complete cannot be told at synth. Use `Secret.fromSecretCompleteArn` for
   * ARNs returned by Secrets Manager or CloudFormation (`Ref` of a secret), `Secret.fromSecretPartialArn` for ARNs
   * built from a name, or `Secret.fromSecretNameV2` for a name.
   *
   * @param scope the scope of the imported secret
   * @param id its id
   * @param secretArn the secret's ARN, a literal
   * @param options the secret's key
   */
  public static fromArn(scope: Construct, id: string, secretArn: string, options: SecretArnImportOptions = {}): secretsmanager.ISecret {
    const owner = `${OWNER}.fromArn`;
    if (Token.isUnresolved(secretArn)) {
      throw new Error(`${owner}: secretArn is a token, so whether it is a complete ARN (ending in a hyphen and 6 random characters) `
        + 'cannot be told at synth; call Secret.fromSecretCompleteArn for an ARN returned by Secrets Manager or CloudFormation '
        + '(Ref of a secret), Secret.fromSecretPartialArn for an ARN built from the name, or Secret.fromSecretNameV2 with the name');
    }
    const match = SECRET_ARN_PATTERN.exec(secretArn);
    if (!match) {
      throw new Error(`${owner}: secretArn must be a Secrets Manager secret ARN, arn:<partition>:secretsmanager:<region>:`
        + `<12-digit account>:secret:<name>, got '${secretArn}'`);
    }
    const complete = COMPLETE_ARN_SUFFIX.test(match[1]);
    return secretsmanager.Secret.fromSecretAttributes(scope, id, complete
      ? { secretCompleteArn: secretArn, encryptionKey: options.encryptionKey }
      : { secretPartialArn: secretArn, encryptionKey: options.encryptionKey });
  }

  /**
   * The customer-managed key that encrypts the secret. Always set on this class (optional only because it overrides
   * `secretsmanager.Secret#encryptionKey`).
   */
  public readonly encryptionKey?: kms.IKey;

  /** The template the value was built from, if any. */
  public readonly template?: SecretTemplate;

  /** The policy the first value was generated with (the template's, `passwordPolicy`, or the default); none for given values. */
  public readonly passwordPolicy?: PasswordPolicy;

  /** The secret's resource policy (it always has one). */
  public readonly resourcePolicy: secretsmanager.CfnResourcePolicy;

  /** The same key as `encryptionKey`, typed as always present. */
  private readonly key: kms.IKey;
  /** The secret's name when it is a literal, for key-policy conditions on the secret's ARN. */
  private readonly literalSecretName?: string;
  private readonly replicaRegionNames = new Set<string>();
  private readonly sharedAccounts = new Map<string, SharedAccount>();
  /** Warnings already added by the synth-time check of sharing (validation may run more than once). */
  private readonly sharingWarnings = new Set<string>();
  private readPolicy?: iam.ManagedPolicy;
  private rotation?: SecretRotation;
  private rootDeleteDenied = false;

  constructor(scope: Construct, id: string, props: SecretProps = {}) {
    const value = resolveValue(scope, props);
    assertCustomerManagedKey('encryptionKey', props.encryptionKey);
    const keyStrategy = resolveKeyStrategy(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    super(scope, id, {
      secretName: props.secretName,
      description: props.description,
      // a given key goes to aws-cdk-lib, which adds its Secrets Manager statements to a key of this app;
      // the default keys (shared or per secret) are SecretEncryptionKeys, whose policies already allow them
      encryptionKey: props.encryptionKey,
      generateSecretString: value.rendered.generateSecretString,
      secretStringValue: value.rendered.secretString !== undefined ? SecretValue.unsafePlainText(value.rendered.secretString) : undefined,
      removalPolicy,
    });
    this.template = props.template;
    this.passwordPolicy = value.passwordPolicy;
    this.literalSecretName = props.secretName !== undefined && !Token.isUnresolved(props.secretName) && SECRET_NAME_PATTERN.test(props.secretName)
      ? props.secretName
      : undefined;

    const cfn = this.node.defaultChild as secretsmanager.CfnSecret;
    if (props.withoutInitialValue) {
      // aws-cdk-lib generates a value when none is given; a secret without SecretString or GenerateSecretString has no version
      cfn.generateSecretString = undefined;
    }

    if (props.encryptionKey) {
      this.key = props.encryptionKey;
    } else if (keyStrategy === SecretKeyStrategy.PER_SECRET) {
      this.key = new SecretEncryptionKey(this, 'Key', {
        description: `Encrypts the secret ${this.node.path}; usable only through Secrets Manager (cdk-secrets-platform)`,
        removalPolicy,
      });
      cfn.kmsKeyId = this.key.keyArn;
    } else {
      // RETAIN whatever this secret's removal policy: other secrets, and this one's retained versions, need the key
      this.key = SecretEncryptionKey.shared(this);
      cfn.kmsKeyId = this.key.keyArn;
    }
    this.encryptionKey = this.key;

    (props.replicaRegions ?? []).forEach((replica, i) => {
      if (replica === undefined || replica === null) {
        throw new Error(`${OWNER}: replicaRegions[${i}] must be a SecretReplica ({ region, encryptionKey })`);
      }
      this.addReplica(`replicaRegions[${i}]`, replica.region, replica.encryptionKey);
    });

    this.denyAccountRootDelete();
    const policy = this.node.findChild('Policy') as secretsmanager.ResourcePolicy;
    this.resourcePolicy = policy.node.defaultChild as secretsmanager.CfnResourcePolicy;
    this.resourcePolicy.blockPublicPolicy = true;
    this.resourcePolicy.applyRemovalPolicy(removalPolicy);

    this.node.addValidation({
      validate: () => {
        try {
          SecretPolicy.assertNotPublic(policy.document);
          return [];
        } catch (e) {
          return [`${OWNER}: the resource policy of ${this.node.path} is public: ${(e as Error).message}`];
        }
      },
    });
    // at synth, because presets (SecretPolicy.applyTo) may be applied before or after shareWithAccount
    this.node.addValidation({ validate: () => this.checkSharingThroughVpcEndpoints(policy) });
  }

  /**
   * Denies `secretsmanager:DeleteSecret` on this secret to the account's root user: a Deny statement for every principal
   * with the condition `aws:PrincipalArn` equals `arn:<partition>:iam::<account>:root`. The constructor adds it; calling
   * this again adds nothing.
   *
   * It blocks the root user (console or API) from deleting the secret, including scheduling its deletion, while this
   * resource policy is attached.
   *
   * It does not block: IAM roles and users whose policies allow `DeleteSecret` (including the CloudFormation execution
   * role when a stack deletes a secret with removal policy DESTROY); the root user removing this statement first
   * (`PutResourcePolicy`, `DeleteResourcePolicy`) or creating an IAM principal that deletes the secret; deleting the
   * key, which makes the secret unreadable; removing replica regions. Use SCPs for stronger protection.
   *
   * Unlike aws-cdk-lib's `denyAccountRootDelete`, whose principal `arn:...:root` means every principal of the account
   * in a resource policy, this denies the root user only.
   */
  public denyAccountRootDelete(): void {
    if (this.rootDeleteDenied) {
      return;
    }
    this.rootDeleteDenied = true;
    this.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyDeleteByAccountRootUser',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:DeleteSecret'],
      resources: ['*'],
      conditions: { ArnEquals: { 'aws:PrincipalArn': `arn:${Aws.PARTITION}:iam::${Stack.of(this).account}:root` } },
    }));
  }

  /**
   * Adds a replica region with its customer-managed key (required, and in that region).
   *
   * @param region the replica's region
   * @param encryptionKey a customer-managed key in that region
   */
  public addReplicaRegion(region: string, encryptionKey?: kms.IKeyRef): void {
    this.addReplica('addReplicaRegion', region, encryptionKey);
  }

  /**
   * Lets a role read the secret through one customer-managed IAM policy per secret (created on first use, attached to
   * every role given): `secretsmanager:GetSecretValue` and `secretsmanager:DescribeSecret` on this secret's ARN, and
   * `kms:Decrypt` on its key only through Secrets Manager in this region (`kms:ViaService`). Unlike `grantRead`, which
   * writes an inline `DefaultPolicy` that cdk-nag's HIPAA, NIST and PCI packs reject, this passes all five packs.
   *
   * A role of another stack gets the policy through its own `ManagedPolicyArns` (an `iam.Role`) so the reference points
   * from the reader to the secret; an imported role is attached by the policy's `Roles`. Replicas are not covered.
   *
   * @param role the role that reads the secret
   * @returns the secret's read policy
   */
  public grantReadWithManagedPolicy(role: iam.IRole): iam.ManagedPolicy {
    if (!this.readPolicy) {
      this.readPolicy = new iam.ManagedPolicy(this, 'ReadPolicy', {
        description: `Read the secret ${this.node.path} and decrypt it through Secrets Manager`,
        statements: [
          new iam.PolicyStatement({
            sid: 'ReadSecret',
            actions: READ_ACTIONS,
            resources: [this.secretArn],
          }),
          new iam.PolicyStatement({
            sid: 'DecryptSecretViaSecretsManager',
            actions: ['kms:Decrypt'],
            resources: [this.key.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
          }),
        ],
      });
    }
    if (role instanceof iam.Role && Stack.of(role) !== Stack.of(this)) {
      role.addManagedPolicy(this.readPolicy);
    } else {
      this.readPolicy.attachToRole(role);
    }
    return this.readPolicy;
  }

  /**
   * Shares the secret with another account in one call, in the resource policy and in the key policy.
   *
   * - a resource-policy Allow of `secretsmanager:GetSecretValue` and `secretsmanager:DescribeSecret` for that account
   *   (its root, meaning the account, or the given principals of it);
   * - one key-policy statement for that account: `kms:Decrypt` only, with `kms:ViaService`
   *   `secretsmanager.<region>.amazonaws.com` and `kms:CallerAccount` that account, so it can decrypt only by reading a
   *   secret through Secrets Manager, never use the key directly or encrypt with it. When the secret has a literal
   *   `secretName`, the statement also requires `kms:EncryptionContext:SecretARN` of this secret
   *   (`arn:...:secret:<name>-??????`). A secret whose name CloudFormation generates cannot be named in the key policy
   *   (its ARN would make the key depend on the secret, which depends on the key), so then the statement covers every
   *   secret of the key that the account may read; with a shared key that is every secret of the stack whose resource
   *   policy lets that account read it.
   *
   * The other account's IAM policies must still allow its principals `GetSecretValue` on this secret's ARN and
   * `kms:Decrypt` on its key.
   *
   * The key must be one this app controls: a `SecretEncryptionKey` or another `kms.Key` defined in the app. An imported
   * key is refused, since its key policy cannot be changed from here. Sharing with the same account again adds the new
   * principals to its statement.
   *
   * At synth, the secret's resource policy is checked against `SecretPolicy.denyOutsideVpcEndpoints` (a Deny on
   * `aws:SourceVpce`): when every listed endpoint is one of this app whose endpoint policy admits only other accounts,
   * the account can never read the secret and synthesis fails; when the account might still reach a listed endpoint
   * (a VPC shared with it, an endpoint policy admitting its organization, endpoints known only by id), a warning
   * `cdk-secrets-platform:shareWithAccountOutsideVpcEndpoints` says so. Principals exempted from that Deny
   * (`exemptPrincipals`) are not reported.
   *
   * @param accountId the other account's 12-digit id (a literal)
   * @param options which principals of that account may read
   */
  public shareWithAccount(accountId: string, options: ShareWithAccountOptions = {}): void {
    const owner = `${OWNER}.shareWithAccount`;
    assertLiteral(owner, 'accountId', accountId);
    if (typeof accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(accountId)) {
      throw new Error(`${owner}: accountId must be a 12-digit AWS account id, got '${accountId}'`);
    }
    const stack = Stack.of(this);
    if (!Token.isUnresolved(stack.account) && accountId === stack.account) {
      throw new Error(`${owner}: accountId ${accountId} is the secret's own account; use grantReadWithManagedPolicy or grantRead`);
    }
    const principals = (options.principalArns ?? []).map((arn, i) => {
      const property = `principalArns[${i}]`;
      assertLiteral(owner, property, arn);
      const match = IAM_PRINCIPAL_ARN_PATTERN.exec(arn);
      if (!match) {
        throw new Error(`${owner}: ${property} must be the ARN of a role, user or root of account ${accountId} `
          + `(arn:<partition>:iam::${accountId}:role/<name>), without wildcards, got '${arn}'`);
      }
      if (match[1] !== accountId) {
        throw new Error(`${owner}: ${property} must be in account ${accountId}, got account ${match[1]} in '${arn}'`);
      }
      return new iam.ArnPrincipal(arn);
    });

    this.grantKeyToAccount(owner, accountId);

    const existing = this.sharedAccounts.get(accountId);
    const added = principals.length > 0 ? principals : [new iam.AccountPrincipal(accountId)];
    const readerArns = options.principalArns ?? [];
    if (existing) {
      existing.statement.addPrincipals(...added);
      readerArns.forEach((arn) => existing.principalArns.add(arn));
      existing.wholeAccount = existing.wholeAccount || readerArns.length === 0;
      return;
    }
    const statement = new iam.PolicyStatement({
      sid: `ShareWithAccount${accountId}`,
      principals: added,
      actions: READ_ACTIONS,
      resources: ['*'],
    });
    this.sharedAccounts.set(accountId, { statement, principalArns: new Set(readerArns), wholeAccount: readerArns.length === 0 });
    this.addToResourcePolicy(statement);
  }

  /**
   * Rotates the secret with a (shared) rotation function, using the template's password policy, master secret and (OAuth
   * client secrets) admin secret, so one policy generates the first value and every rotated one. Creates one `SecretRotation` under the secret.
   *
   * @param options engine, schedule and function settings
   */
  public addRotation(options: SecretAddRotationOptions = {}): SecretRotation {
    const owner = `${OWNER}.addRotation`;
    if (this.rotation) {
      throw new Error(`${owner}: ${this.node.path} already has a rotation; a secret has one rotation schedule`);
    }
    const template = this.template;
    const engine = options.engine ?? options.rotationFunction?.engine ?? template?.rotationEngine;
    if (!engine) {
      // the template says what kind of secret this is: suggest only engines that rotate it, never another family's
      const hint = template ? RotationEngine._suggest(template.kind, template.engine) : 'for example RotationEngine.POSTGRES_SINGLE_USER for a PostgreSQL secret';
      throw new Error(`${owner}: engine is required (the template names no rotationEngine); ${hint}`);
    }
    const mismatch = template ? engine._mismatch(template.kind, template.engine) : undefined;
    if (mismatch) {
      throw new Error(`${owner}: ${mismatch}`);
    }
    const policy = template?.passwordPolicy;
    const optionsPolicy = options.rotationFunctionOptions?.passwordPolicy;
    if (policy && optionsPolicy && optionsPolicy.toJson() !== policy.toJson()) {
      throw new Error(`${owner}: rotationFunctionOptions.passwordPolicy differs from the template's passwordPolicy; one policy must `
        + 'generate the first value and every rotation (leave it out to use the template\'s)');
    }
    const fn = options.rotationFunction;
    if (policy && fn && RotationFunction.isRotationFunction(fn) && fn.passwordPolicy.toJson() !== policy.toJson()) {
      throw new Error(`${owner}: rotationFunction generates passwords with a policy other than the template's passwordPolicy; one `
        + 'policy must generate the first value and every rotation');
    }
    if (options.masterSecret && template?.masterSecret && options.masterSecret !== template.masterSecret) {
      throw new Error(`${owner}: masterSecret differs from the template's masterSecret (its masterarn); leave it out to use the template's`);
    }
    if (options.adminSecret && template?.adminSecret && options.adminSecret !== template.adminSecret) {
      throw new Error(`${owner}: adminSecret differs from the template's adminSecret (its adminsecretarn); leave it out to use the template's`);
    }
    this.rotation = new SecretRotation(this, 'Rotation', {
      secret: this,
      engine,
      schedule: options.schedule,
      masterSecret: options.masterSecret ?? template?.masterSecret,
      adminSecret: options.adminSecret,
      rotateImmediatelyOnUpdate: options.rotateImmediatelyOnUpdate,
      rotationFunction: fn,
      rotationFunctionOptions: fn ? options.rotationFunctionOptions : { ...options.rotationFunctionOptions, passwordPolicy: optionsPolicy ?? policy },
    });
    return this.rotation;
  }

  private addReplica(property: string, region: string, encryptionKey: kms.IKeyRef | undefined): void {
    const stack = Stack.of(this);
    assertLiteral(OWNER, `${property}.region`, region);
    if (typeof region !== 'string' || !REGION_PATTERN.test(region)) {
      throw new Error(`${OWNER}: ${property}.region must be an AWS region such as 'eu-west-1', got '${region}'`);
    }
    if (!Token.isUnresolved(stack.region) && region === stack.region) {
      throw new Error(`${OWNER}: ${property}.region must not be the secret's own region (${region})`);
    }
    if (this.replicaRegionNames.has(region)) {
      throw new Error(`${OWNER}: ${property}.region ${region} is already a replica region`);
    }
    if (encryptionKey === undefined || encryptionKey === null) {
      throw new Error(`${OWNER}: ${property}.encryptionKey is required: a customer-managed key in ${region} (without one Secrets `
        + 'Manager would encrypt the replica with the AWS managed key)');
    }
    assertCustomerManagedKey(`${property}.encryptionKey`, encryptionKey);
    if (Stack.of(encryptionKey) === stack && !isImported(encryptionKey)) {
      throw new Error(`${OWNER}: ${property}.encryptionKey is a key of the secret's own stack, so it is in the secret's region; `
        + `give a key in ${region} (a SecretEncryptionKey in a stack of that region, or kms.Key.fromKeyArn)`);
    }
    const keyRegion = encryptionKey.env.region;
    if (!Token.isUnresolved(keyRegion) && keyRegion !== region) {
      throw new Error(`${OWNER}: ${property}.encryptionKey is in ${keyRegion}, not in the replica's region ${region}`);
    }
    this.replicaRegionNames.add(region);
    super.addReplicaRegion(region, encryptionKey);
  }

  private grantKeyToAccount(owner: string, accountId: string): void {
    const key = this.key;
    if (!(key instanceof kms.Key)) {
      throw new Error(`${owner}: the secret's encryptionKey is imported (${key.node.path}), so this app cannot add the key-policy `
        + `statement that lets account ${accountId} decrypt the secret; use a SecretEncryptionKey or kms.Key defined in this app, `
        + `or add to the key's policy an Allow of kms:Decrypt for account ${accountId} with kms:ViaService `
        + `secretsmanager.<region>.amazonaws.com and kms:CallerAccount ${accountId}`);
    }
    // the same statement for a SecretEncryptionKey and a plain kms.Key: decrypt via Secrets Manager, this secret if named
    SecretEncryptionKey._grantDecryptToAccount(key, accountId, this.literalSecretName !== undefined ? [this.literalSecretName] : undefined);
  }

  /**
   * The synth-time check of `shareWithAccount` against a VPC-endpoint Deny in the resource policy: errors for accounts
   * that can never pass it, a warning for accounts that might.
   */
  private checkSharingThroughVpcEndpoints(policy: secretsmanager.ResourcePolicy): string[] {
    if (this.sharedAccounts.size === 0) {
      return [];
    }
    const stack = Stack.of(this);
    const denies = vpcEndpointDenies(stack.resolve(policy.document));
    const errors: string[] = [];
    for (const [accountId, shared] of this.sharedAccounts) {
      for (const deny of denies) {
        if (isExempt(stack, deny, accountId, shared)) {
          continue;
        }
        const endpoints = deny.endpointIds.map((id) => endpointAdmission(stack, id, accountId));
        const listed = endpoints.map((e) => e.name).join(', ');
        const preset = `its resource policy denies every request that does not come through the VPC endpoint(s) ${listed} `
          + `(SecretPolicy.denyOutsideVpcEndpoints: aws:SourceVpce, Sid '${deny.sid}')`;
        if (!deny.otherConditions && endpoints.every((e) => e.admits === 'no')) {
          errors.push(`${OWNER}.shareWithAccount: accountId ${accountId} can never read ${this.node.path}: ${preset}, and the `
            + 'endpoint policy of each of them admits only principals of other accounts (aws:PrincipalAccount). Admit the account '
            + 'in the endpoint policies (SecretsManagerEndpoints organizationId, for an account of the organization), exempt its '
            + 'readers from the Deny (exemptPrincipals of denyOutsideVpcEndpoints), or do not share the secret');
          continue;
        }
        const message = `${OWNER}.shareWithAccount: accountId ${accountId} reads ${this.node.path} only if its principals call `
          + `Secrets Manager through one of those endpoints: ${preset}. That works from a VPC shared with the account whose `
          + 'endpoint policy admits it; otherwise exempt its readers from the Deny (exemptPrincipals of denyOutsideVpcEndpoints), '
          + `or acknowledge this warning (${SHARE_OUTSIDE_ENDPOINTS_WARNING}) when that is the plan`;
        if (!this.sharingWarnings.has(message)) {
          this.sharingWarnings.add(message);
          Annotations.of(this).addWarningV2(SHARE_OUTSIDE_ENDPOINTS_WARNING, message);
        }
      }
    }
    return errors;
  }
}

/** An account `shareWithAccount` shared the secret with, and which of its principals read. */
interface SharedAccount {
  readonly statement: iam.PolicyStatement;
  /** The principals named by `principalArns`. */
  readonly principalArns: Set<string>;
  /** Shared with the whole account (a call without `principalArns`). */
  wholeAccount: boolean;
}

/** A Deny statement of a resource policy on `aws:SourceVpce`, as rendered. */
interface VpcEndpointDeny {
  readonly sid: string;
  /** The endpoint ids it requires, as rendered (literal ids, `Ref`s, imports). */
  readonly endpointIds: unknown[];
  /** `aws:PrincipalArn` patterns it does not apply to (literal ones only). */
  readonly exemptArnPatterns: string[];
  /** Conditions other than the endpoint, service and principal exemptions: who it applies to cannot be told. */
  readonly otherConditions: boolean;
}

/** Condition keys of `SecretPolicy.denyOutsideVpcEndpoints`; any other makes the Deny's reach unknown here. */
const VPC_DENY_KEYS = ['aws:sourcevpce', 'aws:principalisawsservice', 'aws:viaawsservice', 'aws:principalarn'];

/** The Deny statements of a rendered resource policy that require requests to come through VPC endpoints. */
function vpcEndpointDenies(document: any): VpcEndpointDeny[] {
  const statements: any[] = [document?.Statement ?? []].flat();
  return statements.flatMap((statement, i) => {
    if (statement?.Effect !== 'Deny' || typeof statement.Condition !== 'object' || statement.Condition === null) {
      return [];
    }
    let endpointIds: unknown[] | undefined;
    const exemptArnPatterns: string[] = [];
    let otherConditions = false;
    for (const [operator, block] of Object.entries<any>(statement.Condition)) {
      for (const [key, value] of Object.entries<any>(block ?? {})) {
        const op = operator.toLowerCase();
        const lowerKey = key.toLowerCase();
        if (lowerKey === 'aws:sourcevpce' && op.startsWith('stringnotequals')) {
          endpointIds = [value].flat();
        } else if (lowerKey === 'aws:principalarn' && (op.startsWith('arnnotlike') || op.startsWith('arnnotequals'))) {
          exemptArnPatterns.push(...[value].flat().filter((v): v is string => typeof v === 'string' && !Token.isUnresolved(v)));
        } else if (!VPC_DENY_KEYS.includes(lowerKey)) {
          otherConditions = true;
        }
      }
    }
    return endpointIds ? [{ sid: typeof statement.Sid === 'string' ? statement.Sid : `statement ${i + 1}`, endpointIds, exemptArnPatterns, otherConditions }] : [];
  });
}

/** Whether every reader of a shared account is exempt from the Deny (`aws:PrincipalArn` patterns). */
function isExempt(stack: Stack, deny: VpcEndpointDeny, accountId: string, shared: SharedAccount): boolean {
  const partition = Token.isUnresolved(stack.partition) ? 'aws' : stack.partition;
  const matches = (arn: string) => deny.exemptArnPatterns.some((pattern) => globMatches(pattern, arn));
  // the whole account reads: only a pattern that covers every role and user of the account exempts it
  const readers = shared.wholeAccount
    ? [`arn:${partition}:iam::${accountId}:role/any-role`, `arn:${partition}:iam::${accountId}:user/any-user`]
    : [...shared.principalArns];
  return readers.every(matches);
}

/** IAM `*` / `?` matching, case-sensitive like ARN matching. */
function globMatches(pattern: string, value: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(value);
}

interface EndpointAdmission {
  /** The endpoint's construct path, or its id as rendered. */
  readonly name: string;
  /** Whether its endpoint policy admits the account: `no` only when that is certain. */
  readonly admits: 'no' | 'maybe';
}

/** Finds the endpoint of the app behind an endpoint id of the Deny and tells whether its policy admits the account. */
function endpointAdmission(stack: Stack, endpointId: unknown, accountId: string): EndpointAdmission {
  const rendered = JSON.stringify(endpointId);
  const endpoint = stack.node.root.node.findAll()
    .find((c): c is ec2.CfnVPCEndpoint => c instanceof ec2.CfnVPCEndpoint && JSON.stringify(stack.resolve(c.ref)) === rendered);
  if (endpoint === undefined) {
    return { name: typeof endpointId === 'string' ? endpointId : rendered, admits: 'maybe' };
  }
  const name = (endpoint.node.scope as IConstruct | undefined)?.node.path ?? endpoint.node.path;
  const document = Stack.of(endpoint).resolve(endpoint.policyDocument);
  if (document === undefined || document === null) {
    // no endpoint policy: the endpoint admits every principal
    return { name, admits: 'maybe' };
  }
  const statements: any[] = [document.Statement ?? []].flat();
  const admits = statements.some((s) => s?.Effect === 'Allow' && allowsRead(s) && !principalExcludes(s.Principal, accountId)
    && !conditionExcludes(s.Condition, accountId));
  return { name, admits: admits ? 'maybe' : 'no' };
}

/** Whether an endpoint-policy Allow may cover `secretsmanager:GetSecretValue`. */
function allowsRead(statement: any): boolean {
  if (statement.NotAction !== undefined) {
    return true;
  }
  return [statement.Action ?? []].flat().some((a: unknown) => typeof a !== 'string' || Token.isUnresolved(a)
    || globMatches(a.toLowerCase(), 'secretsmanager:getsecretvalue'));
}

/** Whether a statement's Principal certainly names only principals of other accounts than `accountId`. */
function principalExcludes(principal: any, accountId: string): boolean {
  if (principal === undefined || principal === '*') {
    return false;
  }
  const values: unknown[] = [principal?.AWS ?? []].flat();
  if (values.length === 0 || Object.keys(principal).some((k) => k !== 'AWS')) {
    return false;
  }
  return values.every((v) => {
    if (typeof v !== 'string' || v === '*') {
      return false;
    }
    const account = /^\d{12}$/.test(v) ? v : /^arn:[^:]+:iam::(\d{12}):/.exec(v)?.[1];
    return account !== undefined && account !== accountId;
  });
}

/** Whether a statement's conditions certainly pin `aws:PrincipalAccount` to accounts other than `accountId`. */
function conditionExcludes(condition: any, accountId: string): boolean {
  for (const [operator, block] of Object.entries<any>(condition ?? {})) {
    if (operator.toLowerCase() !== 'stringequals') {
      continue;
    }
    for (const [key, value] of Object.entries<any>(block ?? {})) {
      const values: unknown[] = [value].flat();
      if (key.toLowerCase() === 'aws:principalaccount'
        && values.every((v) => typeof v === 'string' && !Token.isUnresolved(v) && v !== accountId)) {
        return true;
      }
    }
  }
  return false;
}

interface ResolvedValue {
  readonly rendered: RenderedSecretValue;
  readonly passwordPolicy?: PasswordPolicy;
}

/** Validates the value props and renders the CloudFormation value. */
function resolveValue(scope: Construct, props: SecretProps): ResolvedValue {
  const given = [
    props.template !== undefined ? 'template' : undefined,
    props.generateSecretString !== undefined ? 'generateSecretString' : undefined,
    props.secretStringValue !== undefined ? 'secretStringValue' : undefined,
    props.secretObjectValue !== undefined ? 'secretObjectValue' : undefined,
    props.withoutInitialValue ? 'withoutInitialValue' : undefined,
  ].filter((p): p is string => p !== undefined);
  if (given.length > 1) {
    throw new Error(`${OWNER}: give at most one of template, generateSecretString, secretStringValue, secretObjectValue and `
      + `withoutInitialValue, got ${given.join(' and ')}`);
  }
  if (props.passwordPolicy !== undefined && given.length > 0) {
    throw new Error(`${OWNER}: passwordPolicy applies only to a generated value; with ${given[0]} leave it out`
      + (given[0] === 'template' ? ' (a database template takes its own passwordPolicy)' : '')
      + (given[0] === 'generateSecretString' ? ' (generateSecretString already says how the value is generated)' : ''));
  }
  if (props.template !== undefined) {
    if (!(props.template instanceof SecretTemplate)) {
      throw new Error(`${OWNER}: template must be a SecretTemplate (SecretTemplate.database(...), SecretTemplate.oauthClient(...))`);
    }
    return { rendered: props.template._render(scope, OWNER, 'template'), passwordPolicy: props.template.passwordPolicy };
  }
  if (props.generateSecretString !== undefined) {
    if (typeof props.generateSecretString !== 'object' || props.generateSecretString === null) {
      throw new Error(`${OWNER}: generateSecretString must be a secretsmanager.SecretStringGenerator object ({} for aws-cdk-lib's default)`);
    }
    // unchanged, so the template keeps exactly what aws-cdk-lib rendered (see the migration section of the README)
    return { rendered: { generateSecretString: props.generateSecretString } };
  }
  if (props.secretStringValue !== undefined) {
    return { rendered: SecretTemplate._renderString(scope, OWNER, 'secretStringValue', props.secretStringValue) };
  }
  if (props.secretObjectValue !== undefined) {
    return { rendered: SecretTemplate._renderObject(scope, OWNER, 'secretObjectValue', props.secretObjectValue) };
  }
  if (props.withoutInitialValue) {
    return { rendered: {} };
  }
  const policy = props.passwordPolicy ?? new PasswordPolicy();
  return { rendered: { generateSecretString: policy.toSecretStringGenerator() }, passwordPolicy: policy };
}

/** The key strategy, checked against `encryptionKey`. */
function resolveKeyStrategy(props: SecretProps): SecretKeyStrategy {
  const strategy = props.keyStrategy;
  if (strategy === undefined) {
    return SecretKeyStrategy.SHARED_PER_STACK;
  }
  const allowed = Object.values(SecretKeyStrategy) as string[];
  if (!allowed.includes(strategy)) {
    throw new Error(`${OWNER}: keyStrategy must be one of ${allowed.map((a) => `SecretKeyStrategy.${a}`).join(', ')}, got '${strategy}'`);
  }
  if (props.encryptionKey !== undefined) {
    throw new Error(`${OWNER}: give at most one of encryptionKey and keyStrategy (keyStrategy chooses the key only when none is `
      + `given), got encryptionKey and keyStrategy ${strategy}`);
  }
  return strategy;
}

/** Refuses the AWS managed key (by alias) where a customer-managed key is required. */
function assertCustomerManagedKey(property: string, key: kms.IKeyRef | undefined): void {
  if (key === undefined) {
    return;
  }
  const names: unknown[] = [key.keyRef?.keyArn, key.keyRef?.keyId, (key as Partial<kms.IAlias>).aliasName];
  if (names.some((n) => typeof n === 'string' && !Token.isUnresolved(n) && /(^|:)alias\/aws\//.test(n))) {
    throw new Error(`${OWNER}: ${property} must be a customer-managed key; AWS managed keys (alias/aws/...) such as `
      + 'alias/aws/secretsmanager cannot be shared or restricted');
  }
}

/** Whether a key reference is an import (not a `kms.Key` defined in this app). */
function isImported(key: kms.IKeyRef): boolean {
  return !(key instanceof kms.Key);
}
