import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditDatabase } from "../../db/audit.ts";
import { migrateAll } from "../../db/migrations/migrateAll.ts";
import { migrateSchemas } from "../../db/migrations/migrateSchemas.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  defineMigrations,
  loadMigrationDirectory,
  type TenantMigration,
} from "../../db/migrations/migrationSet.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { bootstrapped, withAdmin, type Bootstrapped } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let example: TenantMigration[];
const SCHEMAS = Array.from({ length: 220 }, (_, i) => `tenant_s${String(i).padStart(3, "0")}`);
const BROKEN = "tenant_s007";

beforeAll(async () => {
  env = await bootstrapped(db.current);
  example = await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR);
  await withAdmin(db.current, async (c) => {
    await c.query(
      SCHEMAS.map((s) => `CREATE SCHEMA ${s} AUTHORIZATION "${env.roles.owner}";`).join("\n"),
    );
    // A conflicting object makes migration 0002 fail in one schema only.
    await c.query(`CREATE TABLE ${BROKEN}.tasks (note text)`);
  });
}, 60_000);
afterAll(() => env.close());

const run = (migrations: readonly TenantMigration[], extra: object = {}) =>
  migrateSchemas({
    url: db.current.url,
    schemas: SCHEMAS,
    migrations,
    rolePrefix: db.current.rolePrefix,
    concurrency: 4,
    ...extra,
  });

async function ledgerIds(schema: string): Promise<string[]> {
  return withAdmin(db.current, async (c) => {
    const exists = await c.query<{ t: string | null }>("SELECT to_regclass($1) AS t", [
      `${schema}._tenancy_migrations`,
    ]);
    if (exists.rows[0]?.t === null) return [];
    const { rows } = await c.query<{ id: string }>(
      `SELECT id FROM ${schema}._tenancy_migrations ORDER BY id`,
    );
    return rows.map((r) => r.id);
  });
}

describe("tenant migrations across 220 schemas", () => {
  it("applies the set everywhere; a failing schema is rolled back alone", async () => {
    const summary = await run(example);
    expect(summary.schemas).toBe(220);
    expect(summary.applied).toBe(219);
    expect(summary.failed).toBe(1);
    const failed = summary.results.find((r) => r.status === "failed");
    expect(failed?.schema).toBe(BROKEN);
    expect(failed?.error).toMatch(/tenant_s007.*0002_tasks.*already exists/);
    expect(await ledgerIds("tenant_s008")).toEqual(example.map((m) => m.id));
    expect(await ledgerIds(BROKEN)).toEqual([]);
    await withAdmin(db.current, async (c) => {
      // 0001 ran before 0002 failed, but the whole schema transaction was rolled back.
      const { rows } = await c.query<{ t: string | null }>(
        "SELECT to_regclass('tenant_s007.projects') AS t",
      );
      expect(rows[0]?.t).toBeNull();
      // Every migrated schema is protected in the same transaction.
      const report = await auditDatabase(c, {
        rolePrefix: db.current.rolePrefix,
        schemas: ["tenant_s000", "tenant_s219"],
      });
      expect(report.findings).toEqual([]);
      expect(report.tables).toBe(4);
    });
  });

  it("a no-op re-run is fast and touches nothing; fixing the broken schema resumes it", async () => {
    const started = performance.now();
    const again = await run(example);
    const elapsed = performance.now() - started;
    expect(again.upToDate).toBe(219);
    expect(again.failed).toBe(1);
    expect(elapsed).toBeLessThan(5_000);

    await withAdmin(db.current, (c) => c.query(`DROP TABLE ${BROKEN}.tasks`));
    const fixed = await run(example);
    expect(fixed.applied).toBe(1);
    expect(fixed.results.find((r) => r.status === "applied")).toMatchObject({
      schema: BROKEN,
      applied: example.map((m) => m.id),
    });
  });

  it("an interrupted run resumes where it stopped; a killed connection loses only its schema", async () => {
    await withAdmin(db.current, async (c) => {
      await c.query("CREATE TABLE public.crash_in (schema text PRIMARY KEY)");
      await c.query(`GRANT SELECT ON public.crash_in TO "${env.roles.owner}"`);
      await c.query("INSERT INTO public.crash_in VALUES ('tenant_s150')");
    });
    const next = defineMigrations([
      ...example,
      {
        id: "0004_labels",
        sql: `CREATE TABLE labels (tenant_id uuid NOT NULL, name text NOT NULL, PRIMARY KEY (tenant_id, name));
              DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM public.crash_in WHERE schema = current_schema()) THEN
                  PERFORM pg_terminate_backend(pg_backend_pid());
                END IF;
              END $$;`,
      },
    ]);
    const controller = new AbortController();
    let done = 0;
    const first = await run(next, {
      signal: controller.signal,
      onSchema: () => {
        if (++done === 100) controller.abort();
      },
    });
    expect(first.notStarted).toBeGreaterThan(100);
    expect(first.applied + first.failed).toBeGreaterThanOrEqual(100);
    expect(first.applied + first.failed).toBeLessThan(110);

    const second = await run(next);
    expect(second.failed).toBe(1);
    expect(second.results.find((r) => r.status === "failed")?.schema).toBe("tenant_s150");
    expect(second.applied + first.applied).toBe(219);
    expect(await ledgerIds("tenant_s150")).toEqual(example.map((m) => m.id));

    await withAdmin(db.current, (c) => c.query("DELETE FROM public.crash_in"));
    const third = await run(next);
    expect(third.applied).toBe(1);
    expect(await ledgerIds("tenant_s150")).toEqual(next.map((m) => m.id));
    expect(await ledgerIds("tenant_s219")).toEqual(next.map((m) => m.id));
  });

  it("refuses a migration whose SQL changed after it was applied", async () => {
    const tampered = defineMigrations(
      example.map((m) => (m.id === "0001_projects" ? { id: m.id, sql: `${m.sql}\n-- edited` } : m)),
    );
    const summary = await run(tampered);
    expect(summary.failed).toBe(220);
    expect(summary.results[0]?.error).toMatch(/0001_projects was changed after it was applied/);
  });

  it("migrateAll discovers the shared schema and tenant schemas", async () => {
    const summary = await migrateAll({
      url: db.current.url,
      migrations: example,
      rolePrefix: db.current.rolePrefix,
    });
    expect(summary.schemas).toBe(221);
    expect(summary.results[0]).toMatchObject({ schema: "app", status: "applied" });
    expect(summary.upToDate).toBe(220);
  });
});
