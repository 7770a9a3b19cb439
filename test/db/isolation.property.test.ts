/**
 * Property: whatever the application role does, with whatever tenant context, it never reads,
 * inserts, updates into, or deletes a row of another tenant. Checked against a model and the
 * superuser's view of the table after every operation.
 */
import fc from "fast-check";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../support/postgres.ts";
import { type Bootstrapped, protectedApp, queryWithSettings, uuid } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let admin: pg.Client;
const TENANTS = [uuid(), uuid(), uuid()];
const BAD_CONTEXTS = [null, "", "not-a-uuid", "00000000-0000-0000-0000-000000000000"] as const;

beforeAll(async () => {
  env = await protectedApp(
    db.current,
    `CREATE TABLE items (tenant_id uuid NOT NULL, id int NOT NULL, v int NOT NULL,
                         PRIMARY KEY (tenant_id, id))`,
    2,
  );
  const { default: pgModule } = await import("pg");
  admin = new pgModule.Client({ connectionString: db.current.url });
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
  await env.close();
});

/** A context: index of a real tenant, or a bad one. */
const contextArb = fc.oneof(
  fc.integer({ min: 0, max: TENANTS.length - 1 }),
  fc.constantFrom(...BAD_CONTEXTS.map((_, i) => -1 - i)),
);
const tenantArb = fc.integer({ min: 0, max: TENANTS.length - 1 });
const idArb = fc.integer({ min: 1, max: 4 });
const opArb = fc.oneof(
  fc.record({ kind: fc.constant("select" as const), ctx: contextArb }),
  fc.record({
    kind: fc.constant("insert" as const),
    ctx: contextArb,
    tenant: tenantArb,
    id: idArb,
    v: fc.integer(),
  }),
  fc.record({
    kind: fc.constant("update" as const),
    ctx: contextArb,
    id: fc.option(idArb),
    moveTo: fc.option(tenantArb),
    v: fc.integer(),
  }),
  fc.record({ kind: fc.constant("delete" as const), ctx: contextArb, id: fc.option(idArb) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const contextValue = (ctx: number): string | null =>
  ctx >= 0 ? (TENANTS[ctx] ?? null) : (BAD_CONTEXTS[-1 - ctx] ?? null);
const key = (tenant: string, id: number) => `${tenant}/${id}`;
interface Row {
  tenant_id: string;
  id: number;
  v: number;
}

async function asApp(ctx: number, sql: string, params: unknown[]): Promise<Row[]> {
  const value = contextValue(ctx);
  return queryWithSettings<Row>(
    env.appPool,
    value === null ? {} : { "app.tenant_id": value },
    sql,
    params,
  );
}

async function apply(model: Map<string, Row>, op: Op): Promise<void> {
  const me = op.ctx >= 0 ? TENANTS[op.ctx] : undefined;
  const mine = [...model.values()].filter((r) => r.tenant_id === me);
  switch (op.kind) {
    case "select": {
      const rows = await asApp(op.ctx, "SELECT tenant_id, id, v FROM app.items ORDER BY id", []);
      expect(rows).toEqual(mine.sort((a, b) => a.id - b.id));
      return;
    }
    case "insert": {
      const target = TENANTS[op.tenant] as string;
      const attempt = asApp(op.ctx, "INSERT INTO app.items VALUES ($1, $2, $3) RETURNING *", [
        target,
        op.id,
        op.v,
      ]);
      if (target !== me) {
        await expect(attempt).rejects.toThrow(/row-level security/);
      } else if (model.has(key(target, op.id))) {
        await expect(attempt).rejects.toThrow(/duplicate key/);
      } else {
        await attempt;
        model.set(key(target, op.id), { tenant_id: target, id: op.id, v: op.v });
      }
      return;
    }
    case "update": {
      const hit = mine.filter((r) => op.id === null || r.id === op.id);
      const newTenant = op.moveTo === null ? undefined : TENANTS[op.moveTo];
      const sql = `UPDATE app.items SET v = $1${newTenant ? ", tenant_id = $3" : ""}
                    WHERE ($2::int IS NULL OR id = $2) RETURNING tenant_id, id, v`;
      const attempt = asApp(op.ctx, sql, newTenant ? [op.v, op.id, newTenant] : [op.v, op.id]);
      if (hit.length > 0 && newTenant !== undefined && newTenant !== me) {
        await expect(attempt).rejects.toThrow(/row-level security/);
        return;
      }
      // Here newTenant is undefined or the tenant itself: rows keep their keys.
      const moved = hit.map((r) => ({ ...r, v: op.v }));
      const rows = await attempt;
      expect(rows.every((r) => r.tenant_id === me)).toBe(true);
      expect(rows.length).toBe(hit.length);
      for (const r of moved) model.set(key(r.tenant_id, r.id), r);
      return;
    }
    case "delete": {
      const rows = await asApp(
        op.ctx,
        "DELETE FROM app.items WHERE ($1::int IS NULL OR id = $1) RETURNING tenant_id, id, v",
        [op.id],
      );
      expect(rows.every((r) => r.tenant_id === me)).toBe(true);
      for (const r of rows) model.delete(key(r.tenant_id, r.id));
      expect(rows.length).toBe(mine.filter((r) => op.id === null || r.id === op.id).length);
    }
  }
}

describe("RLS isolation property", () => {
  it("no operation in any context touches another tenant's rows", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        await admin.query("TRUNCATE app.items");
        const model = new Map<string, Row>();
        for (const op of ops) {
          await apply(model, op);
          const { rows } = await admin.query<Row>("SELECT tenant_id, id, v FROM app.items");
          const expected = [...model.values()].sort((a, b) =>
            key(a.tenant_id, a.id).localeCompare(key(b.tenant_id, b.id)),
          );
          const actual = rows.sort((a, b) =>
            key(a.tenant_id, a.id).localeCompare(key(b.tenant_id, b.id)),
          );
          expect(actual).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
  });
});
