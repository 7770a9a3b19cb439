/**
 * Audit checks on the roles the application logs in as (the app role and tenant roles):
 * privileged attributes, ownership, membership, views and SECURITY DEFINER functions they can
 * reach, and cross-tenant schema access.
 */
import type { AuditFinding } from "./auditFindings.ts";
import { isTrustedVerifier } from "./auditSignedContext.ts";
import { quoteIdent } from "./identifiers.ts";
import { EXCLUDED_SCHEMAS_SQL, type TenantTable } from "./tenantTables.ts";
import type { Queryable } from "./transaction.ts";

interface RoleRow {
  name: string;
  superuser: boolean;
  bypassrls: boolean;
  owned: string[];
  assumable: string[];
}

/** Attribute, ownership and membership findings for each audited role. */
export async function roleFindings(
  client: Queryable,
  roles: readonly string[],
  tables: readonly TenantTable[],
): Promise<AuditFinding[]> {
  const tableOwners = [...new Set(tables.map((t) => t.owner))];
  const { rows } = await client.query<RoleRow>(
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
            ARRAY(SELECT 'table ' || n.nspname || '.' || c.relname
                    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                  UNION ALL
                  SELECT 'schema ' || n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspowner = r.oid
                  UNION ALL
                  SELECT 'function ' || p.oid::regprocedure::text FROM pg_catalog.pg_proc p
                   WHERE p.proowner = r.oid
                  ORDER BY 1) AS owned,
            ARRAY(SELECT b.rolname::text FROM pg_catalog.pg_roles b
                   WHERE b.oid <> r.oid AND pg_catalog.pg_has_role(r.oid, b.oid, 'MEMBER')
                     AND (b.rolsuper OR b.rolbypassrls OR b.rolname = ANY ($2::text[]))
                   ORDER BY 1) AS assumable
       FROM pg_catalog.pg_roles r WHERE r.rolname = ANY ($1::text[]) ORDER BY r.rolname`,
    [roles, tableOwners],
  );
  const findings: AuditFinding[] = [];
  for (const role of roles) {
    const object = `role ${role}`;
    const row = rows.find((r) => r.name === role);
    if (!row) {
      findings.push({
        code: "app-role-missing",
        object,
        message: "the application role does not exist",
        fix: "run `tenancy db bootstrap`",
      });
      continue;
    }
    if (row.superuser) {
      findings.push({
        code: "app-role-superuser",
        object,
        message: "is a superuser: row-level security never applies to it",
        fix: `ALTER ROLE ${quoteIdent(role)} NOSUPERUSER`,
      });
    }
    if (row.bypassrls) {
      findings.push({
        code: "app-role-bypassrls",
        object,
        message: "has BYPASSRLS: row-level security never applies to it",
        fix: `ALTER ROLE ${quoteIdent(role)} NOBYPASSRLS`,
      });
    }
    if (row.owned.length > 0) {
      findings.push({
        code: "app-role-owns-objects",
        object,
        message: `owns ${row.owned.join(", ")}: an owner can disable row-level security and alter the schema`,
        fix: `REASSIGN OWNED BY ${quoteIdent(role)} TO <owner role>`,
      });
    }
    for (const other of row.assumable) {
      findings.push({
        code: "app-role-can-assume-role",
        object,
        message: `is a member of ${other}, which is privileged or owns tenant tables; SET ROLE escapes RLS`,
        fix: `REVOKE ${quoteIdent(other)} FROM ${quoteIdent(role)}`,
      });
    }
  }
  return findings;
}

/** Views without security_invoker and materialized views the audited roles can read. */
export async function viewFindings(
  client: Queryable,
  roles: readonly string[],
): Promise<AuditFinding[]> {
  const { rows } = await client.query<{ name: string; kind: string; readers: string[] }>(
    `SELECT n.nspname || '.' || c.relname AS name, c.relkind::text AS kind,
            ARRAY(SELECT r FROM unnest($1::text[]) r
                   WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r)
                     AND pg_catalog.has_table_privilege(r, c.oid, 'SELECT') ORDER BY 1) AS readers
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('v', 'm') AND ${EXCLUDED_SCHEMAS_SQL}
        AND NOT (c.relkind = 'v' AND coalesce(array_to_string(c.reloptions, ','), '')
                 ~* 'security_invoker=(true|on|yes|1)')
      ORDER BY 1`,
    [roles],
  );
  return rows
    .filter((r) => r.readers.length > 0)
    .map((r): AuditFinding => {
      const readers = r.readers.join(", ");
      return r.kind === "v"
        ? {
            code: "view-not-security-invoker",
            object: `view ${r.name}`,
            message: `readable by ${readers} and runs with its owner's rights, bypassing the callers' row-level security`,
            fix: `ALTER VIEW ${r.name} SET (security_invoker = true)`,
          }
        : {
            code: "materialized-view-readable",
            object: `materialized view ${r.name}`,
            message: `readable by ${readers}; materialized views have no row-level security`,
            fix: `REVOKE SELECT ON ${r.name} FROM ${readers}, or replace it with a security_invoker view`,
          };
    });
}

/**
 * SECURITY DEFINER functions an audited role may execute, except the signed tenant context's
 * verifiers as bootstrap writes them (owned by `owner`, same body, pinned search_path).
 */
export async function functionFindings(
  client: Queryable,
  roles: readonly string[],
  owner: string,
): Promise<AuditFinding[]> {
  const { rows } = await client.query<{
    name: string;
    owner: string;
    callers: string[];
    schema: string;
    proname: string;
    nargs: number;
    source: string;
    config: string[] | null;
  }>(
    `SELECT p.oid::regprocedure::text AS name, pg_catalog.pg_get_userbyid(p.proowner) AS owner,
            n.nspname AS schema, p.proname, p.pronargs::int AS nargs, p.prosrc AS source,
            p.proconfig AS config,
            ARRAY(SELECT r FROM unnest($1::text[]) r
                   WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r)
                     AND pg_catalog.has_function_privilege(r, p.oid, 'EXECUTE')
                     AND pg_catalog.has_schema_privilege(r, n.oid, 'USAGE') ORDER BY 1) AS callers
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1`,
    [roles],
  );
  return rows
    .filter((r) => r.callers.length > 0 && !isTrustedVerifier(r, owner))
    .map((r): AuditFinding => ({
      code: "security-definer-executable",
      object: `function ${r.name}`,
      message: `SECURITY DEFINER (runs as ${r.owner}, bypassing the caller's row-level security) and executable by ${r.callers.join(", ")}`,
      fix: `REVOKE EXECUTE ON FUNCTION ${r.name} FROM PUBLIC, ${r.callers.join(", ")}; or make it SECURITY INVOKER`,
    }));
}

/** Tenant roles with USAGE on a tenant schema other than their own. */
export async function crossSchemaFindings(
  client: Queryable,
  rolePrefix: string,
  tenantRoles: readonly string[],
): Promise<AuditFinding[]> {
  const { rows } = await client.query<{ role: string; schema: string }>(
    `SELECT r AS role, n.nspname AS schema
       FROM unnest($1::text[]) r, pg_catalog.pg_namespace n
      WHERE n.nspname LIKE 'tenant\\_%'
        AND n.nspname <> 'tenant_' || substr(r, length($2) + 4)
        AND pg_catalog.has_schema_privilege(r, n.oid, 'USAGE')
      ORDER BY 1, 2`,
    [tenantRoles, rolePrefix],
  );
  return rows.map((r) => ({
    code: "tenant-role-cross-schema",
    object: `role ${r.role}`,
    message: `can use schema ${r.schema} of another tenant`,
    fix: `REVOKE ALL ON SCHEMA ${quoteIdent(r.schema)} FROM ${quoteIdent(r.role)}`,
  }));
}
