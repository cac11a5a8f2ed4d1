import * as crypto from 'crypto';
import { Aws, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IConstruct } from 'constructs';
import { assertLiteral, isIntegerInRange } from './private/validation';

const OWNER = 'SecretEncryptionKey';

/** Marks SecretEncryptionKey instances across copies of this library in one app. */
const SECRET_ENCRYPTION_KEY_SYMBOL = Symbol.for('cdk-secrets-platform.SecretEncryptionKey');

/** The id of the stack's shared key, a direct child of the stack (see `SecretEncryptionKey.shared`). */
const SHARED_KEY_ID = 'SharedSecretEncryptionKey';

/**
 * Key administration without any cryptographic use. This is aws-cdk-lib's admin list (`kms.Key#grantAdmin`) with one
 * change: `kms:Create*` is narrowed to `kms:CreateAlias`, because `kms:Create*` also matches `kms:CreateGrant`, and a
 * grant is a way to give anyone (including the administrator) `kms:Decrypt` outside this key policy.
 */
const ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/** What Secrets Manager does with a secret's key on a caller's behalf (envelope encryption of secret versions). */
const USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];

const DEFAULT_PENDING_WINDOW_DAYS = 30;
const MAX_ALIAS_LENGTH = 256;
const ALIAS_PREFIX = 'alias/';
const ALIAS_PATTERN = /^alias\/[a-zA-Z0-9:/_-]+$/;
const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** Secrets Manager secret names: letters, digits and `/_+=.@-`, 1 to 512 characters (so no IAM wildcard `*` or `?`). */
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * What a key policy lets one other account do, per key: decrypt through Secrets Manager, either for every secret of the
 * key (`wholeKey`) or only for the named secrets. Kept beside the key object (a WeakMap, so it lives and dies with the
 * key) because the statement is rendered once per account and widened by later calls.
 */
interface AccountDecryptGrant {
  wholeKey: boolean;
  readonly secretNames: Set<string>;
}
const ACCOUNT_DECRYPT_GRANTS = new WeakMap<kms.Key, Map<string, AccountDecryptGrant>>();

/**
 * Properties of a {@link SecretEncryptionKey}.
 */
export interface SecretEncryptionKeyProps {
  /**
   * The key's alias: `alias/` followed by letters, digits, `/`, `_`, `-` or `:` (256 characters at most, including
   * the prefix; `alias/` is added when missing; `alias/aws/` is reserved for AWS).
   *
   * @default - `alias/secrets/<stack name>/<construct path under the stack>`, with other characters replaced by `-`
   */
  readonly alias?: string;

  /**
   * A description of the key.
   *
   * @default - 'Encrypts Secrets Manager secrets; usable only through Secrets Manager (cdk-secrets-platform)'
   */
  readonly description?: string;

  /**
   * Principals allowed to administer the key (the admin actions only, never Encrypt, Decrypt or CreateGrant), in
   * addition to the account, whose IAM policies can delegate administration.
   *
   * @default - only IAM principals of the account whose IAM policies allow the admin actions
   */
  readonly admins?: iam.IPrincipal[];

  /**
   * What happens to the key when it leaves the stack. Deleting the key makes every secret it encrypts unreadable.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Waiting period before a key scheduled for deletion is deleted, whole days from 7 to 30.
   *
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;

  /**
   * How often KMS rotates the key material (rotation is always on), whole days from 90 to 2560.
   *
   * @default Duration.days(365)
   */
  readonly rotationPeriod?: Duration;
}

/**
 * Options of {@link SecretEncryptionKey.grantToAccount}.
 */
export interface KeyAccountGrantOptions {
  /**
   * Limits the grant to these secrets of the key's account and region, by name: the statement then also requires the
   * encryption context Secrets Manager sends to KMS, `kms:EncryptionContext:SecretARN` like
   * `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-??????`. Literal names only (letters, digits and
   * `/_+=.@-`, 1 to 512 characters); a secret whose name CloudFormation generates cannot be named here.
   *
   * Several calls for the same account add names to its one statement; a call without `secretNames` for that account
   * widens it to every secret of the key.
   *
   * @default - every secret the key encrypts: the account may decrypt, through Secrets Manager, any secret of this key
   * whose resource policy lets its principals read it
   */
  readonly secretNames?: string[];
}

