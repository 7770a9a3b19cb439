/**
 * Cost estimates over real HTTP from usage collected for real: two pooled tenants (free:
 * database pool, compute pool) and one schema tenant (pro: database schema, compute
 * namespace) run a known workload through the tenant context library; the price table is a
 * file the test writes. Every expected figure is worked out below from that workload.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantToken } from "../../control-plane/http/auth.ts";
import { runUsageCycle } from "../../control-plane/usage/usageCycle.ts";
import type { CostReport } from "../../contract/pricing.ts";
import type { UsageSeries } from "../../contract/usage.ts";
import { withTenant } from "../../db/tenantContext.ts";
import { createUsageRecorder } from "../../db/usage/usageRecorder.ts";
import { loginUrl } from "../db/fixtures.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { runCli } from "../support/cli.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { appRolePool, driverTenant, signUpFree, usageCycleOptions } from "./usageFixture.ts";

const db = useTestDatabase();
let plane: TestControlPlane;
let dir: string;
let pricingFile: string;
const pools: pg.Pool[] = [];
const FIVE_MINUTES = 300_000;
/** A one-hour window holding the workload's bucket (the test may run for up to 30 min). */
const from = new Date(Math.floor(Date.now() / FIVE_MINUTES) * FIVE_MINUTES - 6 * FIVE_MINUTES);
const to = new Date(from.getTime() + 3600_000);
const window = `from=${from.toISOString()}&to=${to.toISOString()}`;
const GIB_MONTH = 1024 ** 3 * 30 * 86400;

/*
 * The workload: kite 15 statements and 30 API calls, lark 5 statements and 10 API calls
 * (pooled, application role), sedge 20 statements (its own role).
 * The window is 1 h = 1/720 of a 30-day month.
 *   statements: 2 per 10          → kite 3, lark 1, sedge 4
 *   apiCalls:   1 per 100         → kite 0.3, lark 0.1
 *   storageGibMonths: 1000 per 1  → bytes × 300 s / GiB-month × 1000 (from the series)
 *   db-server 2592/month → 3.6 in the hour, database in pool/schema, by statements (40):
 *                                   kite 15/40 → 1.35, lark 5/40 → 0.45, sedge 20/40 → 1.8
 *   cluster 720/month → 1 in the hour, compute in pool, by apiCalls (40):
 *                                   kite 0.75, lark 0.25 (sedge's compute is a namespace)
 *   silo-servers 7200/month → 10 in the hour, database dedicated: nobody, all unallocated
 */
