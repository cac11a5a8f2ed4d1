import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';

/** The warning of a statement that could not be added to an imported key's policy. */
export const IMPORTED_KEY_WARNING_ID = 'cdk-secrets-platform:importedKeyPolicy';

/**
 * Adds a statement to a key's policy. A key imported into the app cannot be changed here (`addToResourcePolicy` does
 * nothing), so the statement it needs is named in a warning on `scope` instead of being lost without a word.
 */
export function addKeyStatement(owner: string, scope: IConstruct, key: kms.IKey, statement: iam.PolicyStatement): void {
  if (!key.addToResourcePolicy(statement, true).statementAdded) {
    const json = statement.toStatementJson();
    Annotations.of(scope).addWarningV2(IMPORTED_KEY_WARNING_ID, `${owner}: the key ${key.keyArn} is imported, so its policy is not `
      + `changed here; it must allow ${JSON.stringify(json.Action)} to ${JSON.stringify(json.Principal)} (${statement.sid})`);
  }
}
