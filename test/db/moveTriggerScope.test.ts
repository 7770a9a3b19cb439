/**
 * A move's triggers sit on tables every pooled tenant shares. Against a real PostgreSQL:
 * another tenant's INSERT, UPDATE and DELETE never call the move's PL/pgSQL functions — not
 * while the move captures changes, not during the grace period — while the moving tenant's
 * own writes do (captured during the copy, refused with TN002 after the switch). Calls are
 * counted by the server itself (`track_functions`, `pg_stat_get_xact_function_calls`).
 */
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { moveTenant, purgeMovedTenant } from "../../db/moves/moveTenant.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { seedProjectsWithTasks, useShippedMigrations, withAdmin } from "./fixtures.ts";

const db = useTestDatabase();
const shipped = useShippedMigrations(db);
const quotas = { dbConnections: 10, statementTimeoutMs: 10_000 };
const seed = (tenantId: string, projects: number) =>
  seedProjectsWithTasks(shipped.env.appPool, tenantId, projects);

/**
 * Runs one write per event on `tenantId`'s tasks in one transaction of a superuser session
 * (triggers fire for every role) and returns how often the move functions ran in it.
 */
async function moveFunctionCalls(client: pg.Client, tenantId: string): Promise<number> {
  await client.query("BEGIN");
  try {
    await client.query("SET LOCAL track_functions = 'pl'");
    const project = await client.query<{ id: string }>(
      "SELECT id FROM app.projects WHERE tenant_id = $1 ORDER BY id LIMIT 1",
      [tenantId],
    );
    const projectId = project.rows[0]?.id;
    expect(projectId).toBeDefined();
    await client.query(
      "INSERT INTO app.tasks (tenant_id, project_id, title) VALUES ($1, $2, 'scoped')",
      [tenantId, projectId],
    );
    const updated = await client.query(
      "UPDATE app.tasks SET title = 'scoped-again' WHERE tenant_id = $1 AND title = 'scoped'",
      [tenantId],
    );
    expect(updated.rowCount).toBe(1);
    const deleted = await client.query(
      "DELETE FROM app.tasks WHERE tenant_id = $1 AND title = 'scoped-again'",
      [tenantId],
    );
    expect(deleted.rowCount).toBe(1);
    const { rows } = await client.query<{ calls: number }>(
      `SELECT coalesce(sum(pg_stat_get_xact_function_calls(p.oid)), 0)::int AS calls
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'tenancy' AND p.proname LIKE 'move\\_%'`,
    );
    await client.query("COMMIT");
    return rows[0]?.calls ?? -1;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

async function moveTriggers(): Promise<{ name: string; hasWhen: boolean }[]> {
  return withAdmin(db.current, async (c) => {
    const { rows } = await c.query<{ name: string; hasWhen: boolean }>(
      `SELECT tgname AS name, tgqual IS NOT NULL AS "hasWhen" FROM pg_trigger
        WHERE tgname LIKE 'tenancy\\_move\\_%' AND tgrelid = 'app.tasks'::regclass ORDER BY 1`,
    );
    return rows;
  });
}

describe("the scope of a move's triggers on shared tables", () => {
  it("never calls the move's functions for another tenant's writes, during the copy or the grace period", async () => {
    const mover = (await shipped.driver.create({ slug: "mover", mode: "pool", quotas })).routing;
    const other = (await shipped.driver.create({ slug: "other", mode: "pool", quotas })).routing;
    await seed(mover.tenantId, 20);
    await seed(other.tenantId, 20);

    let release = (): void => undefined;
    let captured = (): void => undefined;
    const capturing = new Promise<void>((resolve) => (captured = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    const move = moveTenant({
      ...shipped.options,
      slug: "mover",
      to: "schema",
      graceMs: 3_600_000,
      onProgress: async (p) => {
        if (p.step !== "capture") return;
        captured();
        await held;
      },
    });
    try {
      await capturing;
      const triggers = await moveTriggers();
      const tag = mover.tenantId.replaceAll("-", "");
      expect(triggers).toEqual(
        ["del", "ins", "upd"].map((e) => ({ name: `tenancy_move_${tag}_${e}`, hasWhen: true })),
      );
      await withAdmin(db.current, async (c) => {
        expect(await moveFunctionCalls(c, other.tenantId)).toBe(0);
        // The moving tenant's own writes are captured: insert, update, delete.
        expect(await moveFunctionCalls(c, mover.tenantId)).toBe(3);
      });
    } finally {
      release();
    }
    await move;

    // Grace period: the same triggers guard the old rows.
    expect((await moveTriggers()).map((t) => t.hasWhen)).toEqual([true, true, true]);
    await withAdmin(db.current, async (c) => {
      expect(await moveFunctionCalls(c, other.tenantId)).toBe(0);
      const refused = await moveFunctionCalls(c, mover.tenantId).then(
        () => "done",
        (e: { code?: string }) => e.code,
      );
      expect(refused).toBe("TN002");
    });
  }, 120_000);

  it("drops a guard installed before the per-event triggers (one trigger for all events) with the purge", async () => {
    const legacy = (await shipped.driver.create({ slug: "legacy", mode: "pool", quotas })).routing;
    await seed(legacy.tenantId, 5);
    await moveTenant({ ...shipped.options, slug: "legacy", to: "schema", graceMs: 3_600_000 });
    const tag = legacy.tenantId.replaceAll("-", "");
    await withAdmin(db.current, async (c) => {
      const fn = await c.query<{ fn: string }>(
        `SELECT p.oid::regproc::text AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'tenancy' AND p.proname = 'move_${tag}_' || 'app.tasks'::regclass::oid`,
      );
      expect(fn.rows).toHaveLength(1);
      for (const e of ["ins", "upd", "del"]) {
        await c.query(`DROP TRIGGER "tenancy_move_${tag}_${e}" ON app.tasks`);
      }
      await c.query(
        `CREATE TRIGGER "tenancy_move_${tag}" BEFORE INSERT OR UPDATE OR DELETE ON app.tasks
           FOR EACH ROW EXECUTE FUNCTION ${fn.rows[0]!.fn}()`,
      );
    });
    expect(await moveTriggers()).toContainEqual({ name: `tenancy_move_${tag}`, hasWhen: false });
    const purge = await purgeMovedTenant({
      adminUrl: db.current.url,
      rolePrefix: db.current.rolePrefix,
      databasePrefix: db.current.name,
      slug: "legacy",
      force: true,
    });
    expect(purge?.verified).toBe(true);
    expect((await moveTriggers()).filter((t) => t.name.includes(tag))).toEqual([]);
  }, 120_000);
});
