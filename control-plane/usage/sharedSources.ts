/**
 * What the usage sampler reads from the shared tenant database (as its administrator): the
 * registry, the counters the tenant context library flushed (claimed, so each is applied once),
 * the connections by tenant, and storage by placement.
 */
import type pg from "pg";
import { listTenantTables } from "../../db/tenantTables.ts";
import { USAGE_FLUSH_TABLE, TENANT_APPLICATION_NAME_PREFIX } from "../../db/usage/usageSql.ts";
import { bucketSql, type BucketCounters } from "./buckets.ts";

export interface RegisteredTenant {
  readonly id: string;
  readonly slug: string;
  readonly mode: "pool" | "schema" | "dedicated";
  readonly role: string;
  readonly schema: string;
  readonly database: string;
}

export async function readRegistry(shared: pg.ClientBase): Promise<RegisteredTenant[]> {
  const { rows } = await shared.query<RegisteredTenant>(
    `SELECT id::text, slug, mode, role_name AS role, schema_name AS schema, database_name AS database
       FROM tenancy.tenants`,
  );
  return rows;
}

/** Counters of one claim, per tenant id, flushing role and 5-minute bucket. */
export interface ClaimedCounters extends BucketCounters {
  readonly claim: string;
  readonly tenantId: string;
  readonly flushedBy: string;
}

/** Claims already made (by this or an earlier, interrupted cycle) and not yet deleted. */
export async function openClaims(shared: pg.ClientBase): Promise<string[]> {
  const { rows } = await shared.query<{ claim: string }>(
    `SELECT DISTINCT claim::text FROM ${USAGE_FLUSH_TABLE} WHERE claim IS NOT NULL`,
  );
  return rows.map((r) => r.claim);
}

/** Marks every unclaimed flushed row with `claim`; returns how many. */
export async function claimFlushed(shared: pg.ClientBase, claim: string): Promise<number> {
  const { rowCount } = await shared.query(
    `UPDATE ${USAGE_FLUSH_TABLE} SET claim = $1 WHERE claim IS NULL`,
    [claim],
  );
  return rowCount ?? 0;
}

export async function claimedCounters(
  shared: pg.ClientBase,
  claims: readonly string[],
): Promise<ClaimedCounters[]> {
  if (claims.length === 0) return [];
  const { rows } = await shared.query<Record<string, string | Date>>(
    `SELECT claim::text, tenant_id::text, flushed_by::text, ${bucketSql("flushed_at")} AS bucket,
            sum(statements)::text AS statements, sum(statement_us)::text AS micros,
            sum(rows_read)::text AS rows_read, sum(rows_written)::text AS rows_written,
            sum(transactions)::text AS transactions, sum(api_calls)::text AS api_calls,
            max(peak_concurrency)::text AS peak
       FROM ${USAGE_FLUSH_TABLE} WHERE claim = ANY ($1::uuid[])
      GROUP BY 1, 2, 3, 4`,
    [claims],
  );
  return rows.map((r) => ({
    claim: r.claim as string,
    tenantId: r.tenant_id as string,
    flushedBy: r.flushed_by as string,
    bucket: r.bucket as Date,
    statements: Number(r.statements),
    statementMicros: Number(r.micros),
    rowsRead: Number(r.rows_read),
    rowsWritten: Number(r.rows_written),
    transactions: Number(r.transactions),
    apiCalls: Number(r.api_calls),
    peakConcurrency: Number(r.peak),
  }));
}

export async function deleteClaims(
  shared: pg.ClientBase,
  claims: readonly string[],
): Promise<void> {
  if (claims.length === 0) return;
  await shared.query(`DELETE FROM ${USAGE_FLUSH_TABLE} WHERE claim = ANY ($1::uuid[])`, [claims]);
}

/**
 * Client connections now, per tenant: a connection inside a tenant's transaction run by the
 * library with connection attribution (`application_name` = `tenancy:<id>`), else one logged
 * in as a schema tenant's own role. Dedicated tenants are counted on their own server
 * (dedicatedSources.ts). The sampler's own connections are left out.
 */
