import { DefaultStackSynthesizer, Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { assertLiteral } from './private/validation';

const OWNER = 'SecretPolicy';

/** Marks a CfnResourcePolicy that already carries the not-public validation. */
const VALIDATED_SYMBOL = Symbol.for('cdk-secrets-platform.SecretPolicy.validated');

/** The presets `applyTo` added to each secret (keyed by the secret construct, so it goes away with the app). */
const APPLIED_PRESETS = new WeakMap<secretsmanager.ISecret, SecretPolicy[]>();

/** The id of the resource policy this class creates for secrets whose `addToResourcePolicy` adds nothing (imported). */
const IMPORTED_POLICY_ID = 'SecretPolicy';

const ORGANIZATION_ID_PATTERN = /^o-[a-z0-9]{10,32}$/;
const VPC_ENDPOINT_ID_PATTERN = /^vpce-[0-9a-f]{8,17}$/;
/** Secrets Manager tag keys: letters, digits, spaces and `_ . : / = + - @`, 1 to 128 characters. */
const TAG_KEY_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const MAX_TAG_KEYS = 10;

/** Conditions that make a statement with Principal `*` non-public: they pin the caller's account, organization or network. */
const RESTRICTING_KEYS = [
  'aws:principalaccount',
  'aws:principalarn',
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:sourceaccount',
  'aws:sourceorgid',
  'aws:sourceorgpaths',
  'aws:sourcevpce',
  'aws:sourcevpc',
];
/** Operators under which a restricting key narrows who matches (not the `Not` or `IfExists` forms, which widen). */
const RESTRICTING_OPERATORS = [
  'stringequals',
  'stringequalsignorecase',
  'stringlike',
  'arnequals',
  'arnlike',
  'forallvalues:stringequals',
  'forallvalues:stringlike',
  'foranyvalue:stringequals',
  'foranyvalue:stringlike',
];

/**
 * Principals that a Deny preset does not apply to.
 */
export interface SecretPolicyExemptions {
  /**
   * IAM principals the Deny never applies to, matched on `aws:PrincipalArn` (a role matches all of its sessions).
   * `iam.ArnPrincipal` may hold `*` and `?` wildcards, for example
   * `new iam.ArnPrincipal('arn:aws:iam::123456789012:role/break-glass-*')`. Only principals with an IAM ARN (roles,
   * users, `ArnPrincipal`, `AccountPrincipal` for the root user) are accepted.
   *
   * @default - none
   */
  readonly exemptPrincipals?: iam.IPrincipal[];

  /**
   * Exempt the CloudFormation execution role of the secret's stack (the CDK bootstrap `cfn-exec-role` of a
   * `DefaultStackSynthesizer`), so deployments can keep updating, tagging and deleting the secret and its resource
   * policy. Without it a deployment from outside the VPC endpoint or by an unlisted principal is denied, and the stack
   * can no longer change the policy that denies it. Stacks with another synthesizer deploy with the caller's
   * credentials: exempt that role with `exemptPrincipals`.
   *
   * @default true
   */
  readonly exemptDeploymentRole?: boolean;
}

/** Builds a preset's statements for one secret. */
type StatementBuilder = (secret: secretsmanager.ISecret) => iam.PolicyStatement[];

/**
 * Resource-policy presets for Secrets Manager secrets. Each preset is a set of Deny statements; several presets
 * applied to one secret merge into its one resource policy:
 *
 * ```ts
 * SecretPolicy.applyTo(secret,
 *   SecretPolicy.denyWithoutTls(),
 *   SecretPolicy.denyOutsideOrganization('o-a1b2c3d4e5'),
 *   SecretPolicy.denyOutsideVpcEndpoints([endpoint]));
 * ```
 *
 * The Deny statements never grant anything, so exempting AWS service principals or a deployment role from them only
 * stops them from taking away access those principals get elsewhere.
 *
 * `applyTo` sets `BlockPublicPolicy` on the `AWS::SecretsManager::ResourcePolicy` and validates at synth that no
 * statement of the final policy, whoever added it, is public (see `assertNotPublic`).
 */
export class SecretPolicy {
  /**
   * Denies every Secrets Manager action to principals outside an AWS Organization (`aws:PrincipalOrgID`).
   *
   * AWS service principals (`aws:PrincipalIsAWSService`) are exempt: they carry no organization, and they act only where
   * a policy allows them. Requests that services make with a principal's own credentials (CloudFormation deploying,
   * Lambda rotation functions calling Secrets Manager) carry that principal's organization and pass. A missing
   * `aws:PrincipalOrgID` (an account outside any organization, anonymous callers) is denied (`IfExists`).
   *
   * @param organizationId the organization's id, `o-` followed by 10 to 32 lower-case letters or digits
   */
  public static denyOutsideOrganization(organizationId: string): SecretPolicy {
    const owner = `${OWNER}.denyOutsideOrganization`;
    assertLiteral(owner, 'organizationId', organizationId);
    if (!ORGANIZATION_ID_PATTERN.test(organizationId)) {
      throw new Error(`${owner}: organizationId must be 'o-' followed by 10 to 32 lower-case letters or digits `
        + `(o-[a-z0-9]{10,32}), got '${organizationId}'`);
    }
    return new SecretPolicy('denyOutsideOrganization', () => [
      denyStatement('DenyOutsideOrganization', ['secretsmanager:*'], {
        StringNotEqualsIfExists: { 'aws:PrincipalOrgID': organizationId },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      }),
    ]);
  }

  /**
   * Denies every Secrets Manager action on requests that do not arrive through one of the given interface VPC
   * endpoints (`aws:SourceVpce`).
   *
   * Exempt: AWS service principals (`aws:PrincipalIsAWSService`); requests an AWS service makes on a principal's
   * behalf with forward access sessions (`aws:ViaAWSService`, for example CloudFormation deploying with the caller's
   * credentials, or a `{{resolve:secretsmanager:...}}` dynamic reference), which never come from the VPC; the stack's
   * CloudFormation execution role (`exemptDeploymentRole`) and `exemptPrincipals`. Rotation functions must reach
   * Secrets Manager through one of the endpoints (place them in the VPC) or be exempted; `SecretRotation` refuses a
   * rotation function outside the endpoints' VPC (or outside any VPC) whose role is not exempt at synth.
   *
   * @param endpoints the Secrets Manager interface endpoints (1 or more)
   * @param exemptions principals the Deny does not apply to
   */
  public static denyOutsideVpcEndpoints(endpoints: ec2.IInterfaceVpcEndpoint[], exemptions: SecretPolicyExemptions = {}): SecretPolicy {
    const owner = `${OWNER}.denyOutsideVpcEndpoints`;
    if (endpoints.length === 0) {
      throw new Error(`${owner}: endpoints must hold 1 or more interface VPC endpoints, got an empty list`);
    }
    return SecretPolicy.vpcEndpointPolicy(owner, endpoints.map((e) => e.vpcEndpointId), exemptions);
  }

  /**
   * `denyOutsideVpcEndpoints` for endpoints known by id (for example endpoints of another stack or account).
   *
   * @param endpointIds the endpoint ids, `vpce-` followed by 8 to 17 hexadecimal digits (1 or more)
   * @param exemptions principals the Deny does not apply to
   */
  public static denyOutsideVpcEndpointIds(endpointIds: string[], exemptions: SecretPolicyExemptions = {}): SecretPolicy {
    const owner = `${OWNER}.denyOutsideVpcEndpointIds`;
    if (endpointIds.length === 0) {
      throw new Error(`${owner}: endpointIds must hold 1 or more VPC endpoint ids, got an empty list`);
    }
    for (const id of endpointIds) {
      if (!Token.isUnresolved(id) && !VPC_ENDPOINT_ID_PATTERN.test(id)) {
        throw new Error(`${owner}: endpointIds must be VPC endpoint ids, 'vpce-' followed by 8 to 17 hexadecimal digits, got '${id}'`);
      }
    }
    return SecretPolicy.vpcEndpointPolicy(owner, endpointIds, exemptions);
  }

  /**
   * Denies every Secrets Manager action on requests not sent over TLS (`aws:SecureTransport` false).
   */
  public static denyWithoutTls(): SecretPolicy {
    return new SecretPolicy('denyWithoutTls', () => [
      denyStatement('DenyWithoutTls', ['secretsmanager:*'], {
        Bool: { 'aws:SecureTransport': 'false' },
      }),
    ]);
  }

  /**
   * Denies every Secrets Manager action to all principals but the given ones (`aws:PrincipalArn`; a role matches all of
   * its sessions, `iam.ArnPrincipal` may hold wildcards). This only takes access away: the principals still need an
   * IAM policy (or an Allow) to use the secret.
   *
   * List every principal that reads, writes or rotates the secret, including its rotation function's role
   * (`SecretRotation` refuses a rotation whose function's role is left out, at synth). The stack's
   * CloudFormation execution role stays allowed unless `exemptDeploymentRole` is false; AWS service principals are
   * exempt. An `AccountPrincipal` matches only that account's root user.
   *
   * @param principals the IAM principals that keep access (1 or more)
   * @param exemptions further principals that keep access, and whether the deployment role does
   */
  public static restrictToPrincipals(principals: iam.IPrincipal[], exemptions: SecretPolicyExemptions = {}): SecretPolicy {
    const owner = `${OWNER}.restrictToPrincipals`;
    if (principals.length === 0) {
      throw new Error(`${owner}: principals must hold 1 or more IAM principals, got an empty list`);
    }
    const allowed = principalArns(owner, 'principals', principals);
    const exempt = exemptArns(owner, exemptions);
    return new SecretPolicy('restrictToPrincipals', (secret) => [
      denyStatement('RestrictToPrincipals', ['secretsmanager:*'], {
        ArnNotLikeIfExists: { 'aws:PrincipalArn': [...allowed, ...exempt(secret)] },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      }),
    ], { allowedPrincipalArns: allowed, exemptPrincipalArns: exempt.listed });
  }

  /**
   * Attribute-based access: a principal may read (`GetSecretValue`, `DescribeSecret`) the secret only when, for each
   * tag key, the secret's tag value equals the principal's tag value, and nobody may add, change or remove those tags
   * on the secret (`TagResource`/`UntagResource` with `aws:TagKeys`).
   *
   * Per tag key there are two Deny statements: one when `secretsmanager:ResourceTag/<key>` differs from
   * `${aws:PrincipalTag/<key>}` (a secret without the tag is denied too), and one when the principal has no such tag (a
   * policy variable that cannot be resolved must not switch the first statement off).
   *
   * Exempt: AWS service principals, the stack's CloudFormation execution role (`exemptDeploymentRole`; CloudFormation
   * sets the secret's tags) and `exemptPrincipals` — typically the rotation function's role, which rotates secrets of
   * every tag value.
   *
   * @param tagKeys the tag keys compared (1 to 10 distinct keys of 1 to 128 letters, digits, spaces or `_ . : / = + - @`,
   * not starting with `aws:`)
   * @param exemptions principals the Deny does not apply to
   */
  public static tagBasedAccess(tagKeys: string[], exemptions: SecretPolicyExemptions = {}): SecretPolicy {
    const owner = `${OWNER}.tagBasedAccess`;
    if (tagKeys.length === 0 || tagKeys.length > MAX_TAG_KEYS) {
      throw new Error(`${owner}: tagKeys must hold 1 to ${MAX_TAG_KEYS} tag keys, got ${tagKeys.length}`);
    }
    for (const key of tagKeys) {
      assertLiteral(owner, 'tagKeys', key);
      if (!TAG_KEY_PATTERN.test(key) || key.toLowerCase().startsWith('aws:')) {
        throw new Error(`${owner}: tagKeys must be 1 to 128 letters, digits, spaces or _ . : / = + - @, not starting with `
          + `'aws:', got '${key}'`);
      }
    }
    if (new Set(tagKeys.map((k) => k.toLowerCase())).size !== tagKeys.length) {
      throw new Error(`${owner}: tagKeys must be distinct (ignoring case), got ${tagKeys.map((k) => `'${k}'`).join(', ')}`);
    }
    const exempt = exemptArns(owner, exemptions);
    const sidParts = uniqueSidParts(tagKeys);
    return new SecretPolicy('tagBasedAccess', (secret) => {
      const exemptConditions = (): Record<string, unknown> => {
        const arns = exempt(secret);
        return {
          BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
          ...(arns.length > 0 ? { ArnNotLikeIfExists: { 'aws:PrincipalArn': arns } } : {}),
        };
      };
      const read = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
      return [
        ...tagKeys.flatMap((key, i) => [
          denyStatement(`DenyReadUnlessTag${sidParts[i]}Matches`, read, {
            StringNotEqualsIfExists: { [`secretsmanager:ResourceTag/${key}`]: `\${aws:PrincipalTag/${key}}` },
            ...exemptConditions(),
          }),
          denyStatement(`DenyReadWithoutPrincipalTag${sidParts[i]}`, read, {
            Null: { [`aws:PrincipalTag/${key}`]: 'true' },
            ...exemptConditions(),
          }),
        ]),
        denyStatement('DenyChangingAccessTags', ['secretsmanager:TagResource', 'secretsmanager:UntagResource'], {
          'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': [...tagKeys] },
          ...exemptConditions(),
        }),
      ];
    }, { exemptPrincipalArns: exempt.listed });
  }

  /**
   * Adds the presets' statements to the secret's resource policy (creating it if needed) and sets `BlockPublicPolicy`
   * on it. The policy is checked at synth: a public statement (see `assertNotPublic`) or two different statements with
   * the same Sid (a preset applied twice with different settings) fail the synthesis.
   *
   * For a secret whose `addToResourcePolicy` adds nothing (imported secrets), a new `AWS::SecretsManager::ResourcePolicy`
   * is created under the secret; it replaces any resource policy the secret has.
   *
   * @param secret the secret
   * @param policies the presets (1 or more)
   * @returns the secret's `AWS::SecretsManager::ResourcePolicy`
   */
  public static applyTo(secret: secretsmanager.ISecret, ...policies: SecretPolicy[]): secretsmanager.CfnResourcePolicy {
    if (policies.length === 0) {
      throw new Error(`${OWNER}.applyTo: policies must hold 1 or more presets, got none`);
    }
    const statements = policies.flatMap((p) => p.build(secret));
    APPLIED_PRESETS.set(secret, [...SecretPolicy._appliedTo(secret), ...policies]);
    let cfn: secretsmanager.CfnResourcePolicy | undefined;
    for (const statement of statements) {
      const result = secret.addToResourcePolicy(statement);
      if (result.statementAdded) {
        cfn = cfn ?? findCfnResourcePolicy(secret, result.policyDependable);
      } else {
        const policy = importedSecretPolicy(secret);
        policy.document.addStatements(statement);
        cfn = policy.node.defaultChild as secretsmanager.CfnResourcePolicy;
      }
    }
    cfn!.blockPublicPolicy = true;
    addValidation(cfn!);
    return cfn!;
  }

  /**
   * Throws when a policy document is public: an Allow statement with Principal `*` (or `NotPrincipal`) and no condition
   * that pins the caller (`StringEquals`, `StringLike`, `ArnEquals` or `ArnLike` on `aws:PrincipalAccount`,
   * `aws:PrincipalArn`, `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:SourceAccount`, `aws:SourceOrgID`,
   * `aws:SourceOrgPaths`, `aws:SourceVpce` or `aws:SourceVpc`, with a value that is not only wildcards). Secrets Manager
   * refuses such policies when `BlockPublicPolicy` is set; this finds them at synth and names the statement.
   *
   * @param document the resource policy
   */
  public static assertNotPublic(document: iam.PolicyDocument): void {
    const problems = publicStatementProblems(document.toJSON());
    if (problems.length > 0) {
      throw new Error(`${OWNER}.assertNotPublic: ${problems.join('; ')}`);
    }
  }

  /**
   * The presets `applyTo` has added to a secret's resource policy, in order: what constructs that use the secret
   * (`SecretRotation`) check their access against at synth.
   *
   * @internal
   */
  public static _appliedTo(secret: secretsmanager.ISecret): SecretPolicy[] {
    return APPLIED_PRESETS.get(secret) ?? [];
  }

  private static vpcEndpointPolicy(owner: string, endpointIds: string[], exemptions: SecretPolicyExemptions): SecretPolicy {
    const exempt = exemptArns(owner, exemptions);
    return new SecretPolicy('denyOutsideVpcEndpoints', (secret) => {
      const arns = exempt(secret);
      return [
        denyStatement('DenyOutsideVpcEndpoints', ['secretsmanager:*'], {
          StringNotEqualsIfExists: { 'aws:SourceVpce': [...endpointIds] },
          BoolIfExists: { 'aws:PrincipalIsAWSService': 'false', 'aws:ViaAWSService': 'false' },
          ...(arns.length > 0 ? { ArnNotLikeIfExists: { 'aws:PrincipalArn': arns } } : {}),
        }),
      ];
    }, { vpcEndpointIds: [...endpointIds], exemptPrincipalArns: exempt.listed });
  }

  /** The preset's name, for example `denyWithoutTls`. */
  public readonly name: string;

  /**
   * `denyOutsideVpcEndpoints`, `denyOutsideVpcEndpointIds`: the endpoint ids requests must come through
   * (`aws:SourceVpce`), as given (tokens included).
   *
   * @internal
   */
  public readonly _vpcEndpointIds?: string[];

  /**
   * `restrictToPrincipals`: the principal ARNs (`aws:PrincipalArn` patterns) that are not denied, besides the exempt ones.
   *
   * @internal
   */
  public readonly _allowedPrincipalArns?: string[];

  /**
   * The principal ARN patterns of `exemptPrincipals` (not the deployment role, which is never a rotation function's).
   *
   * @internal
   */
  public readonly _exemptPrincipalArns: string[];

  private readonly build: StatementBuilder;

  private constructor(name: string, build: StatementBuilder, rules: PresetRules = {}) {
    this.name = name;
    this.build = build;
    this._vpcEndpointIds = rules.vpcEndpointIds;
    this._allowedPrincipalArns = rules.allowedPrincipalArns;
    this._exemptPrincipalArns = rules.exemptPrincipalArns ?? [];
  }
}

