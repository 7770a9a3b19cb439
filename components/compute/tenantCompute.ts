/**
 * `tenancy:compute:TenantCompute` — the compute layer of one tenant.
 *
 * - `pool`: a registration in the shared pool namespace; the pool's broker service account
 *   may assume the tenant's role (scoped credentials per request).
 * - `namespace`: an {@link IsolatedNamespace} with the tenant's quotas, a security group for
 *   its pods (security groups for pods) and an IRSA role for its service account.
 * - `dedicated-nodes`: the same on a {@link DedicatedNodes} group tainted for the tenant.
 * - `account`: a {@link TenantAccount}; the role is trusted by that account.
 */
import { awsSdk } from "../awsSdk.ts";
import { kubernetesSdk } from "../kubernetesSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import type { ComputeMode } from "../../catalog/index.ts";
import { assertNever } from "../../contract/index.ts";
import { tenantNamespaceName, WORKLOAD_SERVICE_ACCOUNT } from "../naming.ts";
import { DECLARED_OWNERSHIP } from "./declaredOwnership.ts";
import { DedicatedNodes, type DedicatedNodesArgs } from "./dedicatedNodes.ts";
import { IsolatedNamespace } from "./isolatedNamespace.ts";
import { PoolRegistration } from "./poolRegistration.ts";
import { TenantAccount } from "./tenantAccount.ts";
import { tenantNamespaceSettings } from "./tenantNamespace.ts";
import { WorkloadRole, type WorkloadTrust } from "./workloadRole.ts";

export interface ClusterRefs {
  readonly name: pulumi.Input<string>;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  readonly nodeRoleArn: pulumi.Input<string>;
  readonly nodeSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The cluster security group (control plane ↔ pods, CoreDNS). */
  readonly securityGroupId: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  readonly vpcCidr: pulumi.Input<string>;
  readonly poolNamespace: pulumi.Input<string>;
  /** Service account of the pool's broker, which assumes pooled tenants' roles. */
  readonly poolServiceAccount: pulumi.Input<string>;
  readonly ingressNamespace: pulumi.Input<string>;
}

export interface TenantComputeArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** Isolation mode of this layer, from the resolved catalog spec. */
  readonly mode: ComputeMode;
  /** AWS partition of the region (`aws`, `aws-us-gov`, `aws-cn`), for ARNs. */
  readonly partition: string;
  /** The tenant's namespace quotas and request rate (from the catalog). */
  readonly quotas: {
    readonly cpu: string;
    readonly memory: string;
    readonly requestsPerSecond: number;
  };
  /** The platform's cluster and network, from the platform stack's outputs. */
  readonly cluster: ClusterRefs;
  /** Where tenant accounts are created; required for mode `account`. */
  readonly accounts?: {
    readonly parentId: pulumi.Input<string>;
    readonly emailTemplate: pulumi.Input<string>;
  };
  /** Node group sizing for `dedicated-nodes`. @default see {@link DedicatedNodesArgs} */
  readonly nodes?: Pick<DedicatedNodesArgs, "instanceTypes" | "scaling">;
  /**
   * A suspended tenant keeps its infrastructure and data but runs nothing: its namespace
   * admits no pods, its nodes scale to zero, its pool registration says so.
   * @default false
   */
  readonly suspended?: boolean;
}

/** Node group size of a suspended tenant: nothing running, ready to scale back. */
export const SUSPENDED_SCALING = { minSize: 0, desiredSize: 0, maxSize: 1 } as const;

/** Where a tenant's workloads run: a registration in the pool, a namespace, or an account. */
export type WorkloadPlacement = "pool" | "namespace" | "account";

/** What a compute mode creates (exhaustive: a new mode fails to compile here). */
export function computeParts(mode: ComputeMode): {
  readonly placement: WorkloadPlacement;
  readonly dedicatedNodes: boolean;
} {
  switch (mode) {
    case "pool":
      return { placement: "pool", dedicatedNodes: false };
    case "namespace":
      return { placement: "namespace", dedicatedNodes: false };
    case "dedicated-nodes":
      return { placement: "namespace", dedicatedNodes: true };
    case "account":
      return { placement: "account", dedicatedNodes: false };
    default:
      return assertNever(mode, "compute mode");
  }
}

/** Pod security group rules: reachable from the cluster, egress to the VPC only. */
export function workloadSecurityGroupRules(clusterSecurityGroupId: string, vpcCidr: string) {
  return {
    ingress: [
      {
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        securityGroups: [clusterSecurityGroupId],
        description: "cluster",
      },
    ],
    egress: [
      {
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: [vpcCidr],
        description: "VPC endpoints",
      },
      {
        protocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        cidrBlocks: [vpcCidr],
        description: "PostgreSQL",
      },
      { protocol: "udp", fromPort: 53, toPort: 53, cidrBlocks: [vpcCidr], description: "DNS" },
      { protocol: "tcp", fromPort: 53, toPort: 53, cidrBlocks: [vpcCidr], description: "DNS" },
    ],
  };
}

export class TenantCompute extends pulumi.ComponentResource {
  public readonly mode: ComputeMode;
  public readonly roleName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  /** Namespace of the tenant's workloads (the pool namespace when pooled); none for `account`. */
  public readonly namespace: pulumi.Output<string | undefined>;
  /** Security group of the tenant's pods, for the database to admit; none when pooled. */
  public readonly workloadSecurityGroupId?: pulumi.Output<string>;
  public readonly accountId?: pulumi.Output<string>;

