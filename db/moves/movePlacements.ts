/**
 * The placements a move connects (same database: the shared schema and a tenant's own
 * schema), provisioning the target without touching the registry (the registry changes
 * only at the switch), and retiring the source: purge with proof, then the guard triggers.
 */
import pg from "pg";
import { assertNever } from "../../contract/modes.ts";
import type { DriverContext } from "../drivers/driverContext.ts";
import { generatePassword, routingFor } from "../drivers/driverContext.ts";
import { migrateNewSchema } from "../drivers/migrateNewSchema.ts";
import { createSchemaPlacement } from "../drivers/schemaDriver.ts";
import type { ProvisionResult, TenantDatabaseSpec, TenantQuotas } from "../drivers/types.ts";
import { purgeTenant, type PurgePart, type PurgeReport } from "../purge.ts";
import { findTenant, type DatabaseMode } from "../registry.ts";
import {
  inTransaction,
  lockTenantDdl,
  withClient,
  withPooledClient,
  type Queryable,
} from "../transaction.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { ensureMoveObjects, readMove, type Placement } from "./moveState.ts";

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

/**
 * The stack side of a move: a tenant's database resource asked for placement `spec.mode`
 * while the registry still has the tenant elsewhere provisions the target of the move
 * recorded for it (`prepareMove`) without touching the registry, and answers with the
 * routing the tenant will have after the switch. Undefined when no such move is recorded.
 */
export async function provisionMoveTarget(
  context: DriverContext,
  spec: TenantDatabaseSpec,
): Promise<ProvisionResult | undefined> {
  // Pooled: this runs before every create, pooled signups included.
  return withPooledClient(pg, context.adminUrl, async (client) => {
    const row = await findTenant(client, spec.slug);
    if (!row || row.mode === spec.mode) return undefined;
    await ensureMoveObjects(client, context.roles.owner);
    const move = await readMove(client, spec.slug);
    if (!move || move.phase === "switched" || move.target.mode !== spec.mode) return undefined;
    const { password } = await provisionTarget(
      client,
      context,
      move.target,
      spec.quotas,
      spec.password,
    );
    const routing = routingFor(context, {
      ...row,
      mode: move.target.mode,
      schemaName: move.target.schema,
      roleName: move.target.role,
      databaseName: move.target.database,
      routingVersion: row.routingVersion + 1,
      dbConnections: spec.quotas.dbConnections,
      statementTimeoutMs: spec.quotas.statementTimeoutMs,
    });
    return { routing, ...(password === undefined ? {} : { password }) };
  });
}

/**
 * Whether a tenant's placement in `mode` is where the registry has it (or the tenant is not
 * registered at all). A placement a move left — or a move's target that was rolled back — is
 * not: its removal belongs to the move (grace period, purge with proof), never to a stack.
 */
export async function servesTenant(
  adminUrl: string,
  slug: string,
  mode: DatabaseMode,
): Promise<boolean> {
  return withClient(pg, adminUrl, async (client) => {
    const row = await findTenant(client, slug);
    return !row || row.mode === mode;
  });
}
