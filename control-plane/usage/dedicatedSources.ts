/**
 * Counters the tenant context library flushed into a dedicated (silo) tenant's own database:
 * read with the same claim protocol as the shared database, one connection per database per
 * cycle. A claim's rows are deleted by the next cycle (which finds it applied), so no second
 * connection is needed. Only rows of the database's own tenant, flushed by its own role, count.
 */
import pg from "pg";
import { errorMessage, withDatabaseName } from "../../db/transaction.ts";
import { claimFlushes, type ClaimedFlushes } from "./flushClaims.ts";
import { SAMPLER_APPLICATION_NAME, type RegisteredTenant } from "./sharedSources.ts";

export interface DedicatedReading extends ClaimedFlushes {
  readonly tenant: RegisteredTenant;
}

export interface DedicatedReadings {
  readonly readings: DedicatedReading[];
  /** A database that could not be read: its counters wait for a later cycle. */
  readonly gaps: { source: string; reason: string }[];
}

/** Source name of a dedicated tenant's database (claims and gaps). */
export function dedicatedSource(slug: string): string {
  return `dedicated-database:${slug}`;
}

export async function readDedicatedCounters(
  sharedDatabaseUrl: string,
  control: pg.ClientBase,
  registry: readonly RegisteredTenant[],
): Promise<DedicatedReadings> {
  const readings: DedicatedReading[] = [];
  const gaps: { source: string; reason: string }[] = [];
  for (const tenant of registry.filter((t) => t.mode === "dedicated")) {
    const client = new pg.Client({
      connectionString: withDatabaseName(sharedDatabaseUrl, tenant.database),
      application_name: SAMPLER_APPLICATION_NAME,
      connectionTimeoutMillis: 5000,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      readings.push({ tenant, ...(await claimFlushes(client, control)) });
    } catch (error) {
      // Registered, database not bootstrapped yet (being created): nothing flushed there yet.
      if ((error as { code?: string }).code === "42P01") continue;
      gaps.push({ source: dedicatedSource(tenant.slug), reason: errorMessage(error) });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { readings, gaps };
}

/** Whether a counter row read from `tenant`'s own database may be charged to it. */
export function ownCounters(
  tenant: RegisteredTenant,
  row: { readonly tenantId: string; readonly flushedBy: string },
): boolean {
  return row.tenantId === tenant.id && row.flushedBy === tenant.role;
}
