/**
 * The sequences a move sets past the copied rows (db/moves/verifyCopy.ts advanceSequences),
 * against a real PostgreSQL: behind the copy it is set past the maximum; ahead of it (a shared
 * pool sequence other tenants draw from) it is never moved back — also not while other
 * sessions call nextval concurrently, which a setval from a value read earlier did (it handed
 * their ids out a second time: 23505 on the shared table after a schema → pool move).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advanceSequences } from "../../db/moves/verifyCopy.ts";
import type { MoveTable, MoveTableSide } from "../../db/moves/moveTables.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

function tableOf(name: string): MoveTable {
  const side: MoveTableSide = {
    oid: 0,
    schema: "public",
    name,
    quoted: `"public"."${name}"`,
    display: `public.${name}`,
    tenantIdType: "uuid",
  };
  return {
    source: side,
    target: side,
    columns: ["id", "body"],
    key: [{ name: "id", type: "bigint" }],
    rowHash: "record",
  };
}

async function lastValue(sequence: string): Promise<number> {
  const { rows } = await db.current.pool.query<{ v: string }>(
    `SELECT last_value::text AS v FROM ${sequence}`,
  );
  return Number(rows[0]?.v);
}

let mover: pg.Client;
beforeAll(async () => {
  mover = new pg.Client({ connectionString: db.current.url });
  await mover.connect();
});
afterAll(async () => {
  await mover.end();
});

describe("advanceSequences", () => {
  it("sets a sequence behind the copied rows past their maximum (serial and identity)", async () => {
    await db.current.pool.query(
      `CREATE TABLE behind (id bigserial PRIMARY KEY, body text);
       CREATE TABLE behind_identity (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
       INSERT INTO behind (id, body) VALUES (5000, 'copied');
       INSERT INTO behind_identity (id, body) OVERRIDING SYSTEM VALUE VALUES (7000, 'copied');`,
    );
    const set = await advanceSequences(mover, [tableOf("behind"), tableOf("behind_identity")]);
    expect(set.map((s) => [s.sequence, s.value])).toEqual([
      ["public.behind_id_seq", "5000"],
      ["public.behind_identity_id_seq", "7000"],
    ]);
    const next = await db.current.pool.query<{ a: string; b: string }>(
      `INSERT INTO behind (body) VALUES ('new') RETURNING id::text AS a`,
    );
    expect(next.rows[0]?.a).toBe("5001");
  });

  it("never moves a sequence already past the copied rows back", async () => {
    await db.current.pool.query(
      `CREATE TABLE ahead (id bigserial PRIMARY KEY, body text);
       INSERT INTO ahead (id, body) VALUES (10, 'copied');
       SELECT setval('ahead_id_seq', 900);`,
    );
    const set = await advanceSequences(mover, [tableOf("ahead")]);
    expect(Number(set[0]?.value)).toBeGreaterThanOrEqual(900);
    expect(await lastValue("ahead_id_seq")).toBeGreaterThanOrEqual(900);
  });

  it("hands no value out twice while other sessions draw from the sequence", async () => {
    await db.current.pool.query(
      "CREATE TABLE shared (id bigserial PRIMARY KEY, body text); INSERT INTO shared (body) VALUES ('x')",
    );
    const drawers = await Promise.all(
      [1, 2, 3].map(async () => {
        const c = new pg.Client({ connectionString: db.current.url });
        await c.connect();
        return c;
      }),
    );
    const drawn: number[] = [];
    let stop = false;
    const loops = drawers.map(async (c) => {
      while (!stop) {
        const { rows } = await c.query<{ v: string }>("SELECT nextval('shared_id_seq')::text AS v");
        drawn.push(Number(rows[0]?.v));
      }
    });
    try {
      for (let i = 0; i < 1000; i += 1) {
        // Every other round the copied maximum is just ahead of the sequence (the locked path).
        if (i % 2 === 0) {
          await mover.query(
            "INSERT INTO shared (id, body) SELECT last_value + 3, 'copied' FROM shared_id_seq ON CONFLICT DO NOTHING",
          );
        }
        await advanceSequences(mover, [tableOf("shared")]);
      }
    } finally {
      stop = true;
      await Promise.all(loops);
      await Promise.all(drawers.map((c) => c.end()));
    }
    expect(drawn.length).toBeGreaterThan(1000);
    expect(drawn.length - new Set(drawn).size).toBe(0);
  }, 120_000);
});
