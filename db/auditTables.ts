/** Audit checks on tenant tables: RLS, policies, tenant_id indexes, unique and foreign keys. */
import type { AuditFinding } from "./auditFindings.ts";
import { tenantIdTypeOf } from "./contextSql.ts";
import { isUnsignedSharedPolicy } from "./auditSignedContext.ts";
import { quoteIdent } from "./identifiers.ts";
import type { TenantTable } from "./tenantTables.ts";
import type { Queryable } from "./transaction.ts";

const PROTECT = "run `tenancy db protect`";

/** Findings about the tables themselves (RLS state, index, tenant_id column). */
export function tableFindings(table: TenantTable): AuditFinding[] {
  const object = `table ${table.display}`;
  const findings: AuditFinding[] = [];
  if (!tenantIdTypeOf(table.tenantIdType)) {
    findings.push({
      code: "tenant-id-type-unsupported",
      object,
      message: `tenant_id has type ${table.tenantIdType}; tenant ids are uuids`,
      fix: `ALTER TABLE ${table.quoted} ALTER COLUMN tenant_id TYPE uuid USING tenant_id::text::uuid, then ${PROTECT}`,
    });
  }
  if (!table.rlsEnabled) {
    findings.push({
      code: "rls-disabled",
      object,
      message: "row-level security is not enabled: every role with access sees every tenant",
      fix: `${PROTECT} (ALTER TABLE ${table.quoted} ENABLE ROW LEVEL SECURITY)`,
    });
  }
  if (!table.rlsForced) {
    findings.push({
      code: "rls-not-forced",
      object,
      message: `row-level security is not forced: the owner ${table.owner} bypasses it`,
      fix: `${PROTECT} (ALTER TABLE ${table.quoted} FORCE ROW LEVEL SECURITY)`,
    });
  }
  if (!table.hasTenantIndex) {
    findings.push({
      code: "tenant-index-missing",
      object,
      message: "no index has tenant_id as its leading column: every tenant query scans the table",
      fix: `${PROTECT} (CREATE INDEX ON ${table.quoted} (tenant_id))`,
    });
  }
  if (!table.tenantIdNotNull) {
    findings.push({
      code: "tenant-id-nullable",
      object,
      message: "tenant_id allows NULL: such rows belong to no tenant and no policy can reach them",
      fix: `ALTER TABLE ${table.quoted} ALTER COLUMN tenant_id SET NOT NULL`,
    });
  }
  return findings;
}

interface PolicyRow {
  oid: number;
  name: string;
  cmd: string;
  permissive: boolean;
  qual: string | null;
  check: string | null;
}

const CONTEXT_REFERENCE = /(?:current|signed)_tenant_(?:id|text)\(\)|app\.tenant_id/;

/** Findings about policies: missing, without WITH CHECK, or not scoped to the tenant. */
export async function policyFindings(
  client: Queryable,
  tables: readonly TenantTable[],
  signedMode = false,
): Promise<AuditFinding[]> {
  const { rows } = await client.query<PolicyRow>(
    `SELECT polrelid::int AS oid, polname AS name, polcmd::text AS cmd, polpermissive AS permissive,
            pg_catalog.pg_get_expr(polqual, polrelid) AS qual,
            pg_catalog.pg_get_expr(polwithcheck, polrelid) AS check
       FROM pg_catalog.pg_policy WHERE polrelid = ANY ($1::oid[]) ORDER BY polname`,
    [tables.map((t) => t.oid)],
  );
  const findings: AuditFinding[] = [];
  for (const table of tables) {
    const policies = rows.filter((p) => p.oid === table.oid);
    const object = `table ${table.display}`;
    if (policies.filter((p) => p.permissive).length === 0) {
      findings.push({
        code: "policy-missing",
        object,
        message: "no permissive policy: RLS either exposes nothing or is not in use",
        fix: PROTECT,
      });
    }
    for (const policy of policies) {
      const name = `policy ${quoteIdent(policy.name)} on ${table.display}`;
      if (["*", "a", "w"].includes(policy.cmd) && policy.check === null) {
        findings.push({
          code: "policy-missing-with-check",
          object: name,
          message: "writes are not checked explicitly with WITH CHECK",
          fix: `ALTER POLICY ${quoteIdent(policy.name)} ON ${table.quoted} WITH CHECK (...), or ${PROTECT}`,
        });
      }
      const expressions = [policy.qual, policy.check].filter((e): e is string => e !== null);
      const scoped = expressions.every((e) => /\btenant_id\b/.test(e) && CONTEXT_REFERENCE.test(e));
      if (policy.permissive && signedMode && isUnsignedSharedPolicy(table.schema, expressions)) {
        findings.push({
          code: "policy-context-unsigned",
          object: name,
          message: `the database runs the signed tenant context, but this policy accepts an unsigned tenant id (${expressions.join(" / ")}): set_config('app.tenant_id', ...) alone opens it`,
          fix: `${PROTECT} (it writes the signed policy), or DROP POLICY ${quoteIdent(policy.name)} ON ${table.quoted}`,
        });
      }
      if (policy.permissive && !scoped) {
        findings.push({
          code: "policy-not-tenant-scoped",
          object: name,
          message: `permissive policy does not compare tenant_id with the tenant context (${expressions.join(" / ")}); permissive policies are OR-ed, so it opens the table`,
          fix: `DROP POLICY ${quoteIdent(policy.name)} ON ${table.quoted}, or make it RESTRICTIVE`,
        });
      }
    }
  }
  return findings;
}

/** Unique constraints/indexes and foreign keys that omit tenant_id. */
export async function keyFindings(
  client: Queryable,
  tables: readonly TenantTable[],
): Promise<AuditFinding[]> {
  const oids = tables.map((t) => t.oid);
  const unique = await client.query<{ table: string; index: string; primary: boolean }>(
    `SELECT n.nspname || '.' || c.relname AS table, ic.relname AS index, i.indisprimary AS primary
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
      WHERE i.indrelid = ANY ($1::oid[]) AND i.indisunique
        AND NOT (a.attnum = ANY (i.indkey::int2[]))
      ORDER BY 1, 2`,
    [oids],
  );
  const foreign = await client.query<{ table: string; name: string; target: string }>(
    `SELECT n.nspname || '.' || c.relname AS table, k.conname AS name,
            tn.nspname || '.' || t.relname AS target
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_class t ON t.oid = k.confrelid
       JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
       JOIN pg_catalog.pg_attribute ta ON ta.attrelid = t.oid AND ta.attname = 'tenant_id'
      WHERE k.contype = 'f' AND k.conrelid = ANY ($1::oid[]) AND k.conparentid = 0
        AND NOT (a.attnum = ANY (k.conkey) AND ta.attnum = ANY (k.confkey))
      ORDER BY 1, 2`,
    [oids],
  );
  return [
    ...unique.rows.map((r): AuditFinding => ({
      code: "unique-without-tenant-id",
      object: `${r.primary ? "primary key" : "unique index"} ${r.index} on ${r.table}`,
      message:
        "uniqueness is enforced across tenants: one tenant's insert fails on another's value, revealing that it exists",
      fix: "recreate it with tenant_id as its first column, e.g. PRIMARY KEY (tenant_id, id)",
    })),
    ...foreign.rows.map((r): AuditFinding => ({
      code: "foreign-key-without-tenant-id",
      object: `foreign key ${r.name} on ${r.table}`,
      message: `references tenant table ${r.target} without tenant_id: foreign keys are checked without RLS, so a row can point at another tenant's row`,
      fix: `make it (tenant_id, ...) REFERENCES ${r.target} (tenant_id, ...)`,
    })),
  ];
}
