/**
 * Writes of the usage sampler into the control-plane database: counters (added once per
 * claim), gauges of the current bucket (replaced, peaks kept), operation counts (recomputed),
 * gaps, daily rollups and retention.
 */
import type pg from "pg";
import { DAILY_RETENTION_MONTHS, FIVE_MINUTE_RETENTION_DAYS } from "../../contract/usage.ts";
import { BUCKET_SECONDS, type BucketCounters } from "./buckets.ts";

type Tx = Pick<pg.ClientBase, "query">;

export interface CounterRow extends BucketCounters {
  readonly slug: string;
  readonly tier: string | null;
}

/** Records `claim` as applied; false when it already was (its counters must not be added). */
export async function markClaimApplied(tx: Tx, claim: string, source: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO control_plane.usage_claims (claim, source) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    [claim, source],
  );
  return rowCount === 1;
}

export async function appliedClaims(tx: Tx, claims: readonly string[]): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const { rows } = await tx.query<{ claim: string }>(
    "SELECT claim::text FROM control_plane.usage_claims WHERE claim = ANY ($1::uuid[])",
    [claims],
  );
  return new Set(rows.map((r) => r.claim));
}

/** Adds counters to their buckets; a day already rolled up is rolled up again. */
export async function addCounters(tx: Tx, rows: readonly CounterRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof CounterRow>(key: K) => rows.map((r) => r[key]);
  await tx.query(
    `INSERT INTO control_plane.usage_5m AS u (tenant_slug, tier, bucket, statements, statement_us,
       rows_read, rows_written, transactions, api_calls, connections_peak)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[],
                          $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::int[])
     ON CONFLICT (tenant_slug, bucket) DO UPDATE SET
       tier = coalesce(u.tier, EXCLUDED.tier),
       statements = u.statements + EXCLUDED.statements,
       statement_us = u.statement_us + EXCLUDED.statement_us,
       rows_read = u.rows_read + EXCLUDED.rows_read,
       rows_written = u.rows_written + EXCLUDED.rows_written,
       transactions = u.transactions + EXCLUDED.transactions,
       api_calls = u.api_calls + EXCLUDED.api_calls,
       connections_peak = greatest(u.connections_peak, EXCLUDED.connections_peak)`,
    [
      col("slug"),
      col("tier"),
      col("bucket"),
      col("statements"),
      rows.map((r) => Math.round(r.statementMicros)),
      col("rowsRead"),
      col("rowsWritten"),
      col("transactions"),
      col("apiCalls"),
      col("peakConcurrency"),
    ],
  );
  await tx.query(
    `DELETE FROM control_plane.usage_rollups WHERE day = ANY (
       SELECT DISTINCT (b AT TIME ZONE 'UTC')::date FROM unnest($1::timestamptz[]) AS b)`,
    [col("bucket")],
  );
}

export interface GaugeRow {
  readonly slug: string;
  readonly tier: string;
  /** null: the database could not be sampled. */
  readonly connectionsNow: number | null;
  readonly storageRows: number | null;
  readonly storageBytes: number | null;
  readonly quotaUsed: Record<string, string> | null;
  readonly operations: number;
}

/** One sample of every tenant into `bucket`: latest value, peak kept, storage when sampled. */
export async function writeGauges(tx: Tx, bucket: Date, rows: readonly GaugeRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof GaugeRow>(key: K) => rows.map((r) => r[key]);
  await tx.query(
    `INSERT INTO control_plane.usage_5m AS u (tenant_slug, tier, bucket, connections_now,
       connections_peak, storage_rows, storage_bytes, quota_used, operations, samples)
     SELECT s, t, $3::timestamptz, c, c, sr, sb, q, o, CASE WHEN c IS NULL THEN 0 ELSE 1 END
       FROM unnest($1::text[], $2::text[], $4::int[], $5::bigint[], $6::bigint[], $7::jsonb[], $8::int[])
            AS x(s, t, c, sr, sb, q, o)
     ON CONFLICT (tenant_slug, bucket) DO UPDATE SET
       tier = EXCLUDED.tier,
       connections_now = coalesce(EXCLUDED.connections_now, u.connections_now),
       connections_peak = greatest(u.connections_peak, EXCLUDED.connections_peak),
       storage_rows = coalesce(EXCLUDED.storage_rows, u.storage_rows),
       storage_bytes = coalesce(EXCLUDED.storage_bytes, u.storage_bytes),
       quota_used = coalesce(EXCLUDED.quota_used, u.quota_used),
       operations = EXCLUDED.operations,
       samples = u.samples + EXCLUDED.samples`,
    [
      col("slug"),
      col("tier"),
      bucket,
      col("connectionsNow"),
      col("storageRows"),
      col("storageBytes"),
      rows.map((r) => (r.quotaUsed ? JSON.stringify(r.quotaUsed) : null)),
      col("operations"),
    ],
  );
}

/** Operations created per tenant in [from, to), by bucket (recomputed, so re-runs agree). */
export async function operationsByBucket(
  tx: Tx,
  from: Date,
  to: Date,
): Promise<{ slug: string; bucket: Date; n: number }[]> {
  const { rows } = await tx.query<{ slug: string; bucket: Date; n: number }>(
    `SELECT tenant_slug AS slug,
            date_bin('${BUCKET_SECONDS} seconds', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
            count(*)::int AS n
       FROM control_plane.operations WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2`,
    [from, to],
  );
  return rows;
}

