import * as iam from 'aws-cdk-lib/aws-iam';
import { EngineStatement } from './engine-family';
import { OAUTH_EXCHANGE_TAG } from '../../private/contract';
import { anySecretArn, nagArn } from '../../private/rotation-function-policy';

/**
 * The IAM of the bundled OAuth rotators beside the standard rotation permissions.
 *
 * An exchange the handler cannot repeat (a refresh-token exchange, a client secret the provider issues under RFC 7592)
 * is announced first by a tag on the rotated secret, so a retry can tell an exchange that happened but whose result was
 * lost. TagResource on the secret is the only write beyond the secret's value these functions need, and it is held to
 * that one tag key: a function that could set any tag could give a secret the tag by which another rotation function
 * reads master secrets (`cdk-secrets-platform:rotation-master-for:<name>`), or change tag-based access of other principals.
 */

/**
 * `secretsmanager:TagResource` on the secrets that name this function as their rotation function, for the exchange tag
 * only. The Service Authorization Reference lists `secretsmanager:resource/AllowRotationLambdaArn` and `aws:TagKeys` for
 * TagResource; `ForAllValues` is also true for a request without tag keys, hence the `Null` check.
 *
 * @param functionArn the function's ARN as a literal (the same value as the standard statement's condition)
 */
export function writeExchangeTagStatement(functionArn: string): EngineStatement {
  const anySecret = anySecretArn();
  return {
    statement: new iam.PolicyStatement({
      sid: 'TagRotatedSecretsWithTheExchangeTag',
      actions: ['secretsmanager:TagResource'],
      resources: [anySecret],
      conditions: {
        'StringEquals': { 'secretsmanager:resource/AllowRotationLambdaArn': functionArn },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [OAUTH_EXCHANGE_TAG] },
        'Null': { 'aws:TagKeys': 'false' },
      },
    }),
    wildcardReason: `Also secretsmanager:TagResource on ${nagArn(anySecret)}, but only on secrets whose rotation function is `
      + 'this function (condition secretsmanager:resource/AllowRotationLambdaArn) and only for the tag key '
      + `${OAUTH_EXCHANGE_TAG} (conditions ForAllValues:StringEquals and Null on aws:TagKeys): the OAuth rotator marks an `
      + 'exchange it cannot repeat before making it.',
  };
}
