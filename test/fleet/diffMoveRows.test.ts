/**
 * `tenancy diff` on a tier move: the move is a dangerous change with the rows it would copy.
 * Offline by default (rows not counted, and the report says how to count them); with
 * `--rows-from` the rows are counted read-only in a real PostgreSQL, per tenant table, only
 * the moving tenant's rows (a pooled neighbour's rows in the same table are not counted).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../cli/diffCommand.ts";
import { createTenantDatabaseDriver } from "../../db/drivers/index.ts";
import { migrateAll } from "../../db/migrations/migrateAll.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  defineMigrations,
  loadMigrationDirectory,
} from "../../db/migrations/migrationSet.ts";
import { bootstrapped, withAdmin, type Bootstrapped } from "../db/fixtures.ts";
import { useTestDatabase, withDatabase } from "../support/postgres.ts";
import { createTestRepo, type TestRepo } from "./gitRepo.ts";

interface MoveJson {
  from: string;
  to: string;
  rows:
    | {
        counted: true;
        total: number;
        source: { mode: string };
        tables: { table: string; rows: number }[];
      }
    | { counted: false; reason: string };
}

const db = useTestDatabase();
let env: Bootstrapped;
let repo: TestRepo;
let base: string;

beforeAll(async () => {
  env = await bootstrapped(db.current);
  const migrations = [
    ...(await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR)),
    ...defineMigrations([
      {
        id: "0100_events",
        sql: "CREATE TABLE events (tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id(), id bigserial, body text NOT NULL, PRIMARY KEY (tenant_id, id));",
      },
    ]),
  ];
  await migrateAll({ url: db.current.url, migrations, rolePrefix: db.current.rolePrefix });
  const driver = createTenantDatabaseDriver({
    adminUrl: db.current.url,
    rolePrefix: db.current.rolePrefix,
    databasePrefix: db.current.name,
    migrations,
  });
  const quotas = { dbConnections: 5, statementTimeoutMs: 10_000 };
  // bluebird (free, pooled) has 5 rows, its pooled neighbour corvid-labs 3 in the same table;
  // dunlin (pro, own schema) has 4.
  const bluebird = await driver.create({ slug: "bluebird", mode: "pool", quotas });
  const corvid = await driver.create({ slug: "corvid-labs", mode: "pool", quotas });
  const dunlin = await driver.create({ slug: "dunlin", mode: "schema", quotas });
  // egret-health (pro, its own database) has 2 rows there.
  const egret = await driver.create({ slug: "egret-health", mode: "dedicated", quotas });
  await withAdmin(db.current, async (client) => {
    const insert = (table: string, id: string, n: number) =>
      client.query(
        `INSERT INTO ${table} (tenant_id, body) SELECT $1, 'e' || g FROM generate_series(1, $2) g`,
        [id, n],
      );
    await insert("app.events", bluebird.routing.tenantId, 5);
    await insert("app.events", corvid.routing.tenantId, 3);
    await insert(`${dunlin.routing.schema}.events`, dunlin.routing.tenantId, 4);
  });
  const egretDb = new pg.Client({
    connectionString: withDatabase(db.current.url, egret.routing.database),
  });
  await egretDb.connect();
  try {
    await egretDb.query(
      `INSERT INTO ${egret.routing.schema}.events (tenant_id, body) VALUES ($1, 'a'), ($1, 'b')`,
      [egret.routing.tenantId],
    );
  } finally {
    await egretDb.end();
  }
  repo = createTestRepo();
  base = repo.git("rev-parse", "HEAD").trim();
  repo.write(
    "tenants/bluebird.yaml",
    repo.read("tenants/bluebird.yaml").replace("tier: free", "tier: pro"),
  );
  repo.write(
    "tenants/dunlin.yaml",
    repo.read("tenants/dunlin.yaml") + "overrides:\n  database: dedicated\n",
  );
  repo.write(
    "tenants/egret-health.yaml",
    repo.read("tenants/egret-health.yaml").replace("  database: dedicated\n", ""),
  );
  repo.commit("bluebird to pro, dunlin to a dedicated database, egret-health back to its schema");
}, 120_000);
afterAll(async () => {
  repo?.remove();
  await env?.close();
});

/** Markdown on stdout and the complete JSON (--json-out) from one planning run. */
async function diffBoth(...argv: string[]) {
  const file = join(repo.dir, "diff.json");
  const markdown = await diff("--json-out", file, ...argv);
  return { markdown, json: moves(await readFile(file, "utf8")) };
}

