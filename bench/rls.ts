/**
 * RLS overhead: per-tenant queries through row-level security (the application role, tenant
 * context set) versus the same queries with an explicit `WHERE tenant_id = $1` on an
 * unprotected copy of the table, same data, same indexes, same role, same connection,
 * interleaved in alternating order. Prints the median latency of each variant and the paired
 * ratio (median with a bootstrap 95 % interval, geometric mean with a t-interval), for each
 * form of the policy predicate: the production one (a PL/pgSQL context function in a scalar
 * subquery) and the same validation written inline around `current_setting` (no function
 * call), measured in alternating rounds on the same table (ALTER POLICY between rounds).
 * Then the cost of usage recording: the same query through `withTenant` with and without a
 * usage recorder (statement counting, a flush every second; then also application_name, the
 * opt-in connection attribution), paired the same way in the same run. Then the signed tenant context next to the plain one (bench/rlsSigned.ts).
 *
 *   node --import tsx bench/rls.ts [--tenants 1000] [--rows-per-tenant 1000] [--iterations 4000]
 *        [--rounds 4] [--usage-only | --signed-only]
 *
 * Uses DATABASE_URL when set (a superuser URL), else starts an embedded PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { bootstrapDatabase } from "../db/bootstrap.ts";
import { tenantPredicate } from "../db/contextSql.ts";
import { protectDatabase } from "../db/protect.ts";
import { withTenant } from "../db/tenantContext.ts";
import { createUsageRecorder } from "../db/usage/usageRecorder.ts";
import { withDatabaseName } from "../db/transaction.ts";
import { loadSignedCopy, signedOverhead } from "./rlsSigned.ts";
import {
  bootstrap,
  formatInterval,
  geometricMeanRatio,
  medianRatio,
  type Interval,
} from "./pairedStats.ts";
import { benchServer, median, us } from "./support.ts";

const { values } = parseArgs({
  options: {
    tenants: { type: "string", default: "1000" },
    "rows-per-tenant": { type: "string", default: "1000" },
    iterations: { type: "string", default: "4000" },
    rounds: { type: "string", default: "4" },
    explain: { type: "boolean", default: false },
    "usage-only": { type: "boolean", default: false },
    "signed-only": { type: "boolean", default: false },
  },
});
const TENANTS = Number(values.tenants);
const ROWS = Number(values["rows-per-tenant"]);
const ITERATIONS = Number(values.iterations);
const ROUNDS = Number(values.rounds);
if (!(ROUNDS >= 1) || !(ITERATIONS >= ROUNDS * 10)) {
  throw new Error("--rounds ≥ 1 and --iterations ≥ 10 × rounds");
}

interface Query {
  readonly name: string;
  readonly rls: string;
  readonly explicit: string;
  params(tenant: string): unknown[];
}

const QUERIES: readonly Query[] = [
  {
    name: "point lookup by id",
    rls: "SELECT * FROM app.orders WHERE id = $1",
    explicit: "SELECT * FROM plain.orders WHERE tenant_id = $2 AND id = $1",
    params: (t) => [1 + Math.floor(Math.random() * ROWS), t],
  },
  {
    name: "latest 20 orders",
    rls: "SELECT * FROM app.orders ORDER BY created_at DESC LIMIT 20",
    explicit: "SELECT * FROM plain.orders WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 20",
    params: (t) => [t],
  },
  {
    name: "open orders aggregate",
    rls: "SELECT count(*), sum(amount) FROM app.orders WHERE status = 'open'",
    explicit:
      "SELECT count(*), sum(amount) FROM plain.orders WHERE tenant_id = $1 AND status = 'open'",
    params: (t) => [t],
  },
];

async function main(): Promise<void> {
  const server = await benchServer({ fast: true });
  const suffix = randomBytes(4).toString("hex");
  const database = `bench_rls_${suffix}`;
  const prefix = `bench_${suffix}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabaseName(server.url, database);
  const password = randomBytes(12).toString("hex");
  try {
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    const t0 = performance.now();
    const { roles } = await bootstrapDatabase(setup, { rolePrefix: prefix, appPassword: password });
    await loadData(setup, roles.owner, roles.app);
    await protectDatabase(setup, { schemas: ["app"] });
    if (!values["usage-only"]) await loadSignedCopy(setup, roles.owner, roles.app);
    await setup.query("VACUUM (FREEZE, ANALYZE)"); // same hint bits and visibility map for both copies
    const tenants = (
      await setup.query<{ id: string }>("SELECT DISTINCT tenant_id AS id FROM plain.orders")
    ).rows.map((r) => r.id);
    await setup.end();
    console.log(
      `loaded ${TENANTS} tenants x ${ROWS} rows = ${(TENANTS * ROWS).toLocaleString("en")} rows per table in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const appUrl = new URL(url);
    appUrl.username = roles.app;
    appUrl.password = password;
    const client = new pg.Client({ connectionString: appUrl.toString() });
    await client.connect();
    if (values.explain) await explain(client, tenants[0] as string);
    const policy = new pg.Client({ connectionString: url });
    await policy.connect();
    const overall: { form: string; median: Interval; geo: Interval }[] = [];
    if (!(values["usage-only"] || values["signed-only"])) {
      console.log(
        `\n${ITERATIONS} iterations per query and policy form (${ROUNDS} alternating rounds), random tenant each, alternating order within each pair`,
      );
      const samples = await measureForms(client, policy, tenants);
      for (const form of POLICY_FORMS) {
        console.log(`\npolicy: ${form.name}\n  USING ${form.predicate}`);
        console.log(
          "query                     rls median   explicit median   paired ratio: median [95% CI]   geometric mean [95% CI]",
        );
        const perQuery: number[][] = [];
        for (const query of QUERIES) {
          const m = samples.get(`${form.name}/${query.name}`)!;
          perQuery.push(m.paired);
          console.log(
            `${query.name.padEnd(25)} ${us(median(m.rls)).padStart(9)}   ${us(median(m.explicit)).padStart(15)}   ${formatInterval(medianRatio(m.paired)).padEnd(29)}   ${formatInterval(geometricMeanRatio(m.paired))}`,
          );
        }
        const byMedian = bootstrap(perQuery, (groups) => median(groups.map((g) => median(g))));
        const geo = geometricMeanRatio(perQuery.flat());
        overall.push({ form: form.name, median: byMedian, geo });
        console.log(
          `overall (RLS / explicit): median of the query medians ${formatInterval(byMedian)}, geometric mean ${formatInterval(geo)} (goal <= 1.05)`,
        );
      }
      console.log("\nside by side (overall paired ratio, 95 % CI)");
      for (const o of overall) {
        console.log(
          `  ${o.form.padEnd(44)} median ${formatInterval(o.median)}   geo-mean ${formatInterval(o.geo)}`,
        );
      }
    }
    await setPolicy(policy, POLICY_FORMS[0]!.predicate);
    await policy.end();
    const context = await contextCost(client, tenants);
    console.log(
      `\nset_config('app.tenant_id') round trip (once per transaction): median ${us(context)}`,
    );
    await client.end();
    if (!values["usage-only"]) {
      await signedOverhead(appUrl.toString(), tenants, ITERATIONS, ROWS);
    }
    if (!values["signed-only"]) await usageOverhead(appUrl.toString(), url, tenants);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    for (const role of ["app", "audit", "owner"])
      await admin.query(`DROP ROLE IF EXISTS ${prefix}_${role}`);
    await admin.end();
    await server.stop();
  }
}

async function loadData(client: pg.Client, owner: string, app: string): Promise<void> {
  const ddl = (schema: string) => `
    CREATE TABLE ${schema}.orders (
      tenant_id uuid NOT NULL, id bigint NOT NULL, status text NOT NULL,
      amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id));
    CREATE INDEX ON ${schema}.orders (tenant_id, created_at);`;
  await client.query(`SET ROLE ${owner}`);
  await client.query(ddl("app"));
  await client.query("RESET ROLE");
  await client.query(`CREATE SCHEMA plain; ${ddl("plain")}`);
  await client.query(
    `GRANT USAGE ON SCHEMA plain TO ${app}; GRANT SELECT ON plain.orders TO ${app}`,
  );
  await client.query(`
    CREATE TEMP TABLE bench_tenants AS SELECT gen_random_uuid() AS id FROM generate_series(1, ${TENANTS});
    INSERT INTO plain.orders
      SELECT t.id, g, (ARRAY['open','paid','shipped','cancelled'])[1 + (g % 4)],
             (g % 997) + 0.5, now() - make_interval(mins => g)
        FROM bench_tenants t, generate_series(1, ${ROWS}) g;
    INSERT INTO app.orders SELECT * FROM plain.orders;`);
}

/**
 * The policy predicates compared. Both validate the context the same way (missing, empty or
 * malformed → NULL, never an error) and sit in a scalar subquery (one evaluation per statement,
 * an InitPlan, so the index on tenant_id is usable); the second calls no PL/pgSQL function.
 */
