/**
 * A tenant migration that fails while a schema or dedicated tenant is created: the creation
 * fails with the migration's error (one helper, db/drivers/migrateNewSchema.ts, for both
 * drivers), the tenant's schema is left without the half-applied migration, and creating the
 * tenant again with a working set completes it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantDatabaseDriver } from "../../db/drivers/index.ts";
import { defineMigrations } from "../../db/migrations/migrationSet.ts";
import { LEDGER_TABLE } from "../../db/migrations/ledger.ts";
import { withClient, withDatabaseName } from "../../db/transaction.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { bootstrapped, type Bootstrapped } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
const quotas = { dbConnections: 2, statementTimeoutMs: 1000 };

const working = defineMigrations([
  {
    id: "0001_notes",
    sql: "CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid, body text NOT NULL)",
  },
]);
const broken = defineMigrations([
  ...working,
  { id: "0002_broken", sql: "CREATE TABLE half (x int); SELECT 1 / 0" },
]);

function driver(migrations: typeof working) {
  return createTenantDatabaseDriver({
    adminUrl: db.current.url,
    rolePrefix: db.current.rolePrefix,
    databasePrefix: db.current.name,
    migrations,
  });
}

/** The tables of `schema` in the database of `url`, the migration ledger left out. */
async function tablesOf(url: string, schema: string): Promise<string[]> {
  const { rows } = await withClient(pg, url, (c) =>
    c.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename <> $2 ORDER BY 1",
      [schema, LEDGER_TABLE],
    ),
  );
  return rows.map((r) => r.name);
}

beforeAll(async () => {
  env = await bootstrapped(db.current);
});
afterAll(async () => {
  await env?.close();
});

describe("a failing tenant migration during creation", () => {
  it("schema tenant: fails with the migration's error; a retry with a working set completes", async () => {
    await expect(
      driver(broken).create({ slug: "mig-schema", mode: "schema", quotas }),
    ).rejects.toThrow(/^tenant mig-schema: .*division by zero/);
    const schema = "tenant_mig_schema";
    // One transaction per schema: the failed run applied nothing, not even 0001.
    expect(await tablesOf(db.current.url, schema)).toEqual([]);
    const done = await driver(working).create({ slug: "mig-schema", mode: "schema", quotas });
    expect(done.routing.schema).toBe(schema);
    expect(await tablesOf(db.current.url, schema)).toEqual(["notes"]);
  });

  it("dedicated tenant: fails with the migration's error; a retry with a working set completes", async () => {
    await expect(
      driver(broken).create({ slug: "mig-dedicated", mode: "dedicated", quotas }),
    ).rejects.toThrow(/^tenant mig-dedicated: .*division by zero/);
    const done = await driver(working).create({ slug: "mig-dedicated", mode: "dedicated", quotas });
    const url = withDatabaseName(db.current.url, done.routing.database);
    expect(await tablesOf(url, done.routing.schema)).toEqual(["notes"]);
  });
});
