/**
 * Audit of role-level settings (`ALTER ROLE ... SET`). PostgreSQL lets every role set its own
 * session defaults, so a tenant can make its limits permanent (`statement_timeout = 0`,
 * `work_mem = '1GB'`). Each registered tenant role must carry exactly the settings its quotas
 * own — statement_timeout and search_path — role-wide, and nothing per database.
 */
import type { AuditFinding } from "./auditFindings.ts";
import { PLATFORM_SCHEMA, quoteIdent } from "./identifiers.ts";
import type { Queryable } from "./transaction.ts";

interface SettingRow {
  role: string;
  database: string | null;
  settings: string[];
  timeoutMs: number;
  schema: string;
}

export async function roleSettingFindings(client: Queryable): Promise<AuditFinding[]> {
  const registry = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [
    `${PLATFORM_SCHEMA}.tenants`,
  ]);
  if (!registry.rows[0]?.ok) return [];
  const { rows } = await client.query<SettingRow>(
    `SELECT t.role_name AS role, d.datname AS database, COALESCE(s.setconfig, '{}') AS settings,
            t.statement_timeout_ms AS "timeoutMs", t.schema_name AS schema
       FROM ${quoteIdent(PLATFORM_SCHEMA)}.tenants t
       JOIN pg_catalog.pg_roles r ON r.rolname = t.role_name
       LEFT JOIN pg_catalog.pg_db_role_setting s ON s.setrole = r.oid
       LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase AND s.setdatabase <> 0
      WHERE t.mode <> 'pool'
      ORDER BY 1, 2 NULLS FIRST`,
  );
  const findings: AuditFinding[] = [];
  for (const row of rows) {
    const expected = new Map(
      row.database === null
        ? [
            ["statement_timeout", `${row.timeoutMs}ms`],
            ["search_path", row.schema],
          ]
        : [],
    );
    const actual = new Map(
      row.settings.map((entry) => {
        const at = entry.indexOf("=");
        return [entry.slice(0, at), entry.slice(at + 1)] as const;
      }),
    );
    const differences: string[] = [];
    for (const [name, value] of actual) {
      const want = expected.get(name);
      if (want === undefined) differences.push(`${name}=${value} is not set by the quotas`);
      else if (unquote(value) !== want) differences.push(`${name}=${value} (quota: ${want})`);
    }
    for (const [name, want] of expected) {
      if (!actual.has(name)) differences.push(`${name} is not set (quota: ${want})`);
    }
    if (differences.length === 0) continue;
    const where = row.database === null ? "" : ` in database ${row.database}`;
    findings.push({
      code: "role-setting-drift",
      object: `role ${row.role}`,
      message: `role-level settings${where} differ from its quotas: ${differences.join("; ")}`,
      fix: "apply the tenant's quotas again (PATCH the tenant, or `tenancy reconcile`), which resets every setting on the role",
    });
  }
  return findings;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replaceAll('""', '"')
    : value;
}
