/**
 * Reading the usage series: one tenant's points over a range at a step, the noisiest tenants
 * by a metric, gaps. Buckets without data are points of nulls ("not collected"), never zeros.
 */
import type pg from "pg";
import {
  USAGE_STEPS,
  type UsageGap,
  type UsageMetric,
  type UsagePoint,
  type UsageStep,
} from "../../contract/usage.ts";
import { BUCKET_SECONDS } from "./buckets.ts";

type Db = Pick<pg.Pool, "query">;

const EPOCH = "TIMESTAMPTZ '2000-01-01 00:00:00+00'";

/** Aggregates of a set of usage rows, as the API's point fields. */
const AGGREGATES = `
  (array_agg(tier ORDER BY at DESC) FILTER (WHERE tier IS NOT NULL))[1] AS tier,
  sum(statements)::float8 AS "statements", (sum(statement_us) / 1e6)::float8 AS "statementSeconds",
  sum(rows_read)::float8 AS "rowsRead", sum(rows_written)::float8 AS "rowsWritten",
  sum(transactions)::float8 AS "transactions", sum(api_calls)::float8 AS "apiCalls",
  sum(operations)::float8 AS "operations", max(connections_now)::float8 AS "connectionsNow",
  max(connections_peak)::float8 AS "connectionsPeak", max(storage_rows)::float8 AS "storageRows",
  max(storage_bytes)::float8 AS "storageBytes",
  (array_agg(quota_used ORDER BY at DESC) FILTER (WHERE quota_used IS NOT NULL))[1] AS "quotaUsed"`;

/**
 * 5-minute rows, and for whole days that have one, the daily rollup (`at` = bucket start,
 * `seconds` = the row's length).
 */
export function rowsSql(step: UsageStep): string {
  const fiveMinute = `SELECT tenant_slug, bucket AS at, ${BUCKET_SECONDS} AS seconds, tier, statements, statement_us, rows_read,
      rows_written, transactions, api_calls, operations, connections_now, connections_peak,
      storage_rows, storage_bytes, quota_used FROM control_plane.usage_5m`;
  if (step !== "1d") return fiveMinute;
  return `${fiveMinute} u WHERE NOT EXISTS (SELECT 1 FROM control_plane.usage_daily d
             WHERE d.tenant_slug = u.tenant_slug AND d.day = (u.bucket AT TIME ZONE 'UTC')::date)
    UNION ALL
    SELECT tenant_slug, day::timestamp AT TIME ZONE 'UTC', 86400, tier, statements, statement_us, rows_read,
      rows_written, transactions, api_calls, operations, connections_now, connections_peak,
      storage_rows, storage_bytes, quota_used FROM control_plane.usage_daily`;
}

export async function readSeries(
  db: Db,
  slug: string,
  from: Date,
  to: Date,
  step: UsageStep,
): Promise<{ points: UsagePoint[]; gaps: UsageGap[] }> {
  const seconds = USAGE_STEPS[step];
  const { rows } = await db.query<UsagePoint & { at: Date }>(
    `WITH src AS (${rowsSql(step)})
     SELECT date_bin('${seconds} seconds', at, ${EPOCH}) AS at, ${AGGREGATES}
       FROM src WHERE tenant_slug = $1 AND at >= $2 AND at < $3
      GROUP BY 1 ORDER BY 1`,
    [slug, from, to],
  );
  const byAt = new Map(rows.map((r) => [r.at.getTime(), r]));
  const points: UsagePoint[] = [];
  const first = Math.floor(from.getTime() / (seconds * 1000)) * seconds * 1000;
  for (let t = first; t < to.getTime(); t += seconds * 1000) {
    const row = byAt.get(t);
    points.push(row ? { ...row, at: new Date(t).toISOString() } : nullPoint(new Date(t)));
  }
  const { rows: gaps } = await db.query<{ at: Date; source: string; reason: string }>(
    `SELECT bucket AS at, source, reason FROM control_plane.usage_gaps
      WHERE bucket >= $1 AND bucket < $2 ORDER BY bucket, source`,
    [from, to],
  );
  return { points, gaps: gaps.map((g) => ({ ...g, at: g.at.toISOString() })) };
}

function nullPoint(at: Date): UsagePoint {
  return {
    at: at.toISOString(),
    tier: null,
    statements: null,
    statementSeconds: null,
    rowsRead: null,
    rowsWritten: null,
    transactions: null,
    apiCalls: null,
    operations: null,
    connectionsNow: null,
    connectionsPeak: null,
    storageRows: null,
    storageBytes: null,
    quotaUsed: null,
  };
}

/** SQL of a metric over a window of 5-minute rows: counters add up, gauges take the largest. */
const METRIC_SQL: Record<UsageMetric, string> = {
  statements: "sum(statements)",
  statementSeconds: "sum(statement_us) / 1e6",
  rowsRead: "sum(rows_read)",
  rowsWritten: "sum(rows_written)",
  transactions: "sum(transactions)",
  apiCalls: "sum(api_calls)",
  operations: "sum(operations)",
  connectionsNow: "max(connections_now)",
  connectionsPeak: "max(connections_peak)",
  storageRows: "max(storage_rows)",
  storageBytes: "max(storage_bytes)",
};

/** The `limit` tenants with the largest `metric` over [from, to), largest first. */
export async function topTenants(
  db: Db,
  metric: UsageMetric,
  from: Date,
  to: Date,
  limit: number,
): Promise<{ slug: string; tier: string; value: number }[]> {
  const { rows } = await db.query<{ slug: string; tier: string | null; value: number }>(
    `SELECT u.tenant_slug AS slug, coalesce(t.tier, (array_agg(u.tier ORDER BY u.bucket DESC))[1]) AS tier,
            (${METRIC_SQL[metric]})::float8 AS value
       FROM control_plane.usage_5m u LEFT JOIN control_plane.tenants t ON t.slug = u.tenant_slug
      WHERE u.bucket >= $1 AND u.bucket < $2
      GROUP BY u.tenant_slug, t.tier
     HAVING (${METRIC_SQL[metric]}) IS NOT NULL AND (${METRIC_SQL[metric]}) > 0
      ORDER BY value DESC, slug LIMIT $3`,
    [from, to, limit],
  );
  return rows.map((r) => ({ slug: r.slug, tier: r.tier ?? "", value: r.value }));
}
