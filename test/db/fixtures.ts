/** Helpers shared by the db tests: a bootstrapped database and pools logged in as its roles. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { bootstrapDatabase, type BootstrapResult } from "../../db/bootstrap.ts";
import { createTenantDatabaseDriver, type TenantDatabaseDriver } from "../../db/drivers/index.ts";
import type { DriverOptions } from "../../db/drivers/types.ts";
import { migrateAll } from "../../db/migrations/migrateAll.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  loadMigrationDirectory,
  type TenantMigration,
} from "../../db/migrations/migrationSet.ts";
import { protectDatabase } from "../../db/protect.ts";
import { withTenant } from "../../db/tenantContext.ts";
import type { TestDatabase } from "../support/postgres.ts";

/** URL of `url` logged in as another role. */
export function loginUrl(url: string, role: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = password;
  return parsed.toString();
}

export interface Bootstrapped extends BootstrapResult {
  readonly appPassword: string;
  readonly auditPassword: string;
  /** A pool logged in as the application role; ended by `close`. */
  readonly appPool: pg.Pool;
  close(): Promise<void>;
}

/** Bootstraps the test database with roles named after its prefix. */
export async function bootstrapped(db: TestDatabase, appPoolMax = 4): Promise<Bootstrapped> {
  const appPassword = randomBytes(9).toString("hex");
  const auditPassword = randomBytes(9).toString("hex");
  const result = await withAdmin(db, (client) =>
    bootstrapDatabase(client, { rolePrefix: db.rolePrefix, appPassword, auditPassword }),
  );
  const appPool = new pg.Pool({
    connectionString: loginUrl(db.url, result.roles.app, appPassword),
    max: appPoolMax,
  });
  return {
    ...result,
    appPassword,
    auditPassword,
    appPool,
    close: () => appPool.end(),
  };
}

/** Runs `fn` on a dedicated superuser client of the test database. */
export async function withAdmin<T>(
  db: TestDatabase,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates application tables in the shared schema as the owner role (like a migration). */
export async function createAsOwner(db: TestDatabase, owner: string, sql: string): Promise<void> {
  await withAdmin(db, async (client) => {
    await client.query("BEGIN");
    await client.query(`SET LOCAL ROLE "${owner}"`);
    await client.query("SET LOCAL search_path = app");
    await client.query(sql);
    await client.query("COMMIT");
  });
}

/**
 * Bootstraps the test database, creates `tables` in the shared schema as the owner (like a
 * migration) and protects the database (RLS on every table with a tenant_id), as an
 * application's database is set up.
 */
export async function protectedApp(
  db: TestDatabase,
  tables: string,
  appPoolMax = 4,
): Promise<Bootstrapped> {
  const env = await bootstrapped(db, appPoolMax);
  await createAsOwner(db, env.roles.owner, tables);
  await withAdmin(db, (c) => protectDatabase(c));
  return env;
}

/**
 * Runs `sql` on a connection of `pool` in one transaction after setting raw GUC values
 * (`set_config(name, value, true)`), bypassing the tenant context library: what SQL injected
 * into the application could do.
 */
export async function queryWithSettings<T extends pg.QueryResultRow>(
  pool: pg.Pool,
  settings: Readonly<Record<string, string>>,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    for (const [name, value] of Object.entries(settings)) {
      await client.query("SELECT set_config($1, $2, true)", [name, value]);
    }
    const { rows } = await client.query<T>(sql, params);
    await client.query("COMMIT");
    return rows;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

/** A random uuid. */
export function uuid(): string {
  return crypto.randomUUID();
}

/**
 * The shipped tenant migrations applied to the file's (bootstrapped) database, the driver
 * options that name them, and a driver provisioning with them.
 */
export async function shippedMigrationsDriver(db: TestDatabase): Promise<{
  readonly options: DriverOptions & { readonly migrations: readonly TenantMigration[] };
  readonly driver: TenantDatabaseDriver;
}> {
  const migrations = await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR);
  await migrateAll({ url: db.url, migrations, rolePrefix: db.rolePrefix });
  const options = {
    adminUrl: db.url,
    rolePrefix: db.rolePrefix,
    databasePrefix: db.name,
    migrations,
  };
  return { options, driver: createTenantDatabaseDriver(options) };
}

export interface ShippedMigrationsEnv {
  readonly env: Bootstrapped;
  readonly driver: TenantDatabaseDriver;
  readonly options: DriverOptions & { readonly migrations: readonly TenantMigration[] };
}

/**
 * Registers beforeAll/afterAll on `db` (from useTestDatabase): bootstrapped, the shipped
 * migrations applied. The handle gives the application pool's environment and a driver that
 * provisions with those migrations once the hooks ran; the pool is closed after the tests.
 */
export function useShippedMigrations(
  db: { readonly current: TestDatabase },
  appPoolMax = 4,
): ShippedMigrationsEnv {
  let ready: ShippedMigrationsEnv | undefined;
  const current = (): ShippedMigrationsEnv => {
    if (!ready) throw new Error("useShippedMigrations: used before its beforeAll ran");
    return ready;
  };
  beforeAll(async () => {
    const env = await bootstrapped(db.current, appPoolMax);
    ready = { env, ...(await shippedMigrationsDriver(db.current)) };
  });
  afterAll(async () => {
    await ready?.env.close();
  });
  return {
    get env() {
      return current().env;
    },
    get driver() {
      return current().driver;
    },
    get options() {
      return current().options;
    },
  };
}

/** `projects` projects of the shipped migrations for `tenantId`, one task each. */
export async function seedProjectsWithTasks(
  appPool: pg.Pool,
  tenantId: string,
  projects: number,
): Promise<void> {
  await withTenant(appPool, tenantId, (c) =>
    c.query(
      `WITH p AS (INSERT INTO projects (name) SELECT 'p-' || g FROM generate_series(1, $1::int) g RETURNING id)
       INSERT INTO tasks (project_id, title) SELECT id, 'task' FROM p`,
      [projects],
    ),
  );
}
