/**
 * Tenants cannot reach the control plane's database: only the control plane's own role may
 * connect to it, each tenant role only to the database it belongs in, and `db audit` names
 * any managed login role that can connect where it should not.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditDatabase } from "../../db/audit.ts";
import { createTenantDatabaseDriver } from "../../db/drivers/index.ts";
import type { TenantRouting } from "../../db/drivers/types.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { adminUrl, useTestDatabase, withDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
let plane: TestControlPlane;
let bridge: { routing: TenantRouting; password: string };
let silo: { routing: TenantRouting; password: string };
const quotas = { dbConnections: 5, statementTimeoutMs: 10_000 };

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name);
  const driver = createTenantDatabaseDriver({
    adminUrl: plane.sharedUrl,
    rolePrefix: db.current.rolePrefix,
    databasePrefix: `${db.current.name}_db`,
  });
  const a = await driver.create({ slug: "kestrel", mode: "schema", quotas });
  const b = await driver.create({ slug: "merlin", mode: "dedicated", quotas });
  bridge = { routing: a.routing, password: a.password! };
  silo = { routing: b.routing, password: b.password! };
}, 120_000);
afterAll(async () => {
  await plane?.stop();
});

/** Connects as `role` to `database`; resolves to "ok" or the server's SQLSTATE. */
async function tryConnect(role: string, password: string, database: string): Promise<string> {
  const url = new URL(withDatabase(adminUrl(), database));
  url.username = role;
  url.password = password;
  const client = new pg.Client({ connectionString: url.toString() });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function audit() {
  const shared = new pg.Client({ connectionString: plane.sharedUrl });
  await shared.connect();
  try {
    return await auditDatabase(shared, {
      rolePrefix: db.current.rolePrefix,
      controlDatabases: [db.current.name],
    });
  } finally {
    await shared.end();
  }
}

describe("CONNECT rights", () => {
  it("a tenant's login role cannot connect to the control database, only to its own", async () => {
    const sharedDb = bridge.routing.database;
    expect(await tryConnect(bridge.routing.role, bridge.password, sharedDb)).toBe("ok");
    expect(await tryConnect(bridge.routing.role, bridge.password, db.current.name)).toBe("42501");
    expect(await tryConnect(silo.routing.role, silo.password, silo.routing.database)).toBe("ok");
    expect(await tryConnect(silo.routing.role, silo.password, db.current.name)).toBe("42501");
    // Nor into the shared database or another tenant's dedicated one.
    expect(await tryConnect(silo.routing.role, silo.password, sharedDb)).toBe("42501");
    expect(await tryConnect(bridge.routing.role, bridge.password, silo.routing.database)).toBe(
      "42501",
    );
  });

  it("the application role cannot connect to the control database either", async () => {
    const app = `${db.current.rolePrefix}_app`;
    await plane.pool.query(`ALTER ROLE ${app} PASSWORD 'app-password-for-test'`);
    expect(await tryConnect(app, "app-password-for-test", plane.sharedUrl.split("/").at(-1)!)).toBe(
      "ok",
    );
    expect(await tryConnect(app, "app-password-for-test", db.current.name)).toBe("42501");
  });

  it("db audit is clean, and reports every managed role that can connect where it should not", async () => {
    const before = await audit();
    expect(
      before.findings.filter(
        (f) => f.code === "database-connect-public" || f.code === "role-can-connect",
      ),
    ).toEqual([]);
    await plane.pool.query(`GRANT CONNECT ON DATABASE ${db.current.name} TO PUBLIC`);
    try {
      const after = await audit();
      const connect = after.findings.filter(
        (f) => f.code === "database-connect-public" || f.code === "role-can-connect",
      );
      expect(connect.map((f) => `${f.code} ${f.object}`).sort()).toEqual(
        [
          `database-connect-public database ${db.current.name}`,
          `role-can-connect role ${db.current.rolePrefix}_app`,
          `role-can-connect role ${db.current.rolePrefix}_audit`,
          `role-can-connect role ${bridge.routing.role}`,
          `role-can-connect role ${silo.routing.role}`,
        ].sort(),
      );
      expect(connect.find((f) => f.object === `role ${bridge.routing.role}`)?.message).toBe(
        `can connect to the control-plane database ${db.current.name}`,
      );
      expect(after.clean).toBe(false);
    } finally {
      await plane.pool.query(`REVOKE CONNECT ON DATABASE ${db.current.name} FROM PUBLIC`);
    }
  });
});
