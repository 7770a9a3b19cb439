/**
 * A worker process killed (with its engine) in the middle of a bridge deployment: the
 * operation stays `running`, its tenant lock dies with the process, and a new worker picks it
 * up, cancels the stale stack lock and completes it — one schema, one role, one stack.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { workerProcesses, type WorkerProcesses } from "../support/workerProcesses.ts";

const db = useTestDatabase();

describeWithEngine("worker crash during a deployment", () => {
  let plane: TestControlPlane;
  let workers: WorkerProcesses;

  beforeAll(async () => {
    const engine = await testEngine();
    // The API process runs no workers: deployments happen in the worker processes below.
    plane = await startTestControlPlane(db.current.name, { concurrency: 0 });
    workers = workerProcesses(plane, db.current, engine);
  }, 300_000);

  afterAll(async () => {
    workers?.killAll();
    await plane?.stop();
  }, 120_000);

  async function operation(id: string) {
    return (await (await plane.request(`/v1/operations/${id}`)).json()) as {
      state: string;
      error: string | null;
    };
  }

  it("resumes the operation on restart and leaves no orphan", async () => {
    const first = workers.start();
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "crash-bridge", name: "Crash", tier: "pro" },
    });
    expect(response.status).toBe(202);
    const { operation: op } = (await response.json()) as { operation: { id: string } };

    // Kill the worker once the engine has started changing resources.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const { rows } = await plane.pool.query(
        "SELECT 1 FROM control_plane.operation_events WHERE operation_id = $1 AND type IN ('progress', 'log')",
        [op.id],
      );
      if (rows.length > 0) break;
      if (Date.now() > deadline) throw new Error("the worker never started the deployment");
      await new Promise((r) => setTimeout(r, 100));
    }
    workers.kill(first);
    await new Promise((r) => setTimeout(r, 500));
    expect((await operation(op.id)).state).toBe("running");

    workers.start();
    const finish = Date.now() + 300_000;
    let state = await operation(op.id);
    while (state.state !== "succeeded" && state.state !== "failed" && Date.now() < finish) {
      await new Promise((r) => setTimeout(r, 500));
      state = await operation(op.id);
    }
    expect([state.state, state.error]).toEqual(["succeeded", null]);
    const { rows: events } = await plane.pool.query<{ data: { resumed: boolean } }>(
      "SELECT data FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'started' ORDER BY id",
      [op.id],
    );
    expect(events.map((e) => e.data.resumed)).toEqual([false, true]);

    const tenant = (await (await plane.request("/v1/tenants/crash-bridge")).json()) as {
      state: string;
    };
    expect(tenant.state).toBe("active");
    const shared = await import("pg");
    const client = new shared.default.Client({ connectionString: plane.sharedUrl });
    await client.connect();
    try {
      const schemas = await client.query(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_crash%'",
      );
      expect(schemas.rows).toEqual([{ nspname: "tenant_crash_bridge" }]);
      const roles = await client.query("SELECT rolname FROM pg_roles WHERE rolname LIKE $1", [
        `${db.current.rolePrefix}\\_t\\_crash%`,
      ]);
      expect(roles.rows).toEqual([{ rolname: `${db.current.rolePrefix}_t_crash_bridge` }]);
      const registered = await client.query(
        "SELECT slug FROM tenancy.tenants WHERE slug = 'crash-bridge'",
      );
      expect(registered.rows).toHaveLength(1);
    } finally {
      await client.end();
    }
  }, 600_000);
});
