import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditDatabase } from "../../db/audit.ts";
import type { TenantDatabaseDriver } from "../../db/drivers/index.ts";
import { connectionSettingsFor } from "../../db/routing.ts";
import { withTenant } from "../../db/tenantContext.ts";
import { useTestDatabase, withDatabase } from "../support/postgres.ts";
import {
  bootstrapped,
  loginUrl,
  shippedMigrationsDriver,
  withAdmin,
  type Bootstrapped,
} from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let driver: TenantDatabaseDriver;
const quotas = { dbConnections: 2, statementTimeoutMs: 300 };
const opened: pg.Client[] = [];

beforeAll(async () => {
  env = await bootstrapped(db.current);
  ({ driver } = await shippedMigrationsDriver(db.current));
});
afterAll(async () => {
  await Promise.all(opened.map((c) => c.end().catch(() => undefined)));
  await env.close();
});

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(config);
  await client.connect();
  opened.push(client);
  return client;
}

async function addProject(pool: pg.Pool, tenantId: string, name: string): Promise<void> {
  await withTenant(pool, tenantId, async (c) => {
    const p = await c.query<{ id: string }>(
      "INSERT INTO projects (name) VALUES ($1) RETURNING id",
      [name],
    );
    await c.query("INSERT INTO tasks (project_id, title) VALUES ($1, 'first')", [p.rows[0]?.id]);
  });
}

describe("pool driver", () => {
  it("registers tenants, idempotently, with a routing record to the shared schema", async () => {
    const a = await driver.create({ slug: "pool-a", mode: "pool", quotas });
    const again = await driver.create({ slug: "pool-a", mode: "pool", quotas });
    expect(again.routing.tenantId).toBe(a.routing.tenantId);
    expect(a.password).toBeUndefined();
    expect(a.routing).toMatchObject({
      mode: "pool",
      database: db.current.name,
      schema: "app",
      role: env.roles.app,
      searchPath: ["app"],
    });
    await expect(driver.create({ slug: "pool-a", mode: "schema", quotas })).rejects.toThrow(
      /pool-a is already registered with database mode pool/,
    );
    const updated = await driver.update({
      slug: "pool-a",
      mode: "pool",
      quotas: { dbConnections: 7, statementTimeoutMs: 1500 },
    });
    expect(updated.routing.quotas).toEqual({ dbConnections: 7, statementTimeoutMs: 1500 });
  });

  it("validates specs at the boundary", async () => {
    await expect(
      driver.create({ slug: "Bad_Slug", mode: "pool", quotas } as never),
    ).rejects.toThrow(/invalid tenant database spec for Bad_Slug: slug/);
    await expect(
      driver.create({
        slug: "ok-slug",
        mode: "pool",
        quotas: { dbConnections: 0, statementTimeoutMs: 5 },
      }),
    ).rejects.toThrow(/quotas.dbConnections/);
  });
});

describe("schema driver", () => {
  it("isolates tenant roles, enforces connection limit and statement timeout, updates in place", async () => {
    const one = await driver.create({ slug: "bridge-one", mode: "schema", quotas });
    const two = await driver.create({ slug: "bridge-two", mode: "schema", quotas });
    expect(one.routing).toMatchObject({
      schema: "tenant_bridge_one",
      role: `${db.current.rolePrefix}_t_bridge_one`,
      mode: "schema",
    });
    expect(one.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(one.routing)).not.toContain(one.password);

    const settings = connectionSettingsFor(one.routing, { password: one.password });
    const pool = new pg.Pool({ ...settings, max: 1 });
    try {
      await addProject(pool, one.routing.tenantId, "p1");
      const seen = await withTenant(
        pool,
        one.routing.tenantId,
        async (c) => (await c.query<{ name: string }>("SELECT name FROM projects")).rows,
      );
      expect(seen).toEqual([{ name: "p1" }]);
      // Without its context even its own schema shows nothing (RLS inside the schema too).
      expect((await pool.query("SELECT * FROM projects")).rows).toEqual([]);
      await expect(pool.query("SELECT * FROM tenant_bridge_two.projects")).rejects.toThrow(
        /permission denied for schema tenant_bridge_two/,
      );
      await expect(pool.query("SELECT * FROM app.projects")).rejects.toThrow(
        /permission denied for schema app/,
      );
      await expect(pool.query("ALTER TABLE projects DISABLE ROW LEVEL SECURITY")).rejects.toThrow(
        /must be owner/,
      );
      await expect(pool.query("SELECT pg_sleep(1)")).rejects.toThrow(/statement timeout/);
    } finally {
      await pool.end();
    }

    const first = await connect(settings);
    await connect(settings);
    await expect(connect(settings)).rejects.toThrow(/too many connections for role/);
    await first.end();

    await driver.update({
      slug: "bridge-one",
      mode: "schema",
      quotas: { dbConnections: 3, statementTimeoutMs: 2000 },
    });
    await connect(settings);
    const third = await connect(settings);
    await expect(third.query("SELECT pg_sleep(0.5)")).resolves.toBeDefined();
    const { rows } = await third.query("SHOW statement_timeout");
    expect(rows).toEqual([{ statement_timeout: "2s" }]);
    expect(two.routing.tenantId).not.toBe(one.routing.tenantId);
    await expect(driver.update({ slug: "bridge-one", mode: "pool", quotas })).rejects.toThrow(
      /registered with database mode schema, not pool/,
    );
  });
});