const POLICY_FORMS: readonly { name: string; predicate: string }[] = [
  { name: "function in scalar subquery (production)", predicate: tenantPredicate("uuid") },
  {
    name: "current_setting inline in scalar subquery",
    predicate: `(tenant_id = (SELECT CASE WHEN pg_catalog.translate(c.s, '123456789abcdefABCDEF', '000000000000000000000') OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000000' THEN c.s::pg_catalog.uuid END FROM (SELECT pg_catalog.current_setting('app.tenant_id', true) AS s) c))`,
  },
];

async function setPolicy(admin: pg.Client, predicate: string): Promise<void> {
  await admin.query(
    `ALTER POLICY tenant_isolation ON app.orders USING ${predicate} WITH CHECK ${predicate}`,
  );
}

interface Samples {
  rls: number[];
  explicit: number[];
  paired: number[];
}

/** Rounds of (every form × every query), so that drift of the machine hits every form alike. */
async function measureForms(
  client: pg.Client,
  admin: pg.Client,
  tenants: readonly string[],
): Promise<Map<string, Samples>> {
  const samples = new Map<string, Samples>();
  const perRound = Math.ceil(ITERATIONS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which form goes first from round to round.
    const forms = round % 2 === 0 ? POLICY_FORMS : [...POLICY_FORMS].reverse();
    for (const form of forms) {
      await setPolicy(admin, form.predicate);
      for (const query of QUERIES) {
        const key = `${form.name}/${query.name}`;
        const into = samples.get(key) ?? { rls: [], explicit: [], paired: [] };
        samples.set(key, into);
        await measure(client, query, tenants, perRound, into);
      }
    }
  }
  return samples;
}

