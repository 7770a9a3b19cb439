/** Transactions on a single connection, and small helpers shared by the db modules. */
import type pg from "pg";

/** A connection that can run queries (a pg.Client or a checked-out pg.PoolClient). */
export type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Runs `fn` inside BEGIN/COMMIT on `client`, rolling back when it throws. The client must not
 * be inside a transaction already.
 */
export async function inTransaction<T>(client: Queryable, fn: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await fn();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Runs `fn` with a fresh client on `url`, always closing it. */
export async function withClient<T>(
  pgModule: typeof pg,
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pgModule.Client({ connectionString: url });
  // A connection killed between two queries must fail the next query, not end the process.
  client.on("error", () => undefined);
  await client.connect().catch((error: unknown) => {
    throw new Error(`cannot connect to ${redactUrl(url)}: ${errorMessage(error)}`);
  });
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const pools = new Map<string, pg.Pool>();

/**
 * Runs `fn` with a client from a process-wide pool on `url` (created on first use; idle
 * connections close after 10 s and never keep the process alive). For hot paths such as
 * pooled signups, where opening a connection would cost more than the work. `fn` must leave
 * no session state behind (use transactions and SET LOCAL).
 */
export async function withPooledClient<T>(
  pgModule: typeof pg,
  url: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pgModule.Pool({
      connectionString: url,
      max: 8,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
    });
    pool.on("error", () => undefined); // an idle connection closed by the server is simply dropped
    pool.on("connect", (client) => client.on("error", () => undefined)); // and a checked-out one
    pools.set(url, pool);
  }
  const client = await pool.connect().catch((error: unknown) => {
    throw new Error(`cannot connect to ${redactUrl(url)}: ${errorMessage(error)}`);
  });
  let broken = false;
  try {
    return await fn(client);
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparsable database URL>";
  }
}

/** The message of any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message || (error as { code?: string }).code || error.name;
  }
  return String(error);
}

/** The same URL pointing at another database. */
export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Whether the connected role is a superuser. */
export async function isSuperuser(client: Queryable): Promise<boolean> {
  const { rows } = await client.query<{ su: boolean }>(
    "SELECT rolsuper AS su FROM pg_catalog.pg_roles WHERE rolname = current_user",
  );
  return rows[0]?.su === true;
}

/**
 * Serializes, per server, the transactions that create or drop tenant roles, schemas and
 * their grants. PostgreSQL updates the ACLs of shared objects (the database, the shared
 * schema) in place: two such transactions at once fail with "tuple concurrently updated",
 * or deadlock. Held until the end of the calling transaction.
 */
export async function lockTenantDdl(client: Queryable): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(pg_catalog.hashtext('tenancy.tenant-ddl'))");
}

/**
 * The same lock as {@link lockTenantDdl}, held at session level for work that spans
 * several connections and databases (a dedicated tenant: register, create its database,
 * bootstrap it). Advisory locks are per database, so it is always taken on the control
 * database's connection. Released when `fn` ends, or with the connection.
 */
export async function withTenantDdlLock<T>(client: Queryable, fn: () => Promise<T>): Promise<T> {
  await client.query("SELECT pg_advisory_lock(pg_catalog.hashtext('tenancy.tenant-ddl'))");
  try {
    return await fn();
  } finally {
    await client
      .query("SELECT pg_advisory_unlock(pg_catalog.hashtext('tenancy.tenant-ddl'))")
      .catch(() => undefined);
  }
}
