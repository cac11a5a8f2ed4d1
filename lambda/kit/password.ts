import { ERROR_CODES, RotationError } from './errors';
import { DEFAULT_EXCLUDE_CHARACTERS, ENV, PasswordPolicyContract, defaultPasswordPolicy } from '../../src/private/contract';

/** The policy used when the function runs without the construct's environment (a standalone bundle). */
export const FALLBACK_POLICY: PasswordPolicyContract = defaultPasswordPolicy(DEFAULT_EXCLUDE_CHARACTERS.common);

/** Reads the policy the construct serialized; engine defaults apply when it is absent. */
export function policyFromEnv(env: NodeJS.ProcessEnv, engineDefault: PasswordPolicyContract = FALLBACK_POLICY): PasswordPolicyContract {
  const raw = env[ENV.PASSWORD_POLICY];
  if (raw === undefined || raw === '') return engineDefault;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw configError('is not valid JSON');
  }
  // a policy that is not an object, or names a field this handler does not know, must fail loudly: falling back to
  // the default would silently generate passwords the construct's policy forbids
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw configError('must be a JSON object');
  const unknown = Object.keys(parsed).filter((key) => !POLICY_KEYS.has(key));
  if (unknown.length > 0) throw configError(`has unknown fields: ${unknown.sort().join(', ')}`);
  return validatePolicy({ ...engineDefault, ...(parsed as Partial<PasswordPolicyContract>) });
}

const POLICY_KEYS: ReadonlySet<string> = new Set(Object.keys(FALLBACK_POLICY));

function validatePolicy(p: PasswordPolicyContract): PasswordPolicyContract {
  if (!Number.isInteger(p.passwordLength) || p.passwordLength < 1 || p.passwordLength > 4096) {
    throw configError('passwordLength must be an integer from 1 to 4096');
  }
  if (typeof p.excludeCharacters !== 'string') throw configError('excludeCharacters must be a string');
  for (const key of ['excludePunctuation', 'excludeUppercase', 'excludeLowercase', 'excludeNumbers', 'includeSpace', 'requireEachIncludedType'] as const) {
    if (typeof p[key] !== 'boolean') throw configError(`${key} must be a boolean`);
  }
  return p;
}

/** Checks a generated password against the policy, so a misbehaving generator cannot store a value the engine rejects. */
export function checkPassword(password: string, policy: PasswordPolicyContract): void {
  const problems: string[] = [];
  if (password.length !== policy.passwordLength) problems.push('length');
  for (const ch of policy.excludeCharacters) if (password.includes(ch)) problems.push('excluded character');
  if (!policy.includeSpace && password.includes(' ')) problems.push('space');
  if (policy.excludeNumbers && /[0-9]/.test(password)) problems.push('digit');
  if (policy.excludeUppercase && /[A-Z]/.test(password)) problems.push('upper case');
  if (policy.excludeLowercase && /[a-z]/.test(password)) problems.push('lower case');
  if (problems.length > 0) {
    // names the rule, never the value
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `Generated password violates the policy: ${[...new Set(problems)].join(', ')}`);
  }
}

function configError(problem: string): RotationError {
  return new RotationError(ERROR_CODES.INVALID_CONFIGURATION, `${ENV.PASSWORD_POLICY} ${problem}`);
}