/**
 * A customer-managed KMS key for Secrets Manager secrets: a `kms.Key` (so an `IKey` everywhere) with rotation on,
 * an alias, removal policy RETAIN, a 30-day deletion window and a key policy that allows:
 *
 * - key administration (the admin actions only) to the account, so IAM policies can delegate it and CloudFormation
 *   passes the KMS key-policy lockout check, and to the `admins`;
 * - use (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey) to the account's IAM principals only through
 *   Secrets Manager in this region (`kms:ViaService` and `kms:CallerAccount`); to another account only `kms:Decrypt`
 *   through Secrets Manager, when added with `grantToAccount` (optionally only for named secrets);
 * - `kms:CreateGrant` only through Secrets Manager and only for AWS resources (`kms:GrantIsForAWSResource`); a Deny
 *   statement refuses every other CreateGrant, whatever is added to the policy later.
 *
 * The account never gets `kms:*` and nobody may use the key directly: `grantDecrypt` and friends add IAM statements
 * that are effective only through Secrets Manager.
 *
 * Rotation functions need nothing from the key beyond the account statement: a same-account function's IAM policy
 * allows `kms:Decrypt` and `kms:GenerateDataKey` through Secrets Manager (as `RotationFunction`'s policy does), and
 * the account statement delegates exactly that to IAM. A per-function key-policy statement would grow the key policy
 * with every function and allow nothing more, so this class has no `grantRotation`.
 *
 * One key can encrypt any number of secrets: its policy does not grow with the secrets of the account. `Secret` uses
 * the stack's shared key (`SecretEncryptionKey.shared`) unless given another.
 */