/** A Deny statement for everyone on the secret; every Deny key uses `IfExists` where a missing key must deny. */
function denyStatement(sid: string, actions: string[], conditions: Record<string, unknown>): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions,
    resources: ['*'],
    conditions,
  });
}

/** What a preset lets through, recorded for the checks of `SecretRotation`. */
interface PresetRules {
  readonly vpcEndpointIds?: string[];
  readonly allowedPrincipalArns?: string[];
  readonly exemptPrincipalArns?: string[];
}

/** IAM ARNs of principals (`aws:PrincipalArn` values); refuses principals without one and the `*` principal. */
function principalArns(owner: string, property: string, principals: iam.IPrincipal[]): string[] {
  return principals.flatMap((p) => {
    const arns = p.policyFragment.principalJson.AWS ?? [];
    if (arns.length === 0 || arns.includes('*')) {
      throw new Error(`${owner}: ${property} must be IAM principals with an ARN (roles, users, ArnPrincipal, AccountPrincipal), `
        + `got ${p}`);
    }
    return arns;
  });
}

/** The exempt ARNs of a preset for a secret: the listed principals and, by default, the stack's deployment role. */
function exemptArns(owner: string, exemptions: SecretPolicyExemptions): ((secret: secretsmanager.ISecret) => string[]) & { listed: string[] } {
  const listed = principalArns(owner, 'exemptPrincipals', exemptions.exemptPrincipals ?? []);
  const deploymentRole = exemptions.exemptDeploymentRole ?? true;
  const forSecret = (secret: secretsmanager.ISecret) => {
    const synthesizer = Stack.of(secret).synthesizer;
    const roleArn = deploymentRole && synthesizer instanceof DefaultStackSynthesizer
      ? Fn.sub(synthesizer.cloudFormationExecutionRoleArn)
      : undefined;
    return roleArn !== undefined ? [roleArn, ...listed] : listed;
  };
  return Object.assign(forSecret, { listed });
}

