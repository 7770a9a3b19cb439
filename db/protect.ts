/**
 * RLS protect: for every tenant table, ENABLE and FORCE row-level security, one policy FOR ALL
 * with USING and WITH CHECK comparing tenant_id to the fail-closed context, and an index led
 * by tenant_id. Idempotent: a second run changes nothing; re-run it after new tables appear
 * (tenant migrations do so automatically).
 *
 * In a database running the signed tenant context (signedContextSql.ts), the tables of shared
 * schemas get the signed predicate (`tenancy.signed_tenant_*()`); a bridge tenant's own
 * schema (`tenant_*`, one tenant, its own role) keeps the plain one. A policy of the other
 * form is replaced, so switching the mode and re-running protect converges.
 */
import { createHash } from "node:crypto";
import {
  TENANT_POLICY_NAME,
  tenantIdTypeOf,
  tenantPredicate,
  tenantPredicatePattern,
  type TenantIdType,
} from "./contextSql.ts";
import { MAX_IDENTIFIER_BYTES, isTenantSchemaName, quoteIdent } from "./identifiers.ts";
import { SIGNED_MODE_SQL } from "./signedContextSql.ts";
import { listTenantTables, type TenantTable } from "./tenantTables.ts";
import { inTransaction, type Queryable } from "./transaction.ts";

export type ProtectAction =
  "enabled-rls" | "forced-rls" | "created-policy" | "replaced-policy" | "created-index";

export interface ProtectedTable {
  /** `schema.table`. */
  readonly table: string;
  /** What this run changed; empty when the table was already protected. */
  readonly actions: readonly ProtectAction[];
  /** Why the table was left alone (unsupported tenant_id type). */
  readonly skipped?: string;
}

export interface ProtectReport {
  readonly tables: readonly ProtectedTable[];
  /** Number of tables changed by this run. */
  readonly changed: number;
}

export interface ProtectOptions {
  /** Only these schemas. @default every non-system schema except `tenancy` */
  readonly schemas?: readonly string[];
}

/** Protects every tenant table, in one transaction. */
export async function protectDatabase(
  client: Queryable,
  options: ProtectOptions = {},
): Promise<ProtectReport> {
  return inTransaction(client, () => protectTables(client, options));
}

/**
 * The work of {@link protectDatabase} without its own transaction (tenant migrations call it
 * inside theirs). Must run as the tables' owner or a superuser.
 */
export async function protectTables(
  client: Queryable,
  options: ProtectOptions = {},
): Promise<ProtectReport> {
  const tables = await listTenantTables(client, options.schemas);
  const signedMode = (await client.query<{ signed: boolean }>(SIGNED_MODE_SQL)).rows[0]?.signed;
  const policies = await existingPolicies(
    client,
    tables.map((t) => t.oid),
  );
  const results: ProtectedTable[] = [];
  for (const table of tables) {
    const type = tenantIdTypeOf(table.tenantIdType);
    if (!type) {
      results.push({
        table: table.display,
        actions: [],
        skipped: `tenant_id has type ${table.tenantIdType}; protect supports uuid and text`,
      });
      continue;
    }
    const signed = signedMode === true && !isTenantSchemaName(table.schema);
    results.push({
      table: table.display,
      actions: await protectTable(client, table, type, signed, policies.get(table.oid)),
    });
  }
  return { tables: results, changed: results.filter((r) => r.actions.length > 0).length };
}

interface PolicyFacts {
  /** Exactly what protect writes, with the plain predicate. */
  readonly plain: boolean;
  /** Exactly what protect writes, with the signed predicate. */
  readonly signed: boolean;
}

async function protectTable(
  client: Queryable,
  table: TenantTable,
  type: TenantIdType,
  signed: boolean,
  policy: PolicyFacts | undefined,
): Promise<ProtectAction[]> {
  const actions: ProtectAction[] = [];
  if (!table.rlsEnabled) {
    await client.query(`ALTER TABLE ${table.quoted} ENABLE ROW LEVEL SECURITY`);
    actions.push("enabled-rls");
  }
  if (!table.rlsForced) {
    await client.query(`ALTER TABLE ${table.quoted} FORCE ROW LEVEL SECURITY`);
    actions.push("forced-rls");
  }
  if (!(signed ? policy?.signed : policy?.plain)) {
    const name = quoteIdent(TENANT_POLICY_NAME);
    if (policy) await client.query(`DROP POLICY ${name} ON ${table.quoted}`);
    const predicate = tenantPredicate(type, signed);
    await client.query(
      `CREATE POLICY ${name} ON ${table.quoted} AS PERMISSIVE FOR ALL TO PUBLIC
         USING ${predicate} WITH CHECK ${predicate}`,
    );
    actions.push(policy ? "replaced-policy" : "created-policy");
  }
  if (!table.hasTenantIndex) {
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(tenantIndexName(table.name))} ON ${table.quoted} (tenant_id)`,
    );
    actions.push("created-index");
  }
  return actions;
}

/** `<table>_tenant_id_idx`, shortened with a hash when it would exceed 63 bytes. */
export function tenantIndexName(table: string): string {
  const name = `${table}_tenant_id_idx`;
  if (Buffer.byteLength(name, "utf8") <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash("sha256").update(table).digest("hex").slice(0, 8);
  return `${table.slice(0, 40)}_${hash}_tenant_id_idx`;
}

/**
 * The `tenant_isolation` policy of each table, and whether it is exactly what protect writes:
 * permissive, FOR ALL, TO PUBLIC, USING = WITH CHECK = the plain or the signed predicate.
 */
async function existingPolicies(
  client: Queryable,
  oids: readonly number[],
): Promise<Map<number, PolicyFacts>> {
  if (oids.length === 0) return new Map();
  const { rows } = await client.query<{ oid: number; plain: boolean; signed: boolean }>(
    `SELECT oid, shaped AND qual ~ $3 AS plain, shaped AND qual ~ $4 AS signed
       FROM (SELECT p.polrelid::int AS oid, pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
                    p.polcmd = '*' AND p.polpermissive AND p.polroles = '{0}'::oid[]
                      AND p.polwithcheck IS NOT NULL
                      AND pg_catalog.pg_get_expr(p.polqual, p.polrelid)
                          = pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS shaped
               FROM pg_catalog.pg_policy p
              WHERE p.polrelid = ANY ($1::oid[]) AND p.polname = $2) p`,
    [oids, TENANT_POLICY_NAME, tenantPredicatePattern(false), tenantPredicatePattern(true)],
  );
  return new Map(rows.map((r) => [r.oid, { plain: r.plain, signed: r.signed }]));
}
