/**
 * One collection cycle of per-tenant usage (run by the `tenant-usage` job every minute):
 *
 * 1. counters the tenant context library flushed into the shared database are claimed
 *    (marked with a new claim id), added to their 5-minute buckets in the control database
 *    together with the claim's id in one transaction, then deleted. A claim already recorded
 *    is never added again, and an interrupted cycle's claim is applied by the next one, so a
 *    re-run neither loses nor double counts;
 * 2. gauges of the current bucket: connections now (peak kept), storage (every
 *    `storageEverySeconds`), the Kubernetes quota's `status.used`, operations per tenant
 *    (recomputed from the operations table);
 * 3. finished days rolled up, retention applied.
 *
 * A source that cannot be read leaves a gap (`control_plane.usage_gaps`), never zeros.
 */
import pg from "pg";
import { databaseRoutingSchema } from "../../contract/index.ts";
import { errorMessage } from "../../db/transaction.ts";
import { BUCKET_SECONDS, bucketOf } from "./buckets.ts";
import {
  dedicatedSource,
  dedicatedTargets,
  ownCounters,
  readDedicatedDatabases,
  type DedicatedReadings,
  type RoutedAddress,
} from "./dedicatedSources.ts";
import { claimFlushes, type ClaimedFlushes } from "./flushClaims.ts";
import type { KubeQuotaReader } from "./kubeQuotas.ts";
import {
  connectionsByTenant,
  deleteClaims,
  readRegistry,
  SAMPLER_APPLICATION_NAME,
  storageByTenant,
  type RegisteredTenant,
  type TenantStorage,
} from "./sharedSources.ts";
import {
  addCounters,
  markClaimApplied,
  operationsByBucket,
  recordGap,
  rollUpAndExpire,
  setOperations,
  writeGauges,
  type CounterRow,
  type GaugeRow,
} from "./usageWrite.ts";

export interface UsageCycleOptions {
  readonly controlDatabaseUrl: string;
  readonly sharedDatabaseUrl: string;
  /** Role prefix of the shared database (its application role is `<prefix>_app`). @default "tenancy" */
  readonly rolePrefix?: string;
  /** Schema of the pooled tenants' tables. @default "app" */
  readonly sharedSchema?: string;
  /** Dedicated databases read at the same time. @default 4 */
  readonly dedicatedConcurrency?: number;
  /** Seconds between storage samples (0: every cycle). @default 3600 */
  readonly storageEverySeconds?: number;
  readonly kubeQuotas?: KubeQuotaReader;
  /** The cycle's clock (tests). @default now */
  readonly now?: () => Date;
  /** Called after each step (fault tests interrupt the cycle here). */
  readonly afterStep?: (step: UsageCycleStep) => Promise<void>;
}

export type UsageCycleStep = "claimed" | "read" | "written";

export interface UsageCycleReport {
  /** Another cycle held the lock: this one did nothing. */
  readonly skipped: boolean;
  readonly bucket: Date;
  readonly tenants: number;
  /** Flushed rows claimed by this cycle. */
  readonly claimedRows: number;
  /** Claims whose counters this cycle added (its own and interrupted cycles'). */
  readonly appliedClaims: number;
  /** Counter rows refused: unknown tenant id, or flushed by a role that is not the tenant's. */
  readonly refusedRows: number;
  readonly storageSampled: boolean;
  readonly gaps: readonly { source: string; reason: string }[];
  readonly seconds: number;
}

const LOCK = "hashtext('tenancy:usage-cycle')";