async function diff(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await diffCommand(
    ["--base", base, "--head", "HEAD", ...argv],
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    { cwd: repo.dir },
  );
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return stdout;
}

function moves(stdout: string): Record<string, MoveJson | undefined> {
  const json = JSON.parse(stdout) as { tenants: { slug: string; move?: MoveJson }[] };
  return Object.fromEntries(json.tenants.map((t) => [t.slug, t.move]));
}

describe("tenancy diff: rows a tier move would copy", () => {
  it("offline (no database): the move is dangerous and its rows are 'not counted', saying how to count", async () => {
    const { markdown, json } = await diffBoth();
    expect(markdown).toContain("- `bluebird` (free → pro): isolation: database pool → schema; ");
    expect(markdown).toMatch(
      /- `dunlin` \(pro → pro\): isolation: database schema → dedicated;.* rows: not counted \(offline; pass --rows-from <postgres url of the control database> to count\)\n/,
    );
    expect(json["bluebird"]).toEqual({
      from: "pool",
      to: "schema",
      rows: {
        counted: false,
        reason: "offline; pass --rows-from <postgres url of the control database> to count",
      },
    });
    expect(json["dunlin"]).toMatchObject({
      from: "schema",
      to: "dedicated",
      rows: { counted: false },
    });
  }, 180_000);

  it("--rows-from counts the moving tenant's rows per table in its placement (read-only), in JSON and markdown", async () => {
    const before = await withAdmin(db.current, (c) =>
      c.query<{ n: number }>("SELECT count(*)::int AS n FROM app.events"),
    );
    const { markdown, json } = await diffBoth("--rows-from", db.current.url);
    const bluebird = json["bluebird"];
    expect(bluebird?.rows).toMatchObject({ counted: true, total: 5, source: { mode: "pool" } });
    expect(bluebird?.rows.counted && bluebird.rows.tables).toContainEqual({
      table: "app.events",
      rows: 5,
    });
    const dunlin = json["dunlin"];
    expect(dunlin?.rows).toMatchObject({ counted: true, total: 4, source: { mode: "schema" } });
    expect(dunlin?.rows.counted && dunlin.rows.tables).toContainEqual({
      table: "tenant_dunlin.events",
      rows: 4,
    });
    // A dedicated source is counted in its own database on the same server.
    expect(json["egret-health"]).toMatchObject({
      from: "dedicated",
      to: "schema",
      rows: { counted: true, total: 2, source: { mode: "dedicated" } },
    });
    // Tenants that do not move carry no move and are not counted.
    expect(json["corvid-labs"]).toBeUndefined();
    expect(markdown).toMatch(
      /- `bluebird` \(free → pro\): .*; rows: 5 to move from pool \(.*app\.events 5.*\)\n/,
    );
    expect(markdown).toMatch(
      /- `dunlin` \(pro → pro\): .*; rows: 4 to move from schema \(.*tenant_dunlin\.events 4.*\)\n/,
    );
    const after = await withAdmin(db.current, (c) =>
      c.query<{ n: number }>("SELECT count(*)::int AS n FROM app.events"),
    );
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  }, 180_000);

  it("--rows-from a database that cannot be read: the rows are 'not counted' with the reason, the diff still succeeds", async () => {
    const url = new URL(db.current.url);
    url.password = "wrong-password";
    url.username = `${db.current.rolePrefix}_nobody`;
    const json = moves(await diff("--json", "--rows-from", url.toString()));
    expect(json["bluebird"]?.rows).toMatchObject({ counted: false });
    expect(json["bluebird"]?.rows.counted === false && json["bluebird"].rows.reason).toMatch(
      /^cannot connect: /,
    );
  }, 180_000);
});
