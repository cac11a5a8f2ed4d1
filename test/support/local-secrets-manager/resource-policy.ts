import { ServiceError } from './errors';
import { checkLength, requireString } from './validation';

interface Statement {
  readonly Effect?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

/**
 * Checks a PutResourcePolicy document: 1 to 20,480 characters of JSON. With BlockPublicPolicy, a policy that
 * allows any principal without a condition is refused, as the service's public-access check does for the
 * obvious case (its full analysis is out of scope here).
 */
export function validResourcePolicy(value: unknown, blockPublicPolicy: boolean): string {
  const policy = requireString(value, 'resourcePolicy');
  checkLength('resourcePolicy', policy.length, 1, 20_480);
  let document: { Statement?: unknown };
  try {
    document = JSON.parse(policy);
  } catch {
    throw new ServiceError('MalformedPolicyDocumentException', 'This resource policy contains a syntax error.');
  }
  if (blockPublicPolicy && statements(document).some(grantsPublicAccess)) {
    throw new ServiceError('PublicPolicyException', 'This resource policy grants public access to the secret.');
  }
  return policy;
}

function statements(document: { Statement?: unknown }): Statement[] {
  const list = document?.Statement;
  if (Array.isArray(list)) {
    return list;
  }
  return list === undefined || list === null ? [] : [list as Statement];
}

function grantsPublicAccess(statement: Statement): boolean {
  const principal = statement.Principal;
  const aws = typeof principal === 'object' && principal !== null ? (principal as { AWS?: unknown }).AWS : undefined;
  const anyone = principal === '*' || aws === '*' || (Array.isArray(aws) && aws.includes('*'));
  return statement.Effect === 'Allow' && anyone && statement.Condition === undefined;
}
