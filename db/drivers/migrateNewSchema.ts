/**
 * The last step of every placement that gets a schema of its own (a schema tenant, a dedicated
 * database, the target of a move): apply the tenant migrations to that one schema, and fail
 * with the failing migration's error. The schema's transaction is rolled back on failure
 * (db/migrations/migrateSchemas.ts), so a retry starts from where it was.
 */
import { migrateSchemas } from "../migrations/migrateSchemas.ts";
import type { DriverContext } from "./driverContext.ts";

export interface NewSchema {
  /** URL of the database holding the schema (the control database, or a dedicated one). */
  readonly url: string;
  readonly schema: string;
}

/**
 * Migrates `target.schema`; on failure throws `failure(reason)`, where `reason` is the
 * migration's error.
 */
export async function migrateNewSchema(
  context: DriverContext,
  target: NewSchema,
  failure: (reason: string) => Error,
): Promise<void> {
  const summary = await migrateSchemas({
    url: target.url,
    schemas: [target.schema],
    migrations: await context.migrations(),
    rolePrefix: context.rolePrefix,
    concurrency: 1,
  });
  const failed = summary.results.find((r) => r.status === "failed");
  if (failed) throw failure(failed.error ?? "migration failed");
}

/** The error of a tenant's creation whose migrations failed: `tenant <slug>: <reason>`. */
export function tenantCreationFailed(slug: string): (reason: string) => Error {
  return (reason) => new Error(`tenant ${slug}: ${reason}`);
}
