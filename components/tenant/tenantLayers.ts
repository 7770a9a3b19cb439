/** What the layers of a tenant give its {@link Tenant} component, whatever the target. */
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedTenant, RoutingRecord } from "../../contract/index.ts";

export interface TenantLayers {
  /** The tenant's routing record (contract/routing.ts). */
  readonly routing: pulumi.Output<RoutingRecord>;
  /** The tenant role's database password (secret), when it has a role of its own. */
  readonly databasePassword: pulumi.Output<string | undefined>;
  /** Set when the tenant's compute has no nodes to run on (dedicated-nodes on `local`). */
  readonly computeNodes?: string;
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