async function measure(
  client: pg.Client,
  query: Query,
  tenants: readonly string[],
  iterations: number,
  into: Samples,
): Promise<void> {
  const time = async (sql: string, params: unknown[]) => {
    const start = process.hrtime.bigint();
    await client.query(sql, params);
    return Number(process.hrtime.bigint() - start) / 1000;
  };
  const warmUp = 50;
  for (let i = 0; i < iterations + warmUp; i++) {
    const tenant = tenants[Math.floor(Math.random() * tenants.length)] as string;
    const params = query.params(tenant);
    const rlsParams = params.filter((p) => p !== tenant);
    await client.query("BEGIN");
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = await time(query.rls, rlsParams);
      b = await time(query.explicit, params);
    } else {
      b = await time(query.explicit, params);
      a = await time(query.rls, rlsParams);
    }
    await client.query("COMMIT");
    if (i < warmUp) continue;
    into.rls.push(a);
    into.explicit.push(b);
    into.paired.push(a / b);
  }
}

/**
 * withTenant with a usage recorder vs without, on one pool (one connection), alternating
 * which goes first, a random tenant each time; the recorders flush every second. Two
 * recorders: the default (counters only), and one that also sets application_name (opt-in).
 * Both run a warm-up first (every code path optimized by the JIT before any sample: the
 * variant measured first used to come out a few percent worse), then `--rounds` rounds of
 * both, in alternating order, so that drift of the machine hits both alike.
 */
