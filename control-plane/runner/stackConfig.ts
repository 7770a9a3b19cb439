/**
 * Configuration the tenant stack program reads (stacks/tenant/config.ts): the resolved
 * tenant spec, the target, and — on the local target — the shared server's admin URL as a
 * secret, the name prefixes of the roles and databases it manages and, when a local
 * Kubernetes cluster runs, its kubeconfig (secret).
 */
import type { ConfigMap } from "@pulumi/pulumi/automation/index.js";
import type { ResolvedTenant } from "../../catalog/index.ts";

export const CONFIG_KEYS = {
  tenant: "tenancy:tenant",
  target: "tenancy:target",
  databaseUrl: "tenancy:databaseUrl",
  rolePrefix: "tenancy:rolePrefix",
  databasePrefix: "tenancy:databasePrefix",
  kubeconfig: "tenancy:kubeconfig",
} as const;

export interface LocalTargetSettings {
  /** Superuser URL of the shared tenant database. */
  readonly adminUrl: string;
  /** @default the db layer's default ("tenancy") */
  readonly rolePrefix?: string;
  /** @default the db layer's default ("tenant") */
  readonly databasePrefix?: string;
  /**
   * Kubeconfig (contents) of the local Kubernetes cluster; without it the compute layer is
   * reported as not provisioned. @default none
   */
  readonly kubeconfig?: string;
}

/** Config for the `local` target: the database layer on a local PostgreSQL server. */
export function localStackConfig(
  settings: LocalTargetSettings,
): (tenant: ResolvedTenant) => ConfigMap {
  return (tenant) => ({
    [CONFIG_KEYS.tenant]: { value: JSON.stringify(tenant) },
    [CONFIG_KEYS.target]: { value: "local" },
    [CONFIG_KEYS.databaseUrl]: { value: settings.adminUrl, secret: true },
    ...(settings.rolePrefix ? { [CONFIG_KEYS.rolePrefix]: { value: settings.rolePrefix } } : {}),
    ...(settings.databasePrefix
      ? { [CONFIG_KEYS.databasePrefix]: { value: settings.databasePrefix } }
      : {}),
    ...(settings.kubeconfig
      ? { [CONFIG_KEYS.kubeconfig]: { value: settings.kubeconfig, secret: true } }
      : {}),
  });
}
