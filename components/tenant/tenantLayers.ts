/** What the layers of a tenant give its {@link Tenant} component, whatever the target. */
import * as pulumi from "@pulumi/pulumi";
import type { Layer, ResolvedTenant, RoutingRecord, Target } from "../../contract/index.ts";
import type { TenantDatabaseArgs } from "../database/tenantDatabase.ts";
import type { TenantArgs } from "./tenant.ts";

export interface TenantLayers {
  /** The tenant's routing record (contract/routing.ts). */
  readonly routing: pulumi.Output<RoutingRecord>;
  /** The tenant role's database password (secret), when it has a role of its own. */
  readonly databasePassword: pulumi.Output<string | undefined>;
  /** Set when the tenant's compute has no nodes to run on (dedicated-nodes on `local`). */
  readonly computeNodes?: string;
}

/**
 * Declares the tenant's layers on one target as children of `parent`, named after `name`
 * (./awsTenantLayers.ts, ./localTenantLayers.ts).
 */
export type TargetLayers = (
  name: string,
  args: TenantArgs,
  notProvisioned: Layer[],
  parent: pulumi.Resource,
) => TenantLayers;

/** An input the target needs, or a ResourceError saying what is missing. */
export function requireInput<T>(value: T | undefined, missing: string, parent: pulumi.Resource): T {
  if (value === undefined) throw new pulumi.ResourceError(missing, parent);
  return value;
}

/** The database layer's arguments that do not depend on the target. */
export function databaseArgsOf(
  args: TenantArgs,
  target: Target,
): Pick<TenantDatabaseArgs, "slug" | "mode" | "target" | "quotas" | "provisioner"> {
  return {
    slug: args.tenant.slug,
    mode: args.tenant.layers.database,
    target,
    quotas: databaseQuotasOf(args.tenant),
    provisioner: args.provisioner,
  };
}

/** Whether the tenant gets a KMS key of its own (shared by its database, bucket and secrets). */
export function needsTenantKey(tenant: ResolvedTenant): boolean {
  return tenant.encryption === "dedicated";
}

/** The quotas the tenant's database layer enforces (on its role), whatever the target. */
export function databaseQuotasOf(tenant: ResolvedTenant) {
  return {
    dbConnections: tenant.quotas.dbConnections,
    statementTimeoutMs: tenant.quotas.statementTimeoutMs,
  };
}

/** The quotas the tenant's compute layer enforces (namespace quota, limits, rate), whatever the target. */
export function computeQuotasOf(tenant: ResolvedTenant) {
  return {
    cpu: tenant.quotas.cpu,
    memory: tenant.quotas.memory,
    requestsPerSecond: tenant.quotas.requestsPerSecond,
  };
}
