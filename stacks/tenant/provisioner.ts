/**
 * The in-database provisioner of tenant stacks: the `db/` dynamic resource
 * (TenantDatabaseObjects), which runs the tested SQL drivers for pool, schema and dedicated
 * placements. Wired here and nowhere else; components only know the
 * {@link InDatabaseProvisioner} seam. The planner declares the same resource with the same
 * inputs ({@link tenantDatabaseObjectsInputs}), without the provider's code.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  routingOf,
  type InDatabaseProvisioner,
  type InDatabaseRequest,
} from "../../components/database/inDatabaseProvisioner.ts";
import { TenantDatabaseObjects } from "../../db/pulumi/tenantDatabaseObjects.ts";

/** Type token of the dynamic resource holding a tenant's in-database objects. */
export const TENANT_DATABASE_TYPE = "pulumi-nodejs:dynamic/tenancy:TenantDatabase";

/** Names the `db/` drivers give tenant roles and databases (stack config; tests use their own). */
export interface DatabaseNaming {
  /** `tenancy:rolePrefix`. @default the db layer's ("tenancy") */
  readonly rolePrefix?: string;
  /** `tenancy:databasePrefix`. @default the db layer's ("tenant") */
  readonly databasePrefix?: string;
}

/** Inputs of the dynamic resource for a request (the deployment's and the planner's). */
export function tenantDatabaseObjectsInputs(request: InDatabaseRequest, naming: DatabaseNaming) {
  return {
    adminUrl: pulumi.secret(request.adminUrl),
    slug: request.slug,
    mode: request.mode,
    quotas: request.quotas,
    ...(naming.rolePrefix === undefined ? {} : { rolePrefix: naming.rolePrefix }),
    ...(naming.databasePrefix === undefined ? {} : { databasePrefix: naming.databasePrefix }),
  };
}

/** The provisioner creating the `db/` dynamic resource, with the given naming. */
export function tenantDatabaseProvisioner(naming: DatabaseNaming = {}): InDatabaseProvisioner {
  return (name, request, opts) => {
    const objects = new TenantDatabaseObjects(
      name,
      tenantDatabaseObjectsInputs(request, naming),
      opts,
    );
    const routing = routingOf(objects);
    return { resource: objects, routing: pulumi.unsecret(routing), password: objects.password };
  };
}