async function usageOverhead(
  url: string,
  adminUrl: string,
  tenants: readonly string[],
): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const flushPool = new pg.Pool({ connectionString: url, max: 1 });
  for (const p of [pool, flushPool]) p.on("error", () => undefined);
  const sql = QUERIES[1]!.rls; // latest 20 orders: a typical short read
  const warmUp = 1000;
  console.log(
    `\nusage recording: withTenant + "latest 20 orders", ${ITERATIONS} pairs each ` +
      `(${ROUNDS} alternating rounds, after ${warmUp} unmeasured pairs each)`,
  );
  const variants = [
    { label: "counters (default)", attributeConnections: false },
    {
      label: "counters + application_name (attributeConnections: true)",
      attributeConnections: true,
    },
  ].map((v) => ({
    ...v,
    usage: createUsageRecorder({
      pool: flushPool,
      flushEveryMs: 1000,
      attributeConnections: v.attributeConnections,
    }),
    plain: [] as number[],
    recorded: [] as number[],
    paired: [] as number[],
  }));
  let transactions = 0;
  const pairs = async (variant: (typeof variants)[number], count: number, keep: boolean) => {
    const time = async (recorded: boolean, tenant: string) => {
      const start = process.hrtime.bigint();
      await withTenant(pool, tenant, (c) => c.query(sql), recorded ? { usage: variant.usage } : {});
      return Number(process.hrtime.bigint() - start) / 1000;
    };
    for (let i = 0; i < count; i++) {
      const tenant = tenants[Math.floor(Math.random() * tenants.length)] as string;
      let a: number;
      let b: number;
      if (i % 2 === 0) {
        a = await time(true, tenant);
        b = await time(false, tenant);
      } else {
        b = await time(false, tenant);
        a = await time(true, tenant);
      }
      transactions += 1;
      if (!keep) continue;
      variant.recorded.push(a);
      variant.plain.push(b);
      variant.paired.push(a / b);
    }
  };
  for (const variant of variants) await pairs(variant, warmUp, false);
  const perRound = Math.ceil(ITERATIONS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      await pairs(variant, perRound, true);
    }
  }
  for (const v of variants) {
    await v.usage.stop();
    console.log(
      `  ${v.label}: plain median ${us(median(v.plain))}, recorded ${us(median(v.recorded))}; ` +
        `ratio of medians ${(median(v.recorded) / median(v.plain)).toFixed(3)}, ` +
        `median of paired ratios ${median(v.paired).toFixed(3)}${v.attributeConnections ? "" : " (goal <= 1.03)"}`,
    );
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const { rows } = await admin.query<{ n: string }>(
    "SELECT coalesce(sum(statements), 0)::text AS n FROM tenancy.usage_flush",
  );
  await admin.end();
  await pool.end();
  await flushPool.end();
  console.log(`  statements recorded and flushed: ${rows[0]?.n} (expected ${transactions})`);
}

/** Prints EXPLAIN ANALYZE of both variants of every query for one tenant. */
async function explain(client: pg.Client, tenant: string): Promise<void> {
  await client.query("BEGIN");
  await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
  for (const query of QUERIES) {
    const params = query.params(tenant);
    for (const [label, sql, args] of [
      ["rls", query.rls, params.filter((p) => p !== tenant)],
      ["explicit", query.explicit, params],
    ] as const) {
      const { rows } = await client.query<{ "QUERY PLAN": string }>(
        `EXPLAIN (ANALYZE, BUFFERS) ${sql}`,
        [...args],
      );
      console.log(`-- ${query.name} (${label})\n${rows.map((r) => r["QUERY PLAN"]).join("\n")}\n`);
    }
  }
  await client.query("COMMIT");
}

async function contextCost(client: pg.Client, tenants: readonly string[]): Promise<number> {
  const samples: number[] = [];
  await client.query("BEGIN");
  for (let i = 0; i < 2000; i++) {
    const start = process.hrtime.bigint();
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [
      tenants[i % tenants.length],
    ]);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  await client.query("COMMIT");
  return median(samples);
}

await main();
