/**
 * Where the cost of usage recording goes (bench/rls.ts measures the whole of it):
 *
 * 1. CPU in the application: `withTenant` (two statements) without a recorder, with the
 *    default one (counts), and with one that also sets application_name (opt-in), against a
 *    fake pool whose queries resolve at once: no database, no network, best of 6 rounds.
 * 2. The server's side of naming the connection: the same transaction (BEGIN, the context,
 *    a 20-row read, COMMIT + clear) plain, with a custom setting added to the same statement
 *    (the control: not reported to the client), with application_name set transaction-locally
 *    (the library's way), set for the session instead, and with a transaction-level advisory
 *    lock as the marker; interleaved on one connection, medians.
 *
 *   node --import tsx bench/recordingCost.ts [--iterations 4000] [--cpu-only]
 *
 * Uses DATABASE_URL when set (a superuser URL), else starts an embedded PostgreSQL.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { withTenant } from "../db/tenantContext.ts";
import { createUsageRecorder } from "../db/usage/usageRecorder.ts";
import { benchServer } from "./support.ts";

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "4000" },
    "cpu-only": { type: "boolean", default: false },
  },
});
const ITERATIONS = Number(values.iterations);
const TENANTS = Array.from(
  { length: 200 },
  (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
);

async function cpu(): Promise<void> {
  const rows = Array.from({ length: 20 }, (_, id) => ({ id }));
  const client = {
    query: (text: unknown) =>
      Promise.resolve(
        typeof text === "string" && text.startsWith("COMMIT")
          ? [{ command: "COMMIT" }, { command: "SELECT" }]
          : { command: "SELECT", rows, rowCount: rows.length },
      ),
    release: () => undefined,
    on: () => undefined,
    off: () => undefined,
  } as unknown as pg.PoolClient;
  const pool = { connect: () => Promise.resolve(client) };
  const flushPool = { query: () => Promise.resolve({}) } as unknown as pg.Pool;
  const variants = {
    "no recorder": {},
    "counters (default)": {
      usage: createUsageRecorder({ pool: flushPool, flushEveryMs: 0 }),
    },
    "counters + application_name": {
      usage: createUsageRecorder({ pool: flushPool, flushEveryMs: 0, attributeConnections: true }),
    },
  };
  const runs = 100_000;
  const best: Record<string, number> = {};
  for (let round = 0; round < 7; round++) {
    for (const [name, options] of Object.entries(variants)) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) {
        await withTenant(
          pool,
          TENANTS[i % TENANTS.length]!,
          async (c) => {
            await c.query("SELECT 1");
            await c.query("SELECT 2");
          },
          options,
        );
      }
      const micros = Number(process.hrtime.bigint() - start) / 1000 / runs;
      if (round > 0) best[name] = Math.min(best[name] ?? Infinity, micros); // round 0 warms up
    }
  }
  console.log("CPU per withTenant with two statements (no database, best of 6):");
  for (const [name, micros] of Object.entries(best)) {
    console.log(`  ${name.padEnd(28)} ${micros.toFixed(2)} µs`);
  }
}

async function server(): Promise<void> {
  const bench = await benchServer({ fast: true });
  const c = new pg.Client({ connectionString: bench.url });
  await c.connect();
  try {
    await c.query(
      "CREATE TEMP TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g; ANALYZE t",
    );
    // The library's statement: every value a parameter ($2: the marker's value).
    const transaction = (marker: string) => async (id: string) => {
      await c.query("BEGIN");
      await c.query(
        `SELECT set_config('app.tenant_id', $1, true)${marker}`,
        marker ? [id, `tenancy:${id}`] : [id],
      );
      await c.query("SELECT * FROM t WHERE id <= 20");
      await c.query("COMMIT; SELECT set_config('app.tenant_id', '', false)");
    };
    const variants: Record<string, (id: string) => Promise<void>> = {
      plain: transaction(""),
      "a second parameter only": transaction(", length($2)"),
      "another setting (not reported)": transaction(", set_config('app.marker', $2, true)"),
      "application_name, transaction": transaction(", set_config('application_name', $2, true)"),
      "application_name, session": transaction(", set_config('application_name', $2, false)"),
      "advisory lock as the marker": transaction(
        ", pg_advisory_xact_lock_shared(hashtextextended($2, 7))",
      ),
    };
    const names = Object.keys(variants);
    const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < ITERATIONS + 200; i++) {
      const id = TENANTS[i % TENANTS.length]!;
      for (const name of i % 2 ? names : [...names].reverse()) {
        const start = process.hrtime.bigint();
        await variants[name]!(id);
        if (i >= 200) times[name]!.push(Number(process.hrtime.bigint() - start) / 1000);
      }
    }
    const plain = median(times.plain!);
    console.log(`\nOne transaction, ${ITERATIONS} of each, interleaved (median, ratio to plain):`);
    for (const name of names) {
      const m = median(times[name]!);
      console.log(`  ${name.padEnd(32)} ${m.toFixed(0)} µs  ${(m / plain).toFixed(3)}`);
    }
  } finally {
    await c.end();
    await bench.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1] ?? NaN;
}

await cpu();
if (!values["cpu-only"]) await server();