export class SecretEncryptionKey extends kms.Key {
  /**
   * The stack's shared key for secrets: the one `SecretEncryptionKey` of `Stack.of(scope)` that `Secret` uses when it
   * is given no key, created on first use with the defaults (alias `alias/secrets/<stack name>/SharedSecretEncryptionKey`)
   * and removal policy RETAIN whatever the secrets' removal policies are, since deleting it would make every secret it
   * encrypts unreadable. It is found in the construct tree under a deterministic id on the stack, never in a cache, so it
   * works with any number of apps and stacks.
   *
   * @param scope any construct in the stack that should hold the key
   */
  public static shared(scope: IConstruct): SecretEncryptionKey {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SHARED_KEY_ID);
    if (existing !== undefined) {
      if (!SecretEncryptionKey.isSecretEncryptionKey(existing)) {
        throw new Error(`${OWNER}.shared: the id '${SHARED_KEY_ID}' on stack ${stack.node.path} is taken by a construct that is not a `
          + 'SecretEncryptionKey');
      }
      return existing;
    }
    return new SecretEncryptionKey(stack, SHARED_KEY_ID, {
      description: 'Encrypts the Secrets Manager secrets of this stack that have no key of their own; usable only through Secrets '
        + 'Manager (cdk-secrets-platform)',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Whether `x` is a SecretEncryptionKey (works across copies of this library).
   *
   * @param x any value
   */
  public static isSecretEncryptionKey(x: any): x is SecretEncryptionKey {
    return x !== null && typeof x === 'object' && SECRET_ENCRYPTION_KEY_SYMBOL in x;
  }

  /**
   * Adds (or widens) the one key-policy statement that lets another account decrypt through Secrets Manager: principal
   * that account's root, `kms:Decrypt` only, `kms:ViaService` Secrets Manager in the key's region, `kms:CallerAccount`
   * that account and, while every grant to it named secrets, `kms:EncryptionContext:SecretARN` of those secrets. Used
   * by `grantToAccount` and by `Secret.shareWithAccount` for a plain `kms.Key`.
   *
   * @internal
   */
  public static _grantDecryptToAccount(key: kms.Key, accountId: string, secretNames: string[] | undefined): void {
    const stack = Stack.of(key);
    const grants = ACCOUNT_DECRYPT_GRANTS.get(key) ?? new Map<string, AccountDecryptGrant>();
    ACCOUNT_DECRYPT_GRANTS.set(key, grants);
    const existing = grants.get(accountId);
    const grant = existing ?? { wholeKey: false, secretNames: new Set<string>() };
    if (secretNames === undefined) {
      grant.wholeKey = true;
    } else {
      secretNames.forEach((name) => grant.secretNames.add(name));
    }
    if (existing) {
      return;
    }
    grants.set(accountId, grant);
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: `DecryptViaSecretsManagerByAccount${accountId}`,
      principals: [new iam.AccountPrincipal(accountId)],
      actions: ['kms:Decrypt'],
      resources: ['*'],
      conditions: {
        StringEquals: {
          'kms:ViaService': secretsManagerService(stack),
          'kms:CallerAccount': accountId,
        },
        // rendered at synth: later grants to the same account add names, or remove the limit (whole key)
        StringLike: Lazy.any({
          produce: () => {
            if (grant.wholeKey) {
              return undefined;
            }
            const arns = [...grant.secretNames].sort().map((name) =>
              `arn:${Aws.PARTITION}:secretsmanager:${stack.region}:${stack.account}:secret:${name}-??????`);
            return { 'kms:EncryptionContext:SecretARN': arns.length === 1 ? arns[0] : arns };
          },
        }),
      },
    }));
  }
  /** The alias created with the key. */
  public readonly alias: kms.Alias;

  /** The full alias name, `alias/...`. */
  public readonly aliasName: string;

  constructor(scope: Construct, id: string, props: SecretEncryptionKeyProps = {}) {
    const stack = Stack.of(scope);
    const pendingWindow = validatePendingWindow(props.pendingWindow);
    const rotationPeriod = validateRotationPeriod(props.rotationPeriod);
    const aliasName = props.alias !== undefined ? validateAlias(props.alias) : defaultAlias(scope, id);

    // The key policy is built here and passed as `policy`. With `@aws-cdk/aws-kms:defaultKeyPolicies` (expired in
    // CDK v2, so always on) kms.Key adds its default statement (`kms:*` for the account root) only when no `policy` is
    // given, and a given `policy` becomes the whole key policy. This keeps every later `addToResourcePolicy` and
    // `grant*` of kms.Key working on the same document, unlike overriding CfnKey.KeyPolicy, which would silently drop
    // statements added through the L2 API.
    const policy = new iam.PolicyDocument({ statements: keyPolicyStatements(stack, props.admins ?? []) });

    super(scope, id, {
      description: props.description ?? 'Encrypts Secrets Manager secrets; usable only through Secrets Manager (cdk-secrets-platform)',
      enableKeyRotation: true,
      rotationPeriod,
      pendingWindow,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      policy,
    });

    Object.defineProperty(this, SECRET_ENCRYPTION_KEY_SYMBOL, { value: true });
    this.aliasName = aliasName;
    this.alias = this.addAlias(aliasName);
  }

  /**
   * Lets another account decrypt secrets of this key through Secrets Manager in this region, for secrets shared with
   * that account by their resource policies: one key-policy statement per account, principal that account's root,
   * `kms:Decrypt` only (reading a secret needs nothing else), `kms:ViaService` Secrets Manager in this region and
   * `kms:CallerAccount` that account, so the account can neither use the key directly nor encrypt its own secrets with
   * it. With `secretNames` the statement also requires `kms:EncryptionContext:SecretARN` of those secrets; without, it
   * covers every secret of this key that the account may read. The other account's IAM policies must still allow its
   * principals `kms:Decrypt` on this key. The key's own account changes nothing.
   *
   * @param accountId the other account's 12-digit id
   * @param options which secrets the grant is limited to
   */
  public grantToAccount(accountId: string, options: KeyAccountGrantOptions = {}): void {
    const owner = `${OWNER}.grantToAccount`;
    assertLiteral(owner, 'accountId', accountId);
    if (typeof accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(accountId)) {
      throw new Error(`${owner}: accountId must be a 12-digit AWS account id, got '${accountId}'`);
    }
    const secretNames = options.secretNames;
    if (secretNames !== undefined) {
      if (secretNames.length === 0) {
        throw new Error(`${owner}: secretNames must hold 1 or more secret names, or be left out to grant every secret of the key`);
      }
      secretNames.forEach((name, i) => {
        assertLiteral(owner, `secretNames[${i}]`, name);
        if (typeof name !== 'string' || !SECRET_NAME_PATTERN.test(name)) {
          throw new Error(`${owner}: secretNames[${i}] must be a secret name of 1 to 512 letters, digits and /_+=.@- (no wildcards), `
            + `got '${name}'`);
        }
      });
    }
    if (accountId === Stack.of(this).account) {
      return;
    }
    SecretEncryptionKey._grantDecryptToAccount(this, accountId, secretNames);
  }
}

