/**
 * Configuration the tenant stack program reads (stacks/tenant): the resolved tenant spec,
 * the target, and — on the local target — the shared server's admin URL as a secret.
 */
import type { ConfigMap } from "@pulumi/pulumi/automation/index.js";
import type { ResolvedTenant } from "../../catalog/index.ts";

export const CONFIG_KEYS = {
  tenant: "tenancy:tenant",
  target: "tenancy:target",
  databaseUrl: "tenancy:databaseUrl",
} as const;

/** Config for the `local` target: the database layer on a local PostgreSQL server. */
export function localStackConfig(adminDatabaseUrl: string): (tenant: ResolvedTenant) => ConfigMap {
  return (tenant) => ({
    [CONFIG_KEYS.tenant]: { value: JSON.stringify(tenant) },
    [CONFIG_KEYS.target]: { value: "local" },
    [CONFIG_KEYS.databaseUrl]: { value: adminDatabaseUrl, secret: true },
  });
}
