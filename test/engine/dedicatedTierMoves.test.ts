/**
 * Tier moves through the HTTP API on the real engine, into and out of a dedicated database:
 * a free tenant with data becomes pro (its own schema), then enterprise (a database of its
 * own, provisioned through its stack), then free again — with a writer running during each
 * move. After each: every row and every acknowledged write is where the routing points, the
 * old placement is purged with proof (purge step verified, the schema / database / rows gone).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine } from "../support/engine.ts";
import {
  startEngineControlPlane,
  superQuery,
  waitForOperation,
} from "../support/engineControlPlane.ts";
import { startWriter, tenantDatabase, type TenantDatabase } from "../support/moveWriter.ts";
import { useTestDatabase } from "../support/postgres.ts";

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
  routing: { database: { mode: string; database: string; schema: string } } | null;
}

describeWithEngine("tier moves into and out of a dedicated database, through the API", () => {
  let plane: TestControlPlane;
  let tenants: TenantDatabase;

  beforeAll(async () => {
    plane = await startEngineControlPlane(db.current, { plane: { moveBatchSize: 500 } });
    tenants = tenantDatabase(plane.sharedUrl);
  }, 300_000);

  afterAll(async () => {
    await tenants?.close();
    await plane?.stop();
  }, 120_000);

  const waitFor = (operationId: string, timeoutMs = 400_000) =>
    waitForOperation<OperationView>(plane, operationId, { timeoutMs });

  async function tenant(slug: string): Promise<TenantView> {
    return (await (await plane.request(`/v1/tenants/${slug}`)).json()) as TenantView;
  }

  /** Project names and the task count where the tenant's routing points now. */
  async function placed(slug: string): Promise<{ names: Set<string>; tasks: number }> {
    const routing = await tenants.routing(slug);
    const names = await superQuery<{ name: string }>(
      routing.database,
      `SELECT name FROM "${routing.schema}".projects WHERE tenant_id = $1`,
      [routing.tenantId],
    );
    const tasks = await superQuery<{ n: number }>(
      routing.database,
      `SELECT count(*)::int AS n FROM "${routing.schema}".tasks WHERE tenant_id = $1`,
      [routing.tenantId],
    );
    return { names: new Set(names.map((r) => r.name)), tasks: tasks[0]?.n ?? -1 };
  }

  async function purgeVerified(operationId: string): Promise<boolean[]> {
    const { rows } = await plane.pool.query<{ verified: boolean }>(
      "SELECT (data -> 'detail' ->> 'verified')::boolean AS verified FROM control_plane.operation_events WHERE operation_id = $1 AND data ->> 'step' = 'purge'",
      [operationId],
    );
    return rows.map((r) => r.verified);
  }

  async function moveSteps(operationId: string): Promise<string[]> {
    const { rows } = await plane.pool.query<{ step: string }>(
      "SELECT data ->> 'step' AS step FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'move' ORDER BY id",
      [operationId],
    );
    return [...new Set(rows.map((r) => r.step))];
  }

  it("free → pro → enterprise → free with a writer running: every row kept, each old placement purged with proof", async () => {
    const slug = "mv-silo";
    const shared = `${db.current.name}_shared`;
    const dedicated = `${db.current.name}_db_mv_silo`;
    const created = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: "Silo mover", tier: "free" },
    });
    expect(created.status).toBe(202);
    const { tenantId } = await tenants.routing(slug);
    await superQuery(
      shared,
      `WITH p AS (INSERT INTO app.projects (tenant_id, name)
                      SELECT $1, 'seed-' || g FROM generate_series(1, 3000) g RETURNING id)
         INSERT INTO app.tasks (tenant_id, project_id, title) SELECT $1, id, 't' FROM p, generate_series(1, 2)`,
      [tenantId],
    );
    const acknowledged: string[] = [];
    // Enterprise's identity is federated: without an identity provider, the allowed override.
    const legs = [
      { tier: "pro", overrides: {}, mode: "schema", database: shared, schema: "tenant_mv_silo" },
      {
        tier: "enterprise",
        overrides: { identity: "shared" },
        mode: "dedicated",
        database: dedicated,
        schema: "app",
      },
      { tier: "free", overrides: {}, mode: "pool", database: shared, schema: "app" },
    ] as const;
    for (const [round, leg] of legs.entries()) {
      const before = await tenants.routing(slug);
      const writer = startWriter(tenants, slug, `r${round}`);
      await new Promise((r) => setTimeout(r, 300));
      const response = await plane.request(`/v1/tenants/${slug}`, {
        method: "PATCH",
        json: { tier: leg.tier, overrides: leg.overrides, moveGrace: "0" },
      });
      const body = (await response.json()) as { operation: OperationView };
      expect([response.status, body]).toMatchObject([202, {}]);
      const { operation } = body;
      expect(operation.kind).toBe("move");
      const done = await waitFor(operation.id);
      await new Promise((r) => setTimeout(r, 300));
      await writer.stop();
      expect([leg.tier, done.state, done.error]).toEqual([leg.tier, "succeeded", null]);
      console.log(
        `${before.mode} → ${leg.mode}: ${writer.acknowledged.length} writes acknowledged during the move, longest gap ${writer.longestGapMs()} ms`,
      );
      acknowledged.push(...writer.acknowledged);
      expect(writer.acknowledged.length).toBeGreaterThan(5);

      const after = await tenant(slug);
      expect([after.state, after.tier, after.routing?.database.mode]).toEqual([
        "active",
        leg.tier,
        leg.mode,
      ]);
      const routing = await tenants.routing(slug);
      expect([routing.database, routing.schema, routing.version]).toEqual([
        leg.database,
        leg.schema,
        before.version + 1,
      ]);
      expect(await moveSteps(operation.id)).toEqual(
        expect.arrayContaining(["copy", "fence", "verify", "switch", "purge", "done"]),
      );
      // Every row: the seeds, every acknowledged write of every move so far, the tasks.
      const { names, tasks } = await placed(slug);
      expect(names.size).toBe(3000 + acknowledged.length);
      for (const name of acknowledged) expect(names.has(name), name).toBe(true);
      expect(tasks).toBe(6000);
      // The old placement purged, with proof.
      expect(await purgeVerified(operation.id)).toEqual([true]);
      if (before.mode === "pool") {
        const left = await superQuery<{ n: number }>(
          shared,
          "SELECT (SELECT count(*) FROM app.projects WHERE tenant_id = $1) + (SELECT count(*) FROM app.tasks WHERE tenant_id = $1) AS n",
          [tenantId],
        );
        expect(Number(left[0]?.n)).toBe(0);
      }
      if (before.mode === "schema") {
        const schemas = await superQuery(shared, "SELECT 1 FROM pg_namespace WHERE nspname = $1", [
          before.schema,
        ]);
        expect(schemas).toEqual([]);
      }
      if (before.mode === "dedicated") {
        const databases = await superQuery(shared, "SELECT 1 FROM pg_database WHERE datname = $1", [
          dedicated,
        ]);
        expect(databases).toEqual([]);
      }
    }
    // Back in the pool: no tenant role left, no stack left.
    const roles = await superQuery(shared, "SELECT 1 FROM pg_roles WHERE rolname = $1", [
      `${db.current.rolePrefix}_t_mv_silo`,
    ]);
    expect(roles).toEqual([]);
  }, 1_200_000);

  it("POST /v1/operations/:id/abort mid-copy: the move is rolled back, the tenant active and pooled with every row, the target database gone", async () => {
    const slug = "mv-abort";
    const shared = `${db.current.name}_shared`;
    const created = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: "Abort mover", tier: "free" },
    });
    expect(created.status).toBe(202);
    const { tenantId } = await tenants.routing(slug);
    await superQuery(
      shared,
      "INSERT INTO app.projects (tenant_id, name) SELECT $1, 'seed-' || g FROM generate_series(1, 30000) g",
      [tenantId],
    );
    const writer = startWriter(tenants, slug, "a");
    const response = await plane.request(`/v1/tenants/${slug}`, {
      method: "PATCH",
      json: { tier: "enterprise", overrides: { identity: "shared" }, moveGrace: "0" },
    });
    const { operation } = (await response.json()) as { operation: OperationView };
    const copying = async () => {
      const { rows } = await plane.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM control_plane.operation_events WHERE operation_id = $1 AND data ->> 'step' = 'copy'",
        [operation.id],
      );
      return (rows[0]?.n ?? 0) >= 3;
    };
    for (let i = 0; !(await copying()); i += 1) {
      if (i > 3000) throw new Error("the copy never started");
      await new Promise((r) => setTimeout(r, 100));
    }
    const abort = await plane.request(`/v1/operations/${operation.id}/abort`, { method: "POST" });
    expect(abort.status).toBe(202);
    const done = await waitFor(operation.id);
    await writer.stop();
    expect(done.state).toBe("cancelled");
    expect(done.error).toContain("aborted on request");
    const after = await tenant(slug);
    expect([after.state, after.tier, after.routing?.database.mode]).toEqual([
      "active",
      "free",
      "pool",
    ]);
    const { rows: cancelled } = await plane.pool.query<{ rolledBack: boolean }>(
      `SELECT (data ->> 'rolledBack')::boolean AS "rolledBack" FROM control_plane.operation_events
        WHERE operation_id = $1 AND type = 'cancelled'`,
      [operation.id],
    );
    expect(cancelled).toEqual([{ rolledBack: true }]);
    // Every row on the source, the writes made during the aborted move included.
    const { names } = await placed(slug);
    expect(names.size).toBe(30_000 + writer.acknowledged.length);
    for (const name of writer.acknowledged) expect(names.has(name)).toBe(true);
    const databases = await superQuery(shared, "SELECT 1 FROM pg_database WHERE datname = $1", [
      `${db.current.name}_db_mv_abort`,
    ]);
    expect(databases).toEqual([]);
    // Finished: nothing left to abort.
    const again = await plane.request(`/v1/operations/${operation.id}/abort`, { method: "POST" });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(((await again.json()) as { reason: string }).reason).toBe("operation-finished");
  }, 900_000);
});
