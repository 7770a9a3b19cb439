/**
 * Fault test with the real engine: the backend of a worker's tenant-lock connection is
 * terminated while the engine is in the middle of a bridge deployment (its database step
 * stalled on a table lock in the shared database). The worker must stop that engine step —
 * the engine and its plugins exit while the step is still stalled — and leave the operation
 * for the sweep, which resumes it: succeeded once, one schema, one role, one registry row,
 * and a stack with no pending operation.
 */
import { randomUUID } from "node:crypto";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { tenantLockKey } from "../../control-plane/jobs/tenantLock.ts";
import type { EngineSettings } from "../../control-plane/runner/engine.ts";
import { stackWorkspace } from "../../control-plane/runner/workspace.ts";
import type { TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { startEngineControlPlane, superQuery } from "../support/engineControlPlane.ts";
import { engineProcesses } from "../support/engineProcesses.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

const db = useTestDatabase();
const MARKER = "TENANCY_ENGINE_PROBE";
const SLUG = "lost-lock";

describeWithEngine("a worker losing its tenant lock mid-deployment", () => {
  let plane: TestControlPlane;
  let engine: EngineSettings;
  const probe = randomUUID();

  beforeAll(async () => {
    const base = await testEngine();
    engine = { ...base, env: { ...base.env, [MARKER]: probe } };
    plane = await startEngineControlPlane(db.current, {
      engine,
      runner: { cancelGraceMs: 3000 },
      plane: { sweepSeconds: 1 },
    });
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
  }, 120_000);

  /** Backends of the control database holding the tenant's advisory lock. */
  async function lockHolders(): Promise<number[]> {
    const rows = await superQuery<{ pid: number }>(
      "postgres",
      `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1
          AND l.objid = (hashtext($2)::bigint & 4294967295)::oid`,
      [db.current.name, tenantLockKey(SLUG)],
    );
    return rows.map((r) => r.pid);
  }

  it("stops the engine step, and the sweep resumes the operation to one clean success", async () => {
    const shared = new pg.Client({ connectionString: plane.sharedUrl });
    await shared.connect();
    await shared.query("BEGIN");
    // The tenant's database step (its registry row) waits for this lock: the engine is stalled
    // in the middle of its update, with the dynamic provider's create in flight.
    await shared.query("LOCK TABLE tenancy.tenants IN EXCLUSIVE MODE");
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: SLUG, name: "Lost Lock", tier: "pro" },
    });
    expect(response.status).toBe(202);
    const { operation } = (await response.json()) as { operation: { id: string } };
    await waitFor(async () => {
      const waiting = await superQuery<{ n: number }>(
        `${db.current.name}_shared`,
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE NOT granted AND relation = 'tenancy.tenants'::regclass`,
      );
      return waiting[0]!.n > 0;
    }, 240_000);
    const running = await engineProcesses(MARKER, probe);
    expect(running.map((p) => p.kind)).toContain("engine");

    const [holder, ...others] = await lockHolders();
    expect(others).toEqual([]);
    const terminated = await superQuery<{ ok: boolean }>(
      "postgres",
      "SELECT pg_terminate_backend($1) AS ok",
      [holder],
    );
    expect(terminated).toEqual([{ ok: true }]);

    // The engine step is stopped although the step it waits on is still stalled: SIGINT, then
    // SIGKILL after the 3 s grace; its plugins exit with it.
    await waitFor(async () => (await engineProcesses(MARKER, probe)).length === 0, 30_000);
    const during = await plane.pool.query<{ state: string; attempts: number }>(
      "SELECT state, attempts FROM control_plane.operations WHERE id = $1",
      [operation.id],
    );
    expect(during.rows).toEqual([{ state: "running", attempts: 1 }]);

    await shared.query("COMMIT");
    await shared.end();
    await waitFor(async () => {
      const { rows } = await plane.pool.query<{ state: string }>(
        "SELECT state FROM control_plane.operations WHERE id = $1",
        [operation.id],
      );
      return rows[0]!.state === "succeeded" || rows[0]!.state === "failed";
    }, 300_000);

    const { rows: finished } = await plane.pool.query<{
      state: string;
      attempts: number;
      error: string | null;
    }>("SELECT state, attempts, error FROM control_plane.operations WHERE id = $1", [operation.id]);
    expect(finished).toEqual([{ state: "succeeded", attempts: 2, error: null }]);
    const { rows: events } = await plane.pool.query<{ type: string; data: { resumed?: boolean } }>(
      "SELECT type, data FROM control_plane.operation_events WHERE operation_id = $1 ORDER BY id",
      [operation.id],
    );
    expect(events.filter((e) => e.type === "started").map((e) => e.data.resumed)).toEqual([
      false,
      true,
    ]);
    expect(events.filter((e) => e.type === "succeeded")).toHaveLength(1);
    expect(events.filter((e) => e.type === "failed" || e.type === "requeued")).toEqual([]);
    const tenant = (await (await plane.request(`/v1/tenants/${SLUG}`)).json()) as {
      state: string;
    };
    expect(tenant.state).toBe("active");

    // Nothing half-applied: one of each, and the stack's state has no pending operation.
    const sharedName = `${db.current.name}_shared`;
    expect(
      await superQuery(
        sharedName,
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_lost%'",
      ),
    ).toEqual([{ nspname: "tenant_lost_lock" }]);
    expect(
      await superQuery(sharedName, "SELECT rolname FROM pg_roles WHERE rolname LIKE $1", [
        `${db.current.rolePrefix}\\_t\\_lost%`,
      ]),
    ).toEqual([{ rolname: `${db.current.rolePrefix}_t_lost_lock` }]);
    expect(
      await superQuery(sharedName, "SELECT slug FROM tenancy.tenants WHERE slug = $1", [SLUG]),
    ).toEqual([{ slug: SLUG }]);
    const stack = await LocalWorkspace.selectStack(
      {
        stackName: `tenant-${SLUG}`,
        workDir: await stackWorkspace(engine.stateDir, engine.projectDir, `tenant-${SLUG}`),
      },
      { pulumiCommand: engine.command, envVars: { ...engine.env } },
    );
    const state = (await stack.exportStack()).deployment as { pending_operations?: unknown[] };
    expect(state.pending_operations ?? []).toEqual([]);
  }, 600_000);
});