describe("provisioned control database", () => {
  it("audits clean with pooled and schema tenants in place", async () => {
    const report = await withAdmin(db.current, (c) =>
      auditDatabase(c, { rolePrefix: db.current.rolePrefix }),
    );
    expect(report.findings).toEqual([]);
    expect(report.roles).toEqual([
      env.roles.app,
      `${db.current.rolePrefix}_t_bridge_one`,
      `${db.current.rolePrefix}_t_bridge_two`,
    ]);
    expect(report.tables).toBe(6);
  });
});

describe("dedicated driver", () => {
  it("creates a database of its own, bootstrapped, migrated, protected and closed to others", async () => {
    const silo = await driver.create({
      slug: "silo",
      mode: "dedicated",
      quotas: { dbConnections: 3, statementTimeoutMs: 1000 },
    });
    expect(silo.routing).toMatchObject({
      database: `${db.current.name}_silo`,
      schema: "app",
      role: `${db.current.rolePrefix}_t_silo`,
    });
    const pool = new pg.Pool(connectionSettingsFor(silo.routing, { password: silo.password }));
    try {
      await addProject(pool, silo.routing.tenantId, "inside");
      const names = await withTenant(
        pool,
        silo.routing.tenantId,
        async (c) => (await c.query<{ name: string }>("SELECT name FROM projects")).rows,
      );
      expect(names).toEqual([{ name: "inside" }]);
    } finally {
      await pool.end();
    }
    const siloUrl = withDatabase(db.current.url, silo.routing.database);
    await expect(
      connect({ connectionString: loginUrl(siloUrl, env.roles.app, env.appPassword) }),
    ).rejects.toThrow(/permission denied for database/);
    const report = await withAdmin({ ...db.current, url: siloUrl }, (c) =>
      auditDatabase(c, { rolePrefix: db.current.rolePrefix, appRole: silo.routing.role }),
    );
    expect(
      report.findings.filter(
        (f) => f.object.includes(silo.routing.role) || f.object.startsWith("table"),
      ),
    ).toEqual([]);
  });
});

describe("purge (driver delete)", () => {
  it("deletes a pooled tenant's rows and proves none remain; other tenants keep theirs", async () => {
    const a = await driver.create({ slug: "leaving", mode: "pool", quotas });
    const b = await driver.create({ slug: "staying", mode: "pool", quotas });
    for (const n of ["x", "y"]) await addProject(env.appPool, a.routing.tenantId, n);
    await addProject(env.appPool, b.routing.tenantId, "kept");

    const report = await driver.delete({ slug: "leaving" });
    expect(report.verified).toBe(true);
    expect(report.verifiedBy).toBe(env.roles.audit);
    expect(report.tenantId).toBe(a.routing.tenantId);
    const byTable = Object.fromEntries(report.tables.map((t) => [t.table, t]));
    expect(byTable["app.tasks"]).toEqual({ table: "app.tasks", deleted: 2, remaining: 0 });
    expect(byTable["app.projects"]).toEqual({ table: "app.projects", deleted: 2, remaining: 0 });
    expect(report.objects.find((o) => o.kind === "registry")).toMatchObject({
      removed: true,
      remaining: false,
    });

    await withAdmin(db.current, async (c) => {
      const { rows } = await c.query("SELECT tenant_id FROM app.projects");
      expect(rows.map((r: { tenant_id: string }) => r.tenant_id)).toEqual([b.routing.tenantId]);
    });
    const again = await driver.delete({ slug: "leaving", tenantId: a.routing.tenantId });
    expect(again.verified).toBe(true);
    expect(again.tables.every((t) => t.deleted === 0)).toBe(true);
  });

  it("drops schema tenants and dedicated tenants with their roles, verified independently", async () => {
    for (const slug of ["bridge-two", "silo"]) {
      const report = await driver.delete({ slug });
      expect(report.verified).toBe(true);
      const removed = report.objects
        .filter((o) => o.removed)
        .map((o) => o.kind)
        .sort();
      expect(removed).toEqual(
        slug === "silo" ? ["database", "registry", "role"] : ["registry", "role", "schema"],
      );
      expect(report.objects.every((o) => !o.remaining)).toBe(true);
    }
    await withAdmin(db.current, async (c) => {
      const { rows } = await c.query(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1",
        [`${db.current.rolePrefix}\\_t\\_%`],
      );
      expect(rows).toEqual([{ rolname: `${db.current.rolePrefix}_t_bridge_one` }]);
    });
  });

  it("reports rows it could not delete instead of hiding them", async () => {
    const t = await driver.create({ slug: "stubborn", mode: "pool", quotas });
    await addProject(env.appPool, t.routing.tenantId, "hidden");
    await withAdmin(db.current, (c) =>
      c.query(
        `CREATE POLICY owner_blind ON app.projects AS RESTRICTIVE FOR DELETE TO "${env.roles.owner}" USING (false)`,
      ),
    );
    try {
      await expect(driver.delete({ slug: "stubborn" })).rejects.toThrow(
        /purge of tenant stubborn incomplete: 1 rows in app.projects remain/,
      );
    } finally {
      await withAdmin(db.current, (c) => c.query("DROP POLICY owner_blind ON app.projects"));
    }
  });
});
