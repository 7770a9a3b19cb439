/**
 * The placements a move connects (same database: the shared schema and a tenant's own
 * schema), provisioning the target without touching the registry (the registry changes
 * only at the switch), and retiring the source: purge with proof, then the guard triggers.
 */
import { assertNever } from "../../contract/modes.ts";
import type { DriverContext } from "../drivers/driverContext.ts";
import { generatePassword } from "../drivers/driverContext.ts";
import { migrateNewSchema } from "../drivers/migrateNewSchema.ts";
import { createSchemaPlacement } from "../drivers/schemaDriver.ts";
import type { TenantQuotas } from "../drivers/types.ts";
import { purgeTenant, type PurgePart, type PurgeReport } from "../purge.ts";
import type { DatabaseMode } from "../registry.ts";
import { inTransaction, lockTenantDdl, type Queryable } from "../transaction.ts";
import { TenantMoveError } from "./moveErrors.ts";
import type { Placement } from "./moveState.ts";

/** The placement of `slug` in `mode` (pool or schema) in the control database. */
export function placementOf(context: DriverContext, slug: string, mode: DatabaseMode): Placement {
  const names = context.names(slug);
  switch (mode) {
    case "pool":
      return {
        mode,
        schema: context.sharedSchema,
        role: context.roles.app,
        database: context.controlDatabase,
      };
    case "schema":
      return { mode, schema: names.schema, role: names.role, database: context.controlDatabase };
    case "dedicated":
      throw new TenantMoveError(
        `moving tenant ${slug} to or from a dedicated database is not supported yet (pool ↔ schema only)`,
        "direction-unsupported",
      );
    default:
      return assertNever(mode, "database mode");
  }
}

/**
 * Makes the target ready to receive rows: for a schema, its role (with a new password,
 * returned), schema, grants and migrations — idempotent, so a resumed move re-runs it.
 * The shared schema (pool) exists already.
 */
export async function provisionTarget(
  client: Queryable,
  context: DriverContext,
  target: Placement,
  quotas: TenantQuotas,
  chosenPassword?: string,
): Promise<{ password?: string }> {
  if (target.mode === "pool") return {};
  const password = chosenPassword ?? generatePassword();
  await inTransaction(client, async () => {
    await lockTenantDdl(client);
    await createSchemaPlacement(client, context, target, quotas, password);
  });
  await migrateNewSchema(
    context,
    { url: context.adminUrl, schema: target.schema },
    (reason) =>
      new TenantMoveError(
        `provisioning schema ${target.schema}: ${reason}`,
        "target-provision-failed",
      ),
  );
  return { password };
}

/**
 * Removes one placement of a tenant with the purge proof, keeping everything else: the
 * rows in the shared tables (pool), or the tenant's schema and role (schema).
 */
export async function purgePlacement(
  context: DriverContext,
  slug: string,
  tenantId: string,
  placement: Placement,
): Promise<PurgeReport> {
  const keep: PurgePart[] =
    placement.mode === "pool"
      ? ["schema", "role", "database", "registry"]
      : ["rows", "database", "registry"];
  return purgeTenant({
    adminUrl: context.adminUrl,
    slug,
    tenantId,
    rolePrefix: context.rolePrefix,
    databasePrefix: context.databasePrefix,
    keep,
  });
}