/** Alphanumeric Sid fragments for tag keys (Sids allow only A-Z, a-z, 0-9), made unique with an index when needed. */
function uniqueSidParts(tagKeys: string[]): string[] {
  const parts = tagKeys.map((key) => key.replace(/[^A-Za-z0-9]/g, '').replace(/^[a-z]/, (c) => c.toUpperCase()));
  return parts.map((part, i) => (part === '' || parts.indexOf(part) !== i || parts.lastIndexOf(part) !== i ? `${part}${i + 1}` : part));
}

/** The `AWS::SecretsManager::ResourcePolicy` behind what `addToResourcePolicy` returned. */
function findCfnResourcePolicy(secret: secretsmanager.ISecret, dependable: unknown): secretsmanager.CfnResourcePolicy {
  const scopes = [dependable, secret].filter((d): d is IConstruct => typeof d === 'object' && d !== null && 'node' in d);
  for (const scope of scopes) {
    const found = scope.node.findAll().filter((c): c is secretsmanager.CfnResourcePolicy => c instanceof secretsmanager.CfnResourcePolicy);
    if (found.length === 1) {
      return found[0];
    }
  }
  throw new Error(`${OWNER}.applyTo: cannot find the AWS::SecretsManager::ResourcePolicy of secret ${secret.node.path}`);
}

