/**
 * Thousands of interleaved transactions for different tenants over a 3-connection pool: no
 * tenant context survives its transaction — not after COMMIT, not after a thrown error, not
 * after a swallowed SQL error, not even when the callback sets the context session-wide.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantTransactionAbortedError, withTenant } from "../../db/tenantContext.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { type Bootstrapped, loginUrl, protectedApp, uuid, withAdmin } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let pool: pg.Pool;
const TENANTS = Array.from({ length: 8 }, () => uuid());
const ROWS_PER_TENANT = 3;

beforeAll(async () => {
  env = await protectedApp(
    db.current,
    `CREATE TABLE notes (tenant_id uuid NOT NULL, n int NOT NULL, PRIMARY KEY (tenant_id, n))`,
  );
  await withAdmin(db.current, (c) =>
    c.query(
      `INSERT INTO app.notes SELECT t::uuid, g FROM unnest($1::text[]) t, generate_series(1, $2) g`,
      [TENANTS, ROWS_PER_TENANT],
    ),
  );
  pool = new pg.Pool({
    connectionString: loginUrl(db.current.url, env.roles.app, env.appPassword),
    max: 3,
  });
});
afterAll(async () => {
  await pool.end();
  await env.close();
});

type Behaviour =
  "read" | "throw" | "swallowed-sql-error" | "session-set" | "session-set-config" | "bare";
const BEHAVIOURS: readonly Behaviour[] = [
  "read",
  "throw",
  "swallowed-sql-error",
  "session-set",
  "session-set-config",
  "bare",
];

class Planned extends Error {}

async function step(i: number): Promise<Behaviour> {
  const behaviour = BEHAVIOURS[(i * 7919) % BEHAVIOURS.length] as Behaviour;
  const tenant = TENANTS[(i * 31) % TENANTS.length] as string;
  const other = TENANTS[(i * 31 + 1) % TENANTS.length] as string;
  if (behaviour === "bare") {
    // Outside withTenant: a connection just used by someone else carries no context.
    const { rows } = await pool.query<{ v: string | null; n: string }>(
      "SELECT current_setting('app.tenant_id', true) AS v, (SELECT count(*) FROM app.notes) AS n",
    );
    expect(rows[0]?.v ?? "").toBe("");
    expect(rows[0]?.n).toBe("0");
    return behaviour;
  }
  const run = withTenant(pool, tenant, async (client) => {
    const { rows } = await client.query<{ v: string; tenants: string[]; n: number }>(
      `SELECT current_setting('app.tenant_id') AS v,
              array_agg(DISTINCT tenant_id::text) AS tenants, count(*)::int AS n FROM app.notes`,
    );
    expect(rows[0]).toEqual({ v: tenant, tenants: [tenant], n: ROWS_PER_TENANT });
    switch (behaviour) {
      case "throw":
        throw new Planned("fn failed");
      case "swallowed-sql-error":
        await client.query("SELECT 1/0").catch(() => undefined);
        return;
      case "session-set":
        await client.query(`SET app.tenant_id = '${other}'`);
        return;
      case "session-set-config":
        await client.query("SELECT set_config('app.tenant_id', $1, false)", [other]);
        return;
      default:
        return;
    }
  });
  if (behaviour === "throw") await expect(run).rejects.toBeInstanceOf(Planned);
  else if (behaviour === "swallowed-sql-error") {
    await expect(run).rejects.toBeInstanceOf(TenantTransactionAbortedError);
  } else await run;
  return behaviour;
}

describe("pool contamination", () => {
  it("3,000 interleaved transactions on 3 connections leak no context", async () => {
    const done = await Promise.all(Array.from({ length: 3000 }, (_, i) => step(i)));
    for (const b of BEHAVIOURS) expect(done.filter((d) => d === b).length).toBeGreaterThan(400);
    // Every connection of the pool, checked out together, is clean.
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ v: string | null }>(
          "SELECT current_setting('app.tenant_id', true) AS v",
        );
        expect(rows[0]?.v ?? "").toBe("");
      }
    } finally {
      clients.forEach((c) => c.release());
    }
  });

  it("refuses an empty tenant id before touching the pool", async () => {
    await expect(withTenant(pool, "", () => Promise.resolve(1))).rejects.toThrow(/non-empty/);
  });

  it("applies a per-transaction statement timeout (pooled tenants' quota)", async () => {
    const tenant = TENANTS[0] as string;
    await expect(
      withTenant(pool, tenant, (c) => c.query("SELECT pg_sleep(1)"), { statementTimeoutMs: 100 }),
    ).rejects.toThrow(/statement timeout/);
    const { rows } = await pool.query("SHOW statement_timeout");
    expect(rows[0]).toEqual({ statement_timeout: "0" });
  });
});
