/**
 * Audit of the tenant migration ledgers (`<schema>._tenancy_migrations`): each must belong
 * to the owner role and grant nothing to the application, tenant roles or PUBLIC — one
 * changed checksum there stops every control-plane process from starting.
 */
import type { AuditFinding } from "./auditFindings.ts";
import { quoteIdent, quoteQualified } from "./identifiers.ts";
import { LEDGER_TABLE } from "./migrations/ledger.ts";
import { EXCLUDED_SCHEMAS_SQL } from "./tenantTables.ts";
import type { Queryable } from "./transaction.ts";

export async function ledgerFindings(
  client: Queryable,
  owner: string,
  roles: readonly string[],
): Promise<AuditFinding[]> {
  const { rows } = await client.query<{ schema: string; owner: string; holders: string[] }>(
    `SELECT n.nspname AS schema, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            ARRAY(SELECT r FROM unnest($2::text[] || ARRAY['public']) r
                   WHERE (r = 'public' OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r))
                     AND pg_catalog.has_table_privilege(r, c.oid,
                           'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                   ORDER BY 1) AS holders
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND c.relkind = 'r' AND ${EXCLUDED_SCHEMAS_SQL}
      ORDER BY 1`,
    [LEDGER_TABLE, roles],
  );
  const findings: AuditFinding[] = [];
  for (const row of rows) {
    const table = quoteQualified(row.schema, LEDGER_TABLE);
    const object = `table ${row.schema}.${LEDGER_TABLE}`;
    if (row.owner !== owner) {
      findings.push({
        code: "ledger-not-owned",
        object,
        message: `the migration ledger is owned by ${row.owner}, not the owner role ${owner}`,
        fix: `ALTER TABLE ${table} OWNER TO ${quoteIdent(owner)}`,
      });
    }
    if (row.holders.length > 0) {
      findings.push({
        code: "ledger-accessible",
        object,
        message: `${row.holders.join(", ")} can use the migration ledger; a changed checksum stops every deployment`,
        fix: `REVOKE ALL ON ${table} FROM ${row.holders.map((r) => (r === "public" ? "PUBLIC" : quoteIdent(r))).join(", ")}`,
      });
    }
  }
  return findings;
}