const PRICING = `# test prices (not real)
currency: XXX
prices:
  statements: { price: 2, per: 10 }
  apiCalls: { price: 1, per: 100 }
  storageGibMonths: { price: 1000 }
shared:
  db-server:
    monthly: 2592
    layer: database
    modes: [pool, schema]
    apportionBy: statements
  cluster:
    monthly: 720
    layer: compute
    modes: [pool]
    apportionBy: apiCalls
  silo-servers:
    monthly: 7200
    layer: database
    modes: [dedicated]
    apportionBy: statements
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tenancy-cost-"));
  pricingFile = join(dir, "pricing.yaml");
  await writeFile(pricingFile, PRICING);
  plane = await startTestControlPlane(db.current.name, { usage: false, pricingFile });
  const ids = await signUpFree(plane, ["kite", "lark"]);
  // Registered without resolved layers: its modes come from its tier (pro).
  const routing = await driverTenant(plane, db.current.name, {
    slug: "sedge",
    name: "Sedge",
    tier: "pro",
    mode: "schema",
    password: "sedge-password-0123456789",
  });
  const appPool = await appRolePool(plane, db.current.name, 2);
  const sedgePool = new pg.Pool({
    connectionString: loginUrl(plane.sharedUrl, routing.role, "sedge-password-0123456789"),
    max: 2,
  });
  pools.push(appPool, sedgePool);
  const usage = createUsageRecorder({ pool: appPool, flushEveryMs: 0 });
  const sedgeUsage = createUsageRecorder({ pool: sedgePool, flushEveryMs: 0 });
  const run = async (pool: pg.Pool, id: string, statements: number, recorder = usage) => {
    for (let i = 0; i < statements; i++) {
      await withTenant(pool, id, (c) => c.query("SELECT 1"), { usage: recorder });
    }
  };
  await run(appPool, ids.kite!, 15);
  await run(appPool, ids.lark!, 5);
  await run(sedgePool, routing.tenantId, 20, sedgeUsage);
  usage.countApiCall(ids.kite!, 30);
  usage.countApiCall(ids.lark!, 10);
  await usage.flush();
  await sedgeUsage.flush();
  await runUsageCycle(usageCycleOptions(plane, db.current.name));
});

afterAll(async () => {
  for (const pool of pools) await pool.end();
  await plane?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function get<T>(path: string, token?: string) {
  const response = await plane.request(
    path,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    body: (await response.json()) as T,
  };
}

/** Storage of a tenant in the window, in GiB-months, from its collected series. */
async function storageGibMonths(slug: string): Promise<number> {
  const { body } = await get<UsageSeries>(`/v1/tenants/${slug}/usage?${window}`);
  const samples = body.points.filter((p) => p.storageBytes !== null);
  expect(samples).toHaveLength(1); // one cycle, one bucket
  return (samples[0]!.storageBytes! * 300) / GIB_MONTH;
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

describe("cost estimate", () => {
  it("charges usage × price and apportions shared resources by usage, with the rules stated", async () => {
    const { status, body } = await get<CostReport>(`/v1/usage/cost?${window}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ currency: "XXX", pricingFile, from: from.toISOString() });
    const storage = {
      kite: await storageGibMonths("kite"),
      lark: await storageGibMonths("lark"),
      sedge: await storageGibMonths("sedge"),
    };
    expect(storage.sedge).toBeGreaterThan(0); // its schema has tables
    const bySlug = new Map(body.tenants.map((t) => [t.slug, t]));
    expect([...bySlug.keys()].sort()).toEqual(["kite", "lark", "sedge"]);

    const kite = bySlug.get("kite")!;
    expect(kite.usage).toMatchObject({ statements: 15, apiCalls: 30, transactions: 15 });
    expect(kite.metered.slice(0, 2)).toEqual([
      { unit: "statements", quantity: 15, price: 2, per: 10, cost: 3 },
      { unit: "apiCalls", quantity: 30, price: 1, per: 100, cost: 0.3 },
    ]);
    const stored = kite.metered[2]!;
    expect(stored).toMatchObject({ unit: "storageGibMonths", price: 1000, per: 1 });
    expect(stored.quantity).toBeCloseTo(storage.kite, 12);
    expect(stored.cost).toBeCloseTo(storage.kite * 1000, 6);
    expect(kite.shared).toEqual([
      { resource: "db-server", basis: 15, share: 0.375, cost: 1.35 },
      { resource: "cluster", basis: 30, share: 0.75, cost: 0.75 },
    ]);
    expect(kite.total).toBeCloseTo(3 + 0.3 + round(storage.kite * 1000) + 1.35 + 0.75, 6);

    const lark = bySlug.get("lark")!;
    expect(lark.shared).toEqual([
      { resource: "db-server", basis: 5, share: 0.125, cost: 0.45 },
      { resource: "cluster", basis: 10, share: 0.25, cost: 0.25 },
    ]);
    expect(lark.total).toBeCloseTo(1 + 0.1 + round(storage.lark * 1000) + 0.45 + 0.25, 6);

    const sedge = bySlug.get("sedge")!;
    expect(sedge).toMatchObject({ tier: "pro", usage: { statements: 20, apiCalls: 0 } });
    expect(sedge.shared).toEqual([{ resource: "db-server", basis: 20, share: 0.5, cost: 1.8 }]);
    expect(sedge.total).toBeCloseTo(4 + round(storage.sedge * 1000) + 1.8, 6);

    expect(body.shared).toEqual([
      {
        resource: "db-server",
        windowCost: 3.6,
        apportionBy: "statements",
        sharedBy: "database in pool, schema",
        tenants: 3,
        allocated: 3.6,
        unallocated: 0,
      },
      {
        resource: "cluster",
        windowCost: 1,
        apportionBy: "apiCalls",
        sharedBy: "compute in pool",
        tenants: 2,
        allocated: 1,
        unallocated: 0,
      },
      {
        resource: "silo-servers",
        windowCost: 10,
        apportionBy: "statements",
        sharedBy: "database in dedicated",
        tenants: 0,
        allocated: 0,
        unallocated: 10,
      },
    ]);
    expect(body.total).toBeCloseTo(kite.total + lark.total + sedge.total, 5);
    expect(body.rules.join("\n")).toMatch(
      /db-server: 2592 XXX\/month × 1 h \/ 720 h = 3\.6 XXX, split among the tenants whose database in pool, schema in proportion to their statements/,
    );
  });

  it("answers one tenant's line, with its share of the whole fleet's shared costs", async () => {
    const { status, body } = await get<CostReport>(`/v1/usage/cost?${window}&tenant=lark`);
    expect(status).toBe(200);
    expect(body.tenants.map((t) => t.slug)).toEqual(["lark"]);
    expect(body.tenants[0]!.shared[0]).toMatchObject({ resource: "db-server", share: 0.125 });
    expect(body.total).toBe(body.tenants[0]!.total);
  });

  it.each([
    ["/v1/usage/cost?tenant=nosuch", 404, "tenant-not-found"],
    ["/v1/usage/cost?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", 400, "invalid-range"],
    ["/v1/usage/cost?from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z", 400, "range-too-large"],
    ["/v1/usage/cost?from=yesterday", 400, "invalid-request"],
    ["/v1/usage/cost?currency=EUR", 400, "invalid-request"],
  ])("%s → %i %s (problem+json)", async (path, status, reason) => {
    const response = await get<{ reason: string }>(path);
    expect(response).toMatchObject({ status, body: { reason } });
    expect(response.type).toMatch(/^application\/problem\+json/);
  });

  it("is for the operator only", async () => {
    const kite = tenantToken(plane.token, "kite");
    expect((await get(`/v1/usage/cost?tenant=kite`, kite)).status).toBe(403);
  });

  it("says where the price table is missing or wrong (file:line), and picks up a fix", async () => {
    await writeFile(pricingFile, PRICING.replace("apportionBy: apiCalls", "apportionBy: cpu"));
    const invalid = await get<{ reason: string; detail: string; errors: { message: string }[] }>(
      "/v1/usage/cost",
    );
    expect(invalid).toMatchObject({ status: 409, body: { reason: "pricing-invalid" } });
    expect(invalid.body.errors[0]!.message).toMatch(
      new RegExp(`^${pricingFile}:17:18: shared\\.cluster\\.apportionBy: "cpu" is not one of`),
    );
    await rm(pricingFile);
    const missing = await get<{ reason: string; detail: string }>("/v1/usage/cost");
    expect(missing).toMatchObject({ status: 409, body: { reason: "pricing-not-configured" } });
    expect(missing.body.detail).toContain(pricingFile);
    await writeFile(pricingFile, PRICING);
    expect((await get("/v1/usage/cost")).status).toBe(200);
  });

  it("is described in the OpenAPI document", async () => {
    const { body } = await get<{ paths: Record<string, { get?: { responses?: object } }> }>(
      "/openapi.json",
    );
    const route = body.paths["/v1/usage/cost"]?.get;
    expect(JSON.stringify(route?.responses)).toMatch(/apportionBy/);
  });
});