  constructor(name: string, args: TenantComputeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:compute:TenantCompute", name, {}, opts);
    const { placement, dedicatedNodes } = computeParts(args.mode);
    const { cluster } = args;
    const serviceAccountTrust = (
      namespace: pulumi.Input<string>,
      serviceAccount: pulumi.Input<string>,
    ): WorkloadTrust => ({
      kind: "service-account",
      oidcProviderArn: cluster.oidcProviderArn,
      oidcIssuer: cluster.oidcIssuer,
      namespace,
      serviceAccount,
    });
    let trust: WorkloadTrust;
    switch (placement) {
      case "account": {
        if (!args.accounts) {
          throw new pulumi.ResourceError(
            `tenant ${args.slug}: compute mode "account" needs the organization's accounts settings (parentId, emailTemplate) from the platform stack`,
            this,
          );
        }
        const account = new TenantAccount(
          `${name}-account`,
          { slug: args.slug, partition: args.partition, ...args.accounts },
          { parent: this },
        );
        this.accountId = account.accountId;
        trust = { kind: "account", accountId: account.accountId, partition: args.partition };
        break;
      }
      case "pool":
        trust = serviceAccountTrust(cluster.poolNamespace, cluster.poolServiceAccount);
        break;
      case "namespace":
        trust = serviceAccountTrust(tenantNamespaceName(args.slug), WORKLOAD_SERVICE_ACCOUNT);
        break;
      default:
        assertNever(placement, "workload placement");
    }
    const role = new WorkloadRole(`${name}-workload`, { slug: args.slug, trust }, { parent: this });

    switch (placement) {
      case "pool":
        new PoolRegistration(
          `${name}-pool`,
          {
            slug: args.slug,
            poolNamespace: cluster.poolNamespace,
            quotas: args.quotas,
            suspended: args.suspended ?? false,
            roleArn: role.roleArn,
          },
          { parent: this },
        );
        this.namespace = pulumi.output(cluster.poolNamespace);
        break;
      case "namespace": {
        const workloads = namespaceWorkloads(name, args, role.roleArn, dedicatedNodes, this);
        this.workloadSecurityGroupId = workloads.securityGroupId;
        this.namespace = workloads.namespace;
        break;
      }
      case "account":
        this.namespace = pulumi.output(undefined);
        break;
      default:
        assertNever(placement, "workload placement");
    }
    this.mode = args.mode;
    this.roleName = role.roleName;
    this.roleArn = role.roleArn;
    this.registerOutputs({ roleArn: this.roleArn, namespace: this.namespace });
  }
}

/**
 * A tenant namespace of its own (on its dedicated nodes when asked), the security group of its
 * pods and the SecurityGroupPolicy that gives it to them.
 */
function namespaceWorkloads(
  name: string,
  args: TenantComputeArgs,
  roleArn: pulumi.Output<string>,
  dedicatedNodes: boolean,
  parent: pulumi.Resource,
): { namespace: pulumi.Output<string>; securityGroupId: pulumi.Output<string> } {
  const { cluster } = args;
  if (dedicatedNodes) {
    new DedicatedNodes(
      `${name}-nodes`,
      {
        slug: args.slug,
        clusterName: cluster.name,
        nodeRoleArn: cluster.nodeRoleArn,
        subnetIds: cluster.nodeSubnetIds,
        ...args.nodes,
        ...(args.suspended ? { scaling: SUSPENDED_SCALING } : {}),
      },
      { parent },
    );
  }
  const isolated = new IsolatedNamespace(
    `${name}-namespace`,
    {
      ...tenantNamespaceSettings(args.slug, {
        quotas: args.quotas,
        ...(args.suspended === undefined ? {} : { suspended: args.suspended }),
        dedicatedNodes,
      }),
      ingressNamespace: cluster.ingressNamespace,
      serviceAccount: { name: WORKLOAD_SERVICE_ACCOUNT, roleArn },
      allowedEgress: [{ cidr: cluster.vpcCidr, ports: [443, 5432] }],
    },
    { parent },
  );
  const rules = pulumi
    .all([cluster.securityGroupId, cluster.vpcCidr])
    .apply(([sg, cidr]) => workloadSecurityGroupRules(sg, cidr));
  const aws = awsSdk();
  const podGroup = new aws.ec2.SecurityGroup(
    `${name}-pods-sg`,
    {
      name: `tenancy-${args.slug}-pods`,
      description: `Pods of tenant ${args.slug}`,
      vpcId: cluster.vpcId,
      ingress: rules.ingress,
      egress: rules.egress,
    },
    { parent },
  );
  new (kubernetesSdk().apiextensions.CustomResource)(
    `${name}-pods-sg-policy`,
    {
      apiVersion: "vpcresources.k8s.aws/v1beta1",
      kind: "SecurityGroupPolicy",
      metadata: {
        name: "tenancy-pods",
        namespace: isolated.namespaceName,
        annotations: DECLARED_OWNERSHIP,
      },
      spec: {
        podSelector: {},
        securityGroups: { groupIds: [podGroup.id, cluster.securityGroupId] },
      },
    },
    { parent },
  );
  return { namespace: isolated.namespaceName, securityGroupId: podGroup.id };
}
