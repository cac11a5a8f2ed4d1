import { CfnResource } from 'aws-cdk-lib';

/**
 * One cdk-nag suppression, written into the resource's `cdk_nag` metadata.
 *
 * `src/` cannot import cdk-nag (it is a dev dependency only), so this writes the same metadata shape that
 * `NagSuppressions.addResourceSuppressions` writes: `{ rules_to_suppress: [{ id, reason, applies_to? }] }`.
 * Every suppression this library adds carries a reason and, for granular rules such as AwsSolutions-IAM5,
 * the exact findings it applies to, so new wildcards are still reported.
 */
export interface NagSuppression {
  /** Rule id, for example `AwsSolutions-IAM5` or `Serverless-SQSRedrivePolicy`. */
  readonly id: string;
  /** Why the finding is acceptable (cdk-nag requires at least 10 characters). */
  readonly reason: string;
  /** Findings the suppression applies to: exact strings or `{ regex: '/.../' }`. */
  readonly appliesTo?: Array<string | { regex: string }>;
}

/** The metadata key cdk-nag reads. */
export const NAG_METADATA_KEY = 'cdk_nag';

/** Adds suppressions to a resource, keeping any suppressions already there (including the user's). */
export function addNagSuppressions(resource: CfnResource, suppressions: NagSuppression[]): void {
  const existing: unknown[] = resource.getMetadata(NAG_METADATA_KEY)?.rules_to_suppress ?? [];
  const added = suppressions.map((s) => {
    if (s.reason.length < 10) {
      throw new Error(`cdk-nag suppression ${s.id} needs a reason of at least 10 characters`);
    }
    return s.appliesTo ? { id: s.id, reason: s.reason, applies_to: s.appliesTo } : { id: s.id, reason: s.reason };
  });
  const unique = Array.from(new Set([...existing, ...added].map((r) => JSON.stringify(r)))).map((r) => JSON.parse(r));
  resource.addMetadata(NAG_METADATA_KEY, { rules_to_suppress: unique });
}
