/**
 * How a move's verification hashes rows (db/moves/moveTables.ts), against a real PostgreSQL:
 * `hash_record_extended` for tables whose every column type has an extended hash function
 * (scalars, arrays of them, enums, domains over them), the row's text otherwise (json, point,
 * ranges, composites). Each chosen expression runs on real rows without error, and two rows
 * that differ in one column hash differently in both modes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { planMoveTables, rowHashSql } from "../../db/moves/moveTables.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { withAdmin } from "./fixtures.ts";

const db = useTestDatabase();
const tenant = "6f1c2a4e-0000-4000-8000-000000000001";

const tables: Record<string, string> = {
  scalars: `id bigint, body text, amount numeric(12,2), at timestamptz, flag boolean,
            raw bytea, doc jsonb, tags text[], kind src.mood, price src.positive`,
  with_json: "id bigint, doc json",
  with_point: "id bigint, spot point",
  with_range: "id bigint, span int4range",
  with_composite: "id bigint, pair src.pair",
};

const rows: Record<string, [string, string]> = {
  scalars: [
    `1, 'a', 1.5, '2026-01-01', true, '\\x01', '{"a":1}', '{x,y}', 'happy', 3`,
    `2, 'a', 1.5, '2026-01-01', true, '\\x01', '{"a":1}', '{x,z}', 'happy', 3`,
  ],
  with_json: [`1, '{"a":1}'`, `2, '{"a":2}'`],
  with_point: [`1, '(1,2)'`, `2, '(1,3)'`],
  with_range: [`1, '[1,5)'`, `2, '[1,6)'`],
  with_composite: [`1, ROW(1, 'x')`, `2, ROW(1, 'y')`],
};

beforeAll(async () => {
  await withAdmin(db.current, async (c) => {
    await c.query("CREATE SCHEMA src; CREATE SCHEMA dst");
    await c.query("CREATE TYPE src.mood AS ENUM ('happy', 'sad')");
    await c.query("CREATE DOMAIN src.positive AS integer CHECK (VALUE > 0)");
    await c.query("CREATE TYPE src.pair AS (a integer, b text)");
    for (const [name, columns] of Object.entries(tables)) {
      for (const schema of ["src", "dst"]) {
        await c.query(
          `CREATE TABLE ${schema}.${name} (tenant_id uuid NOT NULL, ${columns}, PRIMARY KEY (tenant_id, id))`,
        );
      }
      for (const values of rows[name]!) {
        await c.query(`INSERT INTO src.${name} VALUES ('${tenant}', ${values})`);
      }
    }
  });
});

describe("the row hash a move's verification uses", () => {
  it("hashes records where every column type can be hashed, text otherwise, and tells rows apart either way", async () => {
    await withAdmin(db.current, async (c) => {
      const plan = await planMoveTables(c, c, "hashes", "src", "dst", true);
      const modes = Object.fromEntries(plan.map((t) => [t.source.name, t.rowHash]));
      expect(modes).toEqual({
        scalars: "record",
        with_json: "text",
        with_point: "text",
        with_range: "text",
        with_composite: "text",
      });
      for (const table of plan) {
        const { rows: hashes } = await c.query<{ h: string }>(
          `SELECT ${rowHashSql(table, "s")}::text AS h FROM ${table.source.quoted} s ORDER BY id`,
        );
        expect(hashes, table.source.name).toHaveLength(2);
        expect(hashes[0]!.h, table.source.name).not.toBe(hashes[1]!.h);
      }
      // The record hash really is the record one (text hashing would not fail on json).
      const scalars = plan.find((t) => t.source.name === "scalars")!;
      expect(rowHashSql(scalars, "s")).toMatch(/^pg_catalog\.hash_record_extended\(ROW\(/);
    });
  });
});
