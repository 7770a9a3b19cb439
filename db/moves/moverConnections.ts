/**
 * The mover's connections: one to the control database (the move's record, the registry, and
 * the source and target when they live there) holding the per-tenant move lock, and one more
 * per other database a move touches (a dedicated database), opened when first needed.
 *
 * Every mover session: superuser, `session_replication_role = replica` (no foreign-key or
 * user triggers on the target while it converges), a dead-client check every second (PG 14+:
 * a mover killed while its session waits, e.g. inside the write fence, is noticed and its
 * fence dies with it), application_name `tenancy-move:<slug>`.
 */
import pg from "pg";
import { errorMessage, redactUrl, withDatabaseName } from "../transaction.ts";
import { TenantMoveError } from "./moveErrors.ts";

export interface MoverConnections {
  /** The control database's session (holds the move lock). */
  readonly control: pg.Client;
  /** The session on `database` (the control session for the control database). */
  on(database: string): Promise<pg.Client>;
}

async function openMoverSession(url: string, slug: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: `tenancy-move:${slug}` });
  client.on("error", () => undefined);
  await client.connect().catch((error: unknown) => {
    throw new Error(`cannot connect to ${redactUrl(url)}: ${errorMessage(error)}`);
  });
  try {
    await client.query("SET session_replication_role = replica");
    await client.query(
      "SELECT set_config('client_connection_check_interval', '1000', false) WHERE current_setting('server_version_num')::int >= 140000",
    );
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** Runs `fn` with the mover's connections, holding the per-tenant move lock (one mover per tenant). */
export async function withMoverConnections<T>(
  adminUrl: string,
  controlDatabase: string,
  slug: string,
  fn: (connections: MoverConnections) => Promise<T>,
): Promise<T> {
  const control = await openMoverSession(adminUrl, slug);
  const others = new Map<string, Promise<pg.Client>>();
  try {
    const { rows } = await control.query<{ locked: boolean }>(
      "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('tenancy.move'), pg_catalog.hashtext($1)) AS locked",
      [slug],
    );
    if (!rows[0]?.locked) {
      throw new TenantMoveError(`a move of tenant ${slug} is already running`, "move-running");
    }
    return await fn({
      control,
      on(database) {
        if (database === controlDatabase) return Promise.resolve(control);
        let session = others.get(database);
        if (!session) {
          session = openMoverSession(withDatabaseName(adminUrl, database), slug);
          session.catch(() => others.delete(database));
          others.set(database, session);
        }
        return session;
      },
    });
  } finally {
    for (const session of others.values()) {
      await session.then((c) => c.end()).catch(() => undefined);
    }
    await control.end().catch(() => undefined);
  }
}
