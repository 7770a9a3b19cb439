/**
 * What the cost estimate needs from the usage series: per tenant over a window, the counters
 * summed and storage integrated over time (GiB-months), with the tenant's tier and modes.
 */
import type pg from "pg";
import type { TiersFile } from "../../catalog/index.ts";
import { LAYERS, type Layer } from "../../contract/modes.ts";
import { MONTH_SECONDS } from "../../contract/pricing.ts";
import type { TenantUsage } from "./costEstimate.ts";
import { rowsSql } from "./usageQueries.ts";

type Db = Pick<pg.Pool, "query">;

const GIB = 1024 ** 3;

/**
 * Storage is a gauge sampled hourly: a bucket without a sample holds the latest sample
 * before it (in the window, or the last one before the window), for the bucket's length.
 */
const QUANTITIES_SQL = `
  WITH src AS (${rowsSql("1d")}),
  w AS (
    SELECT src.*, count(storage_bytes) OVER (PARTITION BY tenant_slug ORDER BY at) AS run
      FROM src WHERE at >= $1 AND at < $2
  ),
  held AS (
    SELECT w.*, coalesce(
        first_value(storage_bytes) OVER (PARTITION BY tenant_slug, run ORDER BY at),
        CASE WHEN run = 0 THEN (
          SELECT p.storage_bytes FROM control_plane.usage_5m p
           WHERE p.tenant_slug = w.tenant_slug AND p.bucket < $1 AND p.storage_bytes IS NOT NULL
           ORDER BY p.bucket DESC LIMIT 1) END) AS held_bytes
      FROM w
  )
  SELECT h.tenant_slug AS slug,
         coalesce(t.tier, (array_agg(h.tier ORDER BY h.at DESC) FILTER (WHERE h.tier IS NOT NULL))[1], '') AS tier,
         t.resolved -> 'layers' AS layers,
         sum(statements)::float8 AS statements, (sum(statement_us) / 1e6)::float8 AS "statementSeconds",
         sum(rows_read)::float8 AS "rowsRead", sum(rows_written)::float8 AS "rowsWritten",
         sum(transactions)::float8 AS transactions, sum(api_calls)::float8 AS "apiCalls",
         coalesce(sum(operations), 0)::float8 AS operations,
         (coalesce(sum(held_bytes::float8 * seconds), 0) / ${GIB}::float8 / ${MONTH_SECONDS})::float8
           AS "storageGibMonths"
    FROM held h LEFT JOIN control_plane.tenants t ON t.slug = h.tenant_slug
   GROUP BY h.tenant_slug, t.tier, t.resolved
   ORDER BY 1`;

interface QuantityRow extends Omit<TenantUsage, "modes" | "usage"> {
  readonly layers: Partial<Record<Layer, string>> | null;
  readonly statements: number;
  readonly statementSeconds: number;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly transactions: number;
  readonly apiCalls: number;
  readonly operations: number;
  readonly storageGibMonths: number;
}

/** Every tenant with usage rows in [from, to); its modes from its record, else its tier's. */
export async function usageForCost(
  db: Db,
  tiers: TiersFile,
  from: Date,
  to: Date,
): Promise<TenantUsage[]> {
  const { rows } = await db.query<QuantityRow>(QUANTITIES_SQL, [from, to]);
  return rows.map(({ slug, tier, layers, ...usage }) => {
    const tierLayers = tiers.tiers[tier]?.layers;
    const modes: Partial<Record<Layer, string>> = {};
    for (const layer of LAYERS) {
      const mode = layers?.[layer] ?? tierLayers?.[layer];
      if (mode) modes[layer] = mode;
    }
    return { slug, tier, modes, usage };
  });
}
