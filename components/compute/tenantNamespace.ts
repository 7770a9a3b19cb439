/**
 * The settings of a tenant's own namespace that do not depend on the target: its name, its
 * quotas (no pods while suspended), its deployers' group, the pinning to the tenant's
 * dedicated nodes and the tenant label. {@link TenantCompute} (aws) and
 * {@link LocalTenantCompute} (local) add what their target gives the namespace.
 */
import { tenantNamespaceName } from "../naming.ts";
import { TENANT_LABEL } from "../tagging.ts";
import { nodeIsolationFor } from "./dedicatedNodes.ts";
import type { IsolatedNamespaceArgs } from "./isolatedNamespace.ts";

export interface TenantNamespaceOptions {
  /** The tenant's namespace quotas (from the catalog). */
  readonly quotas: { readonly cpu: string; readonly memory: string };
  /** A suspended tenant's namespace admits no pods. @default false */
  readonly suspended?: boolean;
  /** Pods get the tenant's node selector and toleration (compute `dedicated-nodes`). */
  readonly dedicatedNodes: boolean;
}

export function tenantNamespaceSettings(
  slug: string,
  options: TenantNamespaceOptions,
): Pick<
  IsolatedNamespaceArgs,
  "namespace" | "quotas" | "deployerGroup" | "nodeIsolation" | "labels"
> {
  return {
    namespace: tenantNamespaceName(slug),
    quotas: {
      cpu: options.quotas.cpu,
      memory: options.quotas.memory,
      ...(options.suspended ? { pods: 0 } : {}),
    },
    deployerGroup: `tenancy:tenant:${slug}:deployers`,
    ...(options.dedicatedNodes ? { nodeIsolation: nodeIsolationFor(slug).taint } : {}),
    labels: { [TENANT_LABEL]: slug },
  };
}
