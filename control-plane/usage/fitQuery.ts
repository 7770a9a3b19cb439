/**
 * `tenancy usage --fit` / `GET /v1/usage/fit`: the tenants above a budget of their tier for a
 * sustained window. PostgreSQL finds the tenants with any bucket above a budget (one query
 * over the window); only their series are read and judged (./tierFit.ts).
 */
import type pg from "pg";
import type { TiersFile } from "../../catalog/index.ts";
import { BUCKET_SECONDS } from "./buckets.ts";
import { fitTenant, tierBudgets, type TenantFit } from "./tierFit.ts";
import { readSeries } from "./usageQueries.ts";

type Db = Pick<pg.Pool, "query">;

const PER_MINUTE = `* 60.0 / ${BUCKET_SECONDS}`;

export async function tenantsOverBudget(
  db: Db,
  tiers: TiersFile,
  from: Date,
  to: Date,
  sustainedBuckets: number,
): Promise<TenantFit[]> {
  const budgets = [...tierBudgets(tiers)].map(([tier, b]) => ({ tier, ...b }));
  if (budgets.length === 0) return [];
  const { rows: candidates } = await db.query<{ slug: string; tier: string }>(
    `SELECT DISTINCT u.tenant_slug AS slug, t.tier
       FROM control_plane.usage_5m u
       JOIN control_plane.tenants t ON t.slug = u.tenant_slug AND t.state <> 'deleted'
       JOIN jsonb_to_recordset($3::jsonb) AS b(tier text, "statementsPerMinute" float8,
              "statementSecondsPerMinute" float8, "rowsWrittenPerMinute" float8,
              "apiCallsPerMinute" float8, "peakConnections" float8, "storageBytes" float8)
         ON b.tier = t.tier
      WHERE u.bucket >= $1 AND u.bucket < $2
        AND (u.statements ${PER_MINUTE} > b."statementsPerMinute"
          OR u.statement_us / 1e6 ${PER_MINUTE} > b."statementSecondsPerMinute"
          OR u.rows_written ${PER_MINUTE} > b."rowsWrittenPerMinute"
          OR u.api_calls ${PER_MINUTE} > b."apiCallsPerMinute"
          OR u.connections_peak > b."peakConnections"
          OR u.storage_bytes > b."storageBytes")
      ORDER BY 1`,
    [from, to, JSON.stringify(budgets)],
  );
  const fits: TenantFit[] = [];
  for (const { slug, tier } of candidates) {
    const { points } = await readSeries(db, slug, from, to, "5m");
    const fit = fitTenant(slug, tier, points, tiers, sustainedBuckets);
    if (fit.breaches.length > 0) fits.push(fit);
  }
  return fits;
}
