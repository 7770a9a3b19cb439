/**
 * The read-only guard of a moved tenant's old pooled rows during the grace period, against a
 * real PostgreSQL: only a DELETE made acting as the owner role (the purge) passes. The
 * tenant's own application session, one that tries to become the owner, another tenant, the
 * audit role and a superuser session that did not SET ROLE are all refused; the purge then
 * removes the rows with proof and leaves the neighbour's alone.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { moveTenant, purgeMovedTenant } from "../../db/moves/moveTenant.ts";
import { withTenant } from "../../db/tenantContext.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { loginUrl, seedProjectsWithTasks, useShippedMigrations, withAdmin } from "./fixtures.ts";

const db = useTestDatabase();
const shipped = useShippedMigrations(db);
const quotas = { dbConnections: 10, statementTimeoutMs: 10_000 };
const seed = (tenantId: string, projects: number) =>
  seedProjectsWithTasks(shipped.env.appPool, tenantId, projects);

async function rowsOf(tenantId: string): Promise<number> {
  return withAdmin(db.current, async (c) => {
    const { rows } = await c.query<{ n: number }>(
      "SELECT (SELECT count(*) FROM app.projects WHERE tenant_id = $1)::int + (SELECT count(*) FROM app.tasks WHERE tenant_id = $1)::int AS n",
      [tenantId],
    );
    return rows[0]?.n ?? -1;
  });
}

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "done",
    (e: { code?: string; message?: string }) => e.code ?? e.message ?? "error",
  );
}

describe("the read-only guard of a moved tenant's old pooled rows", () => {
  it("lets only the purge (acting as the owner role) delete them; the tenant's roles, other tenants, the audit role and a superuser without SET ROLE cannot", async () => {
    const leaver = (await shipped.driver.create({ slug: "leaver", mode: "pool", quotas })).routing;
    const neighbour = (await shipped.driver.create({ slug: "neighbour", mode: "pool", quotas }))
      .routing;
    await seed(leaver.tenantId, 50);
    await seed(neighbour.tenantId, 10);
    await moveTenant({
      ...shipped.options,
      slug: "leaver",
      to: "schema",
      graceMs: 3_600_000,
    });
    expect(await rowsOf(leaver.tenantId)).toBe(100);
    const owner = shipped.env.roles.owner;

    // The tenant's own application session, with its tenant context.
    const asLeaver = (sql: string) =>
      codeOf(withTenant(shipped.env.appPool, leaver.tenantId, (c) => c.query(sql)));
    expect(await asLeaver("DELETE FROM tasks")).toBe("TN002");
    expect(await asLeaver("DELETE FROM projects")).toBe("TN002");
    // It cannot act as the owner: neither SET ROLE nor set_config('role').
    expect(await asLeaver(`SET LOCAL ROLE "${owner}"`)).toBe("42501");
    expect(await asLeaver(`SELECT set_config('role', '${owner}', true)`)).toBe("42501");

    // Another tenant sees none of them (RLS) and keeps deleting its own rows.
    const deleted = await withTenant(shipped.env.appPool, neighbour.tenantId, async (c) => {
      const theirs = await c.query("DELETE FROM tasks WHERE tenant_id = $1", [leaver.tenantId]);
      const mine = await c.query(
        "DELETE FROM tasks WHERE id = (SELECT id FROM tasks ORDER BY id LIMIT 1)",
      );
      return [theirs.rowCount, mine.rowCount];
    });
    expect(deleted).toEqual([0, 1]);

    // The audit role cannot become the owner either.
    const audit = new pg.Client({
      connectionString: loginUrl(
        db.current.url,
        shipped.env.roles.audit,
        shipped.env.auditPassword,
      ),
    });
    await audit.connect();
    try {
      expect(await codeOf(audit.query(`SET ROLE "${owner}"`))).toBe("42501");
    } finally {
      await audit.end();
    }

    // A superuser session that does not act as the owner is refused too.
    const superuser = await withAdmin(db.current, (c) =>
      codeOf(c.query("DELETE FROM app.tasks WHERE tenant_id = $1", [leaver.tenantId])),
    );
    expect(superuser).toBe("TN002");
    expect(await rowsOf(leaver.tenantId)).toBe(100);

    // The purge deletes as the owner role: verified, the neighbour untouched.
    const purge = await purgeMovedTenant({
      adminUrl: db.current.url,
      rolePrefix: db.current.rolePrefix,
      databasePrefix: db.current.name,
      slug: "leaver",
      force: true,
    });
    expect(purge?.verified).toBe(true);
    expect(purge?.tables.find((t) => t.table.endsWith("tasks"))).toMatchObject({
      deleted: 50,
      remaining: 0,
    });
    expect(await rowsOf(leaver.tenantId)).toBe(0);
    expect(await rowsOf(neighbour.tenantId)).toBe(19);
  }, 120_000);
});
