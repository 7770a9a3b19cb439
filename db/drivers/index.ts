/** The tenant database driver: one API, a placement per mode. */
import { assertNever } from "../../contract/modes.ts";
import { provisionMoveTarget } from "../moves/movePlacements.ts";
import { purgeTenant } from "../purge.ts";
import { driverContext } from "./driverContext.ts";
import { createDedicatedTenant, restoreDedicatedAccess } from "./dedicatedDriver.ts";
import { createPooledTenant, updatePooledTenant } from "./poolDriver.ts";
import { createSchemaTenant, updateTenantWithRole } from "./schemaDriver.ts";
import { parseTenantDatabaseSpec, type DriverOptions, type TenantDatabaseDriver } from "./types.ts";

export type {
  DatabaseMode,
  DriverOptions,
  ProvisionResult,
  TenantDatabaseDriver,
  TenantDatabaseSpec,
  TenantQuotas,
  TenantRouting,
} from "./types.ts";
export { DATABASE_MODES, parseTenantDatabaseSpec } from "./types.ts";

/**
 * A driver provisioning tenants on the server of `options.adminUrl` (which must be
 * bootstrapped with the same role prefix). Specs are validated at this boundary.
 */
export function createTenantDatabaseDriver(options: DriverOptions): TenantDatabaseDriver {
  const context = driverContext(options);
  return {
    async create(input) {
      const spec = parseTenantDatabaseSpec(input);
      // The tenant is elsewhere and a move here is recorded: provision the move's target.
      const forMove = await provisionMoveTarget(context, spec);
      if (forMove) return forMove;
      switch (spec.mode) {
        case "pool":
          return createPooledTenant(context, spec);
        case "schema":
          return createSchemaTenant(context, spec);
        case "dedicated":
          return createDedicatedTenant(context, spec);
        default:
          return assertNever(spec.mode, "database mode");
      }
    },
    async update(input) {
      const spec = parseTenantDatabaseSpec(input);
      switch (spec.mode) {
        case "pool":
          return updatePooledTenant(context, spec);
        case "schema":
          return updateTenantWithRole(context, spec);
        case "dedicated": {
          const result = await updateTenantWithRole(context, spec);
          await restoreDedicatedAccess(context, result.routing);
          return result;
        }
        default:
          return assertNever(spec.mode, "database mode");
      }
    },
    async delete(input) {
      return purgeTenant({
        adminUrl: context.adminUrl,
        slug: input.slug,
        ...(input.tenantId === undefined ? {} : { tenantId: input.tenantId }),
        rolePrefix: context.rolePrefix,
        databasePrefix: context.databasePrefix,
      });
    },
  };
}
