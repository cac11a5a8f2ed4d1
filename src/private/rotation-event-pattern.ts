import * as events from 'aws-cdk-lib/aws-events';

/*
 * The EventBridge pattern for Secrets Manager's rotation events.
 *
 * What the documentation says (the sample events built from it are in test/fixtures/secretsmanager-events/, whose
 * README gives each file's source):
 *
 * - Rotation events are CloudTrail records of non-API service events. The Secrets Manager user guide, "AWS CloudTrail
 *   entries for Secrets Manager" (https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html),
 *   lists RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned and, for the validation run that a
 *   rotation schedule without immediate rotation gets, TestRotationStarted, TestRotationSucceeded and
 *   TestRotationFailed (the Test* entries as listed in the guide's source published in awsdocs/aws-secrets-manager-docs,
 *   retrieve-ct-entries.md). Operations (RotateSecret, PutSecretValue, ...) are "AWS API Call via CloudTrail" events; the
 *   rotation events are not operations.
 * - EventBridge delivers a CloudTrail record of a service event with `detail-type` "AWS Service Event via CloudTrail"
 *   (EventBridge user guide, "AWS service events delivered via AWS CloudTrail",
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html; CloudTrail user guide,
 *   "AWS service events", https://docs.aws.amazon.com/awscloudtrail/latest/userguide/non-api-aws-service-events.html:
 *   `eventType` is AwsServiceEvent). `source` is "aws.secretsmanager" and `detail.eventSource`
 *   "secretsmanager.amazonaws.com" (EventBridge events reference, "AWS Secrets Manager events",
 *   https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-secretsmanager.html). `detail` is the CloudTrail
 *   record; `detail.eventName` is the event's name.
 * - Where the secret's ARN is: the documented rotation record (RotationFailed) carries the complete ARN in
 *   `detail.additionalEventData.SecretId`; `requestParameters` and `responseElements` are null, and the record has no
 *   `resources` and no `serviceEventDetails` (those two carry the key in KMS's RotateKey service event, not here).
 *   `detail.requestID` starts with "Rotation-" followed by the ARN, but it is an identifier, not a field to match.
 *   The EventBridge envelope's `resources` is empty for events delivered by CloudTrail ("Amazon EventBridge events":
 *   "API calls with AWS CloudTrail do not include resource ARNs"). So the ARN lives in one field, and the pattern
 *   needs no `$or`.
 * - The `arn`/`aRN` note ("Match Secrets Manager events with EventBridge",
 *   https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html, and the note at the top of
 *   the CloudTrail entries page: before February 2024 some operations reported "aRN") is about
 *   `responseElements` of API calls; rotation events have no `responseElements`.
 * - Secrets Manager also sends one native event, "Secret Label Updated" (user guide, "Secret event notifications"),
 *   with the ARN in the envelope's `resources`. It is not a rotation event; pinning `detail-type` keeps it out.
 * - Custom events cannot use a `source` that begins with "aws." ("Amazon EventBridge events"), so an application's
 *   PutEvents cannot forge a match.
 */

/** The documented names of Secrets Manager's rotation events (`detail.eventName`). */
export const ROTATION_EVENT_NAMES = {
  /** Secrets Manager started rotating a secret. */
  STARTED: 'RotationStarted',
  /** A rotation finished: the new version is AWSCURRENT. */
  SUCCEEDED: 'RotationSucceeded',
  /** A rotation failed; the service may try it again. */
  FAILED: 'RotationFailed',
  /** A new version was created during a rotation, so the service removed AWSPENDING and gave the rotation up. */
  ABANDONED: 'RotationAbandoned',
  /** The validation run (a schedule without immediate rotation: only testSecret) started. */
  TEST_STARTED: 'TestRotationStarted',
  /** The validation run succeeded. */
  TEST_SUCCEEDED: 'TestRotationSucceeded',
  /** The validation run failed: the secret would not rotate on its schedule. */
  TEST_FAILED: 'TestRotationFailed',
} as const;

/** Events that need a person: the rotation, or the validation of a new schedule, did not complete. */
export const ROTATION_FAILURE_EVENT_NAMES: readonly string[] = [
  ROTATION_EVENT_NAMES.FAILED,
  ROTATION_EVENT_NAMES.ABANDONED,
  ROTATION_EVENT_NAMES.TEST_FAILED,
];

/** Rotations starting and finishing, for the dashboard (validation runs are not rotations, so they are left out). */
export const ROTATION_ACTIVITY_EVENT_NAMES: readonly string[] = [
  ROTATION_EVENT_NAMES.STARTED,
  ROTATION_EVENT_NAMES.SUCCEEDED,
];

/** `source` of every Secrets Manager event. */
export const SECRETS_MANAGER_EVENT_SOURCE = 'aws.secretsmanager';
/** `detail-type` of a CloudTrail record of a service event (not an API call). */
export const SERVICE_EVENT_DETAIL_TYPE = 'AWS Service Event via CloudTrail';
/** `detail.eventSource` of Secrets Manager's CloudTrail records. */
export const SECRETS_MANAGER_EVENT_SERVICE = 'secretsmanager.amazonaws.com';

/** A secret whose rotation events a pattern selects. */
export interface SecretArnMatch {
  /** The secret's ARN; may be a token. */
  readonly arn: string;
  /**
   * Whether `arn` is the complete ARN, with the six characters Secrets Manager appends to the name. False for a
   * partial ARN such as the one of a secret imported by name (`secretFullArn` undefined).
   */
  readonly complete: boolean;
}

/**
 * The pattern that selects the named rotation events: of every secret in the rule's account and region, or, when
 * `secrets` is given, only of those.
 *
 * A complete ARN matches exactly. A partial ARN matches every ARN that starts with it followed by `-`, so `name` does
 * not select `name2-AbCdEf`. EventBridge has no single-character wildcard, so a partial ARN `name` also selects a
 * secret named `name-other` (ARN `name-other-AbCdEf`); give complete ARNs where secrets share such a prefix.
 * The ARNs are never inspected, so tokens work.
 */
export function rotationEventPattern(eventNames: readonly string[], secrets?: readonly SecretArnMatch[]): events.EventPattern {
  if (eventNames.length === 0) {
    // EventBridge rejects an empty value list, and a rule for no event is a mistake in the caller.
    throw new Error('rotationEventPattern: eventNames must name at least one event');
  }
  if (secrets !== undefined && secrets.length === 0) {
    // An empty list would select nothing (and EventBridge rejects it); "every secret" is `undefined`, not `[]`.
    throw new Error('rotationEventPattern: secrets must list at least one secret when given (omit it for every secret)');
  }
  const detail: { [key: string]: unknown } = {
    eventSource: [SECRETS_MANAGER_EVENT_SERVICE],
    eventName: unique(eventNames),
  };
  if (secrets !== undefined) {
    detail.additionalEventData = { SecretId: secretIdMatchers(secrets) };
  }
  return {
    source: [SECRETS_MANAGER_EVENT_SOURCE],
    detailType: [SERVICE_EVENT_DETAIL_TYPE],
    detail,
  };
}

/** One value per secret: the ARN itself, or a prefix that ends where Secrets Manager's suffix begins. */
function secretIdMatchers(secrets: readonly SecretArnMatch[]): unknown[] {
  const seen = new Set<string>();
  const matchers: unknown[] = [];
  for (const secret of secrets) {
    const key = `${secret.complete ? 'exact' : 'prefix'}:${secret.arn}`;
    if (seen.has(key)) continue;
    seen.add(key);
    matchers.push(secret.complete ? secret.arn : { prefix: `${secret.arn}-` });
  }
  return matchers;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
