/**
 * Reading usage: the API (series, top, fit) over real HTTP, tenant tokens, Prometheus with
 * bounded labels, and `tenancy usage`. The data is collected for real: a workload through the
 * tenant context library and sampler cycles placed in consecutive buckets.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantToken } from "../../control-plane/http/auth.ts";
import { runUsageCycle, type UsageCycleOptions } from "../../control-plane/usage/usageCycle.ts";
import type { TierFit, UsageSeries, UsageTop } from "../../contract/usage.ts";
import { withTenant } from "../../db/tenantContext.ts";
import { createUsageRecorder } from "../../db/usage/usageRecorder.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { runCli } from "../support/cli.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { appRolePool, signUpFree, usageCycleOptions } from "./usageFixture.ts";

const db = useTestDatabase();
let plane: TestControlPlane;
let appPool: pg.Pool;
const ids: Record<string, string> = {};
let cycle: UsageCycleOptions;
const FIVE_MINUTES = 300_000;
/** Start of the bucket an hour ago: the cycles below fill it and the next three. */
const base = new Date(Math.floor((Date.now() - 3600_000) / FIVE_MINUTES) * FIVE_MINUTES);

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name, { usage: false, usageTopN: 1 });
  Object.assign(ids, await signUpFree(plane, ["kite", "lark"]));
  appPool = await appRolePool(plane, db.current.name, 6);
  cycle = usageCycleOptions(plane, db.current.name);
  // Opted in to connection attribution: the sampler counts kite's held connections below.
  const usage = createUsageRecorder({ pool: appPool, flushEveryMs: 0, attributeConnections: true });
  for (let i = 0; i < 12; i++) {
    await withTenant(appPool, ids.kite!, (c) => c.query("SELECT 1"), { usage });
  }
  for (let i = 0; i < 5; i++) {
    await withTenant(appPool, ids.lark!, (c) => c.query("SELECT 1"), { usage });
  }
  await usage.flush();
  await runUsageCycle(cycle); // the counters, into the current bucket

  // kite holds 4 connections (free tier budget: 3) through four consecutive buckets; lark
  // moves from free to pro after the second.
  const releases: (() => void)[] = [];
  const held = Array.from({ length: 4 }, () =>
    withTenant(appPool, ids.kite!, () => new Promise<void>((done) => releases.push(done)), {
      usage,
    }),
  );
  while (releases.length < 4) await new Promise((done) => setTimeout(done, 20));
  for (let k = 0; k < 4; k++) {
    if (k === 2)
      await plane.pool.query("UPDATE control_plane.tenants SET tier = 'pro' WHERE slug = 'lark'");
    await runUsageCycle({
      ...cycle,
      now: () => new Date(base.getTime() + k * FIVE_MINUTES + 1000),
    });
  }
  for (const release of releases) release();
  await Promise.all(held);
});

afterAll(async () => {
  await appPool?.end();
  await plane?.stop();
});

