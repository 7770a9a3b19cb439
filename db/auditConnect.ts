/**
 * Audit of CONNECT rights: which managed login roles (application, audit, tenant roles) can
 * connect to which databases. A tenant role belongs only in the database its registry row
 * names; no managed role belongs in a control-plane database; a database where PUBLIC keeps
 * CONNECT lets every login on the server in (and take its advisory locks).
 */
import type { AuditFinding } from "./auditFindings.ts";
import { PLATFORM_SCHEMA, quoteIdent } from "./identifiers.ts";
import type { Queryable } from "./transaction.ts";

export interface ConnectScope {
  /** The application role audited in the connected database. */
  readonly appRole: string;
  readonly auditRole: string;
  /** Tenant login roles found on the server (the managed prefix). */
  readonly tenantRoles: readonly string[];
  /** Databases only the control plane's own role may connect to. */
  readonly controlDatabases: readonly string[];
}

/** Findings about PUBLIC's CONNECT and about managed roles able to connect where they should not. */
export async function connectFindings(
  client: Queryable,
  scope: ConnectScope,
): Promise<AuditFinding[]> {
  const current = (await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!
    .db;
  // Where each tenant role belongs, from the registry when this database holds it.
  const placements = new Map<string, string>();
  const hasRegistry = (
    await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [
      `${PLATFORM_SCHEMA}.tenants`,
    ])
  ).rows[0]?.ok;
  if (hasRegistry) {
    const { rows } = await client.query<{ role: string; database: string }>(
      `SELECT role_name AS role, database_name AS database FROM ${quoteIdent(PLATFORM_SCHEMA)}.tenants`,
    );
    for (const row of rows) placements.set(row.role, row.database);
  }
  const allowed = new Map<string, Set<string>>();
  const allow = (database: string, role: string) => {
    if (!allowed.has(database)) allowed.set(database, new Set());
    allowed.get(database)!.add(role);
  };
  allow(current, scope.appRole);
  allow(current, scope.auditRole);
  for (const [role, database] of placements) {
    allow(database, role);
    if (database !== current) allow(database, scope.auditRole);
  }
  for (const database of scope.controlDatabases) allowed.set(database, new Set());

  const databases = [...allowed.keys()];
  const roles = [scope.appRole, scope.auditRole, ...scope.tenantRoles];
  const { rows } = await client.query<{ database: string; public: boolean; connectors: string[] }>(
    `SELECT d.datname AS database,
            pg_catalog.has_database_privilege('public', d.oid, 'CONNECT') AS public,
            ARRAY(SELECT r.rolname::text FROM pg_catalog.pg_roles r
                   WHERE r.rolname = ANY ($2::text[]) AND r.rolcanlogin AND NOT r.rolsuper
                     AND pg_catalog.has_database_privilege(r.oid, d.oid, 'CONNECT')
                   ORDER BY 1) AS connectors
       FROM pg_catalog.pg_database d
      WHERE d.datname = ANY ($1::text[]) AND d.datallowconn
      ORDER BY 1`,
    [databases, roles],
  );
  const findings: AuditFinding[] = [];
  for (const row of rows) {
    const db = quoteIdent(row.database);
    if (row.public) {
      findings.push({
        code: "database-connect-public",
        object: `database ${row.database}`,
        message:
          "PUBLIC may connect: every login role on the server (tenant roles included) can open sessions there and take its advisory locks",
        fix: `REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC; GRANT CONNECT only to the roles that belong there`,
      });
    }
    const belongs = allowed.get(row.database) ?? new Set<string>();
    for (const role of row.connectors) {
      if (belongs.has(role)) continue;
      findings.push({
        code: "role-can-connect",
        object: `role ${role}`,
        message: scope.controlDatabases.includes(row.database)
          ? `can connect to the control-plane database ${row.database}`
          : `can connect to database ${row.database}, where it does not belong`,
        fix: row.public
          ? `REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`
          : `REVOKE CONNECT ON DATABASE ${db} FROM ${quoteIdent(role)}`,
      });
    }
  }
  return findings;
}
