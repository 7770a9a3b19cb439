/**
 * `tenancy:compute:DedicatedNodes` — an EKS managed node group only the tenant's pods may use:
 * nodes are labelled and tainted `tenancy.io/tenant=<slug>:NoSchedule`, so other pods are
 * never scheduled there, and the tenant's pods select them.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { TENANT_LABEL } from "../tagging.ts";

export interface DedicatedNodesArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** Name of the EKS cluster the node group joins. */
  readonly clusterName: pulumi.Input<string>;
  /** Node IAM role shared by the cluster's node groups (from the platform). */
  readonly nodeRoleArn: pulumi.Input<string>;
  /** Private subnets of the nodes. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** @default ["m6i.large"] */
  readonly instanceTypes?: readonly string[];
  /** @default { minSize: 1, desiredSize: 2, maxSize: 4 } */
  readonly scaling?: {
    readonly minSize: number;
    readonly desiredSize: number;
    readonly maxSize: number;
  };
}

/** Label and taint of a tenant's nodes; pods need the matching selector and toleration. */
export function nodeIsolationFor(slug: string) {
  return {
    labels: { [TENANT_LABEL]: slug },
    taint: { key: TENANT_LABEL, value: slug, effect: "NO_SCHEDULE" },
    nodeSelector: { [TENANT_LABEL]: slug },
    toleration: { key: TENANT_LABEL, operator: "Equal", value: slug, effect: "NoSchedule" },
  } as const;
}

export class DedicatedNodes extends pulumi.ComponentResource {
  public readonly nodeGroupName: pulumi.Output<string>;
  public readonly nodeSelector: Readonly<Record<string, string>>;
  public readonly toleration: ReturnType<typeof nodeIsolationFor>["toleration"];

  constructor(name: string, args: DedicatedNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:compute:DedicatedNodes", name, {}, opts);
    const isolation = nodeIsolationFor(args.slug);
    const scaling = args.scaling ?? { minSize: 1, desiredSize: 2, maxSize: 4 };
    const aws = awsSdk();
    const group = new aws.eks.NodeGroup(
      `${name}-group`,
      {
        clusterName: args.clusterName,
        nodeGroupName: `tenancy-${args.slug}`,
        nodeRoleArn: args.nodeRoleArn,
        subnetIds: args.subnetIds,
        instanceTypes: [...(args.instanceTypes ?? ["m6i.large"])],
        amiType: "AL2023_x86_64_STANDARD",
        capacityType: "ON_DEMAND",
        scalingConfig: scaling,
        updateConfig: { maxUnavailable: 1 },
        labels: isolation.labels,
        taints: [isolation.taint],
      },
      { parent: this },
    );
    this.nodeGroupName = group.nodeGroupName;
    this.nodeSelector = isolation.nodeSelector;
    this.toleration = isolation.toleration;
    this.registerOutputs({ nodeGroupName: this.nodeGroupName });
  }
}
