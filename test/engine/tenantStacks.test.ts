/**
 * The real Pulumi engine on the local target: tenant stacks deployed through the Automation
 * API into this file's PostgreSQL database, previewed, serialized, destroyed.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ResolvedTenant } from "../../catalog/index.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { exampleTenant } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { bootstrapTestDatabase, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

describeWithEngine("tenant stacks on the real engine (local target)", () => {
  let runner: TenantStackRunner;
  let schemaTenant: ResolvedTenant;
  let dedicatedTenant: ResolvedTenant;

  beforeAll(async () => {
    const { url, rolePrefix, name } = db.current;
    await bootstrapTestDatabase(db.current);
    schemaTenant = await exampleTenant({
      slug: "e2e-bridge",
      name: "Bridge",
      tier: "pro",
      quotas: { dbConnections: 5 },
    });
    dedicatedTenant = await exampleTenant({
      slug: "e2e-silo",
      name: "Silo",
      tier: "pro",
      overrides: { database: "dedicated" },
    });
    runner = new TenantStackRunner({
      engine: await testEngine(),
      configFor: localStackConfig({ adminUrl: url, rolePrefix, databasePrefix: `${name}_db` }),
      lockBackoffMs: 200,
    });
  }, 300_000);

  afterAll(async () => {
    // Leave nothing behind even when a test failed midway.
    await runner?.destroy(schemaTenant.slug).catch(() => undefined);
    await runner?.destroy(dedicatedTenant.slug).catch(() => undefined);
  }, 300_000);

  async function query<T extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    return (await db.current.pool.query<T>(sql, params)).rows;
  }

  it("deploys a schema tenant and a dedicated-database tenant in parallel, isolated", async () => {
    const windows: Record<string, [number, number]> = {};
    const timed = async (tenant: ResolvedTenant) => {
      const start = Date.now();
      const result = await runner.up(tenant);
      windows[tenant.slug] = [start, Date.now()];
      return result;
    };
    const [bridge, silo] = await Promise.all([timed(schemaTenant), timed(dedicatedTenant)]);
    // Different stacks run at the same time: their update windows overlap.
    const [a, b] = [windows["e2e-bridge"]!, windows["e2e-silo"]!];
    expect(Math.max(a[0], b[0])).toBeLessThan(Math.min(a[1], b[1]));

    expect(bridge.routing.database).toMatchObject({
      mode: "schema",
      schema: "tenant_e2e_bridge",
      version: 1,
    });
    expect(silo.routing.database).toMatchObject({
      mode: "dedicated",
      database: `${db.current.name}_db_e2e_silo`,
    });
    expect(bridge.routing.notProvisioned.sort()).toEqual(["compute", "identity", "storage"]);
    // Outputs in plain text (the password is a secret output) and the changes of the update,
    // from one `stack output --show-secrets` and the update's summary event (./leanUp.ts).
    expect(bridge.outputs.databasePassword).toMatch(/^\S{16,}$/);
    expect(bridge.changes.create).toBeGreaterThanOrEqual(3);
    const again = await runner.up(schemaTenant);
    expect(again.changes).toEqual({ same: bridge.changes.create });
    expect(again.outputs.databasePassword).toBe(bridge.outputs.databasePassword);

    const role = `${db.current.rolePrefix}_t_e2e_bridge`;
    expect(
      await query("SELECT nspname FROM pg_namespace WHERE nspname = 'tenant_e2e_bridge'"),
    ).toHaveLength(1);
    expect(
      await query<{ rolconnlimit: number }>(
        "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1",
        [role],
      ),
    ).toEqual([{ rolconnlimit: 5 }]);
    expect(
      await query("SELECT datname FROM pg_database WHERE datname = $1", [
        `${db.current.name}_db_e2e_silo`,
      ]),
    ).toHaveLength(1);
    // Isolation: the bridge tenant's role may not read the shared schema's or another tenant's data.
    const privileges = await query<{ own: boolean; shared: boolean }>(
      "SELECT has_schema_privilege($1, 'tenant_e2e_bridge', 'USAGE') AS own, has_schema_privilege($1, 'app', 'USAGE') AS shared",
      [role],
    );
    expect(privileges).toEqual([{ own: true, shared: false }]);
  }, 600_000);

  it("a quota change shows as exactly that update in the preview summary", async () => {
    const changed = { ...schemaTenant, quotas: { ...schemaTenant.quotas, dbConnections: 9 } };
    const preview = await runner.preview(changed);
    expect(preview.counts).toMatchObject({ create: 0, replace: 0, delete: 0, update: 1 });
    expect(preview.changes).toHaveLength(1);
    expect(preview.changes[0]!.kind).toBe("update");
    expect(preview.changes[0]!.properties).toEqual(["quotas.dbConnections"]);
    // Preview changed nothing.
    expect(
      await query("SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", [
        `${db.current.rolePrefix}_t_e2e_bridge`,
      ]),
    ).toEqual([{ rolconnlimit: 5 }]);
  }, 300_000);

  it("two concurrent updates of the same stack are serialized without an error", async () => {
    const first = { ...schemaTenant, quotas: { ...schemaTenant.quotas, dbConnections: 7 } };
    const second = { ...schemaTenant, quotas: { ...schemaTenant.quotas, dbConnections: 8 } };
    const results = await Promise.allSettled([runner.up(first), runner.up(second)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(
      await query("SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", [
        `${db.current.rolePrefix}_t_e2e_bridge`,
      ]),
    ).toEqual([{ rolconnlimit: 8 }]);
  }, 600_000);

  it("destroy removes every object and the stack", async () => {
    await Promise.all([runner.destroy(schemaTenant.slug), runner.destroy(dedicatedTenant.slug)]);
    expect(await query("SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_e2e_bridge'")).toEqual(
      [],
    );
    expect(
      await query("SELECT 1 FROM pg_roles WHERE rolname LIKE $1", [
        `${db.current.rolePrefix}\\_t\\_e2e%`,
      ]),
    ).toEqual([]);
    expect(
      await query("SELECT 1 FROM pg_database WHERE datname = $1", [
        `${db.current.name}_db_e2e_silo`,
      ]),
    ).toEqual([]);
    expect(await query("SELECT slug FROM tenancy.tenants WHERE slug LIKE 'e2e-%'")).toEqual([]);
    await expect(runner.routing(schemaTenant.slug)).rejects.toMatchObject({ kind: "not-found" });
  }, 600_000);
});