export async function runUsageCycle(options: UsageCycleOptions): Promise<UsageCycleReport> {
  const started = performance.now();
  const now = options.now?.() ?? new Date();
  const bucket = bucketOf(now);
  const control = await connect(options.controlDatabaseUrl);
  try {
    const locked = await control.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(${LOCK}) AS ok`,
    );
    if (!locked.rows[0]?.ok) {
      return { ...empty(bucket), skipped: true, seconds: elapsed(started) };
    }
    const report = await collect(options, control, now, bucket);
    return { ...report, seconds: elapsed(started) };
  } finally {
    await control.query(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => undefined);
    await control.end().catch(() => undefined);
  }
}

interface SharedReading extends ClaimedFlushes {
  readonly registry: RegisteredTenant[];
  readonly connections: Map<string, number>;
  readonly storage?: Map<string, TenantStorage>;
}

async function collect(
  options: UsageCycleOptions,
  control: pg.Client,
  now: Date,
  bucket: Date,
): Promise<Omit<UsageCycleReport, "seconds">> {
  const { rows: tenants } = await control.query<{ slug: string; tier: string; db: unknown }>(
    "SELECT slug, tier, routing->'database' AS db FROM control_plane.tenants WHERE state <> 'deleted'",
  );
  const tierOf = new Map(tenants.map((t) => [t.slug, t.tier]));
  const routings = new Map<string, RoutedAddress>();
  for (const t of tenants) {
    const parsed = databaseRoutingSchema.safeParse(t.db);
    if (parsed.success) routings.set(t.slug, parsed.data);
  }
  const gaps: { source: string; reason: string }[] = [];
  const storageDue = await isStorageDue(control, now, options.storageEverySeconds ?? 3600);

  let shared: pg.Client | undefined;
  let reading: SharedReading | undefined;
  try {
    shared = await connect(options.sharedDatabaseUrl);
    reading = await readShared(shared, control, options, storageDue);
  } catch (error) {
    gaps.push({ source: "shared-database", reason: errorMessage(error) });
  }
  let dedicated: DedicatedReadings | undefined;
  if (reading) {
    dedicated = await readDedicatedDatabases(
      dedicatedTargets(options.sharedDatabaseUrl, reading.registry, routings),
      control,
      {
        storage: reading.storage !== undefined,
        ...(options.dedicatedConcurrency === undefined
          ? {}
          : { concurrency: options.dedicatedConcurrency }),
      },
    );
    for (const { source, reason } of dedicated.gaps) gaps.push({ source, reason });
    // Their own server's answers (the shared server does not count dedicated tenants).
    for (const r of dedicated.readings) {
      reading.connections.set(r.tenant.slug, r.connections);
      if (r.storageBytes !== undefined) {
        reading.storage?.set(r.tenant.slug, { rows: null, bytes: r.storageBytes });
      }
    }
  }
  const unread = new Set(dedicated?.gaps.map((g) => g.slug));

  let quotas: Map<string, Record<string, string>> | undefined;
  if (options.kubeQuotas) {
    try {
      quotas = await options.kubeQuotas(tenants.map((t) => t.slug));
    } catch (error) {
      gaps.push({ source: "kubernetes", reason: errorMessage(error) });
    }
  }
  await options.afterStep?.("read");

  const appRole = `${options.rolePrefix ?? "tenancy"}_app`;
  const applied: string[] = [];
  let refused = 0;
  const previous = new Date(bucket.getTime() - BUCKET_SECONDS * 1000);
  await control.query("BEGIN");
  try {
    if (reading) {
      const bySlug = new Map(reading.registry.map((t) => [t.id, t]));
      for (const claim of reading.claims) {
        if (!(await markClaimApplied(control, claim, "shared-database"))) continue;
        applied.push(claim);
        const rows: CounterRow[] = [];
        for (const c of reading.counters.filter((row) => row.claim === claim)) {
          const tenant = bySlug.get(c.tenantId);
          // Pooled tenants' counters come from the application role; a bridge tenant's from
          // it or the tenant's own role. Anything else is another tenant's claim: refused.
          if (!tenant || (c.flushedBy !== appRole && c.flushedBy !== tenant.role)) {
            refused += 1;
            continue;
          }
          rows.push({ ...c, slug: tenant.slug, tier: tierOf.get(tenant.slug) ?? null });
        }
        await addCounters(control, rows);
      }
    }
    for (const { tenant, claims, counters } of dedicated?.readings ?? []) {
      for (const claim of claims) {
        if (!(await markClaimApplied(control, claim, dedicatedSource(tenant.slug)))) continue;
        applied.push(claim);
        const rows: CounterRow[] = [];
        for (const c of counters.filter((row) => row.claim === claim)) {
          if (!ownCounters(tenant, c)) {
            refused += 1;
            continue;
          }
          rows.push({ ...c, slug: tenant.slug, tier: tierOf.get(tenant.slug) ?? null });
        }
        await addCounters(control, rows);
      }
    }
    const operations = await operationsByBucket(
      control,
      previous,
      new Date(bucket.getTime() + BUCKET_SECONDS * 1000),
    );
    const opsNow = new Map(
      operations.filter((o) => o.bucket.getTime() === bucket.getTime()).map((o) => [o.slug, o.n]),
    );
    const gauges: GaugeRow[] = tenants.map((t) => {
      const storage = reading?.storage?.get(t.slug);
      return {
        slug: t.slug,
        tier: t.tier,
        connectionsNow:
          reading && !unread.has(t.slug) ? (reading.connections.get(t.slug) ?? 0) : null,
        storageRows: storage ? storage.rows : null,
        storageBytes: storage ? storage.bytes : null,
        quotaUsed: quotas?.get(t.slug) ?? null,
        operations: opsNow.get(t.slug) ?? 0,
      };
    });
    await writeGauges(control, bucket, gauges);
    await setOperations(
      control,
      operations.filter((o) => o.bucket.getTime() === previous.getTime()),
    );
    for (const gap of gaps) await recordGap(control, bucket, gap.source, gap.reason);
    if (reading?.storage) await markStorageSampled(control, now);
    await options.afterStep?.("written");
    await control.query("COMMIT");
  } catch (error) {
    await control.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  if (shared && reading) {
    // Applied (now or by an earlier cycle): the flushed rows have done their work.
    // (A dedicated database's applied claims are deleted by the next cycle's read.)
    await deleteClaims(shared, applied).catch(() => undefined);
  }
  await shared?.end().catch(() => undefined);
  await control.query("BEGIN");
  try {
    await rollUpAndExpire(control, now);
    await control.query("COMMIT");
  } catch (error) {
    await control.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  return {
    skipped: false,
    bucket,
    tenants: tenants.length,
    claimedRows:
      (reading?.claimedRows ?? 0) +
      (dedicated?.readings.reduce((sum, r) => sum + r.claimedRows, 0) ?? 0),
    appliedClaims: applied.length,
    refusedRows: refused,
    storageSampled: reading?.storage !== undefined,
    gaps,
  };
}

async function readShared(
  shared: pg.Client,
  control: pg.Client,
  options: UsageCycleOptions,
  storageDue: boolean,
): Promise<SharedReading> {
  const registry = await readRegistry(shared);
  const flushes = await claimFlushes(shared, control, () =>
    options.afterStep ? options.afterStep("claimed") : Promise.resolve(),
  );
  const connections = await connectionsByTenant(shared, registry);
  const storage = storageDue
    ? await storageByTenant(shared, registry, options.sharedSchema ?? "app")
    : undefined;
  return { registry, ...flushes, connections, ...(storage ? { storage } : {}) };
}

async function isStorageDue(control: pg.Client, now: Date, every: number): Promise<boolean> {
  const { rows } = await control.query<{ at: Date }>(
    "SELECT at FROM control_plane.usage_state WHERE key = 'storage'",
  );
  const last = rows[0]?.at;
  return !last || now.getTime() - last.getTime() >= every * 1000;
}

async function markStorageSampled(control: pg.Client, now: Date): Promise<void> {
  await control.query(
    `INSERT INTO control_plane.usage_state (key, at) VALUES ('storage', $1)
     ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at`,
    [now],
  );
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    application_name: SAMPLER_APPLICATION_NAME,
    connectionTimeoutMillis: 5000,
  });
  client.on("error", () => undefined); // a terminated connection fails the next query instead
  await client.connect();
  return client;
}

function empty(bucket: Date): Omit<UsageCycleReport, "seconds"> {
  return {
    skipped: false,
    bucket,
    tenants: 0,
    claimedRows: 0,
    appliedClaims: 0,
    refusedRows: 0,
    storageSampled: false,
    gaps: [],
  };
}

function elapsed(started: number): number {
  return (performance.now() - started) / 1000;
}
