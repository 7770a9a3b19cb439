/**
 * bench/rls.ts, signed tenant context: the same rows under the plain policy (`app.orders`)
 * and under the signed policy (`signed.orders`, `tenancy.signed_tenant_id()`), same indexes,
 * same role, same connection, same transaction (both GUCs set), alternating order. Then
 * `withTenant` end to end (HMAC in Node, set_config, query, COMMIT) with and without
 * `signingKey`, paired the same way.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { writeContextKey } from "../db/contextKeys.ts";
import { signTenantContext, type ContextSigningKey } from "../db/contextSigning.ts";
import { tenantPredicate } from "../db/contextSql.ts";
import { quoteIdent } from "../db/identifiers.ts";
import { SIGNED_CONTEXT_SQL } from "../db/signedContextSql.ts";
import { withTenant } from "../db/tenantContext.ts";
import { median, us } from "./support.ts";

export const BENCH_SIGNING_KEY: ContextSigningKey = { id: 1, key: randomBytes(32) };

/**
 * Adds the signed objects, one key and the signed copy of `app.orders` (run as superuser
 * after app.orders is loaded and protected). Not bootstrap's `signedContext: true`, which
 * would turn `app.orders` itself to the signed policy.
 */
export async function loadSignedCopy(client: pg.Client, owner: string, app: string): Promise<void> {
  const o = quoteIdent(owner);
  const predicate = tenantPredicate("uuid", true);
  await client.query(`CREATE SCHEMA signed AUTHORIZATION ${o}`);
  await client.query(`SET ROLE ${o}`);
  await client.query(SIGNED_CONTEXT_SQL);
  await writeContextKey(client, BENCH_SIGNING_KEY);
  await client.query("CREATE TABLE signed.orders (LIKE app.orders INCLUDING ALL)");
  await client.query("RESET ROLE");
  await client.query("INSERT INTO signed.orders SELECT * FROM plain.orders");
  await client.query(`SET ROLE ${o}`);
  await client.query(`
    ALTER TABLE signed.orders ENABLE ROW LEVEL SECURITY;
    ALTER TABLE signed.orders FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON signed.orders FOR ALL TO PUBLIC
      USING ${predicate} WITH CHECK ${predicate};
    GRANT USAGE ON SCHEMA signed TO ${quoteIdent(app)};
    GRANT SELECT ON signed.orders TO ${quoteIdent(app)};`);
  await client.query("RESET ROLE");
}

interface SignedQuery {
  readonly name: string;
  /** SQL on `app.orders`; the signed variant reads `signed.orders`. */
  readonly sql: string;
  params(rowsPerTenant: number): unknown[];
}

const QUERIES: readonly SignedQuery[] = [
  {
    name: "point lookup by id",
    sql: "SELECT * FROM app.orders WHERE id = $1",
    params: (rows) => [1 + Math.floor(Math.random() * rows)],
  },
  {
    name: "latest 20 orders",
    sql: "SELECT * FROM app.orders ORDER BY created_at DESC LIMIT 20",
    params: () => [],
  },
  {
    name: "open orders aggregate",
    sql: "SELECT count(*), sum(amount) FROM app.orders WHERE status = 'open'",
    params: () => [],
  },
];

const asSigned = (sql: string) => sql.replace("app.orders", "signed.orders");

/** Prints the plain-vs-signed table and the withTenant comparison. */
export async function signedOverhead(
  appUrl: string,
  tenants: readonly string[],
  iterations: number,
  rowsPerTenant: number,
): Promise<void> {
  const client = new pg.Client({ connectionString: appUrl });
  await client.connect();
  console.log(`\nsigned tenant context vs plain, ${iterations} pairs per query, same transaction`);
  console.log("query                     plain median   signed median   ratio (median of paired)");
  const ratios: number[] = [];
  for (const query of QUERIES) {
    const plain: number[] = [];
    const signed: number[] = [];
    const paired: number[] = [];
    for (let i = 0; i < iterations + 200; i++) {
      const tenant = tenants[Math.floor(Math.random() * tenants.length)] as string;
      const params = query.params(rowsPerTenant);
      await client.query("BEGIN");
      await client.query(
        "SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_sig', $2, true)",
        [tenant, signTenantContext(tenant, BENCH_SIGNING_KEY)],
      );
      let a: number;
      let b: number;
      if (i % 2 === 0) {
        a = await time(client, query.sql, params);
        b = await time(client, asSigned(query.sql), params);
      } else {
        b = await time(client, asSigned(query.sql), params);
        a = await time(client, query.sql, params);
      }
      await client.query("COMMIT");
      if (i < 200) continue;
      plain.push(a);
      signed.push(b);
      paired.push(b / a);
    }
    ratios.push(median(paired));
    console.log(
      `${query.name.padEnd(25)} ${us(median(plain)).padStart(12)}   ${us(median(signed)).padStart(13)}   ${(median(signed) / median(plain)).toFixed(3)} (${median(paired).toFixed(3)})`,
    );
  }
  console.log(`overall median ratio (signed / plain): ${median(ratios).toFixed(3)}`);
  await client.end();
  await withTenantOverhead(appUrl, tenants, iterations);
}

/** withTenant + "latest 20 orders": plain context on app.orders vs signed on signed.orders. */
async function withTenantOverhead(
  appUrl: string,
  tenants: readonly string[],
  iterations: number,
): Promise<void> {
  const pool = new pg.Pool({ connectionString: appUrl, max: 1 });
  pool.on("error", () => undefined);
  const sql = QUERIES[1]!.sql;
  const run = async (signedMode: boolean, tenant: string) => {
    const start = process.hrtime.bigint();
    const rows = await withTenant(
      pool,
      tenant,
      async (c) => (await c.query(signedMode ? asSigned(sql) : sql)).rowCount,
      signedMode ? { signingKey: BENCH_SIGNING_KEY } : {},
    );
    if (rows !== 20) throw new Error(`expected 20 rows, got ${rows} (signed: ${signedMode})`);
    return Number(process.hrtime.bigint() - start) / 1000;
  };
  const plain: number[] = [];
  const signed: number[] = [];
  const paired: number[] = [];
  for (let i = 0; i < iterations + 200; i++) {
    const tenant = tenants[Math.floor(Math.random() * tenants.length)] as string;
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = await run(false, tenant);
      b = await run(true, tenant);
    } else {
      b = await run(true, tenant);
      a = await run(false, tenant);
    }
    if (i < 200) continue;
    plain.push(a);
    signed.push(b);
    paired.push(b / a);
  }
  await pool.end();
  console.log(
    `withTenant + "latest 20 orders" (BEGIN, set_config, query, COMMIT): plain median ${us(median(plain))}, ` +
      `signed ${us(median(signed))}; ratio of medians ${(median(signed) / median(plain)).toFixed(3)}, ` +
      `median of paired ratios ${median(paired).toFixed(3)}`,
  );
}

async function time(client: pg.Client, sql: string, params: unknown[]): Promise<number> {
  const start = process.hrtime.bigint();
  await client.query(sql, params);
  return Number(process.hrtime.bigint() - start) / 1000;
}
