/**
 * `tenancy:tenant:Tenant` — every layer of one tenant, from its resolved catalog spec. On
 * `aws` all four layers (plus the tenant's own KMS key when its encryption is `dedicated`:
 * ./awsTenantLayers.ts); on `local` the database layer and, with a cluster, the compute layer
 * (./localTenantLayers.ts), the others reported as not provisioned.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  assertNever,
  type ComputeMode,
  type Layer,
  type ResolvedTenant,
  type RoutingRecord,
  type Target,
} from "../../contract/index.ts";
import { localCompute } from "../compute/localTenantCompute.ts";
import type { InDatabaseProvisioner } from "../database/inDatabaseProvisioner.ts";
import type { PlatformOutputs } from "../platform/platformOutputs.ts";
import { awsTenantLayers } from "./awsTenantLayers.ts";
import { localTenantLayers } from "./localTenantLayers.ts";
import type { TenantLayers } from "./tenantLayers.ts";

export interface TenantArgs {
  /** The tenant's resolved catalog spec (validated at the boundary). */
  readonly tenant: ResolvedTenant;
  /** Where the stack deploys: `aws`, or `local` (database layer only). */
  readonly target: Target;
  /** Creates the tenant's objects inside PostgreSQL. */
  readonly provisioner: InDatabaseProvisioner;
  /** Outputs of the platform stack of the tenant's region; required on `aws`. */
  readonly platform?: pulumi.Input<PlatformOutputs>;
  /** Superuser URL of the local server (secret); required on `local`. */
  readonly localAdminUrl?: pulumi.Input<string>;
  /**
   * Provider of the local Kubernetes cluster (scripts/kube/start-cluster.sh); `local` only.
   * Without it the compute layer is reported as not provisioned.
   */
  readonly localCluster?: k8s.Provider;
}

/** Layers a target cannot provision, with the reason shown in the stack outputs. */
export function notProvisionedLayers(
  target: Target,
  local: { readonly cluster: boolean; readonly computeMode?: ComputeMode } = { cluster: false },
): Partial<Record<Layer, string>> {
  if (target === "aws") return {};
  const notHere = `not provisioned on this target (${target})`;
  const reason = `${notHere}: needs a cloud; use --target aws`;
  const computeGap = local.computeMode && localComputeGap(local.computeMode);
  const compute = !local.cluster
    ? `${notHere}: no local Kubernetes cluster (scripts/kube/start-cluster.sh)`
    : computeGap && `${notHere}: ${computeGap}; use --target aws`;
  return { storage: reason, ...(compute === undefined ? {} : { compute }), identity: reason };
}

/** What a compute mode needs that the local target does not have, named after the mode. */
function localComputeGap(mode: ComputeMode): string | undefined {
  const { needs } = localCompute(mode);
  return needs === undefined ? undefined : `compute "${mode}" needs ${needs}`;
}

export class Tenant extends pulumi.ComponentResource {
  /** The tenant's routing record (contract/routing.ts), exported by the stack as `routing`. */
  public readonly routing: pulumi.Output<RoutingRecord>;
  public readonly notProvisioned: Partial<Record<Layer, string>>;
  /** Set when the tenant's compute has no nodes to run on (dedicated-nodes on `local`). */
  public readonly computeNodes: string | undefined;
  /** The tenant role's database password (secret), when it has a role of its own. */
  public readonly databasePassword: pulumi.Output<string | undefined>;

  constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:tenant:Tenant", name, {}, opts);
    this.notProvisioned = notProvisionedLayers(args.target, {
      cluster: args.localCluster !== undefined,
      computeMode: args.tenant.layers.compute,
    });
    const notProvisioned = Object.keys(this.notProvisioned) as Layer[];
    let layers: TenantLayers;
    switch (args.target) {
      case "local":
        layers = localTenantLayers(name, args, notProvisioned, this);
        break;
      case "aws":
        layers = awsTenantLayers(name, args, notProvisioned, this);
        break;
      default:
        assertNever(args.target, "target");
    }
    this.routing = layers.routing;
    this.databasePassword = layers.databasePassword;
    this.computeNodes = layers.computeNodes;
    this.registerOutputs({ routing: this.routing });
  }
}