/** The resource policy this class manages for a secret that has none of its own (imported secrets). */
function importedSecretPolicy(secret: secretsmanager.ISecret): secretsmanager.ResourcePolicy {
  const existing = secret.node.tryFindChild(IMPORTED_POLICY_ID);
  if (existing instanceof secretsmanager.ResourcePolicy) {
    return existing;
  }
  if (existing !== undefined) {
    throw new Error(`${OWNER}.applyTo: the id '${IMPORTED_POLICY_ID}' under secret ${secret.node.path} is taken by another construct`);
  }
  return new secretsmanager.ResourcePolicy(secret, IMPORTED_POLICY_ID, { secret });
}

/** Validates the final policy at synth (once per resource policy). */
function addValidation(cfn: secretsmanager.CfnResourcePolicy): void {
  if (VALIDATED_SYMBOL in cfn) {
    return;
  }
  Object.defineProperty(cfn, VALIDATED_SYMBOL, { value: true });
  cfn.node.addValidation({
    validate: () => {
      const document = Stack.of(cfn).resolve(cfn.resourcePolicy);
      return [
        ...publicStatementProblems(document).map((p) => `${OWNER}: ${p}`),
        ...duplicateSidProblems(document).map((p) => `${OWNER}: ${p}`),
      ];
    },
  });
}

