/**
 * Amazon Redshift's privilege system views, built on PostgreSQL's catalogs so that the Redshift dialect's queries run
 * unchanged on a PostgreSQL stand-in (redshift-conformance-server.ts). Each view has the name, the columns (names,
 * order, types) and the values the Redshift Database Developer Guide gives it:
 *
 * - SVV_DATABASE_PRIVILEGES https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_DATABASE_PRIVILEGES.html
 * - SVV_SCHEMA_PRIVILEGES https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_SCHEMA_PRIVILEGES.html
 * - SVV_RELATION_PRIVILEGES https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_RELATION_PRIVILEGES.html
 * - SVV_COLUMN_PRIVILEGES https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_COLUMN_PRIVILEGES.html (no admin_option)
 * - SVV_FUNCTION_PRIVILEGES https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_FUNCTION_PRIVILEGES.html
 * - SVV_DEFAULT_PRIVILEGES https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_DEFAULT_PRIVILEGES.html
 * - SVV_USER_GRANTS https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_USER_GRANTS.html
 *
 * How PostgreSQL's objects map onto Redshift's words:
 * - a privilege is a row of the object's ACL (aclexplode); the owner's own entry is left out: Redshift lists privileges
 *   explicitly granted, and PostgreSQL writes the owner's implicit rights into an ACL the first time anyone is granted
 *   anything on the object;
 * - identity_type is `user` for a role that may log in, `group` for one that may not (what PostgreSQL's pg_group lists
 *   as groups) and `public` for PUBLIC (identity_id 0); admin_option is the grant option;
 * - privilege_scope is `DATABASE` or `SCHEMA`: PostgreSQL has no scoped privileges;
 * - relations are tables, views, materialized views, partitioned and foreign tables (no sequences: Redshift has none);
 * - default privilege object types: `r` is RELATION, `f` (functions and procedures) FUNCTION; the types Redshift has
 *   no name for keep PostgreSQL's (SEQUENCE, TYPE, SCHEMA);
 * - PostgreSQL has no role apart from groups (every login-less role is a group), so SVV_USER_GRANTS lists what
 *   pg_group does not: a user's membership in another login role.
 *
 * Readable by superusers only (nothing is granted to PUBLIC); Redshift shows other users the rows of their own
 * identities. The handler reads them as the master, a superuser.
 */

/** The identity columns of a row whose grantee is `x.grantee`, with `r` the grantee's pg_roles row (LEFT JOIN). */
const IDENTITY = `x.grantee::pg_catalog.int4 AS identity_id,
    CASE WHEN x.grantee = 0 THEN 'public' ELSE r.rolname::pg_catalog.text END AS identity_name,
    CASE WHEN x.grantee = 0 THEN 'public' WHEN r.rolcanlogin THEN 'user' ELSE 'group' END AS identity_type`;

const GRANTEE = 'LEFT JOIN pg_catalog.pg_roles r ON r.oid = x.grantee';

/** The views, in creation order; each statement creates one view in pg_catalog. */
export const REDSHIFT_SYSTEM_VIEWS: Readonly<Record<string, string>> = {
  svv_database_privileges: `
  SELECT d.datname::pg_catalog.text AS database_name, x.privilege_type::pg_catalog.text AS privilege_type, ${IDENTITY},
    x.is_grantable AS admin_option, 'DATABASE'::pg_catalog.text AS privilege_scope
  FROM pg_catalog.pg_database d CROSS JOIN LATERAL pg_catalog.aclexplode(d.datacl) x ${GRANTEE}
  WHERE x.grantee <> d.datdba`,

  svv_schema_privileges: `
  SELECT n.nspname::pg_catalog.text AS namespace_name, x.privilege_type::pg_catalog.text AS privilege_type, ${IDENTITY},
    x.is_grantable AS admin_option, 'SCHEMA'::pg_catalog.text AS privilege_scope
  FROM pg_catalog.pg_namespace n CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) x ${GRANTEE}
  WHERE x.grantee <> n.nspowner`,

  svv_relation_privileges: `
  SELECT n.nspname::pg_catalog.text AS namespace_name, c.relname::pg_catalog.text AS relation_name,
    x.privilege_type::pg_catalog.text AS privilege_type, ${IDENTITY}, x.is_grantable AS admin_option
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) x ${GRANTEE}
  WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND x.grantee <> c.relowner`,

  svv_column_privileges: `
  SELECT n.nspname::pg_catalog.text AS namespace_name, c.relname::pg_catalog.text AS relation_name,
    a.attname::pg_catalog.text AS column_name, x.privilege_type::pg_catalog.text AS privilege_type, ${IDENTITY}
  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x ${GRANTEE}
  WHERE a.attnum > 0 AND NOT a.attisdropped AND x.grantee <> c.relowner`,

  svv_function_privileges: `
  SELECT n.nspname::pg_catalog.text AS namespace_name, p.proname::pg_catalog.text AS function_name,
    pg_catalog.oidvectortypes(p.proargtypes)::pg_catalog.text AS argument_types,
    x.privilege_type::pg_catalog.text AS privilege_type, ${IDENTITY}, x.is_grantable AS admin_option
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) x ${GRANTEE}
  WHERE x.grantee <> p.proowner`,

  svv_default_privileges: `
  SELECT CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE n.nspname::pg_catalog.text END AS schema_name,
    CASE d.defaclobjtype WHEN 'r' THEN 'RELATION' WHEN 'f' THEN 'FUNCTION' WHEN 'S' THEN 'SEQUENCE' WHEN 'T' THEN 'TYPE'
      WHEN 'n' THEN 'SCHEMA' ELSE d.defaclobjtype::pg_catalog.text END AS object_type,
    d.defaclrole::pg_catalog.int4 AS owner_id, o.rolname::pg_catalog.text AS owner_name, 'user'::pg_catalog.text AS owner_type,
    x.privilege_type::pg_catalog.text AS privilege_type, x.grantee::pg_catalog.int4 AS grantee_id,
    CASE WHEN x.grantee = 0 THEN 'public' ELSE r.rolname::pg_catalog.text END AS grantee_name,
    CASE WHEN x.grantee = 0 THEN 'public' WHEN r.rolcanlogin THEN 'user' ELSE 'group' END AS grantee_type,
    x.is_grantable AS admin_option
  FROM pg_catalog.pg_default_acl d JOIN pg_catalog.pg_roles o ON o.oid = d.defaclrole
    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
    CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) x ${GRANTEE}
  WHERE x.grantee <> d.defaclrole`,

  svv_user_grants: `
  SELECT u.oid::pg_catalog.int4 AS user_id, u.rolname::pg_catalog.text AS user_name, g.oid::pg_catalog.int4 AS role_id,
    g.rolname::pg_catalog.text AS role_name, m.admin_option
  FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles u ON u.oid = m.member JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
  WHERE u.rolcanlogin AND g.rolcanlogin`,
};

/**
 * The statements that create the views in the current database. Creating objects in pg_catalog needs
 * allow_system_table_mods, which a superuser may set for its session (PostgreSQL 12+).
 */
export function systemViewStatements(): string[] {
  return [
    'SET allow_system_table_mods = on',
    ...Object.entries(REDSHIFT_SYSTEM_VIEWS).map(([name, query]) => `CREATE VIEW pg_catalog.${name} AS ${query}`),
    'RESET allow_system_table_mods',
  ];
}
