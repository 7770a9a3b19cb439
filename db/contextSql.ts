/**
 * SQL of the tenant-context functions every protected database carries, and of the policy
 * expression built on them. The context is the GUC `app.tenant_id`, set per transaction with
 * `set_config('app.tenant_id', $1, true)`. Missing, empty or malformed → NULL → no row
 * matches (fail closed) and WITH CHECK refuses writes; never an error, never all rows.
 */
import { PLATFORM_SCHEMA, quoteIdent } from "./identifiers.ts";

/** The GUC carrying the tenant context. */
export const TENANT_CONTEXT_SETTING = "app.tenant_id";

/** Name of the policy `protect` writes on every tenant table. */
export const TENANT_POLICY_NAME = "tenant_isolation";

const platform = quoteIdent(PLATFORM_SCHEMA);

/**
 * `tenancy.current_tenant_id()` (uuid) and `tenancy.current_tenant_text()` (text): STABLE
 * PL/pgSQL functions (not SQL: an inlined SQL body is re-parsed at every planning, which
 * measurably slows short queries), validating the uuid without a regex or an exception block,
 * with schema-qualified operators so that a caller's search_path cannot redirect them.
 */
export const CONTEXT_FUNCTIONS_SQL = `
CREATE OR REPLACE FUNCTION ${platform}.current_tenant_id() RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
  setting text := pg_catalog.current_setting('${TENANT_CONTEXT_SETTING}', true);
BEGIN
  IF pg_catalog.translate(setting, '123456789abcdefABCDEF', '000000000000000000000')
     OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000000' THEN
    RETURN setting::pg_catalog.uuid;
  END IF;
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION ${platform}.current_tenant_id() IS
  'Tenant context (GUC ${TENANT_CONTEXT_SETTING}) as uuid; NULL when missing, empty or malformed (fail closed).';
CREATE OR REPLACE FUNCTION ${platform}.current_tenant_text() RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
BEGIN
  RETURN NULLIF(pg_catalog.current_setting('${TENANT_CONTEXT_SETTING}', true), '');
END
$fn$;
COMMENT ON FUNCTION ${platform}.current_tenant_text() IS
  'Tenant context (GUC ${TENANT_CONTEXT_SETTING}) as text; NULL when missing or empty (fail closed).';
`;

/** Column types `protect` knows how to compare with the context. */
export type TenantIdType = "uuid" | "text";

/**
 * The policy predicate for a tenant_id column of the given type. The scalar subquery makes
 * the planner evaluate the context once per statement (an InitPlan) and lets it use an index
 * whose leading column is tenant_id.
 */
export function tenantPredicate(type: TenantIdType, signed = false): string {
  const fn = signed
    ? type === "uuid"
      ? "signed_tenant_id"
      : "signed_tenant_text"
    : type === "uuid"
      ? "current_tenant_id"
      : "current_tenant_text";
  return `(tenant_id = (SELECT ${platform}.${fn}()))`;
}

/**
 * What `pg_get_expr` prints for {@link tenantPredicate}, as a POSIX regex for SQL: the plain
 * form, or the signed form (`tenancy.signed_tenant_*()`, see signedContextSql.ts).
 */
export function tenantPredicatePattern(signed: boolean): string {
  const fn = signed ? "signed_tenant_(id|text)" : "current_tenant_(id|text)";
  return `^\\(tenant_id = \\( SELECT (tenancy\\.)?${fn}\\(\\) AS ${fn}\\)\\)$`;
}

/** Maps a catalog type name (`format_type`) to a supported tenant_id type, if any. */
export function tenantIdTypeOf(formatted: string): TenantIdType | undefined {
  if (formatted === "uuid") return "uuid";
  if (formatted === "text" || formatted.startsWith("character varying")) return "text";
  return undefined;
}
