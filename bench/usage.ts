/**
 * Usage collection at fleet size: one sampler cycle over N tenants (default 5,000: pooled,
 * plus `--schema-tenants` bridge schemas and `--dedicated-tenants` silo databases), every
 * tenant with counters flushed by the tenant context library since the last cycle and rows in
 * its tables. A dedicated tenant has a database of its own (bootstrapped, its own role) on the
 * same server, reached through the address of its stored routing record, with a counter row
 * flushed by its role before every cycle. Prints the cycle time with a storage sample (hourly)
 * and without (the other cycles), and the read queries.
 *
 *   node --import tsx bench/usage.ts [--tenants 5000] [--schema-tenants 200]
 *        [--dedicated-tenants 50] [--rows-per-tenant 20] [--cycles 3]
 *
 * Uses DATABASE_URL when set (a superuser URL), else starts an embedded PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadCatalog } from "../catalog/index.ts";
import { tenantsOverBudget } from "../control-plane/usage/fitQuery.ts";
import { runUsageCycle, type UsageCycleReport } from "../control-plane/usage/usageCycle.ts";
import { readSeries, topTenants } from "../control-plane/usage/usageQueries.ts";
import { migrateControlPlane } from "../control-plane/store/migrations.ts";
import { bootstrapDatabase } from "../db/bootstrap.ts";
import { migrateSchemas } from "../db/migrations/migrateSchemas.ts";
import { DEFAULT_MIGRATIONS_DIR, loadMigrationDirectory } from "../db/migrations/migrationSet.ts";
import { quoteIdent } from "../db/identifiers.ts";
import { withClient, withDatabaseName } from "../db/transaction.ts";
import { withTenant } from "../db/tenantContext.ts";
import { createUsageRecorder } from "../db/usage/usageRecorder.ts";
import { benchServer } from "./support.ts";

const { values } = parseArgs({
  options: {
    tenants: { type: "string", default: "5000" },
    "schema-tenants": { type: "string", default: "200" },
    "dedicated-tenants": { type: "string", default: "50" },
    "rows-per-tenant": { type: "string", default: "20" },
    cycles: { type: "string", default: "3" },
  },
});
const TENANTS = Number(values.tenants);
const SCHEMA_TENANTS = Number(values["schema-tenants"]);
const DEDICATED_TENANTS = Number(values["dedicated-tenants"]);
const POOLED_TENANTS = TENANTS - SCHEMA_TENANTS - DEDICATED_TENANTS;
if (!(POOLED_TENANTS >= 0))
  throw new Error("--tenants must cover the schema and dedicated tenants");
const ROWS = Number(values["rows-per-tenant"]);
const CYCLES = Number(values.cycles);

async function main(): Promise<void> {
  const server = await benchServer({ fast: true });
  const suffix = randomBytes(4).toString("hex");
  const control = `bench_usage_cp_${suffix}`;
  const shared = `bench_usage_sh_${suffix}`;
  const prefix = `bench_${suffix}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${control}`);
  await admin.query(`CREATE DATABASE ${shared}`);
  const controlUrl = withDatabaseName(server.url, control);
  const sharedUrl = withDatabaseName(server.url, shared);
  const controlPool = new pg.Pool({ connectionString: controlUrl, max: 4 });
  controlPool.on("error", () => undefined); // idle connections ended by the DROP below
  const password = randomBytes(12).toString("hex");
  const dedicated = Array.from({ length: DEDICATED_TENANTS }, (_, i) => ({
    slug: `d${i}`,
    role: `${prefix}_d${i}`,
    database: `bench_usage_d${i}_${suffix}`,
  }));
  try {
    const t0 = performance.now();
    await migrateControlPlane(controlPool);
    const setup = new pg.Client({ connectionString: sharedUrl });
    await setup.connect();
    const { roles } = await bootstrapDatabase(setup, { rolePrefix: prefix, appPassword: password });
    const migrations = await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR);
    const schemaNames = Array.from({ length: SCHEMA_TENANTS }, (_, i) => `tenant_s${i}`);
    for (const schema of ["app", ...schemaNames]) {
      if (schema !== "app")
        await setup.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${roles.owner}`);
    }
    await migrateSchemas({
      url: sharedUrl,
      schemas: ["app", ...schemaNames],
      migrations,
      rolePrefix: prefix,
    });
    // Registry and control-plane rows: pooled tenants p0.., schema tenants s0.., dedicated d0..
    await setup.query(
      `INSERT INTO tenancy.tenants (slug, mode, schema_name, role_name, database_name, db_connections, statement_timeout_ms)
       SELECT 'p' || g, 'pool', 'app', $2, $3, 3, 5000 FROM generate_series(0, $1 - 1) g
       UNION ALL
       SELECT 's' || g, 'schema', 'tenant_s' || g, $2, $3, 20, 15000 FROM generate_series(0, $4 - 1) g
       UNION ALL
       SELECT d.slug, 'dedicated', 'app', d.role, d.db, 50, 30000
         FROM unnest($5::text[], $6::text[], $7::text[]) AS d(slug, role, db)`,
      [
        POOLED_TENANTS,
        roles.app,
        shared,
        SCHEMA_TENANTS,
        dedicated.map((d) => d.slug),
        dedicated.map((d) => d.role),
        dedicated.map((d) => d.database),
      ],
    );
    await controlPool.query(
      `INSERT INTO control_plane.tenants (slug, name, tier, source, spec, resolved, state)
       SELECT slug, slug, CASE mode WHEN 'pool' THEN 'free' WHEN 'schema' THEN 'pro' ELSE 'enterprise' END,
              'api', '{}', '{}', 'active'
         FROM unnest($1::text[], $2::text[]) AS x(slug, mode)`,
      [
        [
          ...Array.from({ length: POOLED_TENANTS }, (_, i) => `p${i}`),
          ...schemaNames.map((_, i) => `s${i}`),
          ...dedicated.map((d) => d.slug),
        ],
        [
          ...Array<string>(POOLED_TENANTS).fill("pool"),
          ...Array<string>(SCHEMA_TENANTS).fill("schema"),
          ...Array<string>(DEDICATED_TENANTS).fill("dedicated"),
        ],
      ],
    );
    await createDedicatedDatabases(setup, server.url, prefix, dedicated);
    const { rows: registry } = await setup.query<{
      id: string;
      slug: string;
      mode: string;
      schema: string;
    }>("SELECT id::text, slug, mode, schema_name AS schema FROM tenancy.tenants ORDER BY slug");
    await setup.query(
      `INSERT INTO app.projects (tenant_id, name)
       SELECT t.id, 'project ' || g FROM tenancy.tenants t, generate_series(1, $1) g WHERE t.mode = 'pool'`,
      [ROWS],
    );
    for (const t of registry.filter((r) => r.mode === "schema")) {
      await setup.query(
        `INSERT INTO ${t.schema}.projects (tenant_id, name) SELECT $1, 'project ' || g FROM generate_series(1, $2) g`,
        [t.id, ROWS],
      );
    }
    // Their routing records: the sampler reads each dedicated database at this address.
    const address = new URL(server.url);
    for (const t of registry.filter((r) => r.mode === "dedicated")) {
      const d = dedicated.find((x) => x.slug === t.slug)!;
      const routing = {
        database: {
          mode: "dedicated",
          tenantId: t.id,
          host: address.hostname,
          port: Number(address.port || 5432),
          database: d.database,
          schema: "app",
          role: d.role,
          version: 1,
        },
        notProvisioned: [],
      };
      await controlPool.query("UPDATE control_plane.tenants SET routing = $2 WHERE slug = $1", [
        t.slug,
        JSON.stringify(routing),
      ]);
    }
    await setup.query("ANALYZE");
    await setup.end();
    console.log(
      `set up ${TENANTS} tenants (${SCHEMA_TENANTS} schema, ${DEDICATED_TENANTS} dedicated databases), ${ROWS} rows each, in ${seconds(t0)} s`,
    );

    const appUrl = new URL(sharedUrl);
    appUrl.username = roles.app;
    appUrl.password = password;
    const appPool = new pg.Pool({ connectionString: appUrl.toString(), max: 4 });
    appPool.on("error", () => undefined);
    const usage = createUsageRecorder({ pool: appPool, flushEveryMs: 0 });
    const pooled = registry.filter((r) => r.mode === "pool");
    /** Every tenant active since the last cycle: a few real transactions, API calls for all. */
    const workload = async () => {
      for (let i = 0; i < 200; i++) {
        const t = pooled[(i * 37) % pooled.length]!;
        await withTenant(appPool, t.id, (c) => c.query("SELECT count(*) FROM projects"), { usage });
      }
      for (const t of registry) {
        if (t.mode !== "dedicated") usage.countApiCall(t.id, 1 + (t.id.charCodeAt(0) % 7));
      }
      const flushed = performance.now();
      const written = await usage.flush();
      const flushMs = performance.now() - flushed;
      // Each dedicated tenant's application flushes into its own database, as its own role.
      for (const t of registry.filter((r) => r.mode === "dedicated")) {
        const d = dedicated.find((x) => x.slug === t.slug)!;
        await withClient(pg, withDatabaseName(server.url, d.database), async (c) => {
          await c.query(`SET ROLE ${quoteIdent(d.role)}`);
          await c.query(
            `INSERT INTO tenancy.usage_flush (tenant_id, statements, statement_us, rows_read,
               rows_written, transactions, api_calls, peak_concurrency)
             VALUES ($1, 10, 5000, 40, 2, 5, 3, 1)`,
            [t.id],
          );
        });
      }
      return { written: written + DEDICATED_TENANTS, flushMs };
    };
    const options = {
      controlDatabaseUrl: controlUrl,
      sharedDatabaseUrl: sharedUrl,
      rolePrefix: prefix,
    };
    const withStorage: UsageCycleReport[] = [];
    const withoutStorage: UsageCycleReport[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const flush = await workload();
      const report = await runUsageCycle({ ...options, storageEverySeconds: 0 });
      withStorage.push(report);
      const flush2 = await workload();
      const light = await runUsageCycle({ ...options, storageEverySeconds: 3600 });
      withoutStorage.push(light);
      console.log(
        `cycle ${i + 1}: with storage ${report.seconds.toFixed(2)} s (${report.claimedRows} flushed rows, ` +
          `${report.tenants} tenants); without storage ${light.seconds.toFixed(2)} s; ` +
          `flush of ${flush.written} / ${flush2.written} tenants ${flush.flushMs.toFixed(0)} / ${flush2.flushMs.toFixed(0)} ms`,
      );
      if (report.gaps.length + light.gaps.length > 0) throw new Error("a cycle left a gap");
    }
    const median = (list: UsageCycleReport[]) =>
      [...list.map((r) => r.seconds)].sort((a, b) => a - b)[list.length >> 1]!;
    console.log(
      `\ncycle time for ${TENANTS} tenants: median ${median(withStorage).toFixed(2)} s with storage, ` +
        `${median(withoutStorage).toFixed(2)} s without (goal <= 5 s)`,
    );

    const now = new Date();
    const hourAgo = new Date(now.getTime() - 3600_000);
    let started = performance.now();
    const top = await topTenants(controlPool, "apiCalls", hourAgo, now, 20);
    console.log(
      `top 20 by apiCalls over the last hour: ${(performance.now() - started).toFixed(0)} ms (${top.length} rows)`,
    );
    started = performance.now();
    await readSeries(controlPool, "p1", new Date(now.getTime() - 86_400_000), now, "5m");
    console.log(`one tenant's 24 h series at 5m: ${(performance.now() - started).toFixed(0)} ms`);
    const loaded = await loadCatalog("tenants");
    if (!loaded.ok) throw new Error("the example catalog is invalid");
    started = performance.now();
    const fits = await tenantsOverBudget(controlPool, loaded.catalog.tiers, hourAgo, now, 3);
    console.log(
      `tier fit over the last hour: ${(performance.now() - started).toFixed(0)} ms (${fits.length} tenants over budget)`,
    );
    await usage.stop();
    await appPool.end();
  } finally {
    await controlPool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${control} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${shared} WITH (FORCE)`);
    for (const d of dedicated) {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(d.database)} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(d.role)}`);
    }
    for (const role of ["app", "audit", "owner"])
      await admin.query(`DROP ROLE IF EXISTS ${prefix}_${role}`);
    await admin.end();
    await server.stop();
  }
}

/** Each dedicated tenant's database, bootstrapped like a dedicated signup's, usable by its role. */
async function createDedicatedDatabases(
  setup: pg.Client,
  serverUrl: string,
  prefix: string,
  dedicated: readonly { role: string; database: string }[],
): Promise<void> {
  for (const d of dedicated) {
    await setup.query(`CREATE ROLE ${quoteIdent(d.role)} NOLOGIN`);
    await setup.query(
      `CREATE DATABASE ${quoteIdent(d.database)} OWNER ${quoteIdent(`${prefix}_owner`)} TEMPLATE template0`,
    );
    await withClient(pg, withDatabaseName(serverUrl, d.database), (c) =>
      bootstrapDatabase(c, {
        rolePrefix: prefix,
        applicationRoles: [d.role],
        registry: false,
        revokePublicConnect: true,
      }),
    );
  }
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

await main();
