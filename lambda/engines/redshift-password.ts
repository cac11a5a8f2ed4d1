import { createHash } from 'crypto';
import { ERROR_CODES, RotationError } from '../kit/errors';

/**
 * Redshift's rules for a clear-text password (CREATE USER / ALTER USER,
 * https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html): 8 to 64 characters, at least one upper-case
 * letter, one lower-case letter and one digit, and only ASCII codes 33 to 126 except `'`, `"`, `\`, `/` and `@`
 * (so no space either). Redshift checks these rules only for clear text: a hash is stored as given. The handler sets
 * passwords as hashes (the password never appears in SQL text), so it checks the rules itself first; a password that
 * breaks them would otherwise be stored and then fail at the next login of a client that enforces them.
 */
export const REDSHIFT_PASSWORD_MIN_LENGTH = 8;
export const REDSHIFT_PASSWORD_MAX_LENGTH = 64;
/** Printable ASCII Redshift refuses in a password. */
export const REDSHIFT_PASSWORD_FORBIDDEN = '\'"\\/@';

/** The first rule `password` breaks, in words that never include the password; undefined when it is valid. */
export function redshiftPasswordProblem(password: string): string | undefined {
  if (password.length < REDSHIFT_PASSWORD_MIN_LENGTH || password.length > REDSHIFT_PASSWORD_MAX_LENGTH) {
    return `it must be ${REDSHIFT_PASSWORD_MIN_LENGTH} to ${REDSHIFT_PASSWORD_MAX_LENGTH} characters long`;
  }
  for (const ch of password) {
    const code = ch.codePointAt(0)!;
    if (code < 33 || code > 126) return 'it may hold only printable ASCII characters other than space (codes 33 to 126)';
    if (REDSHIFT_PASSWORD_FORBIDDEN.includes(ch)) return 'it must not contain \', ", \\, / or @';
  }
  if (!/[A-Z]/.test(password)) return 'it must contain an upper-case letter';
  if (!/[a-z]/.test(password)) return 'it must contain a lower-case letter';
  if (!/[0-9]/.test(password)) return 'it must contain a digit';
  return undefined;
}

/** Throws INVALID_CONFIGURATION (the password policy makes passwords Redshift refuses) naming the rule, never the value. */
export function assertRedshiftPassword(password: string): void {
  const problem = redshiftPasswordProblem(password);
  if (problem !== undefined) {
    throw new RotationError(ERROR_CODES.INVALID_CONFIGURATION,
      `The generated password breaks Redshift's password rules (${problem}): fix the password policy`);
  }
}

/** The shape of the MD5 form: `md5` and 32 lower-case hex digits. Checked before the hash is inlined as a literal. */
export const MD5_PASSWORD_HASH = /^md5[0-9a-f]{32}$/;

/**
 * The MD5 form ALTER USER and CREATE USER take: `md5` followed by the hex MD5 of the password concatenated with the
 * user name (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_USER.html; PostgreSQL stores the same form,
 * https://www.postgresql.org/docs/current/sql-createrole.html). The user name is the salt exactly as the server stores
 * it: callers pass the name the server reports, or refuse names the server would fold (see redshift.ts).
 *
 * Why not the `sha256|<digest>|<salt>` form: AWS documents its layout but not the digest's input encoding (is the salt
 * hashed as its hex text or as bytes?), and a wrong guess stores a password no one can use; the MD5 form is fully
 * specified and can be verified against PostgreSQL.
 */
export function redshiftMd5Hash(password: string, username: string): string {
  const hash = `md5${createHash('md5').update(password + username, 'utf8').digest('hex')}`;
  if (!MD5_PASSWORD_HASH.test(hash)) throw new RotationError(ERROR_CODES.INTERNAL, 'The password hash has an unexpected shape');
  return hash;
}
