/**
 * Usage of a dedicated (silo) tenant, collected for real: its application flushes counters
 * into the tenant's own database, on the same PostgreSQL server; the sampler claims them there
 * (once), counts its connections and sizes its database. Counters for another tenant, or by
 * another role, are refused; a database that cannot be reached is a gap, and its counters
 * arrive once it can.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../../db/tenantContext.ts";
import { withDatabaseName } from "../../db/transaction.ts";
import { createUsageRecorder, type UsageRecorder } from "../../db/usage/usageRecorder.ts";
import { runUsageCycle, type UsageCycleOptions } from "../../control-plane/usage/usageCycle.ts";
import { readSeries } from "../../control-plane/usage/usageQueries.ts";
import { databaseRoutingFrom } from "../../contract/index.ts";
import { loginUrl } from "../db/fixtures.ts";
import { freePort } from "../support/ports.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { driverTenant, usageCycleOptions } from "./usageFixture.ts";

const db = useTestDatabase();
let plane: TestControlPlane;
let pool: pg.Pool;
let usage: UsageRecorder;
let tenantId: string;
let database: string;
let routingRecord: ReturnType<typeof databaseRoutingFrom>;
let cycle: UsageCycleOptions;
const OTHER_TENANT = "00000000-0000-4000-8000-000000000001";

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name, { usage: false });
  const password = "tern-password-0123456789";
  const routing = await driverTenant(plane, db.current.name, {
    slug: "tern",
    name: "Tern",
    tier: "enterprise",
    mode: "dedicated",
    password,
  });
  tenantId = routing.tenantId;
  database = routing.database;
  routingRecord = databaseRoutingFrom(routing);
  pool = new pg.Pool({
    connectionString: withDatabaseName(loginUrl(plane.sharedUrl, routing.role, password), database),
    max: 3,
  });
  usage = createUsageRecorder({ pool, flushEveryMs: 0 });
  cycle = usageCycleOptions(plane, db.current.name);
});

afterAll(async () => {
  await pool?.end();
  await plane?.stop();
});

async function totals() {
  const now = Date.now();
  const { points } = await readSeries(
    plane.pool,
    "tern",
    new Date(now - 3600_000),
    new Date(now + 3600_000),
    "1h",
  );
  const sum = (key: "statements" | "rowsWritten" | "rowsRead" | "transactions" | "apiCalls") =>
    points.reduce((total, p) => total + (p[key] ?? 0), 0);
  const max = (key: "connectionsNow" | "storageBytes") =>
    Math.max(0, ...points.map((p) => p[key] ?? 0));
  return {
    statements: sum("statements"),
    rowsWritten: sum("rowsWritten"),
    rowsRead: sum("rowsRead"),
    transactions: sum("transactions"),
    apiCalls: sum("apiCalls"),
    connectionsNow: max("connectionsNow"),
    storageBytes: max("storageBytes"),
  };
}

async function flushedRows(): Promise<number> {
  const admin = new pg.Client({ connectionString: withDatabaseName(plane.sharedUrl, database) });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM tenancy.usage_flush",
    );
    return rows[0]!.n;
  } finally {
    await admin.end();
  }
}

describe("usage of a dedicated-database tenant", () => {
  it("collects the counters flushed in its own database, its connections and its size", async () => {
    for (let i = 1; i <= 6; i++) {
      await withTenant(
        pool,
        tenantId,
        async (client) => {
          await client.query("INSERT INTO projects (name) VALUES ($1), ($2)", [`t${i}a`, `t${i}b`]);
          await client.query("SELECT id FROM projects");
        },
        { usage },
      );
    }
    usage.countApiCall(tenantId, 9);
    expect(await usage.flush()).toBe(1);

    // One connection held open while the cycle samples.
    let release!: () => void;
    const held = withTenant(pool, tenantId, () => new Promise<void>((done) => (release = done)));
    await new Promise((done) => setTimeout(done, 100));
    const report = await runUsageCycle(cycle);
    release();
    await held;

    expect(report).toMatchObject({ claimedRows: 1, appliedClaims: 1, refusedRows: 0, gaps: [] });
    // rows read: 2 + 4 + ... + 12 (the projects so far, read after each insert)
    expect(await totals()).toMatchObject({
      statements: 12,
      rowsWritten: 12,
      rowsRead: 42,
      transactions: 6,
      apiCalls: 9,
      connectionsNow: 1,
    });
    expect((await totals()).storageBytes).toBeGreaterThan(1_000_000); // pg_database_size
  });

  it("counts nothing twice, and the next cycle deletes what was applied", async () => {
    const before = await totals();
    expect(await flushedRows()).toBe(1); // applied, deleted by the next read
    await runUsageCycle(cycle);
    expect(await flushedRows()).toBe(0);
    await runUsageCycle(cycle);
    expect(await totals()).toEqual(before);
  });

  it("refuses counters the tenant's role flushes for another tenant", async () => {
    const before = await totals();
    usage.countApiCall(OTHER_TENANT, 500);
    usage.countApiCall(tenantId, 1);
    await usage.flush();
    const report = await runUsageCycle(cycle);
    expect(report.refusedRows).toBe(1);
    expect((await totals()).apiCalls).toBe(before.apiCalls + 1);
  });

  it("a database that cannot be reached is a gap; its counters arrive once it can", async () => {
    const before = await totals();
    await withTenant(pool, tenantId, (c) => c.query("SELECT 1"), { usage });
    await usage.flush();
    await plane.pool.query(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS false`);
    try {
      const report = await runUsageCycle(cycle);
      expect(report.gaps.map((g) => g.source)).toEqual(["dedicated-database:tern"]);
      expect(report.gaps[0]!.reason).toMatch(/not currently accepting connections/);
      expect((await totals()).statements).toBe(before.statements);
    } finally {
      await plane.pool.query(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS true`);
    }
    await runUsageCycle(cycle);
    await runUsageCycle(cycle);
    expect((await totals()).statements).toBe(before.statements + 1);
  });

  it("reads the database at the address of the tenant's routing record, not the shared server's", async () => {
    const before = await totals();
    await withTenant(pool, tenantId, (c) => c.query("SELECT 1"), { usage });
    await usage.flush();
    const store = (record: unknown) =>
      plane.pool.query("UPDATE control_plane.tenants SET routing = $1::jsonb WHERE slug = 'tern'", [
        JSON.stringify({ database: record, notProvisioned: [] }),
      ]);
    // As on aws: the record names a server of its own (here a port nobody listens on).
    const elsewhere = await freePort();
    await store({ ...routingRecord, port: elsewhere });
    try {
      const report = await runUsageCycle(cycle);
      expect(report.gaps.map((g) => g.source)).toEqual(["dedicated-database:tern"]);
      expect(report.gaps[0]!.reason).toContain(`127.0.0.1:${elsewhere}/${database}`);
      expect(report.gaps[0]!.reason).toMatch(/ECONNREFUSED/);
      expect((await totals()).statements).toBe(before.statements);
    } finally {
      await store(routingRecord);
    }
    const report = await runUsageCycle(cycle);
    expect(report.gaps).toEqual([]);
    expect((await totals()).statements).toBe(before.statements + 1);
  });
});
