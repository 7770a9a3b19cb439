/**
 * `tenancy up` on the real engine (local target): a rollout deploys, records the desired-state
 * hash, and a second rollout starts no engine; a tenant the service is working on is never
 * raced; a failing tenant halts the rollout with the engine's reason.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveTenant, tenantFileSchema, type ResolvedTenant } from "../../catalog/index.ts";
import { runUp, type UpContext, type UpSettings } from "../../cli/upCommand.ts";
import { tryTenantLock } from "../../control-plane/jobs/tenantLock.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { exampleTiers } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { bootstrapTestDatabase, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

describeWithEngine("tenancy up on the real engine (local target)", () => {
  let context: UpContext;
  let tenants: ResolvedTenant[];
  const deployed: string[] = [];

  const settings = (extra: Partial<UpSettings> = {}): UpSettings => ({
    waves: [50, 100],
    parallel: 2,
    onBusy: "skip",
    busyTimeoutMs: 0,
    json: true,
    onDeploy: (slug) => deployed.push(slug),
    ...extra,
  });

  async function up(list: ResolvedTenant[], extra: Partial<UpSettings> = {}) {
    let stdout = "";
    const report = await runUp(list, context, settings(extra), {
      stdout: (s) => (stdout += s),
      stderr: () => undefined,
    });
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { report, events };
  }

  beforeAll(async () => {
    const { url, rolePrefix, name } = db.current;
    await bootstrapTestDatabase(db.current);
    const tiers = await exampleTiers();
    const spec = (slug: string) =>
      resolveTenant(tenantFileSchema.parse({ slug, name: slug, tier: "pro" }), tiers);
    tenants = [spec("up-one"), spec("up-two")];
    context = {
      engine: await testEngine(),
      local: { adminUrl: url, rolePrefix, databasePrefix: `${name}_db` },
      controlPool: db.current.pool,
    };
  }, 300_000);

  afterAll(async () => {
    if (!context) return;
    const runner = new TenantStackRunner({
      engine: context.engine,
      configFor: localStackConfig(context.local),
    });
    for (const slug of ["up-one", "up-two", "up-broken"])
      await runner.destroy(slug).catch(() => undefined);
  }, 300_000);

  it("deploys in waves, then a second `up --all` starts no engine and says every tenant is unchanged", async () => {
    const first = await up(tenants);
    expect(first.report.succeeded).toEqual(["up-one", "up-two"]);
    expect(deployed.sort()).toEqual(["up-one", "up-two"]);
    expect(first.events.filter((e) => e["event"] === "wave")).toEqual([
      { event: "wave", wave: 1, percent: 50, tenants: ["up-one"] },
      { event: "wave", wave: 2, percent: 100, tenants: ["up-two"] },
    ]);
    deployed.length = 0;
    const second = await up(tenants);
    expect(deployed).toEqual([]);
    expect(second.events.filter((e) => e["event"] === "started")).toEqual([]);
    expect(second.report.unchanged).toEqual(["up-one", "up-two"]);
    expect(second.events.at(-1)).toMatchObject({
      event: "summary",
      tenants: 2,
      unchanged: 2,
      succeeded: 0,
    });
  }, 600_000);

  it("a changed spec redeploys only that tenant; a tenant the service holds is skipped with a line", async () => {
    deployed.length = 0;
    const changed = { ...tenants[0]!, quotas: { ...tenants[0]!.quotas, dbConnections: 7 } };
    const held = await tryTenantLock(db.current.pool, "up-two");
    expect(held).toBeDefined();
    const changedTwo = { ...tenants[1]!, quotas: { ...tenants[1]!.quotas, dbConnections: 8 } };
    try {
      const { report, events } = await up([changed, changedTwo]);
      expect(deployed).toEqual(["up-one"]);
      expect(report.succeeded).toEqual(["up-one"]);
      expect(report.busy).toEqual(["up-two"]);
      expect(events).toContainEqual({
        event: "busy",
        slug: "up-two",
        detail:
          "the control plane is running an operation for this tenant; skipped (--on-busy skip)",
      });
    } finally {
      await held?.release();
    }
    const rows = await db.current.pool.query<{ rolconnlimit: number }>(
      "SELECT rolconnlimit FROM pg_roles WHERE rolname LIKE $1",
      [`${db.current.rolePrefix}%up_one`],
    );
    expect(rows.rows.map((r) => r.rolconnlimit)).toEqual([7]);
  }, 600_000);

  it("halts on the first failure, naming the tenant and the engine's reason; later waves never start", async () => {
    deployed.length = 0;
    const broken = {
      ...tenants[0]!,
      slug: "up-broken",
      tags: { ...tenants[0]!.tags, tenant: "someone-else" },
    };
    const two = { ...tenants[1]!, quotas: { ...tenants[1]!.quotas, dbConnections: 9 } };
    const { report, events } = await up([broken, two], { waves: [50, 100] });
    expect(deployed).toEqual(["up-broken"]);
    expect(report.failed.map((f) => f.slug)).toEqual(["up-broken"]);
    expect(report.failed[0]?.error.length).toBeGreaterThan(0);
    expect(report.notStarted).toEqual(["up-two"]);
    expect(events).toContainEqual(expect.objectContaining({ event: "halted" }));
  }, 600_000);
});