/** Statements of a rendered policy document. */
function statementsOf(document: any): any[] {
  if (document === undefined || document === null) {
    return [];
  }
  const statements = document.Statement ?? [];
  return Array.isArray(statements) ? statements : [statements];
}

function describeStatement(statement: any, index: number): string {
  return `statement ${index + 1}${typeof statement.Sid === 'string' ? ` (Sid '${statement.Sid}')` : ''}`;
}

/** Why each public statement of a rendered policy document is public. */
function publicStatementProblems(document: any): string[] {
  const problems: string[] = [];
  statementsOf(document).forEach((statement, index) => {
    if (statement.Effect !== 'Allow') {
      return;
    }
    const name = describeStatement(statement, index);
    if (statement.NotPrincipal !== undefined) {
      problems.push(`${name} is an Allow with NotPrincipal, which allows everyone else; name the principals instead`);
      return;
    }
    if (allowsAnyone(statement.Principal) && !hasRestrictingCondition(statement.Condition)) {
      problems.push(`${name} is public: it allows Principal '*' without a StringEquals, StringLike, ArnEquals or ArnLike `
        + 'condition on aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:SourceAccount, '
        + 'aws:SourceOrgID, aws:SourceOrgPaths, aws:SourceVpce or aws:SourceVpc (Secrets Manager refuses public resource '
        + 'policies with BlockPublicPolicy)');
    }
  });
  return problems;
}

