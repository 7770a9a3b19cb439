/**
 * The layers of a tenant on the `local` target: its database on the local PostgreSQL server,
 * and its compute on the local Kubernetes cluster when one runs and the mode can run there.
 */
import * as pulumi from "@pulumi/pulumi";
import { localCompute, LocalTenantCompute } from "../compute/localTenantCompute.ts";
import { TenantDatabase } from "../database/tenantDatabase.ts";
import {
  computeQuotasOf,
  databaseArgsOf,
  requireInput,
  type TargetLayers,
} from "./tenantLayers.ts";

/** Declares the tenant's local layers as children of `parent`, named after `name`. */
export const localTenantLayers: TargetLayers = (name, args, notProvisioned, parent) => {
  const { tenant } = args;
  const localAdminUrl = requireInput(
    args.localAdminUrl,
    `tenant ${tenant.slug}: target local needs the local server's admin URL (config tenancy:databaseUrl or DATABASE_URL)`,
    parent,
  );
  const database = new TenantDatabase(
    `${name}-database`,
    { ...databaseArgsOf(args, "local"), sharedAdminUrl: localAdminUrl },
    { parent },
  );
  const computeMode = localCompute(tenant.layers.compute).mode;
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
};
