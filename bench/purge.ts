/**
 * The purge of a moved tenant's old pooled rows (they carry the move's read-only guard
 * triggers during the grace period) against the same purge of an identical pooled tenant
 * that never moved (no guard), in the same run:
 *
 *   node --import tsx bench/purge.ts [--rows 200000]
 *
 * Two pooled tenants with N rows each (projects ⅓ ← tasks ⅔, composite foreign key, an
 * index); "moved" goes pool → schema with a grace period, then both purges run with
 * `purgeTenant`'s row deletion (children first, as the owner role under the tenant context):
 * "plain" first, then "moved" (`purgeMovedTenant`, force). Prints both times and the ratio.
 * Uses DATABASE_URL when set (a superuser URL), else starts an embedded PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import { bootstrapDatabase } from "../db/bootstrap.ts";
import { createTenantDatabaseDriver } from "../db/drivers/index.ts";
import { migrateAll } from "../db/migrations/migrateAll.ts";
import { DEFAULT_MIGRATIONS_DIR, loadMigrationDirectory } from "../db/migrations/migrationSet.ts";
import { moveTenant, purgeMovedTenant } from "../db/moves/moveTenant.ts";
import { purgeTenant } from "../db/purge.ts";
import { withDatabaseName } from "../db/transaction.ts";
import { benchServer } from "./support.ts";

const { values } = parseArgs({ options: { rows: { type: "string", default: "200000" } } });
const ROWS = Number(values.rows);
if (!(ROWS >= 30)) throw new Error("--rows ≥ 30");
const QUOTAS = { dbConnections: 20, statementTimeoutMs: 600_000 };

async function seed(client: pg.Client, tenantId: string, rows: number): Promise<void> {
  const projects = Math.max(1, Math.round(rows / 3));
  await client.query(
    `INSERT INTO app.projects (tenant_id, name) SELECT $1, 'p-' || g FROM generate_series(1, $2::int) g`,
    [tenantId, projects],
  );
  await client.query(
    `INSERT INTO app.tasks (tenant_id, project_id, title)
     SELECT $1, p.id, 'task' FROM app.projects p, generate_series(1, 2) WHERE p.tenant_id = $1`,
    [tenantId],
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

async function main(): Promise<void> {
  const server = await benchServer();
  const suffix = randomBytes(4).toString("hex");
  const database = `bench_purge_${suffix}`;
  const prefix = `bench_${suffix}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabaseName(server.url, database);
  try {
    const migrations = await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR);
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await bootstrapDatabase(setup, {
      rolePrefix: prefix,
      appPassword: randomBytes(12).toString("hex"),
    });
    await migrateAll({ url, migrations, rolePrefix: prefix });
    const options = { adminUrl: url, rolePrefix: prefix, databasePrefix: database, migrations };
    const driver = createTenantDatabaseDriver(options);
    const moved = (await driver.create({ slug: "moved", mode: "pool", quotas: QUOTAS })).routing;
    const plain = (await driver.create({ slug: "plain", mode: "pool", quotas: QUOTAS })).routing;
    await seed(setup, moved.tenantId, ROWS);
    await seed(setup, plain.tenantId, ROWS);
    await setup.query("VACUUM ANALYZE");
    await setup.end();
    console.log(`seeded 2 pooled tenants × ${ROWS.toLocaleString("en")} rows; load ${load()}`);

    const moveStarted = performance.now();
    await moveTenant({ ...options, slug: "moved", to: "schema", graceMs: 3_600_000 });
    console.log(
      `moved → schema (old rows kept, guarded) in ${seconds(performance.now() - moveStarted)}`,
    );

    const plainStarted = performance.now();
    const plainReport = await purgeTenant({
      adminUrl: url,
      slug: "plain",
      tenantId: plain.tenantId,
      rolePrefix: prefix,
      databasePrefix: database,
      keep: ["schema", "role", "database", "registry"],
    });
    const plainMs = performance.now() - plainStarted;
    console.log(
      `purge of plain (never moved, no guard): ${seconds(plainMs)}, verified ${plainReport.verified}; load ${load()}`,
    );

    const movedStarted = performance.now();
    const movedReport = await purgeMovedTenant({ ...options, slug: "moved", force: true });
    const movedMs = performance.now() - movedStarted;
    console.log(
      `purge of moved (old pooled rows, guarded): ${seconds(movedMs)}, verified ${movedReport?.verified}; load ${load()}`,
    );
    console.log(`ratio moved / plain: ${(movedMs / plainMs).toFixed(2)}×`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    const roles = await admin.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
      [`${prefix}\\_%`],
    );
    for (const { rolname } of roles.rows) {
      await admin.query(`DROP ROLE IF EXISTS "${rolname}"`).catch(() => undefined);
    }
    await admin.end();
    await server.stop();
  }
}

await main();