/** Sets the operation count of existing buckets (the previous bucket's late operations). */
export async function setOperations(
  tx: Tx,
  rows: readonly { slug: string; bucket: Date; n: number }[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `UPDATE control_plane.usage_5m u SET operations = x.n
       FROM unnest($1::text[], $2::timestamptz[], $3::int[]) AS x(s, b, n)
      WHERE u.tenant_slug = x.s AND u.bucket = x.b`,
    [rows.map((r) => r.slug), rows.map((r) => r.bucket), rows.map((r) => r.n)],
  );
}

export async function recordGap(
  tx: Tx,
  bucket: Date,
  source: string,
  reason: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO control_plane.usage_gaps (bucket, source, reason) VALUES ($1, $2, $3)
     ON CONFLICT (bucket, source) DO UPDATE SET reason = EXCLUDED.reason, at = now()`,
    [bucket, source, reason.slice(0, 500)],
  );
}

/**
 * Daily rows of the finished days of the last two weeks that have none yet (or whose counters
 * changed since), recomputed from the 5-minute buckets; then retention: 5-minute buckets, gaps
 * and claims older than 14 days, daily rows older than 13 months.
 */
export async function rollUpAndExpire(
  tx: Tx,
  now: Date,
): Promise<{ days: number; expired: number }> {
  const { rows } = await tx.query<{ day: string }>(
    `SELECT d::date::text AS day
       FROM generate_series(($1::timestamptz AT TIME ZONE 'UTC')::date - $2::int,
                            ($1::timestamptz AT TIME ZONE 'UTC')::date - 1, '1 day') AS d
      WHERE NOT EXISTS (SELECT 1 FROM control_plane.usage_rollups r WHERE r.day = d::date)
        AND EXISTS (SELECT 1 FROM control_plane.usage_5m u
                     WHERE u.bucket >= d::date::timestamp AT TIME ZONE 'UTC'
                       AND u.bucket < (d::date + 1)::timestamp AT TIME ZONE 'UTC')`,
    [now, FIVE_MINUTE_RETENTION_DAYS],
  );
  for (const { day } of rows) {
    await tx.query(
      `INSERT INTO control_plane.usage_daily AS d (tenant_slug, day, tier, statements, statement_us,
         rows_read, rows_written, transactions, api_calls, operations, connections_now,
         connections_peak, storage_rows, storage_bytes, quota_used, samples)
       SELECT tenant_slug, $1::date, (array_agg(tier ORDER BY bucket DESC))[1], sum(statements),
              sum(statement_us), sum(rows_read), sum(rows_written), sum(transactions),
              sum(api_calls), sum(operations), max(connections_now), max(connections_peak),
              max(storage_rows), max(storage_bytes),
              (array_agg(quota_used ORDER BY bucket DESC) FILTER (WHERE quota_used IS NOT NULL))[1],
              sum(samples)
         FROM control_plane.usage_5m
        WHERE bucket >= $1::date::timestamp AT TIME ZONE 'UTC'
          AND bucket < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
        GROUP BY tenant_slug
       ON CONFLICT (tenant_slug, day) DO UPDATE SET tier = EXCLUDED.tier,
         statements = EXCLUDED.statements, statement_us = EXCLUDED.statement_us,
         rows_read = EXCLUDED.rows_read, rows_written = EXCLUDED.rows_written,
         transactions = EXCLUDED.transactions, api_calls = EXCLUDED.api_calls,
         operations = EXCLUDED.operations, connections_now = EXCLUDED.connections_now,
         connections_peak = EXCLUDED.connections_peak, storage_rows = EXCLUDED.storage_rows,
         storage_bytes = EXCLUDED.storage_bytes, quota_used = EXCLUDED.quota_used,
         samples = EXCLUDED.samples`,
      [day],
    );
    await tx.query(
      "INSERT INTO control_plane.usage_rollups (day) VALUES ($1) ON CONFLICT (day) DO UPDATE SET at = now()",
      [day],
    );
  }
  const retention = `make_interval(days => ${FIVE_MINUTE_RETENTION_DAYS})`;
  let expired = 0;
  for (const sql of [
    `DELETE FROM control_plane.usage_5m WHERE bucket < $1::timestamptz - ${retention}`,
    `DELETE FROM control_plane.usage_gaps WHERE bucket < $1::timestamptz - ${retention}`,
    `DELETE FROM control_plane.usage_claims WHERE applied_at < $1::timestamptz - ${retention}`,
    `DELETE FROM control_plane.usage_rollups WHERE day < ($1::timestamptz - ${retention})::date - 1`,
    `DELETE FROM control_plane.usage_daily
      WHERE day < (($1::timestamptz AT TIME ZONE 'UTC') - make_interval(months => ${DAILY_RETENTION_MONTHS}))::date`,
  ]) {
    expired += (await tx.query(sql, [now])).rowCount ?? 0;
  }
  return { days: rows.length, expired };
}
