import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PasswordPolicy } from '../../password-policy';
import { BundledEngineFamily, DATABASE_ENGINE_DEFAULTS, RotationScheme, defaultPasswordPolicy } from '../../private/contract';

/** An IAM statement an engine needs, with the reason for its wildcard resources that the cdk-nag suppression records. */
export interface EngineStatement {
  readonly statement: iam.PolicyStatement;
  /**
   * Why the statement's wildcard resources are needed (the AwsSolutions-IAM5 suppression reason). Bundled engines give
   * one for every statement with a wildcard; a custom engine's statements carry none (their findings are the user's).
   */
  readonly wildcardReason?: string;
}

/**
 * Password rules a database enforces beyond the registry's exclusions and longest password, checked against a
 * `PasswordPolicy` at synth: a policy that can generate a password the database refuses would fail a rotation instead.
 */
export interface PasswordRules {
  /** The rules in words, for messages, for example `8 to 64 characters, ...`. */
  readonly description: string;
  /**
   * Each rule the policy cannot guarantee, naming the policy's property (`excludeNumbers is true, but ...`); empty when
   * every password the policy generates follows the rules.
   */
  problems(policy: PasswordPolicy): string[];
}

/**
 * What an engine family adds on the construct side, beside its registry entries in `private/contract.ts`: the IAM
 * statements of its functions with their cdk-nag reasons, how it is named, its default password policy and the
 * password rules of its database.
 */
export interface EngineFamily {
  readonly family: BundledEngineFamily;
  /** How descriptions and messages name the family, for example `PostgreSQL`. */
  readonly displayName: string;
  /** Password rules of the database that a policy must guarantee; none beyond the registry's exclusions and length. */
  readonly passwordRules?: PasswordRules;
  /**
   * IAM statements a function of this family and scheme needs beyond the standard rotation permissions; new objects on
   * every call, so no two policies share a statement.
   */
  statements(scheme: RotationScheme): EngineStatement[];
  /** The family's default password policy (length 32, its required exclusions). */
  passwordPolicy(): PasswordPolicy;
}

/**
 * Refuses a password policy that cannot guarantee the family's password rules, naming the property that holds the
 * policy, the rules and every one the policy breaks.
 *
 * @param owner what the message starts with, for example `RotationFunction`
 * @param property the property that holds the policy, for example `passwordPolicy`
 */
export function assertPasswordRules(owner: string, property: string, family: EngineFamily, policy: PasswordPolicy): void {
  const rules = family.passwordRules;
  const problems = rules?.problems(policy) ?? [];
  if (rules !== undefined && problems.length > 0) {
    throw new Error(`${owner}: ${property} cannot guarantee ${family.displayName}'s password rules (${rules.description}): `
      + `${problems.join('; ')}`);
  }
}

/**
 * Alternating-user functions of RDS engines read the master secret's host and port from the database when the master is
 * an RDS-managed secret (`rds!db-...`, `rds!cluster-...`), whose JSON holds only user name and password.
 */
export function describeRdsDatabasesOfMasterSecrets(): EngineStatement {
  return {
    statement: new iam.PolicyStatement({
      sid: 'DescribeRdsDatabasesOfMasterSecrets',
      actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
      resources: [
        `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:*`,
        `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:*`,
      ],
    }),
    wildcardReason: 'rds:DescribeDBInstances and rds:DescribeDBClusters on the instances and clusters of the account and '
      + 'region: they resolve host and port of RDS-managed master secrets, whose databases are not known in advance.',
  };
}

/** The default password policy of a family: length 32 and the family's required exclusions, from the registry. */
export function familyPasswordPolicy(family: BundledEngineFamily): PasswordPolicy {
  return PasswordPolicy._fromContract(defaultPasswordPolicy(DATABASE_ENGINE_DEFAULTS[family].excludeCharacters));
}
