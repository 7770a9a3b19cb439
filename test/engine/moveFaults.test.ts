/**
 * A move's worker killed with SIGKILL (with its engine) mid-copy — into a schema and into a
 * dedicated database — and mid-fence: the move never half-applies — the tenant stays on its source with its writes accepted (the fence
 * dies with the worker's connection) — and a new worker resumes it to the end, every row and
 * every acknowledged write present.
 */
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { startWriter, tenantDatabase, type TenantDatabase } from "../support/moveWriter.ts";
import type { Writer } from "../support/moveWriter.ts";
import { adminUrl, queryRows, useTestDatabase, withDatabase } from "../support/postgres.ts";
import { workerProcesses, type WorkerProcesses } from "../support/workerProcesses.ts";

const db = useTestDatabase();

describeWithEngine("move faults: a worker killed mid-move", () => {
  let plane: TestControlPlane;
  let tenants: TenantDatabase;
  let workers: WorkerProcesses;

  beforeAll(async () => {
    const engine = await testEngine();
    // The API process runs no workers: the moves run in the worker processes below.
    plane = await startTestControlPlane(db.current.name, { concurrency: 0 });
    tenants = tenantDatabase(plane.sharedUrl);
    workers = workerProcesses(plane, db.current, engine, { WORKER_MOVE_BATCH: "200" });
  }, 300_000);

  afterAll(async () => {
    workers?.killAll();
    await tenants?.close();
    await plane?.stop();
  }, 120_000);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 240_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function stepSeen(operationId: string, step: string): Promise<true | undefined> {
    const { rows } = await plane.pool.query(
      "SELECT 1 FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'move' AND data ->> 'step' = $2 LIMIT 1",
      [operationId, step],
    );
    return rows.length > 0 ? true : undefined;
  }

  async function finished(operationId: string) {
    return until(
      "the move to end",
      async () => {
        const op = (await (await plane.request(`/v1/operations/${operationId}`)).json()) as {
          state: string;
          error: string | null;
        };
        return op.state === "succeeded" || op.state === "failed" ? op : undefined;
      },
      400_000,
    );
  }

  const shared = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    queryRows<T>(plane.sharedUrl, sql, params);

  /** Kills `worker` (and its engine) once the move has copied five batches. */
  async function killAfterCopyBatches(operationId: string, worker: ChildProcess): Promise<void> {
    await until("copy batches", async () => {
      const { rows } = await plane.pool.query(
        "SELECT count(*)::int AS n FROM control_plane.operation_events WHERE operation_id = $1 AND data ->> 'step' = 'copy'",
        [operationId],
      );
      return (rows[0] as { n: number }).n >= 5 ? true : undefined;
    });
    workers.kill(worker);
    await new Promise((r) => setTimeout(r, 1000));
  }

  /** The tenant's writes are accepted (no fence left behind): more than three new ones. */
  async function writesAccepted(writer: Writer): Promise<void> {
    const before = writer.acknowledged.length;
    await until("a write after the kill", async () =>
      writer.acknowledged.length > before + 3 ? true : undefined,
    );
  }

  async function signUpWithRows(slug: string, projects: number): Promise<string> {
    const created = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: slug, tier: "free" },
    });
    expect(created.status).toBe(202);
    const { tenantId } = await tenants.routing(slug);
    await shared(
      `INSERT INTO app.projects (tenant_id, name) SELECT $1, 'seed-' || g FROM generate_series(1, $2::int) g`,
      [tenantId, projects],
    );
    return tenantId;
  }

  async function startMove(slug: string, change: object = { tier: "pro" }): Promise<string> {
    const response = await plane.request(`/v1/tenants/${slug}`, {
      method: "PATCH",
      json: { ...change, moveGrace: "0" },
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { operation: { id: string } }).operation.id;
  }

  async function registryMode(slug: string): Promise<string | undefined> {
    return (
      await shared<{ mode: string }>("SELECT mode FROM tenancy.tenants WHERE slug = $1", [slug])
    )[0]?.mode;
  }

  it("killed mid-copy: the tenant stays on its source, writable; a new worker resumes the copy", async () => {
    const slug = "kill-copy";
    await signUpWithRows(slug, 20_000);
    const first = workers.start();
    const writer = startWriter(tenants, slug, "w");
    const operationId = await startMove(slug);
    // Some batches in: kill the worker and its engine.
    await killAfterCopyBatches(operationId, first);
    // Not half-applied: still pooled, still moving, writes accepted (no fence left behind).
    expect(await registryMode(slug)).toBe("pool");
    const tenant = (await (await plane.request(`/v1/tenants/${slug}`)).json()) as {
      state: string;
    };
    expect(tenant.state).toBe("moving");
    await writesAccepted(writer);

    workers.start();
    const done = await finished(operationId);
    await writer.stop();
    expect([done.state, done.error]).toEqual(["succeeded", null]);
    expect(await registryMode(slug)).toBe("schema");
    const { rows: started } = await plane.pool.query<{ resumed: boolean }>(
      "SELECT (data ->> 'resumed')::boolean AS resumed FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'started' ORDER BY id",
      [operationId],
    );
    expect(started.map((r) => r.resumed)).toEqual([false, true]);
    // Resumed after the last committed batch, not from the start.
    const { rows: resumedAt } = await plane.pool.query<{ rows: number }>(
      `SELECT (data -> 'detail' ->> 'rows')::int AS rows FROM control_plane.operation_events
        WHERE operation_id = $1 AND data ->> 'step' = 'copy'
          AND id > (SELECT max(id) FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'started')
        ORDER BY id LIMIT 1`,
      [operationId],
    );
    expect(resumedAt[0]!.rows).toBeGreaterThan(200);
    const names = new Set(
      (await shared<{ name: string }>("SELECT name FROM tenant_kill_copy.projects")).map(
        (r) => r.name,
      ),
    );
    expect(names.size).toBe(20_000 + writer.acknowledged.length);
    for (const name of writer.acknowledged) expect(names.has(name)).toBe(true);
  }, 900_000);

  it("killed mid-fence (held just before the switch): the fence dies with it, nothing switched; a new worker finishes", async () => {
    const slug = "kill-fence";
    const tenantId = await signUpWithRows(slug, 2_000);
    workers.killAll(); // the first test's worker
    const first = workers.start();
    const operationId = await startMove(slug);
    // Once the worker runs the move (its start-up DDL done), a lock held elsewhere on the
    // registry row: the switch waits for it inside the fence.
    await until("the move to start", () => stepSeen(operationId, "prepare"));
    const blocker = new pg.Client({ connectionString: plane.sharedUrl });
    blocker.on("error", () => undefined);
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query("SELECT 1 FROM tenancy.tenants WHERE slug = $1 FOR UPDATE", [slug]);
    await until("the fence", () => stepSeen(operationId, "verify"), 180_000).catch(
      async (error: unknown) => {
        const blocked = await shared(
          "SELECT application_name, left(query, 200) AS query FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        );
        const { rows: events } = await plane.pool.query(
          "SELECT type, data FROM control_plane.operation_events WHERE operation_id = $1 ORDER BY id",
          [operationId],
        );
        throw new Error(
          `${(error as Error).message}; blocked: ${JSON.stringify(blocked)}; events: ${JSON.stringify(events).slice(0, 3000)}`,
        );
      },
    );
    // Fenced: the tenant's writes fail fast with TN001; its reads go on.
    const write = await tenants.router
      .withTenant(slug, (c) => c.query("INSERT INTO projects (name) VALUES ('during-fence')"))
      .then(
        () => "ok",
        (error: { code?: string }) => error.code,
      );
    expect(write).toBe("TN001");
    workers.kill(first);
    // The fence is gone with the worker's connection: writes are accepted, the tenant is
    // still on its source (the switch never committed).
    await until(
      "writes accepted again",
      async () =>
        await tenants.router
          .withTenant(slug, (c) => c.query("INSERT INTO projects (name) VALUES ('after-kill')"))
          .then(
            () => true,
            () => undefined,
          ),
    );
    expect(await registryMode(slug)).toBe("pool");
    await blocker.query("ROLLBACK");
    await blocker.end();

    workers.start();
    const done = await finished(operationId);
    expect([done.state, done.error]).toEqual(["succeeded", null]);
    expect(await registryMode(slug)).toBe("schema");
    const rows = await shared<{ name: string }>(
      "SELECT name FROM tenant_kill_fence.projects WHERE name IN ('after-kill', 'during-fence')",
    );
    expect(rows.map((r) => r.name)).toEqual(["after-kill"]);
    const count = await shared<{ n: number }>(
      "SELECT count(*)::int AS n FROM tenant_kill_fence.projects",
    );
    expect(count[0]?.n).toBe(2_001);
    const left = await shared<{ n: number }>(
      "SELECT count(*)::int AS n FROM app.projects WHERE tenant_id = $1",
      [tenantId],
    );
    expect(left[0]?.n).toBe(0);
  }, 900_000);

  it("killed mid-copy into a dedicated database: still pooled and writable; a new worker resumes, every row in the tenant's database", async () => {
    const slug = "kill-silo";
    const tenantId = await signUpWithRows(slug, 20_000);
    workers.killAll(); // earlier tests' workers
    const first = workers.start();
    const writer = startWriter(tenants, slug, "w");
    // Enterprise's identity is federated: without an identity provider, the allowed override.
    const operationId = await startMove(slug, {
      tier: "enterprise",
      overrides: { identity: "shared" },
    });
    await killAfterCopyBatches(operationId, first);
    expect(await registryMode(slug)).toBe("pool");
    await writesAccepted(writer);

    workers.start();
    const done = await finished(operationId);
    await writer.stop();
    expect([done.state, done.error]).toEqual(["succeeded", null]);
    expect(await registryMode(slug)).toBe("dedicated");
    const { rows: resumedAt } = await plane.pool.query<{ rows: number }>(
      `SELECT (data -> 'detail' ->> 'rows')::int AS rows FROM control_plane.operation_events
        WHERE operation_id = $1 AND data ->> 'step' = 'copy'
          AND id > (SELECT max(id) FROM control_plane.operation_events WHERE operation_id = $1 AND type = 'started')
        ORDER BY id LIMIT 1`,
      [operationId],
    );
    expect(resumedAt[0]!.rows).toBeGreaterThan(200); // after the last committed batch
    const silo = new pg.Client({
      connectionString: withDatabase(adminUrl(), `${db.current.name}_db_kill_silo`),
    });
    await silo.connect();
    try {
      const names = new Set(
        (await silo.query<{ name: string }>("SELECT name FROM app.projects")).rows.map(
          (r) => r.name,
        ),
      );
      expect(names.size).toBe(20_000 + writer.acknowledged.length);
      for (const name of writer.acknowledged) expect(names.has(name)).toBe(true);
    } finally {
      await silo.end();
    }
    const left = await shared<{ n: number }>(
      "SELECT count(*)::int AS n FROM app.projects WHERE tenant_id = $1",
      [tenantId],
    );
    expect(left[0]?.n).toBe(0);
  }, 900_000);
});
