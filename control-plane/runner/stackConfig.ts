/**
 * Configuration the tenant stack program reads (stacks/tenant/config.ts): the resolved
 * tenant spec, the target, and — on the local target — the shared server's admin URL as a
 * secret, the name prefixes of the roles and databases it manages and, when a local
 * Kubernetes cluster runs, its kubeconfig (secret).
 */
import type { ConfigMap } from "@pulumi/pulumi/automation/index.js";
import { configKey, type ResolvedTenant, type Target } from "../../contract/index.ts";

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
    [configKey("tenant")]: { value: JSON.stringify(tenant) },
    [configKey("target")]: { value: "local" satisfies Target },
    [configKey("databaseUrl")]: { value: settings.adminUrl, secret: true },
    ...(settings.rolePrefix ? { [configKey("rolePrefix")]: { value: settings.rolePrefix } } : {}),
    ...(settings.databasePrefix
      ? { [configKey("databasePrefix")]: { value: settings.databasePrefix } }
      : {}),
    ...(settings.kubeconfig
      ? { [configKey("kubeconfig")]: { value: settings.kubeconfig, secret: true } }
      : {}),
  });
}