async function json<T>(
  path: string,
  token?: string,
): Promise<{ status: number; body: T; type: string }> {
  const response = await plane.request(
    path,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  return {
    status: response.status,
    body: (await response.json()) as T,
    type: response.headers.get("content-type") ?? "",
  };
}

const range = `from=${new Date(base.getTime() - 3600_000).toISOString()}&to=${new Date(Date.now() + 600_000).toISOString()}`;

describe("usage API", () => {
  it("serves a tenant's series with the counts collected, null where nothing was collected", async () => {
    const { status, body } = await json<UsageSeries>(`/v1/tenants/kite/usage?${range}`);
    expect(status).toBe(200);
    const total = body.points.reduce((sum, p) => sum + (p.statements ?? 0), 0);
    expect(total).toBe(12);
    const held = body.points.filter((p) => p.at >= base.toISOString()).slice(0, 4);
    expect(held.map((p) => p.connectionsNow)).toEqual([4, 4, 4, 4]);
    expect(body.points[0]).toMatchObject({ statements: null, connectionsNow: null, tier: null });
  });

  it("continues a tenant's series across a tier move", async () => {
    const { body } = await json<UsageSeries>(`/v1/tenants/lark/usage?${range}`);
    const moved = body.points.filter((p) => p.at >= base.toISOString()).slice(0, 4);
    expect(moved.map((p) => p.tier)).toEqual(["free", "free", "pro", "pro"]);
    expect(moved.map((p) => p.connectionsNow)).toEqual([0, 0, 0, 0]);
  });

  it("aggregates by hour and by day", async () => {
    for (const step of ["1h", "1d"]) {
      const { status, body } = await json<UsageSeries>(
        `/v1/tenants/kite/usage?${range}&step=${step}`,
      );
      expect(status).toBe(200);
      expect(body.points.reduce((sum, p) => sum + (p.statements ?? 0), 0)).toBe(12);
      expect(Math.max(...body.points.map((p) => p.connectionsPeak ?? 0))).toBe(4);
    }
  });

  it("lets a tenant token read its own usage only", async () => {
    const kite = tenantToken(plane.token, "kite");
    expect((await json(`/v1/tenants/kite/usage?${range}`, kite)).status).toBe(200);
    const other = await json<{ reason: string }>(`/v1/tenants/lark/usage`, kite);
    expect(other).toMatchObject({ status: 403, body: { reason: "forbidden" } });
    expect((await json(`/v1/usage/top?metric=statements`, kite)).status).toBe(403);
    expect((await json(`/v1/usage/fit`, kite)).status).toBe(403);
  });

  it.each([
    ["/v1/tenants/nosuch/usage", 404, "tenant-not-found"],
    [
      "/v1/tenants/kite/usage?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
      400,
      "invalid-range",
    ],
    [
      "/v1/tenants/kite/usage?from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z",
      400,
      "range-too-large",
    ],
    ["/v1/tenants/kite/usage?step=2m", 400, "invalid-request"],
    ["/v1/tenants/kite/usage?from=yesterday", 400, "invalid-request"],
    ["/v1/tenants/kite/usage?colour=blue", 400, "invalid-request"],
    ["/v1/usage/top?metric=cpu", 400, "invalid-request"],
    ["/v1/usage/top", 400, "invalid-request"],
    ["/v1/usage/top?metric=statements&limit=0", 400, "invalid-request"],
    [
      "/v1/usage/top?metric=statements&from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z",
      400,
      "range-too-large",
    ],
    ["/v1/usage/fit?sustained=7m", 400, "invalid-sustained"],
    ["/v1/usage/fit?sustained=soon", 400, "invalid-request"],
  ])("%s → %i %s (problem+json)", async (path, status, reason) => {
    const response = await json<{ reason: string; detail?: string }>(path);
    expect(response.status).toBe(status);
    expect(response.type).toMatch(/^application\/problem\+json/);
    expect(response.body.reason).toBe(reason);
    if (reason === "range-too-large") expect(response.body.detail).toMatch(/2016|14 days/);
  });

  it("ranks the noisiest tenants by a metric", async () => {
    const { status, body } = await json<UsageTop>(`/v1/usage/top?metric=statements&${range}`);
    expect(status).toBe(200);
    expect(body.tenants).toEqual([
      { slug: "kite", tier: "free", value: 12 },
      { slug: "lark", tier: "pro", value: 5 },
    ]);
  });

  it("lists the tenant above its tier's budget for a sustained window, with evidence and a tier that fits", async () => {
    const { status, body } = await json<TierFit>(`/v1/usage/fit?${range}`);
    expect(status).toBe(200);
    expect(body.tenants).toHaveLength(1);
    const [kite] = body.tenants;
    expect(kite).toMatchObject({ slug: "kite", tier: "free", suggestedTier: "pro" });
    expect(kite!.breaches).toEqual([
      {
        budget: "peakConnections",
        limit: 3,
        sustainedMinutes: 20,
        evidence: [0, 1, 2, 3].map((k) => ({
          at: new Date(base.getTime() + k * FIVE_MINUTES).toISOString(),
          value: 4,
        })),
      },
    ]);
    // A window longer than the breach asks more than it lasted: nobody.
    const longer = await json<TierFit>(`/v1/usage/fit?${range}&sustained=25m`);
    expect(longer.body.tenants).toEqual([]);
  });

  it("exports only the top tenant per metric to Prometheus", async () => {
    const response = await plane.request("/metrics");
    const text = await response.text();
    const lines = text.split("\n").filter((l) => l.startsWith("tenancy_tenant_usage{"));
    const statements = lines.filter((l) => l.includes('metric="statements"'));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/tenant="kite".* 12$/);
  });
});

describe("tenancy usage", () => {
  const run = (...argv: string[]) => runCli(plane, ["usage", ...argv]);

  const from = new Date(base.getTime() - 3600_000).toISOString();

  it("prints the top tenants, one tenant's series, and the tier fit", async () => {
    const top = await run("--top", "1", "--from", from);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/top 1 tenants by statements/);
    expect(top.stdout).toMatch(/1\. kite\s+free\s+12/);
    expect(top.stdout).not.toMatch(/lark/);

    const series = await run("--tenant", "kite", "--from", from, "--json");
    expect(series.code).toBe(0);
    const parsed = JSON.parse(series.stdout) as UsageSeries;
    expect(parsed.points.reduce((s, p) => s + (p.statements ?? 0), 0)).toBe(12);

    const fit = await run("--fit", "--from", from);
    expect(fit.code).toBe(0);
    expect(fit.stdout).toMatch(/kite \(free\) → pro/);
    expect(fit.stdout).toMatch(/peakConnections > 3 for 20 min/);
  });

  it("refuses bad options with exit 2 and API problems with exit 1", async () => {
    expect((await run("--fit", "--tenant", "kite")).code).toBe(2);
    expect((await run("--metric", "cpu")).code).toBe(2);
    expect((await run("--top", "0")).code).toBe(2);
    const missing = await run("--tenant", "nosuch");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404 tenant-not-found/);
  });
});
