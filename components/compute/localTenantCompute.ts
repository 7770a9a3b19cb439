/**
 * `tenancy:compute:LocalTenantCompute` — the compute layer of one tenant on the `local`
 * target: a real Kubernetes API server (scripts/kube/start-cluster.sh), no cloud.
 *
 * - `pool`: a registration (labelled ConfigMap) in the shared pool namespace.
 * - `namespace`: an {@link IsolatedNamespace}: restricted pod security, ResourceQuota and
 *   LimitRange from the quotas, default-deny NetworkPolicy with explicit allows, the
 *   `workload` ServiceAccount (no API token) and a `deployer` ServiceAccount bound to the
 *   namespace's deployer Role.
 * - `dedicated-nodes`: the same namespace whose pods get the tenant's node selector and
 *   toleration by default. The local cluster has no nodes; the outputs say so.
 * - `account` needs AWS Organizations ({@link localCompute}): the caller reports it as not
 *   provisioned.
 *
 * Unlike {@link TenantCompute} there is no IAM role, security group or node group: those are
 * AWS resources. The Kubernetes provider of the local cluster arrives through `opts`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ComputeMode } from "../../catalog/index.ts";
import { assertNever } from "../../contract/index.ts";
import { tenantNamespaceName, WORKLOAD_SERVICE_ACCOUNT } from "../naming.ts";
import { nodeIsolationFor } from "./dedicatedNodes.ts";
import { IsolatedNamespace } from "./isolatedNamespace.ts";
import { PoolRegistration } from "./poolRegistration.ts";
import { tenantNamespaceSettings } from "./tenantNamespace.ts";

/** Compute modes the local target provisions (`account` needs a cloud). */
export type LocalComputeMode = Exclude<ComputeMode, "account">;

/**
 * What the local target makes of a compute mode: the mode it provisions, or what the mode
 * needs that only a cloud has (the caller reports the layer as not provisioned, saying so).
 */
export function localCompute(
  mode: ComputeMode,
):
  | { readonly mode: LocalComputeMode; readonly needs?: never }
  | { readonly mode?: never; readonly needs: string } {
  switch (mode) {
    case "pool":
    case "namespace":
    case "dedicated-nodes":
      return { mode };
    case "account":
      return { needs: "AWS Organizations" };
    default:
      return assertNever(mode, "compute mode");
  }
}

/** The shared pool namespace start-cluster.sh creates. */
export const LOCAL_POOL_NAMESPACE = "tenancy-pool";

/** ServiceAccount of the namespace's deployers (CI), bound to the deployer Role. */
export const DEPLOYER_SERVICE_ACCOUNT = "deployer";

export interface LocalTenantComputeArgs {
  /** The tenant's slug; every name derives from it. */
  readonly slug: string;
  /** Isolation mode of this layer, from the resolved catalog spec. */
  readonly mode: LocalComputeMode;
  /** The tenant's namespace quotas and request rate (from the catalog). */
  readonly quotas: {
    readonly cpu: string;
    readonly memory: string;
    readonly requestsPerSecond: number;
  };
  /** The shared pool namespace. @default {@link LOCAL_POOL_NAMESPACE} */
  readonly poolNamespace?: string;
  /** A suspended tenant admits no pods / is marked suspended in the pool. @default false */
  readonly suspended?: boolean;
}

/** What the stack outputs say about nodes of a mode on the local target. */
export function localNodesNote(mode: LocalComputeMode, slug: string): string | undefined {
  switch (mode) {
    case "pool":
    case "namespace":
      return undefined;
    case "dedicated-nodes": {
      const { key, value } = nodeIsolationFor(slug).taint;
      return `no nodes exist on the local target: pods of ${tenantNamespaceName(slug)} get node selector and toleration ${key}=${value} and stay Pending`;
    }
    default:
      return assertNever(mode, "local compute mode");
  }
}

export class LocalTenantCompute extends pulumi.ComponentResource {
  public readonly mode: LocalComputeMode;
  /** Namespace of the tenant's workloads (the pool namespace when pooled). */
  public readonly namespace: pulumi.Output<string>;
  /** Set for `dedicated-nodes`: why no node runs the tenant's pods here. */
  public readonly nodes: string | undefined;

  constructor(name: string, args: LocalTenantComputeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:compute:LocalTenantCompute", name, {}, opts);
    this.mode = args.mode;
    this.nodes = localNodesNote(args.mode, args.slug);
    switch (args.mode) {
      case "pool": {
        const poolNamespace = args.poolNamespace ?? LOCAL_POOL_NAMESPACE;
        new PoolRegistration(
          `${name}-pool`,
          {
            slug: args.slug,
            poolNamespace,
            quotas: args.quotas,
            suspended: args.suspended ?? false,
          },
          { parent: this },
        );
        this.namespace = pulumi.output(poolNamespace);
        break;
      }
      case "namespace":
      case "dedicated-nodes": {
        const isolated = new IsolatedNamespace(
          `${name}-namespace`,
          {
            ...tenantNamespaceSettings(args.slug, {
              quotas: args.quotas,
              ...(args.suspended === undefined ? {} : { suspended: args.suspended }),
              dedicatedNodes: args.mode === "dedicated-nodes",
            }),
            serviceAccount: { name: WORKLOAD_SERVICE_ACCOUNT },
            deployerServiceAccount: DEPLOYER_SERVICE_ACCOUNT,
          },
          { parent: this },
        );
        this.namespace = isolated.namespaceName;
        break;
      }
      default:
        assertNever(args.mode, "local compute mode");
    }
    this.registerOutputs({ namespace: this.namespace, nodes: this.nodes });
  }
}
