/**
 * The in-database provisioner used while planning. It declares the same resource as the
 * deployment's (type {@link TENANT_DATABASE_TYPE}, same name, parent and inputs) but skips
 * serializing the dynamic provider's code, which is slow and, inside test runners that
 * rewrite imports, does not finish. The mocks answer with the routing the drivers return.
 * test/components/plan.test.ts checks it against the real resource in a plain Node process.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  routingOf,
  type InDatabaseProvisioner,
} from "../../components/database/inDatabaseProvisioner.ts";
import type { TenantDatabaseObjects } from "../../db/pulumi/tenantDatabaseObjects.ts";
import {
  TENANT_DATABASE_TYPE,
  tenantDatabaseObjectsInputs,
  type DatabaseNaming,
} from "../tenant/provisioner.ts";

/** The outputs the planner's mocks answer for the resource (the drivers' routing and password). */
const PLANNED_OUTPUTS = [
  "tenantId",
  "host",
  "port",
  "database",
  "schema",
  "role",
  "version",
  "password",
] as const;

/** The real resource's outputs of those names, with their types. */
type PlannedOutputs = Pick<TenantDatabaseObjects, (typeof PLANNED_OUTPUTS)[number]>;

class PlannedTenantDatabase extends pulumi.CustomResource {
  constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    const outputs = Object.fromEntries(PLANNED_OUTPUTS.map((key) => [key, undefined]));
    super(TENANT_DATABASE_TYPE, name, { ...props, ...outputs }, opts);
  }
}

/** The planning stand-in of `tenantDatabaseProvisioner(naming)`: same type, name and inputs. */
export function plannedProvisionerFor(naming: DatabaseNaming = {}): InDatabaseProvisioner {
  return (name, request, opts) => {
    // The engine sets an output property for each of PLANNED_OUTPUTS (given as undefined).
    const objects = new PlannedTenantDatabase(
      name,
      tenantDatabaseObjectsInputs(request, naming),
      opts,
    ) as PlannedTenantDatabase & PlannedOutputs;
    const routing = routingOf(objects);
    return { resource: objects, routing, password: pulumi.secret(objects.password) };
  };
}

/** With the db layer's default naming. */
export const plannedProvisioner: InDatabaseProvisioner = plannedProvisionerFor();
