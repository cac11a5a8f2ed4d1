import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * A dead-letter queue as every function and rule of the library has one: encrypted with the given customer-managed key,
 * TLS only, messages kept for 14 days (SQS's longest) so a failure found late can still be read.
 */
export function encryptedDeadLetterQueue(scope: Construct, id: string, key: kms.IKey): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}
