/**
 * The layers of a tenant on the `local` target: its database on the local PostgreSQL server,
 * and its compute on the local Kubernetes cluster when one runs and the mode can run there.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Layer } from "../../contract/index.ts";
import { localComputeMode, LocalTenantCompute } from "../compute/localTenantCompute.ts";
import { TenantDatabase } from "../database/tenantDatabase.ts";
import type { TenantArgs } from "./tenant.ts";
import { computeQuotasOf, databaseQuotasOf, type TenantLayers } from "./tenantLayers.ts";

/** Declares the tenant's local layers as children of `parent`, named after `name`. */
export function localTenantLayers(
  name: string,
  args: TenantArgs,
  notProvisioned: Layer[],
  parent: pulumi.Resource,
): TenantLayers {
  const { tenant } = args;
  const quotas = databaseQuotasOf(tenant);
  if (args.localAdminUrl === undefined) {
    throw new pulumi.ResourceError(
      `tenant ${tenant.slug}: target local needs the local server's admin URL (config tenancy:databaseUrl or DATABASE_URL)`,
      parent,
    );
  }
  const database = new TenantDatabase(
    `${name}-database`,
    {
      slug: tenant.slug,
      mode: tenant.layers.database,
      target: "local",
      quotas,
      provisioner: args.provisioner,
      sharedAdminUrl: args.localAdminUrl,
    },
    { parent },
  );
  const computeMode = localComputeMode(tenant.layers.compute);
  if (args.localCluster === undefined || computeMode === undefined) {
    return {
      routing: database.routing.apply((db) => ({ database: db, notProvisioned })),
      databasePassword: database.password,
    };
  }
  const compute = new LocalTenantCompute(
    `${name}-compute`,
    {
      slug: tenant.slug,
      mode: computeMode,
      suspended: tenant.lifecycle === "suspended",
      quotas: computeQuotasOf(tenant),
    },
    { parent, providers: [args.localCluster] },
  );
  return {
    routing: pulumi.all([database.routing, compute.namespace]).apply(([db, namespace]) => ({
      database: db,
      compute: { mode: compute.mode, namespace },
      notProvisioned,
    })),
    databasePassword: database.password,
    computeNodes: compute.nodes,
  };
}