export async function connectionsByTenant(
  shared: pg.ClientBase,
  tenants: readonly RegisteredTenant[],
): Promise<Map<string, number>> {
  const { rows } = await shared.query<{ role: string; app: string; n: number }>(
    `SELECT coalesce(usename, '') AS role, coalesce(application_name, '') AS app,
            count(*)::int AS n
       FROM pg_catalog.pg_stat_activity
      WHERE backend_type = 'client backend' AND application_name <> $1
      GROUP BY 1, 2`,
    [SAMPLER_APPLICATION_NAME],
  );
  const byId = new Map(tenants.map((t) => [t.id, t.slug]));
  const byRole = new Map(tenants.filter((t) => t.mode === "schema").map((t) => [t.role, t.slug]));
  const counts = new Map<string, number>();
  for (const row of rows) {
    const id = row.app.startsWith(TENANT_APPLICATION_NAME_PREFIX)
      ? row.app.slice(TENANT_APPLICATION_NAME_PREFIX.length)
      : undefined;
    const slug = (id ? byId.get(id) : undefined) ?? byRole.get(row.role);
    if (slug) counts.set(slug, (counts.get(slug) ?? 0) + row.n);
  }
  return counts;
}

export const SAMPLER_APPLICATION_NAME = "tenancy-usage-sampler";

export interface TenantStorage {
  readonly rows: number | null;
  readonly bytes: number;
}

/**
 * Storage per tenant. Pooled: exact rows per protected table of the shared schema
 * (`count(*) GROUP BY tenant_id`), bytes apportioned from the table's total size by row
 * share. Schema: the schema's tables, indexes and TOAST (exact bytes; rows from the planner's
 * estimate). Dedicated tenants are sized on their own server (dedicatedSources.ts).
 */
export async function storageByTenant(
  shared: pg.ClientBase,
  tenants: readonly RegisteredTenant[],
  sharedSchema: string,
): Promise<Map<string, TenantStorage>> {
  const result = new Map<string, { rows: number | null; bytes: number }>();
  const add = (slug: string, rows: number | null, bytes: number) => {
    const entry = result.get(slug) ?? { rows: 0, bytes: 0 };
    entry.rows = entry.rows === null || rows === null ? null : entry.rows + rows;
    entry.bytes += bytes;
    result.set(slug, entry);
  };
  const pooled = new Map(tenants.filter((t) => t.mode === "pool").map((t) => [t.id, t.slug]));
  for (const t of tenants.filter((t) => t.mode === "pool")) add(t.slug, 0, 0);
  for (const table of await listTenantTables(shared, [sharedSchema])) {
    if (table.partitioned) continue; // its partitions are listed themselves
    const { rows } = await shared.query<{ id: string; n: string }>(
      `SELECT tenant_id::text AS id, count(*)::text AS n FROM ${table.quoted} GROUP BY 1`,
    );
    const size = await shared.query<{ bytes: string }>(
      "SELECT pg_catalog.pg_total_relation_size($1::oid)::text AS bytes",
      [table.oid],
    );
    const total = rows.reduce((sum, r) => sum + Number(r.n), 0);
    const bytes = Number(size.rows[0]?.bytes ?? 0);
    for (const row of rows) {
      const slug = pooled.get(row.id);
      if (slug) add(slug, Number(row.n), total > 0 ? (bytes * Number(row.n)) / total : 0);
    }
  }
  const schemas = tenants.filter((t) => t.mode === "schema");
  if (schemas.length > 0) {
    const { rows } = await shared.query<{ schema: string; rows: string; bytes: string }>(
      `SELECT n.nspname AS schema, sum(greatest(c.reltuples, 0))::bigint::text AS rows,
              sum(pg_catalog.pg_total_relation_size(c.oid))::text AS bytes
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND n.nspname = ANY ($1::text[])
        GROUP BY 1`,
      [schemas.map((t) => t.schema)],
    );
    const bySchema = new Map(rows.map((r) => [r.schema, r]));
    for (const t of schemas) {
      const row = bySchema.get(t.schema);
      add(t.slug, Number(row?.rows ?? 0), Number(row?.bytes ?? 0));
    }
  }
  return new Map(
    [...result].map(([slug, s]) => [slug, { rows: s.rows, bytes: Math.round(s.bytes) }]),
  );
}
