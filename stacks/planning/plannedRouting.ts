/**
 * The routing the `db/` drivers would return for a placement, with a placeholder tenant id:
 * names come from the drivers' own {@link placementOf}, so the plan names exactly the
 * schema, role and database a real run creates (test/engine/planEqualsReality.test.ts).
 */
import type { DatabaseMode } from "../../contract/index.ts";
import { driverContext, placementOf } from "../../db/drivers/driverContext.ts";
import type { InDatabaseRouting } from "../../components/database/inDatabaseProvisioner.ts";

/** The tenant id of every planned tenant: the registry assigns the real one. */
export const PLANNED_TENANT_ID = "00000000-0000-0000-0000-000000000000";

/** A new tenant's routing version (the registry starts every tenant at 1). */
export const PLANNED_ROUTING_VERSION = 1;

export interface PlannedRoutingInputs {
  readonly slug: string;
  readonly mode: DatabaseMode;
  readonly adminUrl: string;
  readonly rolePrefix?: string;
  readonly databasePrefix?: string;
}

export function plannedRouting(inputs: PlannedRoutingInputs): InDatabaseRouting {
  const context = driverContext({
    adminUrl: inputs.adminUrl,
    ...(inputs.rolePrefix === undefined ? {} : { rolePrefix: inputs.rolePrefix }),
    ...(inputs.databasePrefix === undefined ? {} : { databasePrefix: inputs.databasePrefix }),
  });
  const placement = placementOf(context, inputs.mode, inputs.slug);
  return {
    tenantId: PLANNED_TENANT_ID,
    host: context.host,
    port: context.port,
    database: placement.databaseName,
    schema: placement.schemaName,
    role: placement.roleName,
    version: PLANNED_ROUTING_VERSION,
  };
}
