/**
 * A tier move out of a tenant's own schema when that schema holds a table without
 * `tenant_id`: refused through the HTTP API before anything is copied, naming the table; the
 * tenant stays active on its source with the reason, its rows where they were.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine } from "../support/engine.ts";
import { startEngineControlPlane, waitForOperation } from "../support/engineControlPlane.ts";
import { queryRows, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

interface OperationView {
  id: string;
  state: string;
  error: string | null;
}
interface TenantView {
  tier: string;
  state: string;
  lastError: string | null;
  routing: { database: { mode: string; schema: string } } | null;
}

describeWithEngine("a move refused for a table without tenant_id", () => {
  let plane: TestControlPlane;

  beforeAll(async () => {
    plane = await startEngineControlPlane(db.current);
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
  }, 120_000);

  const waitFor = (id: string) => waitForOperation<OperationView>(plane, id);
  const shared = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    queryRows<T>(plane.sharedUrl, sql, params);

  it("pro → free with a table without tenant_id in the tenant's schema: refused by name, nothing copied", async () => {
    const slug = "mv-notid";
    const created = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: "No tenant id", tier: "pro" },
    });
    const { operation: signup } = (await created.json()) as { operation: OperationView };
    expect((await waitFor(signup.id)).state).toBe("succeeded");
    const [registry] = await shared<{ id: string }>(
      "SELECT id FROM tenancy.tenants WHERE slug = $1",
      [slug],
    );
    await shared("INSERT INTO tenant_mv_notid.projects (tenant_id, name) VALUES ($1, 'kept')", [
      registry!.id,
    ]);
    await shared("CREATE TABLE tenant_mv_notid.notes (id int PRIMARY KEY, body text)");

    const response = await plane.request(`/v1/tenants/${slug}/move`, {
      method: "POST",
      json: { to: "free", grace: "0" },
    });
    expect(response.status).toBe(202);
    const { operation } = (await response.json()) as { operation: OperationView };
    const done = await waitFor(operation.id);
    expect(done.state).toBe("failed");
    expect(done.error).toContain("table tenant_mv_notid.notes has no tenant_id column");
    const after = (await (await plane.request(`/v1/tenants/${slug}`)).json()) as TenantView;
    expect([after.state, after.tier, after.routing?.database.mode]).toEqual([
      "active",
      "pro",
      "schema",
    ]);
    expect(after.lastError).toContain("tenant_mv_notid.notes");
    // Nothing was copied into the shared tables; the tenant's own rows are where they were.
    expect(await shared("SELECT 1 FROM app.projects WHERE tenant_id = $1", [registry!.id])).toEqual(
      [],
    );
    expect(await shared<{ name: string }>("SELECT name FROM tenant_mv_notid.projects")).toEqual([
      { name: "kept" },
    ]);
  }, 600_000);
});
