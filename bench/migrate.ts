/**
 * Tenant migrations at scale: the shipped migration set (3 migrations: two tables with a
 * composite foreign key, indexes, a column; each schema protected afterwards) across 1,000
 * schemas, then a no-op re-run, then one more migration across all of them.
 *
 *   node --import tsx bench/migrate.ts [--schemas 1000] [--concurrency 4]
 *
 * Uses DATABASE_URL when set (a superuser URL), else starts an embedded PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { bootstrapDatabase } from "../db/bootstrap.ts";
import { migrateSchemas, type MigrateSummary } from "../db/migrations/migrateSchemas.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  defineMigrations,
  loadMigrationDirectory,
} from "../db/migrations/migrationSet.ts";
import { withDatabaseName } from "../db/transaction.ts";
import { benchServer } from "./support.ts";

const { values } = parseArgs({
  options: {
    schemas: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "4" },
  },
});
const SCHEMAS = Number(values.schemas);
const CONCURRENCY = Number(values.concurrency);

async function main(): Promise<void> {
  const server = await benchServer({ fast: true });
  const suffix = randomBytes(4).toString("hex");
  const database = `bench_migrate_${suffix}`;
  const prefix = `bench_${suffix}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabaseName(server.url, database);
  try {
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    const { roles } = await bootstrapDatabase(setup, { rolePrefix: prefix });
    const schemas = Array.from(
      { length: SCHEMAS },
      (_, i) => `tenant_b${String(i).padStart(5, "0")}`,
    );
    for (let i = 0; i < schemas.length; i += 200) {
      await setup.query(
        schemas
          .slice(i, i + 200)
          .map((s) => `CREATE SCHEMA ${s} AUTHORIZATION ${roles.owner};`)
          .join("\n"),
      );
    }
    await setup.end();
    const example = await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR);
    const run = (migrations: typeof example) =>
      migrateSchemas({ url, schemas, migrations, rolePrefix: prefix, concurrency: CONCURRENCY });

    console.log(`${SCHEMAS} schemas, concurrency ${CONCURRENCY}, ${example.length} migrations`);
    report("initial run (3 migrations + protect)", await run(example), 60_000);
    report("no-op re-run", await run(example), 5_000);
    const next = defineMigrations([
      ...example,
      {
        id: "0004_projects_archived",
        sql: "ALTER TABLE projects ADD COLUMN archived_at timestamptz",
      },
    ]);
    report("one more migration (ADD COLUMN)", await run(next), 60_000);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    for (const role of ["app", "audit", "owner"])
      await admin.query(`DROP ROLE IF EXISTS ${prefix}_${role}`);
    await admin.end();
    await server.stop();
  }
}

function report(label: string, summary: MigrateSummary, goalMs: number): void {
  const seconds = (summary.durationMs / 1000).toFixed(2);
  console.log(
    `${label.padEnd(40)} ${seconds.padStart(7)} s  (${summary.applied} migrated, ${summary.upToDate} up to date, ${summary.failed} failed; goal <= ${goalMs / 1000} s: ${summary.durationMs <= goalMs ? "met" : "MISSED"})`,
  );
  if (summary.failed > 0) {
    console.log(summary.results.find((r) => r.status === "failed")?.error);
  }
}

await main();