/** The statements of a new key's policy. */
function keyPolicyStatements(stack: Stack, admins: iam.IPrincipal[]): iam.PolicyStatement[] {
  const account = new iam.AccountRootPrincipal();
  const viaSecretsManager = {
    'kms:ViaService': secretsManagerService(stack),
    'kms:CallerAccount': stack.account,
  };
  const statements = [
    new iam.PolicyStatement({
      sid: 'AdministrationByAccount',
      principals: [account],
      actions: ADMIN_ACTIONS,
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'UseViaSecretsManagerByAccount',
      principals: [account],
      actions: USE_ACTIONS,
      resources: ['*'],
      conditions: { StringEquals: viaSecretsManager },
    }),
    new iam.PolicyStatement({
      sid: 'GrantsForAwsResourcesViaSecretsManagerByAccount',
      principals: [account],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        StringEquals: viaSecretsManager,
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
      },
    }),
    // kms:GrantIsForAWSResource is present on every CreateGrant request; false means a grant not made by an AWS service
    // for its resource. This also covers statements added later (aws-cdk-lib's Secret adds CreateGrant via Secrets
    // Manager without this condition).
    new iam.PolicyStatement({
      sid: 'DenyGrantsNotForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'false' } },
    }),
  ];
  if (admins.length > 0) {
    statements.splice(1, 0, new iam.PolicyStatement({
      sid: 'AdministrationByAdmins',
      principals: admins,
      actions: ADMIN_ACTIONS,
      resources: ['*'],
    }));
  }
  return statements;
}

/** The `kms:ViaService` value of Secrets Manager in the stack's region. */
function secretsManagerService(stack: Stack): string {
  return `secretsmanager.${stack.region}.amazonaws.com`;
}

function validatePendingWindow(pendingWindow: Duration | undefined): Duration {
  const window = pendingWindow ?? Duration.days(DEFAULT_PENDING_WINDOW_DAYS);
  assertLiteral(OWNER, 'pendingWindow', window);
  const days = window.toDays({ integral: false });
  if (!isIntegerInRange(days, 7, 30)) {
    throw new Error(`${OWNER}: pendingWindow must be whole days from 7 to 30, got ${window.toHumanString()}`);
  }
  return window;
}

function validateRotationPeriod(rotationPeriod: Duration | undefined): Duration | undefined {
  if (rotationPeriod === undefined) {
    return undefined;
  }
  assertLiteral(OWNER, 'rotationPeriod', rotationPeriod);
  const days = rotationPeriod.toDays({ integral: false });
  if (!isIntegerInRange(days, 90, 2560)) {
    throw new Error(`${OWNER}: rotationPeriod must be whole days from 90 to 2560, got ${rotationPeriod.toHumanString()}`);
  }
  return rotationPeriod;
}

function validateAlias(alias: string): string {
  assertLiteral(OWNER, 'alias', alias);
  const name = alias.startsWith(ALIAS_PREFIX) ? alias : `${ALIAS_PREFIX}${alias}`;
  if (name.toLowerCase().startsWith('alias/aws/')) {
    throw new Error(`${OWNER}: alias must not start with 'alias/aws/' (reserved for AWS managed keys), got '${alias}'`);
  }
  if (!ALIAS_PATTERN.test(name) || name.length > MAX_ALIAS_LENGTH) {
    throw new Error(`${OWNER}: alias must be 'alias/' followed by 1 or more of a-z A-Z 0-9 / _ - :, at most `
      + `${MAX_ALIAS_LENGTH} characters in all, got '${alias}'`);
  }
  return name;
}

/**
 * `alias/secrets/<stack name>/<path under the stack>`; characters an alias cannot hold become `-`; a name too long is
 * cut and ends in a hash of the full name so it stays unique.
 */
function defaultAlias(scope: Construct, id: string): string {
  const stack = Stack.of(scope);
  const stackName = Token.isUnresolved(stack.stackName) ? stack.node.id : stack.stackName;
  const underStack = [...scope.node.scopes.slice(scope.node.scopes.indexOf(stack) + 1).map((c) => c.node.id), id].join('/');
  const name = `${ALIAS_PREFIX}secrets/${stackName}/${underStack}`.replace(/[^a-zA-Z0-9:/_-]/g, '-');
  if (name.length <= MAX_ALIAS_LENGTH) {
    return name;
  }
  const hash = crypto.createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_ALIAS_LENGTH - hash.length - 1)}-${hash}`;
}
