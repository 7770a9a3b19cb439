/**
 * Routing records stored before the contract (contract/routing.ts) had other shapes: a stack's
 * record without `tenantId` (every field optional), the pooled path's raw driver record
 * (`slug`, `searchPath`, `quotas` beside the routing), and contract records from before
 * `version`. At start-up the control plane rewrites each of them in the contract's shape,
 * taking `tenantId` and `version` from the tenant registry (the source of truth for both), so
 * the API serves one typed record. A record that cannot be completed (its tenant is not in
 * the shared registry, or a layer lacks a required field) is kept as it is, served as null
 * until the tenant's next operation writes a new one, and reported by name.
 */
import pg from "pg";
import { routingRecordSchema, type RoutingRecord } from "../../contract/index.ts";
import { findTenant } from "../../db/registry.ts";
import { withClient } from "../../db/transaction.ts";
import type { Queryable } from "./store.ts";

/** What the registry knows of a tenant that a stored record may lack. */
export interface RegistryFacts {
  readonly tenantId: string;
  readonly version: number;
}

const DATABASE_FIELDS = ["mode", "host", "port", "database", "schema", "role", "secretRef"];
const LAYER_FIELDS = {
  storage: ["mode", "bucket", "prefix"],
  compute: ["mode", "namespace"],
  identity: ["mode", "group", "provider"],
} as const;

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

/**
 * The stored record in the contract's shape: as it is when it already parses, else rebuilt
 * from its known fields plus the registry's `tenantId` and `version`. Undefined when that is
 * not enough to make a valid record.
 */
export function upgradeStoredRouting(
  stored: unknown,
  registry: RegistryFacts | undefined,
): RoutingRecord | undefined {
  const current = routingRecordSchema.safeParse(stored);
  if (current.success) return current.data;
  const record = objectOf(stored);
  const database = objectOf(record?.["database"]);
  if (!record || !database || !registry) return undefined;
  const candidate: Record<string, unknown> = {
    database: {
      ...pick(database, DATABASE_FIELDS),
      tenantId: registry.tenantId,
      version: registry.version,
    },
    notProvisioned: record["notProvisioned"] ?? [],
  };
  for (const [layer, fields] of Object.entries(LAYER_FIELDS)) {
    const value = objectOf(record[layer]);
    if (value) candidate[layer] = pick(value, fields);
  }
  const upgraded = routingRecordSchema.safeParse(candidate);
  return upgraded.success ? upgraded.data : undefined;
}

export interface RoutingUpgrade {
  /** Tenants whose stored record was rewritten in the contract's shape. */
  readonly upgraded: readonly string[];
  /** Tenants whose stored record could not be completed (kept, served as null). */
  readonly kept: readonly string[];
}

/**
 * Rewrites every stored routing record that is not in the contract's shape. Safe to run from
 * several processes at once: a row is only replaced if it still holds the record read (an
 * operation that wrote a new record meanwhile wins).
 */
export async function upgradeStoredRoutings(
  control: Queryable,
  sharedDatabaseUrl: string,
): Promise<RoutingUpgrade> {
  const { rows } = await control.query<{ slug: string; routing: unknown }>(
    "SELECT slug, routing FROM control_plane.tenants WHERE routing IS NOT NULL ORDER BY slug",
  );
  const legacy = rows.filter((row) => !routingRecordSchema.safeParse(row.routing).success);
  if (legacy.length === 0) return { upgraded: [], kept: [] };
  const upgraded: string[] = [];
  const kept: string[] = [];
  await withClient(pg, sharedDatabaseUrl, async (shared) => {
    for (const row of legacy) {
      const registered = await findTenant(shared, row.slug);
      const record = upgradeStoredRouting(
        row.routing,
        registered && { tenantId: registered.id, version: registered.routingVersion },
      );
      if (!record) {
        kept.push(row.slug);
        continue;
      }
      const { rowCount } = await control.query(
        `UPDATE control_plane.tenants SET routing = $2::jsonb
          WHERE slug = $1 AND routing = $3::jsonb`,
        [row.slug, JSON.stringify(record), JSON.stringify(row.routing)],
      );
      if (rowCount === 1) upgraded.push(row.slug);
    }
  });
  return { upgraded, kept };
}
