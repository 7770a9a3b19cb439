/**
 * The placements a move connects (the shared schema and a tenant's own schema in the control
 * database, and a tenant's own database on the same server), provisioning the target without
 * touching the registry (the registry changes only at the switch), and retiring the source:
 * purge with proof, then the guard triggers.
 */
import pg from "pg";
import { assertNever } from "../../contract/modes.ts";
import type { DriverContext } from "../drivers/driverContext.ts";
import { generatePassword, routingFor } from "../drivers/driverContext.ts";
import { migrateNewSchema } from "../drivers/migrateNewSchema.ts";
import { createDedicatedDatabase } from "../drivers/dedicatedDriver.ts";
import { createSchemaPlacement } from "../drivers/schemaDriver.ts";
import { ensureTenantRole } from "../drivers/tenantRole.ts";
import type { ProvisionResult, TenantDatabaseSpec, TenantQuotas } from "../drivers/types.ts";
import { purgeTenant, type PurgePart, type PurgeReport } from "../purge.ts";
import { findTenant, type DatabaseMode } from "../registry.ts";
import {
  inTransaction,
  lockTenantDdl,
  withClient,
  withPooledClient,
  withTenantDdlLock,
  type Queryable,
} from "../transaction.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { ensureMoveObjects, readMove, type Placement } from "./moveState.ts";

/** The placement of `slug` in `mode`: the names its driver gives it. */
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
      return { mode, schema: context.sharedSchema, role: names.role, database: names.database };
    default:
      return assertNever(mode, "database mode");
  }
}

/**
 * Makes the target ready to receive rows: for a schema, its role (with a new password,
 * returned), schema, grants and migrations; for a dedicated database, its role (new
 * password, returned), database, bootstrap and migrations — idempotent, so a resumed move
 * re-runs it. The shared schema (pool) exists already. A schema and a dedicated placement of
 * one tenant share its role: moving between them gives it the new password.
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
  const failed = (reason: string) =>
    new TenantMoveError(
      `provisioning ${target.mode} ${target.mode === "dedicated" ? target.database : target.schema}: ${reason}`,
      "target-provision-failed",
    );
  if (target.mode === "dedicated") {
    await withTenantDdlLock(client, async () => {
      await inTransaction(client, async () => {
        await lockTenantDdl(client);
        await ensureTenantRole(client, target.role, target.schema, quotas, password);
      });
      await createDedicatedDatabase(client, context, target, failed);
    });
    return { password };
  }
  await inTransaction(client, async () => {
    await lockTenantDdl(client);
    await createSchemaPlacement(client, context, target, quotas, password);
  });
  await migrateNewSchema(context, { url: context.adminUrl, schema: target.schema }, failed);
  return { password };
}

/**
 * Removes one placement of a tenant with the purge proof, keeping everything else: the
 * rows in the shared tables (pool), the tenant's schema and role (schema), or its database
 * and role (dedicated). The role stays when `other` — the move's other end — uses it too (a
 * schema and a dedicated placement of one tenant share its role).
 */
export async function purgePlacement(
  context: DriverContext,
  slug: string,
  tenantId: string,
  placement: Placement,
  other: Placement,
): Promise<PurgeReport> {
  const sharedRole: PurgePart[] = other.role === placement.role ? ["role"] : [];
  const keep: PurgePart[] = (() => {
    switch (placement.mode) {
      case "pool":
        return ["schema", "role", "database", "registry"];
      case "schema":
        return ["rows", "database", "registry", ...sharedRole];
      case "dedicated":
        return ["rows", "schema", "registry", ...sharedRole];
      default:
        return assertNever(placement.mode, "database mode");
    }
  })();
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
 * registered at all) and no move is taking the tenant away from it. A placement a move left
 * — or a move's target that was rolled back — is not, nor is the source of a move in
 * progress (a stack replacing its database resource for the move's target): its removal
 * belongs to the move (grace period, purge with proof), never to a stack.
 */
export async function servesTenant(
  adminUrl: string,
  slug: string,
  mode: DatabaseMode,
): Promise<boolean> {
  return withClient(pg, adminUrl, async (client) => {
    const row = await findTenant(client, slug);
    if (!row) return true;
    if (row.mode !== mode) return false;
    const { rows } = await client.query<{ ready: boolean }>(
      "SELECT to_regclass('tenancy.tenant_moves') IS NOT NULL AS ready",
    );
    if (!rows[0]?.ready) return true;
    const move = await readMove(client, slug);
    return !move || move.phase === "switched" || move.source.mode !== mode;
  });
}
