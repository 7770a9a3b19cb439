/** The tenant context library's usage recording, against a real bootstrapped database. */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../../db/tenantContext.ts";
import { createUsageRecorder } from "../../db/usage/usageRecorder.ts";
import { type Bootstrapped, protectedApp, uuid, withAdmin } from "./fixtures.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
let setup: Bootstrapped;

beforeAll(async () => {
  setup = await protectedApp(
    db.current,
    "CREATE TABLE notes (tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id(), body text NOT NULL)",
  );
});
afterAll(async () => {
  await setup?.close();
});

describe("usage recording in withTenant", () => {
  it("names the connection after the tenant for the transaction only, when asked to (opt-in)", async () => {
    const tenant = uuid();
    const usage = createUsageRecorder({
      pool: setup.appPool,
      flushEveryMs: 0,
      attributeConnections: true,
    });
    const quiet = createUsageRecorder({ pool: setup.appPool, flushEveryMs: 0 });
    expect(quiet.attributeConnections).toBe(false);
    const name = (client: pg.PoolClient) =>
      client
        .query<{ n: string }>("SELECT current_setting('application_name') AS n")
        .then((r) => r.rows[0]!.n);
    expect(await withTenant(setup.appPool, tenant, name, { usage })).toBe(`tenancy:${tenant}`);
    expect(await withTenant(setup.appPool, tenant, name, { usage: quiet })).not.toMatch(
      /^tenancy:/,
    );
    expect(await withTenant(setup.appPool, tenant, name)).not.toMatch(/^tenancy:/);
  });

  it("counts statements, rows read and written, also across a flush in the middle of a transaction", async () => {
    const tenant = uuid();
    const usage = createUsageRecorder({ pool: setup.appPool, flushEveryMs: 0 });
    await withTenant(
      setup.appPool,
      tenant,
      async (client) => {
        await client.query("INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 4) g");
        await usage.flush();
        await client.query("SELECT body FROM notes");
        await client.query("UPDATE notes SET body = body || '!' WHERE body IN ('n1', 'n2')");
      },
      { usage },
    );
    await usage.flush();
    const { rows } = await withAdmin(db.current, (c) =>
      c.query<{ s: string; r: string; w: string; t: string }>(
        `SELECT sum(statements)::text AS s, sum(rows_read)::text AS r, sum(rows_written)::text AS w,
                sum(transactions)::text AS t
           FROM tenancy.usage_flush WHERE tenant_id = $1`,
        [tenant],
      ),
    );
    expect(rows[0]).toEqual({ s: "3", r: "4", w: "6", t: "1" });
  });

  it("counts the connections a tenant holds at once (its peak) without naming them, and flushes it", async () => {
    const tenant = uuid();
    const usage = createUsageRecorder({ pool: setup.appPool, flushEveryMs: 0 });
    const releases: (() => void)[] = [];
    const names: string[] = [];
    const held = Array.from({ length: 3 }, () =>
      withTenant(
        setup.appPool,
        tenant,
        async (client) => {
          const { rows } = await client.query<{ n: string }>(
            "SELECT current_setting('application_name') AS n",
          );
          names.push(rows[0]!.n);
          await new Promise<void>((done) => releases.push(done));
        },
        { usage },
      ),
    );
    while (releases.length < 3) await new Promise((done) => setTimeout(done, 10));
    expect(usage.pending().get(tenant)).toMatchObject({ open: 3, peakConcurrency: 3 });
    for (const release of releases) release();
    await Promise.all(held);
    expect(names.filter((n) => n.startsWith("tenancy:"))).toEqual([]);
    expect(usage.pending().get(tenant)).toMatchObject({ open: 0, peakConcurrency: 3 });
    await usage.flush();
    const { rows } = await withAdmin(db.current, (c) =>
      c.query<{ peak: number; t: string; s: string }>(
        `SELECT max(peak_concurrency) AS peak, sum(transactions)::text AS t, sum(statements)::text AS s
           FROM tenancy.usage_flush WHERE tenant_id = $1`,
        [tenant],
      ),
    );
    expect(rows[0]).toEqual({ peak: 3, t: "3", s: "3" });
  });

  it("refuses a tenant id that is not a uuid before connecting", async () => {
    const usage = createUsageRecorder({ pool: setup.appPool, flushEveryMs: 0 });
    let connected = false;
    const pool = { connect: () => ((connected = true), setup.appPool.connect()) };
    await expect(withTenant(pool, "acme", async () => 1, { usage })).rejects.toThrow(/not a uuid/);
    expect(connected).toBe(false);
  });

  it("keeps the counters when a flush fails, and writes them with the next", async () => {
    const tenant = uuid();
    const broken = new pg.Pool({
      connectionString: db.current.url.replace(/\/[^/]*$/, "/nowhere"),
    });
    broken.on("error", () => undefined);
    const usage = createUsageRecorder({ pool: broken, flushEveryMs: 0 });
    usage.countApiCall(tenant, 5);
    await expect(usage.flush()).rejects.toThrow();
    usage.countApiCall(tenant, 2);
    expect(usage.pending().get(tenant)?.apiCalls).toBe(7);
    await broken.end();
  });

  it("cannot be read by the application role, nor forged as another role", async () => {
    const client = await setup.appPool.connect();
    try {
      await expect(client.query("SELECT * FROM tenancy.usage_flush")).rejects.toThrow(
        /permission denied/,
      );
      await expect(
        client.query(
          `INSERT INTO tenancy.usage_flush (tenant_id, flushed_by, statements, statement_us, rows_read,
             rows_written, transactions, api_calls, peak_concurrency)
           VALUES ($1, 'postgres', 1, 1, 1, 1, 1, 1, 1)`,
          [uuid()],
        ),
      ).rejects.toThrow(/permission denied/);
    } finally {
      client.release();
    }
  });
});
