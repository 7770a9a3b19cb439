/**
 * The in-database provisioner of tenant stacks: the `db/` dynamic resource (TenantDatabase),
 * which runs the tested SQL drivers for pool, schema and dedicated placements. Wired here
 * and nowhere else; components only know the {@link InDatabaseProvisioner} seam.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  routingOf,
  type InDatabaseProvisioner,
} from "../../components/database/inDatabaseProvisioner.ts";
import { TenantDatabase } from "../../db/pulumi/tenantDatabase.ts";

/** Type token of the dynamic resource holding a tenant's in-database objects. */
export const TENANT_DATABASE_TYPE = "pulumi-nodejs:dynamic/tenancy:TenantDatabase";

/** Names the `db/` drivers give tenant roles and databases (stack config; tests use their own). */
export interface DatabaseNaming {
  /** `tenancy:rolePrefix`. @default the db layer's ("tenancy") */
  readonly rolePrefix?: string;
  /** `tenancy:databasePrefix`. @default the db layer's ("tenant") */
  readonly databasePrefix?: string;
}

/** The provisioner creating the `db/` dynamic resource, with the given naming. */
export function tenantDatabaseProvisioner(naming: DatabaseNaming = {}): InDatabaseProvisioner {
  return (name, request, opts) => {
    const objects = new TenantDatabase(
      name,
      {
        adminUrl: request.adminUrl,
        slug: request.slug,
        mode: request.mode,
        quotas: request.quotas,
        ...(naming.rolePrefix === undefined ? {} : { rolePrefix: naming.rolePrefix }),
        ...(naming.databasePrefix === undefined ? {} : { databasePrefix: naming.databasePrefix }),
      },
      opts,
    );
    const routing = routingOf(objects);
    return { resource: objects, routing: pulumi.unsecret(routing), password: objects.password };
  };
}

/** With the db layer's default naming. */
export const dynamicResourceProvisioner: InDatabaseProvisioner = tenantDatabaseProvisioner();

/** The provisioner of real deployments. */
export function deploymentProvisioner(naming: DatabaseNaming = {}): InDatabaseProvisioner {
  return tenantDatabaseProvisioner(naming);
}
