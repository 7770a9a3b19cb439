/**
 * Per-test-file databases on the run's PostgreSQL server.
 *
 * `useTestDatabase()` registers beforeAll/afterAll hooks: a fresh database is created for
 * the file and dropped (WITH FORCE) after it, together with every role whose name starts
 * with the database's `rolePrefix` — roles are cluster-wide, so tests that create roles
 * must name them with that prefix to stay independent of other files running in parallel.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { bootstrapDatabase } from "../../db/bootstrap.ts";

export interface TestDatabase {
  /** Superuser URL of this file's own database. */
  readonly url: string;
  /** Name of the database (also a safe, unique prefix for roles: `${rolePrefix}_app`). */
  readonly name: string;
  readonly rolePrefix: string;
  /** A pool on `url`, closed after the file. */
  readonly pool: pg.Pool;
}

export function adminUrl(): string {
  return inject("adminDatabaseUrl");
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export async function createTestDatabase(): Promise<TestDatabase & { drop(): Promise<void> }> {
  const name = `t_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`); // name is generated hex, not input
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl(), name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  return {
    url,
    name,
    rolePrefix: name,
    pool,
    async drop() {
      await pool.end();
      await dropDatabaseAndRoles(name);
    },
  };
}

/**
 * Drops a test database, the databases named `${name}_*` (dedicated tenant databases made by
 * the file) and the roles named `${name}_*`. Databases go first so the roles own nothing.
 */
export async function dropDatabaseAndRoles(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    const databases = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2",
      [name, `${name}\\_%`],
    );
    for (const { datname } of databases.rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${quote(datname)} WITH (FORCE)`);
    }
    const roles = await admin.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
      [`${name}\\_%`],
    );
    for (const { rolname } of roles.rows) {
      await admin.query(`DROP ROLE IF EXISTS ${quote(rolname)}`);
    }
  } finally {
    await admin.end();
  }
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** One query on a connection of its own to `url`; its rows. */
export async function queryRows<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Bootstraps the test database: the platform schema and roles named after its prefix. */
export async function bootstrapTestDatabase(
  db: Pick<TestDatabase, "url" | "rolePrefix">,
): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await bootstrapDatabase(client, { rolePrefix: db.rolePrefix });
  } finally {
    await client.end();
  }
}

/** Registers hooks giving the calling test file its own database. */
export function useTestDatabase(): { readonly current: TestDatabase } {
  const holder: { current: TestDatabase } = {
    get current(): TestDatabase {
      if (!db) throw new Error("test database is only available inside tests");
      return db;
    },
  };
  let db: (TestDatabase & { drop(): Promise<void> }) | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  return holder;
}
