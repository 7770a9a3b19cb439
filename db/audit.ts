/**
 * Audit of a database holding tenant data. Read-only; every finding names the object and the
 * fix. `tenancy db audit` exits 1 when the report is not clean.
 */
import type { AuditFinding, AuditReport } from "./auditFindings.ts";
import { connectFindings } from "./auditConnect.ts";
import { ledgerFindings } from "./auditLedger.ts";
import { roleSettingFindings } from "./auditRoleSettings.ts";
import { contextKeyFindings, signedModeOf } from "./auditSignedContext.ts";
import { crossSchemaFindings, functionFindings, roleFindings, viewFindings } from "./auditRoles.ts";
import { keyFindings, policyFindings, tableFindings } from "./auditTables.ts";
import { DEFAULT_ROLE_PREFIX, managedRoles, tenantRoleLikePattern } from "./identifiers.ts";
import { listTenantTables } from "./tenantTables.ts";
import type { Queryable } from "./transaction.ts";

export type { AuditFinding, AuditReport, FindingCode } from "./auditFindings.ts";
export { formatFinding } from "./auditFindings.ts";

export interface AuditOptions {
  /** Prefix of the managed roles. @default "tenancy" */
  readonly rolePrefix?: string;
  /** Only tables in these schemas. @default every non-system schema except `tenancy` */
  readonly schemas?: readonly string[];
  /**
   * The application role audited in this database. A dedicated tenant database passes its
   * tenant role. @default `<rolePrefix>_app`
   */
  readonly appRole?: string;
  /**
   * Control-plane databases on the same server (e.g. `tenancy_control`): no managed role may
   * connect to them. @default none
   */
  readonly controlDatabases?: readonly string[];
}

/** Audits the connected database. */
export async function auditDatabase(
  client: Queryable,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const prefix = options.rolePrefix ?? DEFAULT_ROLE_PREFIX;
  const appRole = options.appRole ?? managedRoles(prefix).app;
  const tenantRoles = (
    await client.query<{ rolname: string }>(
      "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname LIKE $1 ORDER BY 1",
      [tenantRoleLikePattern(prefix)],
    )
  ).rows
    .map((r) => r.rolname)
    .filter((r) => r !== appRole);
  const roles = [appRole, ...tenantRoles];
  const tables = await listTenantTables(client, options.schemas);
  const owner = managedRoles(prefix).owner;
  const signed = await signedModeOf(client);
  const findings: AuditFinding[] = [
    ...tables.flatMap(tableFindings),
    ...(await policyFindings(client, tables, signed)),
    ...(await keyFindings(client, tables)),
    ...(await viewFindings(client, roles)),
    ...(await functionFindings(client, roles, owner)),
    ...(await roleFindings(client, roles, tables)),
    ...(await crossSchemaFindings(client, prefix, tenantRoles)),
    ...(await ledgerFindings(client, owner, roles)),
    ...(signed ? await contextKeyFindings(client, owner, roles) : []),
    ...(await roleSettingFindings(client)),
    ...(await connectFindings(client, {
      appRole,
      auditRole: managedRoles(prefix).audit,
      tenantRoles,
      controlDatabases: options.controlDatabases ?? [],
    })),
  ];
  return { clean: findings.length === 0, tables: tables.length, roles, findings };
}
