/** Helpers shared by the db tests: a bootstrapped database and pools logged in as its roles. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { bootstrapDatabase, type BootstrapResult } from "../../db/bootstrap.ts";
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

/** A random uuid. */
export function uuid(): string {
  return crypto.randomUUID();
}