/** Different statements sharing a Sid (Sids must be unique in a policy). */
function duplicateSidProblems(document: any): string[] {
  const bySid = new Map<string, Set<string>>();
  for (const statement of statementsOf(document)) {
    if (typeof statement.Sid === 'string') {
      const variants = bySid.get(statement.Sid) ?? new Set<string>();
      variants.add(JSON.stringify(statement));
      bySid.set(statement.Sid, variants);
    }
  }
  return [...bySid.entries()]
    .filter(([, variants]) => variants.size > 1)
    .map(([sid]) => `Sid '${sid}' is used by ${bySid.get(sid)!.size} different statements; apply each preset once per secret, `
      + 'with all its values');
}

function allowsAnyone(principal: any): boolean {
  if (principal === '*') {
    return true;
  }
  if (principal === undefined || principal === null || typeof principal !== 'object') {
    return false;
  }
  return Object.values(principal).some((value) => value === '*' || (Array.isArray(value) && value.includes('*')));
}

function hasRestrictingCondition(condition: any): boolean {
  if (condition === undefined || condition === null || typeof condition !== 'object') {
    return false;
  }
  return Object.entries(condition).some(([operator, keys]) => {
    if (!RESTRICTING_OPERATORS.includes(operator.toLowerCase()) || keys === null || typeof keys !== 'object') {
      return false;
    }
    return Object.entries(keys as Record<string, unknown>).some(([key, value]) => {
      if (!RESTRICTING_KEYS.includes(key.toLowerCase())) {
        return false;
      }
      const values = Array.isArray(value) ? value : [value];
      return values.length > 0 && values.every((v) => typeof v !== 'string' || !/^[*?]*$/.test(v));
    });
  });
}
