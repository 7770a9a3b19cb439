/**
 * `tenancy db migrate`: the tenant migration set applied everywhere tenant data lives — the
 * shared schema and every `tenant_*` schema of the control database, then the shared schema
 * of every dedicated tenant database in the registry.
 */
import pg from "pg";
import { DEFAULT_SHARED_SCHEMA, PLATFORM_SCHEMA } from "../identifiers.ts";
import { listTenants } from "../registry.ts";
import { withClient, withDatabaseName, type Queryable } from "../transaction.ts";
import {
  migrateSchemas,
  type MigrateSchemasOptions,
  type MigrateSummary,
  type SchemaResult,
} from "./migrateSchemas.ts";

/** The shared schema (when it exists) and every `tenant_*` schema, in name order. */
export async function discoverMigrationTargets(
  client: Queryable,
  sharedSchema: string = DEFAULT_SHARED_SCHEMA,
): Promise<string[]> {
  const { rows } = await client.query<{ schema: string }>(
    `SELECT nspname AS schema FROM pg_catalog.pg_namespace
      WHERE nspname = $1 OR nspname LIKE 'tenant\\_%' ORDER BY nspname = $1 DESC, nspname`,
    [sharedSchema],
  );
  return rows.map((r) => r.schema);
}

export type MigrateAllOptions = Omit<MigrateSchemasOptions, "schemas"> & {
  readonly sharedSchema?: string;
  /** Also migrate the dedicated databases listed in the registry. @default true */
  readonly dedicated?: boolean;
};

/** Migrates the control database's schemas and every dedicated tenant database. */
export async function migrateAll(options: MigrateAllOptions): Promise<MigrateSummary> {
  const started = performance.now();
  const shared = options.sharedSchema ?? DEFAULT_SHARED_SCHEMA;
  const { schemas, dedicated } = await withClient(pg, options.url, async (client) => ({
    schemas: await discoverMigrationTargets(client, shared),
    dedicated:
      (options.dedicated ?? true) && (await hasRegistry(client))
        ? (await listTenants(client))
            .filter((t) => t.mode === "dedicated")
            .map((t) => t.databaseName)
        : [],
  }));
  const summaries: MigrateSummary[] = [await migrateSchemas({ ...options, schemas })];
  for (const database of dedicated) {
    if (options.signal?.aborted) break;
    summaries.push(
      await migrateSchemas({
        ...options,
        url: withDatabaseName(options.url, database),
        schemas: [shared],
        concurrency: 1,
      }),
    );
  }
  return mergeSummaries(summaries, performance.now() - started);
}

async function hasRegistry(client: Queryable): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [
    `${PLATFORM_SCHEMA}.tenants`,
  ]);
  return rows[0]?.ok === true;
}

function mergeSummaries(summaries: readonly MigrateSummary[], durationMs: number): MigrateSummary {
  const results: SchemaResult[] = summaries.flatMap((s) => s.results);
  const sum = (key: "schemas" | "applied" | "upToDate" | "failed" | "notStarted") =>
    summaries.reduce((n, s) => n + s[key], 0);
  return {
    schemas: sum("schemas"),
    applied: sum("applied"),
    upToDate: sum("upToDate"),
    failed: sum("failed"),
    notStarted: sum("notStarted"),
    durationMs: Math.round(durationMs),
    results,
  };
}
