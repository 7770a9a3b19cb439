import pg from "pg";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

describe("PostgreSQL test harness", () => {
  it("gives a real server: a role and a table written are read back", async () => {
    const { pool, rolePrefix, url } = db.current;
    const role = `${rolePrefix}_reader`;
    await pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'x'`);
    await pool.query("CREATE TABLE harness_probe (id int PRIMARY KEY, note text NOT NULL)");
    await pool.query("INSERT INTO harness_probe VALUES (1, 'hello'), (2, 'world')");
    await pool.query(`GRANT SELECT ON harness_probe TO ${role}`);

    const roles = await pool.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", [role]);
    expect(roles.rows).toEqual([{ rolcanlogin: true }]);

    const asReader = new URL(url);
    asReader.username = role;
    asReader.password = "x";
    const client = new pg.Client({ connectionString: asReader.toString() });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT id, note FROM harness_probe ORDER BY id");
      expect(rows).toEqual([
        { id: 1, note: "hello" },
        { id: 2, note: "world" },
      ]);
      await expect(client.query("INSERT INTO harness_probe VALUES (3, 'no')")).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await client.end();
    }
  });

  it("gives each file its own database", async () => {
    const { rows } = await db.current.pool.query<{ db: string }>("SELECT current_database() AS db");
    expect(rows[0]?.db).toBe(db.current.name);
    const version = await db.current.pool.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    expect(Number(version.rows[0]?.v)).toBeGreaterThanOrEqual(150000);
  });
});
