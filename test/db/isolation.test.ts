import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../../db/tenantContext.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { type Bootstrapped, protectedApp, queryWithSettings, uuid, withAdmin } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
const tenantA = uuid();
const tenantB = uuid();

beforeAll(async () => {
  env = await protectedApp(
    db.current,
    `CREATE TABLE notes (tenant_id uuid NOT NULL, id int NOT NULL, body text NOT NULL,
                         PRIMARY KEY (tenant_id, id));
     CREATE TABLE labels (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));`,
  );
  await withAdmin(db.current, (c) =>
    c.query(
      `INSERT INTO app.notes VALUES ($1, 1, 'a1'), ($1, 2, 'a2'), ($2, 1, 'b1');
       INSERT INTO app.labels VALUES ($1, 1), ($2, 1), ($2, 2)`
        .replace(/\$1/g, `'${tenantA}'`)
        .replace(/\$2/g, `'${tenantB}'`),
    ),
  );
});
afterAll(() => env.close());

/** Runs statements as the application role inside one transaction with a raw context. */
async function asApp(setting: string | null, sql: string): Promise<unknown[]> {
  return queryWithSettings(env.appPool, setting === null ? {} : { "app.tenant_id": setting }, sql);
}

describe("tenant context", () => {
  it("shows a tenant only its own rows", async () => {
    const rows = await withTenant(env.appPool, tenantA, async (c) => {
      return (await c.query<{ body: string }>("SELECT body FROM app.notes ORDER BY body")).rows;
    });
    expect(rows).toEqual([{ body: "a1" }, { body: "a2" }]);
    const labels = await withTenant(env.appPool, tenantB, async (c) => {
      return (await c.query<{ id: number }>("SELECT id FROM app.labels ORDER BY id")).rows;
    });
    expect(labels).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["malformed", "not-a-uuid"],
    ["sql-looking", "' OR 1=1 --"],
    ["uuid of nobody", "00000000-0000-0000-0000-000000000000"],
  ])("%s context: zero rows, never all rows, never an error", async (_label, setting) => {
    expect(await asApp(setting, "SELECT * FROM app.notes")).toEqual([]);
    const labels = await asApp(setting, "SELECT * FROM app.labels");
    expect(labels).toEqual([]);
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["malformed", "zzz"],
  ])("%s context: writes refused", async (_label, setting) => {
    await expect(
      asApp(setting, `INSERT INTO app.notes VALUES ('${tenantA}', 99, 'x')`),
    ).rejects.toThrow(/row-level security/);
    expect(await asApp(setting, "UPDATE app.notes SET body = 'x' RETURNING *")).toEqual([]);
    expect(await asApp(setting, "DELETE FROM app.notes RETURNING *")).toEqual([]);
  });

  it("refuses to write a row for another tenant and to move a row to another tenant", async () => {
    await expect(
      asApp(tenantA, `INSERT INTO app.notes VALUES ('${tenantB}', 50, 'smuggled')`),
    ).rejects.toThrow(/row-level security/);
    await expect(
      asApp(tenantA, `UPDATE app.notes SET tenant_id = '${tenantB}' WHERE id = 1`),
    ).rejects.toThrow(/row-level security/);
  });

  it("a session-level context set outside a transaction does not leak through RESET", async () => {
    const rows = await asApp(null, "SELECT current_setting('app.tenant_id', true) AS v");
    const value = (rows[0] as { v: string | null } | undefined)?.v;
    expect(value === null || value === "").toBe(true);
  });

  it("uses the tenant_id index and evaluates the context once (EXPLAIN)", async () => {
    await withAdmin(db.current, async (c) => {
      await c.query(
        `INSERT INTO app.notes SELECT gen_random_uuid(), g, 'x' FROM generate_series(1, 20000) g`,
      );
      await c.query("ANALYZE app.notes");
    });
    const plan = await withTenant(env.appPool, tenantA, async (c) => {
      const { rows } = await c.query<{ "QUERY PLAN": string }>("EXPLAIN SELECT * FROM app.notes");
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    expect(plan).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
    expect(plan).toMatch(/InitPlan/);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});
