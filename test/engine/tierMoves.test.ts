/**
 * Tier moves through the HTTP API on the real engine: a free tenant with data becomes pro
 * (its own schema, provisioned through its stack) and free again, with a writer running
 * during each move; every acknowledged write is there afterwards, the old placement is purged
 * with proof, the operation's stream shows each step. While it moves, other changes and
 * offboarding are refused with `tenant-moving`; asking for the same move again is that move.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Catalog, TenantFile } from "../../catalog/index.ts";
import { reconcile } from "../../control-plane/service/reconcile.ts";
import { exampleTiers, type TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { startEngineControlPlane, waitForOperation } from "../support/engineControlPlane.ts";
import { startWriter, tenantDatabase, type TenantDatabase } from "../support/moveWriter.ts";
import { queryRows, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

interface OperationView {
  id: string;
  kind: string;
  state: string;
  error: string | null;
}
interface TenantView {
  tier: string;
  state: string;
  lastError: string | null;
  routing: { database: { mode: string; schema: string; role: string } } | null;
}

describeWithEngine("tier moves through the API", () => {
  let plane: TestControlPlane;
  let tenants: TenantDatabase;
  let stateDir: string;

  beforeAll(async () => {
    const engine = await testEngine();
    stateDir = engine.stateDir;
    plane = await startEngineControlPlane(db.current, {
      engine,
      plane: { moveBatchSize: 500, moveCopyPace: 1 },
    });
    tenants = tenantDatabase(plane.sharedUrl);
  }, 300_000);

  afterAll(async () => {
    await tenants?.close();
    await plane?.stop();
  }, 120_000);

  const waitFor = (operationId: string) => waitForOperation<OperationView>(plane, operationId);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function tenant(slug: string): Promise<TenantView> {
    return (await (await plane.request(`/v1/tenants/${slug}`)).json()) as TenantView;
  }

  const shared = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    queryRows<T>(plane.sharedUrl, sql, params);

  async function moveSteps(operationId: string): Promise<string[]> {
    const { rows } = await plane.pool.query<{ step: string }>(
      "SELECT data ->> 'step' AS step FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'move' ORDER BY id",
      [operationId],
    );
    return [...new Set(rows.map((r) => r.step))];
  }

  /** The tenant's project names in its current placement (as a superuser: every row). */
  async function projectNames(slug: string): Promise<Set<string>> {
    const routing = await tenants.routing(slug);
    const rows = await shared<{ name: string }>(
      `SELECT name FROM "${routing.schema}".projects WHERE tenant_id = $1`,
      [routing.tenantId],
    );
    return new Set(rows.map((r) => r.name));
  }

  async function patch(slug: string, body: unknown): Promise<Response> {
    return plane.request(`/v1/tenants/${slug}`, { method: "PATCH", json: body });
  }

  it("free → pro → free with a writer running: every acknowledged write kept, old placements purged", async () => {
    const slug = "mv-one";
    const created = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: "Mover", tier: "free" },
    });
    expect(created.status).toBe(202);
    expect((await tenant(slug)).state).toBe("active");
    const { tenantId } = await tenants.routing(slug);
    // 4,000 projects and 8,000 tasks before the move.
    await shared(
      `WITH p AS (INSERT INTO app.projects (tenant_id, name)
                      SELECT $1, 'seed-' || g FROM generate_series(1, 4000) g RETURNING id)
         INSERT INTO app.tasks (tenant_id, project_id, title) SELECT $1, id, 't' FROM p, generate_series(1, 2)`,
      [tenantId],
    );

    // free → pro: a move operation; the tenant is moving.
    const writer = startWriter(tenants, slug, "up");
    await new Promise((r) => setTimeout(r, 300));
    const response = await patch(slug, { tier: "pro", moveGrace: "0" });
    expect(response.status).toBe(202);
    const { operation, tenant: accepted } = (await response.json()) as {
      operation: OperationView;
      tenant: TenantView;
    };
    expect([operation.kind, accepted.state, accepted.tier]).toEqual(["move", "moving", "free"]);

    // While it moves: the same move again is that move; anything else is refused.
    const again = await patch(slug, { tier: "pro", moveGrace: "0" });
    expect(((await again.json()) as { operation: OperationView }).operation.id).toBe(operation.id);
    const quota = await patch(slug, { quotas: { dbConnections: 2 } });
    expect([quota.status, ((await quota.json()) as { reason: string }).reason]).toEqual([
      409,
      "tenant-moving",
    ]);
    const offboard = await plane.request(`/v1/tenants/${slug}`, { method: "DELETE" });
    expect([offboard.status, ((await offboard.json()) as { reason: string }).reason]).toEqual([
      409,
      "tenant-moving",
    ]);

    const done = await waitFor(operation.id);
    await new Promise((r) => setTimeout(r, 300));
    await writer.stop();
    expect([done.state, done.error]).toEqual(["succeeded", null]);
    const pro = await tenant(slug);
    expect([pro.state, pro.tier, pro.routing?.database.mode, pro.routing?.database.schema]).toEqual(
      ["active", "pro", "schema", "tenant_mv_one"],
    );
    expect(await moveSteps(operation.id)).toEqual([
      "prepare",
      "provision",
      "capture",
      "copy",
      "catch-up",
      "fence",
      "verify",
      "switch",
      "purge",
      "done",
    ]);
    // One "moving …" line (the operation's), not the mover's again: `tenancy move` prints each
    // event (the other prepare line is the storage note).
    const prepared = await plane.pool.query<{ message: string }>(
      "SELECT data ->> 'message' AS message FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'move' AND data ->> 'step' = 'prepare'",
      [operation.id],
    );
    expect(prepared.rows.map((r) => r.message).filter((m) => m.startsWith("moving"))).toEqual([
      `moving ${slug} from pool to schema`,
    ]);
    // The control plane's move pace reaches the mover (every copy batch reports it).
    const paces = await plane.pool.query<{ pace: string }>(
      "SELECT DISTINCT data -> 'detail' ->> 'copyPace' AS pace FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'move' AND data ->> 'step' = 'copy'",
      [operation.id],
    );
    expect(paces.rows.map((r) => r.pace)).toEqual(["1"]);
    expect(writer.acknowledged.length).toBeGreaterThan(5);
    const onSchema = await projectNames(slug);
    expect(onSchema.size).toBe(4000 + writer.acknowledged.length);
    for (const name of writer.acknowledged) expect(onSchema.has(name)).toBe(true);
    const tasks = await shared<{ n: number }>("SELECT count(*)::int AS n FROM tenant_mv_one.tasks");
    expect(tasks[0]?.n).toBe(8000);
    // The pooled rows are purged (with proof: the purge step's detail says verified).
    const left = await shared<{ n: number }>(
      "SELECT (SELECT count(*) FROM app.projects WHERE tenant_id = $1) + (SELECT count(*) FROM app.tasks WHERE tenant_id = $1) AS n",
      [tenantId],
    );
    expect(Number(left[0]?.n)).toBe(0);
    const purge = await plane.pool.query<{ verified: boolean }>(
      "SELECT (data -> 'detail' ->> 'verified')::boolean AS verified FROM control_plane.operation_events WHERE operation_id = $1 AND data ->> 'step' = 'purge'",
      [operation.id],
    );
    expect(purge.rows).toEqual([{ verified: true }]);

    // pro → free: back to the pool, the schema and role purged, the stack removed.
    const back = startWriter(tenants, slug, "down");
    await new Promise((r) => setTimeout(r, 300));
    const down = await patch(slug, { tier: "free", moveGrace: "2s" });
    expect(down.status).toBe(202);
    const downOp = ((await down.json()) as { operation: OperationView }).operation;
    const downDone = await waitFor(downOp.id);
    await new Promise((r) => setTimeout(r, 300));
    await back.stop();
    expect([downDone.state, downDone.error]).toEqual(["succeeded", null]);
    const free = await tenant(slug);
    expect([free.state, free.tier, free.routing?.database.mode]).toEqual([
      "active",
      "free",
      "pool",
    ]);
    const inPool = await projectNames(slug);
    expect(inPool.size).toBe(4000 + writer.acknowledged.length + back.acknowledged.length);
    for (const name of back.acknowledged) expect(inPool.has(name)).toBe(true);
    // A grace of 2 s: the old schema is purged by the job at its end, the report on the stream.
    const purged = await until("the purge job", async () => {
      const { rows } = await plane.pool.query<{ data: { verified: boolean } }>(
        "SELECT data FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'purged'",
        [downOp.id],
      );
      return rows[0]?.data;
    });
    expect(purged.verified).toBe(true);
    const schemas = await shared("SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_mv_one'");
    expect(schemas).toEqual([]);
    const roles = await shared("SELECT rolname FROM pg_roles WHERE rolname = $1", [
      `${db.current.rolePrefix}_t_mv_one`,
    ]);
    expect(roles).toEqual([]);
    const { readdir } = await import("node:fs/promises");
    const stacks = await readdir(`${stateDir}/backend/.pulumi/stacks`, { recursive: true }).catch(
      () => [] as string[],
    );
    expect(stacks.filter((f) => String(f).endsWith("tenant-mv-one.json"))).toEqual([]);
  }, 900_000);

  it("a move refused before anything is copied leaves the tenant active on its source with the reason", async () => {
    const slug = "mv-refused";
    await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: "Refused", tier: "free" },
    });
    // A shared table without tenant_id is not tenant data: a pooled source skips it; a
    // shared table the target lacks is refused by name before anything is created.
    await shared("CREATE TABLE app.notes (tenant_id uuid, id int PRIMARY KEY, body text)");
    try {
      const response = await patch(slug, { tier: "pro", moveGrace: "0" });
      const { operation } = (await response.json()) as { operation: OperationView };
      const done = await waitFor(operation.id);
      expect(done.state).toBe("failed");
      expect(done.error).toContain("app.notes");
      const after = await tenant(slug);
      expect([after.state, after.tier, after.routing?.database.mode]).toEqual([
        "active",
        "free",
        "pool",
      ]);
      expect(after.lastError).toContain("app.notes");
      const schemas = await shared(
        "SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_mv_refused'",
      );
      expect(schemas).toEqual([]);
    } finally {
      await shared("DROP TABLE app.notes");
    }
  }, 600_000);

  it("reconcile: a catalog file changing the tier starts a move; the default grace keeps the old rows read-only", async () => {
    const slug = "mv-catalog";
    const tiers = await exampleTiers();
    const catalogWith = (tier: string): Catalog => ({
      tiers,
      tenants: [
        { file: `tenants/${slug}.yaml`, spec: { slug, name: "Catalog", tier } as TenantFile },
      ],
    });
    const [signup] = await reconcile(plane.pool, plane.service, catalogWith("free"));
    expect(signup?.action).toBe("signup");
    const { tenantId } = await tenants.routing(slug);
    await shared(
      "INSERT INTO app.projects (tenant_id, name) SELECT $1, 'c-' || g FROM generate_series(1, 500) g",
      [tenantId],
    );
    const [step] = await reconcile(plane.pool, plane.service, catalogWith("pro"));
    expect(step?.action).toBe("move");
    const done = await waitFor(step!.operationId!);
    expect([done.state, done.error]).toEqual(["succeeded", null]);
    const result = await plane.pool.query<{ purgeAfter: string }>(
      `SELECT result -> 'move' ->> 'purgeAfter' AS "purgeAfter" FROM control_plane.operations WHERE id = $1`,
      [step!.operationId],
    );
    const purgeAfter = new Date(result.rows[0]!.purgeAfter).getTime();
    expect(Math.abs(purgeAfter - Date.now() - 24 * 3_600_000)).toBeLessThan(10 * 60_000);
    // The purge is a job on the queue, due at the end of the grace period.
    const jobs = await plane.pool.query<{ start: Date }>(
      "SELECT start_after AS start FROM control_plane_jobs.job WHERE name = 'tenant-move-purges' AND data ->> 'slug' = $1 AND state = 'created'",
      [slug],
    );
    expect(jobs.rows).toHaveLength(1);
    expect(Math.abs(jobs.rows[0]!.start.getTime() - purgeAfter)).toBeLessThan(2000);
    // Meanwhile the old rows are there, read-only: a write on the old placement is TN002.
    const kept = await shared<{ n: number }>(
      "SELECT count(*)::int AS n FROM app.projects WHERE tenant_id = $1",
      [tenantId],
    );
    expect(kept[0]?.n).toBe(500);
    const client = new pg.Client({ connectionString: plane.sharedUrl });
    await client.connect();
    try {
      const code = await client
        .query("UPDATE app.projects SET name = 'changed' WHERE tenant_id = $1 AND name = 'c-1'", [
          tenantId,
        ])
        .then(
          () => "updated",
          (error: { code?: string }) => error.code,
        );
      expect(code).toBe("TN002");
    } finally {
      await client.end();
    }
  }, 600_000);
});
