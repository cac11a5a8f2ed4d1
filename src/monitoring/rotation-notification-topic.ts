import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { addKeyStatement } from '../private/key-policy';

/** Properties of a {@link RotationNotificationTopic}. */
export interface RotationNotificationTopicProps {
  /**
   * The key that encrypts the topic. Its policy gains statements that let EventBridge and CloudWatch use it.
   *
   * @default - a new key with automatic rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The topic's display name (the sender of e-mail notifications).
   *
   * @default 'Secrets rotation'
   */
  readonly displayName?: string;
}

/**
 * A KMS-encrypted SNS topic for rotation notifications that only EventBridge and CloudWatch of this account may publish
 * to, and only over TLS.
 *
 * The topic policy allows `sns:Publish` to `events.amazonaws.com` and `cloudwatch.amazonaws.com` when the request comes
 * from this account (`aws:SourceAccount`), and denies it to every other principal (IAM users and roles included, so a
 * notification always comes from a rule or an alarm) and every request without TLS.
 */
export class RotationNotificationTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.Topic;
  /** The key that encrypts the topic. */
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: RotationNotificationTopicProps = {}) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'Encrypts the secrets rotation notification topic',
    });
    // SNS asks KMS for a data key on behalf of the publisher, so the publishing services need the key.
    addKeyStatement('RotationNotificationTopic', this, this.encryptionKey, new iam.PolicyStatement({
      sid: 'AllowEventBridgeAndCloudWatchToPublishToTheEncryptedTopic',
      principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }));

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName ?? 'Secrets rotation',
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowEventBridgeAndCloudWatchOfThisAccount',
      principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }));
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyPublishingByAnyoneElse',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      // absent for IAM users and roles, so IfExists makes the deny apply to them
      conditions: { StringNotEqualsIfExists: { 'aws:PrincipalServiceName': ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] } },
    }));
  }
}
