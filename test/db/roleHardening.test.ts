/**
 * The migration ledger belongs to the owner (the application role cannot write it, also after
 * a re-bootstrap), and a tenant role's self-made settings are reported by the audit and reset
 * by applying its quotas.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditDatabase, type AuditFinding } from "../../db/audit.ts";
import { bootstrapDatabase } from "../../db/bootstrap.ts";
import { createTenantDatabaseDriver, type TenantDatabaseDriver } from "../../db/drivers/index.ts";
import type { TenantRouting } from "../../db/drivers/types.ts";
import { migrateSchemas } from "../../db/migrations/migrateSchemas.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  loadMigrationDirectory,
} from "../../db/migrations/migrationSet.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { bootstrapped, loginUrl, withAdmin, type Bootstrapped } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let driver: TenantDatabaseDriver;
const quotas = { dbConnections: 3, statementTimeoutMs: 4000 };

beforeAll(async () => {
  env = await bootstrapped(db.current);
  const migrations = await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR);
  await migrateSchemas({
    url: db.current.url,
    schemas: ["app"],
    migrations,
    rolePrefix: db.current.rolePrefix,
  });
  // A second start of the control plane bootstraps again, after the ledger exists.
  await withAdmin(db.current, (client) =>
    bootstrapDatabase(client, { rolePrefix: db.current.rolePrefix }),
  );
  driver = createTenantDatabaseDriver({
    adminUrl: db.current.url,
    rolePrefix: db.current.rolePrefix,
    databasePrefix: db.current.name,
    migrations,
  });
});
afterAll(() => env.close());

async function audit(): Promise<readonly AuditFinding[]> {
  return (
    await withAdmin(db.current, (client) =>
      auditDatabase(client, { rolePrefix: db.current.rolePrefix }),
    )
  ).findings;
}

async function asRole<T>(
  routing: TenantRouting | { role: string },
  password: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    connectionString: loginUrl(db.current.url, routing.role, password),
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe("the migration ledger", () => {
  it("is the owner's: the application role can neither read nor write it", async () => {
    for (const sql of [
      "INSERT INTO app._tenancy_migrations (id, checksum) VALUES ('9999_evil', 'x')",
      "UPDATE app._tenancy_migrations SET checksum = 'tampered'",
      "DELETE FROM app._tenancy_migrations",
      "SELECT * FROM app._tenancy_migrations",
    ]) {
      await expect(env.appPool.query(sql)).rejects.toMatchObject({ code: "42501" });
    }
    const owner = await env.appPool.query<{ owner: string }>(
      "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'app._tenancy_migrations'::regclass",
    );
    expect(owner.rows[0]!.owner).toBe(env.roles.owner);
  });

  it("audit reports a ledger the application can use, or one not owned by the owner role", async () => {
    expect((await audit()).filter((f) => f.code.startsWith("ledger-"))).toEqual([]);
    await withAdmin(db.current, async (client) => {
      await client.query(`GRANT UPDATE ON app._tenancy_migrations TO ${env.roles.app}`);
      await client.query("ALTER TABLE app._tenancy_migrations OWNER TO CURRENT_USER");
    });
    try {
      const findings = (await audit()).filter((f) => f.code.startsWith("ledger-"));
      expect(findings.map((f) => [f.code, f.object])).toEqual([
        ["ledger-not-owned", "table app._tenancy_migrations"],
        ["ledger-accessible", "table app._tenancy_migrations"],
      ]);
      expect(findings[1]!.message).toContain(env.roles.app);
    } finally {
      // Bootstrapping again converges it: owner back, grants gone.
      await withAdmin(db.current, async (client) => {
        await client.query(`ALTER TABLE app._tenancy_migrations OWNER TO ${env.roles.owner}`);
        await bootstrapDatabase(client, { rolePrefix: db.current.rolePrefix });
      });
    }
    expect((await audit()).filter((f) => f.code.startsWith("ledger-"))).toEqual([]);
  });
});

describe("tenant role settings", () => {
  it("a tenant role has no privilege to manage roles and owns nothing of its own", async () => {
    const { routing } = await driver.create({ slug: "settle", mode: "schema", quotas });
    const { rows } = await env.appPool.query(
      `SELECT rolcreaterole, rolsuper, rolcreatedb, rolbypassrls, rolinherit,
              (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS memberships
         FROM pg_roles r WHERE rolname = $1`,
      [routing.role],
    );
    expect(rows).toEqual([
      {
        rolcreaterole: false,
        rolsuper: false,
        rolcreatedb: false,
        rolbypassrls: false,
        rolinherit: false,
        memberships: 0,
      },
    ]);
  });

  it("settings a tenant gives its own role are reported, and applying quotas resets them", async () => {
    const created = await driver.create({ slug: "limits", mode: "schema", quotas });
    const password = created.password!;
    // PostgreSQL lets any role set its own defaults; this cannot be refused, only undone.
    await asRole(created.routing, password, async (client) => {
      await client.query(`ALTER ROLE ${created.routing.role} SET statement_timeout = 0`);
      await client.query(`ALTER ROLE ${created.routing.role} SET work_mem = '1GB'`);
      await client.query(
        `ALTER ROLE ${created.routing.role} IN DATABASE ${db.current.name} SET maintenance_work_mem = '1GB'`,
      );
    });
    const drift = (await audit()).filter((f) => f.code === "role-setting-drift");
    expect(drift.map((f) => f.object)).toEqual([
      `role ${created.routing.role}`,
      `role ${created.routing.role}`,
    ]);
    expect(drift[0]!.message).toContain("statement_timeout=0 (quota: 4000ms)");
    expect(drift[0]!.message).toContain("work_mem=1GB is not set by the quotas");
    expect(drift[1]!.message).toContain(`in database ${db.current.name}`);

    await driver.update({ slug: "limits", mode: "schema", quotas });
    const session = await asRole(created.routing, password, async (client) => {
      const { rows } = await client.query<{ t: string; w: string; m: string; p: string }>(
        `SELECT current_setting('statement_timeout') AS t, current_setting('work_mem') AS w,
                current_setting('maintenance_work_mem') AS m, current_setting('search_path') AS p`,
      );
      return rows[0];
    });
    expect(session).toEqual({ t: "4s", w: "4MB", m: "64MB", p: "tenant_limits" });
    expect((await audit()).filter((f) => f.code === "role-setting-drift")).toEqual([]);
  });
});

describe("the tenant registry", () => {
  it("is not readable by the application role (no list of every tenant's id)", async () => {
    await driver.create({ slug: "hidden", mode: "pool", quotas });
    await expect(env.appPool.query("SELECT id FROM tenancy.tenants")).rejects.toMatchObject({
      code: "42501",
    });
    const { rows } = await env.appPool.query<{ granted: boolean }>(
      "SELECT has_table_privilege(current_user, 'tenancy.tenants', 'SELECT') AS granted",
    );
    expect(rows[0]!.granted).toBe(false);
  });
});
