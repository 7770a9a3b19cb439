/**
 * Audit of the signed tenant context (signedContextSql.ts), in a database that runs it: the
 * key table belongs to the owner role and grants nothing to anyone (an explicit grant, PUBLIC,
 * or an audited role that can read it through a membership); shared-table policies use the
 * signed predicate; and which SECURITY DEFINER functions are the untouched verifiers.
 */
import type { AuditFinding } from "./auditFindings.ts";
import { isTenantSchemaName, PLATFORM_SCHEMA, quoteIdent } from "./identifiers.ts";
import {
  CONTEXT_KEYS,
  CONTEXT_KEYS_TABLE,
  PINNED_SEARCH_PATH,
  SIGNED_CONTEXT_FUNCTIONS,
  SIGNED_MODE_SQL,
  verifierBody,
} from "./signedContextSql.ts";
import type { Queryable } from "./transaction.ts";

/** Whether the connected database runs the signed tenant context. */
export async function signedModeOf(client: Queryable): Promise<boolean> {
  return (await client.query<{ signed: boolean }>(SIGNED_MODE_SQL)).rows[0]?.signed === true;
}

/** Owner and readers of the key table other than its owner (empty list when clean). */
export async function contextKeyFindings(
  client: Queryable,
  owner: string,
  roles: readonly string[],
): Promise<AuditFinding[]> {
  const { rows } = await client.query<{ owner: string; holders: string[] }>(
    `SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            ARRAY(SELECT DISTINCT h::text FROM (
                    SELECT CASE WHEN a.grantee = 0 THEN 'public'
                                ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END AS h
                      FROM pg_catalog.aclexplode(c.relacl) a WHERE a.grantee <> c.relowner
                    UNION ALL
                    SELECT r FROM unnest($2::text[]) r
                     WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r)
                       AND pg_catalog.has_table_privilege(r, c.oid,
                             'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')) x
                  ORDER BY 1) AS holders
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $3`,
    [PLATFORM_SCHEMA, roles, CONTEXT_KEYS_TABLE],
  );
  const row = rows[0];
  if (!row) return [];
  const object = `table ${PLATFORM_SCHEMA}.${CONTEXT_KEYS_TABLE}`;
  const findings: AuditFinding[] = [];
  if (row.owner !== owner || row.holders.length > 0) {
    const who = [...(row.owner !== owner ? [`its owner ${row.owner}`] : []), ...row.holders];
    findings.push({
      code: "context-keys-readable",
      object,
      message: `the signed tenant context's keys are reachable by ${who.join(", ")}, not only by the owner role ${owner}; whoever reads them can sign any tenant's context`,
      fix: [
        ...(row.owner !== owner
          ? [`ALTER TABLE ${CONTEXT_KEYS} OWNER TO ${quoteIdent(owner)}`]
          : []),
        ...(row.holders.length > 0
          ? [
              `REVOKE ALL ON ${CONTEXT_KEYS} FROM ${row.holders.map((r) => (r === "public" ? "PUBLIC" : quoteIdent(r))).join(", ")} (and any membership that grants it), then rotate the keys`,
            ]
          : []),
      ].join("; "),
    });
  }
  return findings;
}

/** A policy on a shared table that accepts the unsigned context while signed mode is on. */
export function isUnsignedSharedPolicy(schema: string, expressions: readonly string[]): boolean {
  if (isTenantSchemaName(schema)) return false;
  return expressions.some(
    (e) =>
      /current_tenant_(?:id|text)\(\)|app\.tenant_id/.test(e) &&
      !/signed_tenant_(?:id|text)\(\)/.test(e),
  );
}

/** True for an unmodified verifier function owned by the owner role. */
export function isTrustedVerifier(
  fn: {
    schema: string;
    proname: string;
    nargs: number;
    owner: string;
    source: string;
    config: string[] | null;
  },
  owner: string,
): boolean {
  if (fn.schema !== PLATFORM_SCHEMA || fn.owner !== owner || fn.nargs !== 0) return false;
  if (fn.config?.length !== 1 || fn.config[0] !== PINNED_SEARCH_PATH) return false;
  const returns = (Object.keys(SIGNED_CONTEXT_FUNCTIONS) as ("uuid" | "text")[]).find(
    (type) => SIGNED_CONTEXT_FUNCTIONS[type] === fn.proname,
  );
  return returns !== undefined && fn.source === verifierBody(returns);
}
