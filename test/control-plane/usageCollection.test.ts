/**
 * Per-tenant usage, collected for real: two pooled tenants and one schema tenant run a known
 * workload through the tenant context library; the sampler's cycles put it in the control
 * database exactly once, also when its connections are terminated mid-cycle.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../../db/tenantContext.ts";
import { createUsageRecorder, type UsageRecorder } from "../../db/usage/usageRecorder.ts";
import { runUsageCycle, type UsageCycleOptions } from "../../control-plane/usage/usageCycle.ts";
import { readSeries } from "../../control-plane/usage/usageQueries.ts";
import { startUsageJob, USAGE_QUEUE } from "../../control-plane/usage/usageJob.ts";
import type { UsageCycleReport } from "../../control-plane/usage/usageCycle.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { appRolePool, driverTenant, signUpFree, usageCycleOptions } from "./usageFixture.ts";
import { loginUrl } from "../db/fixtures.ts";

const db = useTestDatabase();
let plane: TestControlPlane;
let appPool: pg.Pool;
let sedgePool: pg.Pool;
let usage: UsageRecorder;
let sedgeUsage: UsageRecorder;
const ids: Record<string, string> = {};
let cycle: UsageCycleOptions;

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name, { usage: false });
  Object.assign(ids, await signUpFree(plane, ["kite", "lark"]));
  // A schema tenant made by the driver, registered in the control plane as a pro tenant.
  const sedgePassword = "sedge-password-0123456789";
  const routing = await driverTenant(plane, db.current.name, {
    slug: "sedge",
    name: "Sedge",
    tier: "pro",
    mode: "schema",
    password: sedgePassword,
  });
  ids.sedge = routing.tenantId;
  appPool = await appRolePool(plane, db.current.name, 4);
  sedgePool = new pg.Pool({
    connectionString: loginUrl(plane.sharedUrl, routing.role, sedgePassword),
    max: 2,
  });
  usage = createUsageRecorder({ pool: appPool, flushEveryMs: 0 });
  sedgeUsage = createUsageRecorder({ pool: sedgePool, flushEveryMs: 0 });
  cycle = usageCycleOptions(plane, db.current.name);
});

afterAll(async () => {
  await appPool?.end();
  await sedgePool?.end();
  await plane?.stop();
});

const HOUR = 3600_000;
async function totals(slug: string) {
  const now = Date.now();
  const { points } = await readSeries(
    plane.pool,
    slug,
    new Date(now - 2 * HOUR),
    new Date(now + HOUR),
    "1h",
  );
  const sum = (
    key:
      | "statements"
      | "rowsRead"
      | "rowsWritten"
      | "transactions"
      | "apiCalls"
      | "operations"
      | "statementSeconds",
  ) => points.reduce((total, p) => total + (p[key] ?? 0), 0);
  const max = (key: "connectionsNow" | "connectionsPeak" | "storageRows" | "storageBytes") =>
    points.reduce<number | null>(
      (top, p) => (p[key] === null ? top : Math.max(top ?? 0, p[key])),
      null,
    );
  return {
    statements: sum("statements"),
    rowsRead: sum("rowsRead"),
    rowsWritten: sum("rowsWritten"),
    transactions: sum("transactions"),
    apiCalls: sum("apiCalls"),
    operations: sum("operations"),
    statementSeconds: sum("statementSeconds"),
    connectionsNow: max("connectionsNow"),
    connectionsPeak: max("connectionsPeak"),
    storageRows: max("storageRows"),
    storageBytes: max("storageBytes"),
  };
}

async function terminateSampler(database: string): Promise<number> {
  const admin = new pg.Client({ connectionString: plane.sharedUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'tenancy-usage-sampler' AND datname = $1`,
      [database],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe("usage collection", () => {
  it("reads back a known workload of two pooled tenants and one schema tenant", async () => {
    for (let i = 1; i <= 10; i++) {
      await withTenant(
        appPool,
        ids.kite!,
        async (client) => {
          await client.query("INSERT INTO projects (name) VALUES ($1)", [`p${i}`]);
          await client.query("SELECT id FROM projects");
        },
        { usage },
      );
    }
    for (let i = 0; i < 7; i++) usage.countApiCall(ids.kite!);
    for (let i = 1; i <= 4; i++) {
      await withTenant(
        appPool,
        ids.lark!,
        async (client) => {
          await client.query(
            "INSERT INTO projects (name) SELECT $1 || g FROM generate_series(1, 3) g",
            [`b${i}-`],
          );
          await client.query("SELECT pg_sleep(0.05)");
        },
        { usage },
      );
    }
    for (let i = 1; i <= 3; i++) {
      await withTenant(
        sedgePool,
        ids.sedge!,
        async (client) => {
          await client.query("INSERT INTO projects (name) VALUES ($1), ($2)", [`s${i}a`, `s${i}b`]);
          await client.query("SELECT count(*) FROM projects");
        },
        { usage: sedgeUsage },
      );
    }
    expect(await usage.flush()).toBe(2);
    expect(await sedgeUsage.flush()).toBe(1);

    // A connection held inside a kite transaction while the cycle samples.
    let release!: () => void;
    const held = withTenant(
      appPool,
      ids.kite!,
      () => new Promise<void>((done) => (release = done)),
    );
    await new Promise((done) => setTimeout(done, 100));
    const inside = new pg.Client({
      connectionString: loginUrl(
        plane.sharedUrl,
        `${db.current.name}_app`,
        "app-password-0123456789",
      ),
    });
    await inside.connect();
    await inside.query("BEGIN");
    await inside.query("SELECT set_config('application_name', $1, true)", [`tenancy:${ids.kite}`]);
    const report = await runUsageCycle(cycle);
    await inside.query("COMMIT");
    await inside.end();
    release();
    await held;

    expect(report).toMatchObject({
      skipped: false,
      claimedRows: 3,
      appliedClaims: 1,
      refusedRows: 0,
      gaps: [],
    });
    expect(report.storageSampled).toBe(true);

    const kite = await totals("kite");
    expect(kite).toMatchObject({
      statements: 20,
      rowsWritten: 10,
      rowsRead: 55,
      transactions: 10,
      apiCalls: 7,
      operations: 1,
      storageRows: 10,
    });
    expect(kite.connectionsNow).toBe(1); // the application-named connection (held has no recorder)
    expect(kite.storageBytes).toBeGreaterThan(0);

    const lark = await totals("lark");
    expect(lark).toMatchObject({
      statements: 8,
      rowsWritten: 12,
      rowsRead: 4,
      transactions: 4,
      operations: 1,
      storageRows: 12,
      connectionsNow: 0,
    });
    expect(lark.statementSeconds).toBeGreaterThanOrEqual(0.2);
    expect(lark.statementSeconds).toBeLessThan(2);

    const sedge = await totals("sedge");
    expect(sedge).toMatchObject({ statements: 6, rowsWritten: 6, rowsRead: 3, transactions: 3 });
    expect(sedge.storageBytes).toBeGreaterThan(0);
  });

  it("re-running a cycle over the same bucket counts nothing twice", async () => {
    const before = await totals("kite");
    await runUsageCycle(cycle);
    await runUsageCycle(cycle);
    const after = await totals("kite");
    expect(after.statements).toBe(before.statements);
    expect(after.rowsRead).toBe(before.rowsRead);
    expect(after.apiCalls).toBe(before.apiCalls);
    expect(after.operations).toBe(before.operations);
  });

  it("counters a tenant role flushes for another tenant are refused", async () => {
    const before = await totals("kite");
    sedgeUsage.countApiCall(ids.kite!, 1000);
    await sedgeUsage.flush();
    const report = await runUsageCycle(cycle);
    expect(report.refusedRows).toBe(1);
    expect((await totals("kite")).apiCalls).toBe(before.apiCalls);
  });

  it("the sampler's shared-database connection terminated after claiming: a gap now, the counters once, later", async () => {
    const before = await totals("kite");
    await withTenant(appPool, ids.kite!, (c) => c.query("SELECT 1"), { usage });
    usage.countApiCall(ids.kite!, 3);
    await usage.flush();
    const sharedName = new URL(plane.sharedUrl).pathname.slice(1);
    let terminated = 0;
    const report = await runUsageCycle({
      ...cycle,
      afterStep: async (step) => {
        if (step === "claimed") terminated = await terminateSampler(sharedName);
      },
    });
    expect(terminated).toBe(1);
    expect(report.gaps.map((g) => g.source)).toEqual(["shared-database"]);
    expect((await totals("kite")).statements).toBe(before.statements);

    await runUsageCycle(cycle);
    await runUsageCycle(cycle);
    const after = await totals("kite");
    expect(after.statements).toBe(before.statements + 1);
    expect(after.apiCalls).toBe(before.apiCalls + 3);
  });

  it("the sampler's control-database connection terminated before commit: nothing written, then exactly once", async () => {
    const before = await totals("lark");
    await withTenant(appPool, ids.lark!, (c) => c.query("SELECT 1"), { usage });
    await usage.flush();
    const controlName = new URL(plane.controlUrl).pathname.slice(1);
    await expect(
      runUsageCycle({
        ...cycle,
        afterStep: async (step) => {
          if (step === "written") await terminateSampler(controlName);
        },
      }),
    ).rejects.toThrow();
    expect((await totals("lark")).statements).toBe(before.statements);
    await runUsageCycle(cycle);
    await runUsageCycle(cycle);
    expect((await totals("lark")).statements).toBe(before.statements + 1);
  });

  it("the shared database away: the bucket is a gap with nulls, never zeros", async () => {
    const later = new Date(Date.now() + 2 * 86_400_000);
    const report = await runUsageCycle({
      ...cycle,
      sharedDatabaseUrl: plane.sharedUrl.replace(/\/[^/]*$/, "/no_such_database"),
      now: () => later,
    });
    expect(report.gaps[0]).toMatchObject({ source: "shared-database" });
    expect(report.gaps[0]!.reason).toMatch(/no_such_database/);
    const { points, gaps } = await readSeries(
      plane.pool,
      "kite",
      new Date(later.getTime() - 300_000),
      new Date(later.getTime() + 300_000),
      "5m",
    );
    const point = points.find((p) => p.tier !== null)!;
    expect(point.connectionsNow).toBeNull();
    expect(point.storageBytes).toBeNull();
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ source: "shared-database" });
  });

  it("runs as a job on the control plane's queue, scheduled every minute", async () => {
    const reports: UsageCycleReport[] = [];
    const job = await startUsageJob(plane.boss, { ...cycle, onCycle: (r) => reports.push(r) });
    try {
      const schedules = await plane.pool.query<{ cron: string }>(
        "SELECT cron FROM control_plane_jobs.schedule WHERE name = $1",
        [USAGE_QUEUE],
      );
      expect(schedules.rows).toEqual([{ cron: "* * * * *" }]);
      await plane.boss.send(USAGE_QUEUE, {});
      const deadline = Date.now() + 20_000;
      while (reports.length === 0 && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 200));
      }
      expect(reports[0]).toMatchObject({ skipped: false, tenants: 3 });
    } finally {
      await job.stop();
    }
  });
});