describe("tenancy usage --cost", () => {
  const run = (...argv: string[]) => runCli(plane, ["usage", ...argv]);

  const range = ["--from", from.toISOString(), "--to", to.toISOString()];

  it("prints each tenant's lines, what is unallocated, and the rules", async () => {
    const text = await run("--cost", ...range);
    if (process.env.SHOW_COST) console.log(text.stdout);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^estimated cost in XXX/);
    expect(text.stdout).toMatch(/ {4}statements 15 × 2\/10 +3\.000000\n/);
    expect(text.stdout).toMatch(/ {4}db-server: 37\.50 % \(15\) +1\.350000\n/);
    expect(text.stdout).toMatch(/silo-servers unallocated \(no usage\) +10\.000000\n/);
    expect(text.stdout).toMatch(/how:\n {2}- metered: quantity × price \/ per/);

    const json = await run("--cost", "--tenant", "sedge", "--json", ...range);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as CostReport;
    expect(report.tenants.map((t) => t.slug)).toEqual(["sedge"]);
    expect(report.tenants[0]!.shared).toEqual([
      { resource: "db-server", basis: 20, share: 0.5, cost: 1.8 },
    ]);
  });

  it("refuses options that do not go with --cost (exit 2), and API problems exit 1", async () => {
    expect((await run("--cost", "--fit")).code).toBe(2);
    expect((await run("--cost", "--top", "3")).code).toBe(2);
    const missing = await run("--cost", "--tenant", "nosuch");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404 tenant-not-found/);
  });
});
