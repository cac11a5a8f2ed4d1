import { Stack, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';

/**
 * How a rotation function is let read a master secret that lives in another stack of the app.
 *
 * Naming the master's ARN in the function's policy would make the function's stack depend on the master's stack,
 * while the master's stack (whose rotation schedules name the function) depends on the function's stack: a cycle.
 * Instead the master carries a tag that names the function, set in the master's own stack, and the function's policy
 * allows reading secrets of its account and region that carry that tag. Both sides are literals, so neither stack
 * references the other for this grant, whichever way their other references point.
 */
export const MASTER_SECRET_TAG_PREFIX = 'cdk-secrets-platform:rotation-master-for:';

/** The value of the master-secret tag. */
export const MASTER_SECRET_TAG_VALUE = 'true';

/**
 * The key of the tag that lets the function named `functionName` read a master secret. One key per function, so a
 * master read by several functions carries one tag for each (a secret takes up to 50 tags).
 */
export function masterSecretTagKey(functionName: string): string {
  if (Token.isUnresolved(functionName)) {
    // the key goes into an IAM condition key and a tag key, both of which must be known at synth
    throw new Error(`the master-secret tag needs the function's name as a literal, got a token (${functionName})`);
  }
  return `${MASTER_SECRET_TAG_PREFIX}${functionName}`;
}

/** The `AWS::SecretsManager::Secret` of a secret defined in this app in a stack other than `stack`, if it is one. */
export function secretOfAnotherStack(secret: secretsmanager.ISecret, stack: Stack): secretsmanager.CfnSecret | undefined {
  const resource = secret.node.defaultChild;
  return resource instanceof secretsmanager.CfnSecret && Stack.of(resource) !== stack ? resource : undefined;
}

/** True for a key defined in this app in a stack other than `stack` (its ARN would be a cross-stack reference). */
export function isKeyOfAnotherStack(key: kms.IKey, stack: Stack): boolean {
  return key.node.defaultChild instanceof kms.CfnKey && Stack.of(key) !== stack;
}

/**
 * Throws when a master secret's stack is in another account or region than the function's (when both are known): the
 * function reads masters of its own account and region only.
 */
export function assertSameEnvironment(owner: string, fn: IConstruct, secret: IConstruct): void {
  const fnStack = Stack.of(fn);
  const secretStack = Stack.of(secret);
  for (const [what, a, b] of [['account', fnStack.account, secretStack.account], ['region', fnStack.region, secretStack.region]]) {
    if (!Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b) {
      throw new Error(`${owner}: the master secret ${secret.node.path} is in ${what} ${b}, the rotation function ${fn.node.path} in `
        + `${what} ${a}; a master secret must be in the function's account and region (use a function of that environment)`);
    }
  }
}
