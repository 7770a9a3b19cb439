/**
 * What the sampler reads in a dedicated (silo) tenant's own database: the counters the tenant
 * context library flushed there (the same claim protocol as the shared database), the
 * connections to it, and its size. The database is found where the tenant's routing record
 * says it is — on the aws target a server of its own, not the shared one — and read with one
 * connection per database per cycle, a few databases at a time. A claim's rows are deleted by
 * the next cycle (which finds it applied), so no second connection is needed. Only rows of the
 * database's own tenant, flushed by its own role, count.
 */
import pg from "pg";
import type { DatabaseRouting } from "../../contract/index.ts";
import { errorMessage, redactUrl, withDatabaseName } from "../../db/transaction.ts";
import { claimFlushes, type ClaimedFlushes } from "./flushClaims.ts";
import { SAMPLER_APPLICATION_NAME, type RegisteredTenant } from "./sharedSources.ts";

/** The address of a routing record the sampler needs (the stored record may be partial). */
export type RoutedAddress = Pick<
  DatabaseRouting,
  "mode" | "tenantId" | "host" | "port" | "database" | "schema" | "role"
>;

/** A dedicated tenant and where its database is read. */
export interface DedicatedTarget {
  readonly tenant: RegisteredTenant;
  /** Connection URL: the shared URL's login and parameters at the tenant's address. */
  readonly url: string;
  /** Where the address came from. */
  readonly from: "routing record" | "shared server";
}

export interface DedicatedReading extends ClaimedFlushes {
  readonly tenant: RegisteredTenant;
  /** Client connections to its database or as its role on its server (the sampler's left out). */
  readonly connections: number;
  /** `pg_database_size` of its database, when storage was due. */
  readonly storageBytes?: number;
}

export interface DedicatedReadings {
  readonly readings: DedicatedReading[];
  /** A database that could not be read: its counters wait for a later cycle. */
  readonly gaps: { source: string; reason: string; slug: string }[];
}

/** Source name of a dedicated tenant's database (claims and gaps). */
export function dedicatedSource(slug: string): string {
  return `dedicated-database:${slug}`;
}

/**
 * Where each dedicated tenant's database is read. A tenant's stored routing record (mode
 * `dedicated`, the same tenant id) gives host, port and database; without one the database is
 * taken to be on the shared server under its registry name (the local target's placement).
 * Tenants only the routing records know (on aws a dedicated tenant is registered on its own
 * server, not in the shared registry) are read too; a tenant the shared registry holds in
 * another mode is not (its record is being replaced by a move). The login and URL parameters
 * (sslmode …) are the shared URL's.
 */
export function dedicatedTargets(
  sharedDatabaseUrl: string,
  registry: readonly RegisteredTenant[],
  routings: ReadonlyMap<string, RoutedAddress>,
): DedicatedTarget[] {
  const targets: DedicatedTarget[] = [];
  const registered = new Set(registry.map((t) => t.slug));
  for (const tenant of registry) {
    if (tenant.mode !== "dedicated") continue;
    const routing = routings.get(tenant.slug);
    if (routing?.mode === "dedicated" && routing.tenantId === tenant.id) {
      targets.push({
        tenant,
        url: addressedUrl(sharedDatabaseUrl, routing),
        from: "routing record",
      });
    } else {
      targets.push({
        tenant,
        url: withDatabaseName(sharedDatabaseUrl, tenant.database),
        from: "shared server",
      });
    }
  }
  for (const [slug, routing] of routings) {
    if (registered.has(slug) || routing.mode !== "dedicated") continue;
    targets.push({
      tenant: {
        id: routing.tenantId,
        slug,
        mode: "dedicated",
        role: routing.role,
        schema: routing.schema,
        database: routing.database,
      },
      url: addressedUrl(sharedDatabaseUrl, routing),
      from: "routing record",
    });
  }
  return targets.sort((a, b) => (a.tenant.slug < b.tenant.slug ? -1 : 1));
}

function addressedUrl(sharedDatabaseUrl: string, routing: RoutedAddress): string {
  const url = new URL(withDatabaseName(sharedDatabaseUrl, routing.database));
  url.hostname = routing.host;
  url.port = String(routing.port);
  return url.toString();
}

/** Reads every target, `concurrency` databases at a time. */
export async function readDedicatedDatabases(
  targets: readonly DedicatedTarget[],
  control: pg.ClientBase,
  options: { readonly storage: boolean; readonly concurrency?: number },
): Promise<DedicatedReadings> {
  const readings: DedicatedReading[] = [];
  const gaps: { source: string; reason: string; slug: string }[] = [];
  // The reads of different databases overlap; their control-database queries (which claims
  // were applied) take turns on the one control connection.
  const controlInTurn = oneQueryAtATime(control);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < targets.length; i = next++) {
      const target = targets[i]!;
      try {
        const reading = await readOne(target, controlInTurn, options.storage);
        if (reading) readings.push(reading);
      } catch (error) {
        gaps.push({
          source: dedicatedSource(target.tenant.slug),
          reason: `${errorMessage(error)} (${redactUrl(target.url)})`,
          slug: target.tenant.slug,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, () => worker()));
  const bySlug = (a: { slug: string }, b: { slug: string }) => (a.slug < b.slug ? -1 : 1);
  readings.sort((a, b) => bySlug(a.tenant, b.tenant));
  gaps.sort(bySlug);
  return { readings, gaps };
}

/** `client`'s query, each call started after the previous one settled. */
function oneQueryAtATime(client: pg.ClientBase): Pick<pg.ClientBase, "query"> {
  let last: Promise<unknown> = Promise.resolve();
  const query = (...args: Parameters<pg.ClientBase["query"]>) => {
    const next = last.then(() =>
      (client.query as (...a: typeof args) => Promise<unknown>)(...args),
    );
    last = next.catch(() => undefined);
    return next;
  };
  return { query } as Pick<pg.ClientBase, "query">;
}

async function readOne(
  target: DedicatedTarget,
  control: Pick<pg.ClientBase, "query">,
  storage: boolean,
): Promise<DedicatedReading | undefined> {
  const client = new pg.Client({
    connectionString: target.url,
    application_name: SAMPLER_APPLICATION_NAME,
    connectionTimeoutMillis: 5000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    let flushes: ClaimedFlushes;
    try {
      flushes = await claimFlushes(client, control);
    } catch (error) {
      // Registered, database not bootstrapped yet (being created): nothing flushed there yet.
      if ((error as { code?: string }).code === "42P01") return undefined;
      throw error;
    }
    const { rows } = await client.query<{ n: number; bytes: string | null }>(
      `SELECT (SELECT count(*)::int FROM pg_catalog.pg_stat_activity
                WHERE backend_type = 'client backend' AND application_name <> $1
                  AND (datname = current_database() OR usename = $2)) AS n,
              CASE WHEN $3 THEN pg_catalog.pg_database_size(current_database())::text END AS bytes`,
      [SAMPLER_APPLICATION_NAME, target.tenant.role, storage],
    );
    const row = rows[0];
    return {
      tenant: target.tenant,
      ...flushes,
      connections: row?.n ?? 0,
      ...(row?.bytes == null ? {} : { storageBytes: Number(row.bytes) }),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a counter row read from `tenant`'s own database may be charged to it. */
export function ownCounters(
  tenant: RegisteredTenant,
  row: { readonly tenantId: string; readonly flushedBy: string },
): boolean {
  return row.tenantId === tenant.id && row.flushedBy === tenant.role;
}
