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
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ComputeMode } from "../../catalog/index.ts";
import { tenantNamespaceName, WORKLOAD_SERVICE_ACCOUNT } from "../naming.ts";
import { TENANT_LABEL } from "../tagging.ts";
import { DedicatedNodes, nodeIsolationFor, type DedicatedNodesArgs } from "./dedicatedNodes.ts";
import { IsolatedNamespace } from "./isolatedNamespace.ts";
import { PoolRegistration } from "./poolRegistration.ts";
import { TenantAccount } from "./tenantAccount.ts";
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

/** What a compute mode creates. */
/** Node group size of a suspended tenant: nothing running, ready to scale back. */
export const SUSPENDED_SCALING = { minSize: 0, desiredSize: 0, maxSize: 1 } as const;

export function computeParts(mode: ComputeMode) {
  return {
    poolRegistration: mode === "pool",
    namespace: mode === "namespace" || mode === "dedicated-nodes",
    dedicatedNodes: mode === "dedicated-nodes",
    account: mode === "account",
  } as const;
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
    const parts = computeParts(args.mode);
    const { cluster } = args;
    let trust: WorkloadTrust;
    const namespaceName = tenantNamespaceName(args.slug);
    if (parts.account) {
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
    } else {
      trust = {
        kind: "service-account",
        oidcProviderArn: cluster.oidcProviderArn,
        oidcIssuer: cluster.oidcIssuer,
        namespace: parts.namespace ? namespaceName : cluster.poolNamespace,
        serviceAccount: parts.namespace ? WORKLOAD_SERVICE_ACCOUNT : cluster.poolServiceAccount,
      };
    }
    const role = new WorkloadRole(`${name}-workload`, { slug: args.slug, trust }, { parent: this });

    if (parts.poolRegistration) {
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
    } else if (parts.namespace) {
      if (parts.dedicatedNodes) {
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
          { parent: this },
        );
      }
      const isolated = new IsolatedNamespace(
        `${name}-namespace`,
        {
          namespace: namespaceName,
          quotas: {
            cpu: args.quotas.cpu,
            memory: args.quotas.memory,
            ...(args.suspended ? { pods: 0 } : {}),
          },
          ingressNamespace: cluster.ingressNamespace,
          serviceAccount: { name: WORKLOAD_SERVICE_ACCOUNT, roleArn: role.roleArn },
          deployerGroup: `tenancy:tenant:${args.slug}:deployers`,
          allowedEgress: [{ cidr: cluster.vpcCidr, ports: [443, 5432] }],
          ...(parts.dedicatedNodes ? { nodeIsolation: nodeIsolationFor(args.slug).taint } : {}),
          labels: { [TENANT_LABEL]: args.slug },
        },
        { parent: this },
      );
      const rules = pulumi
        .all([cluster.securityGroupId, cluster.vpcCidr])
        .apply(([sg, cidr]) => workloadSecurityGroupRules(sg, cidr));
      const podGroup = new aws.ec2.SecurityGroup(
        `${name}-pods-sg`,
        {
          name: `tenancy-${args.slug}-pods`,
          description: `Pods of tenant ${args.slug}`,
          vpcId: cluster.vpcId,
          ingress: rules.ingress,
          egress: rules.egress,
        },
        { parent: this },
      );
      new k8s.apiextensions.CustomResource(
        `${name}-pods-sg-policy`,
        {
          apiVersion: "vpcresources.k8s.aws/v1beta1",
          kind: "SecurityGroupPolicy",
          metadata: { name: "tenancy-pods", namespace: isolated.namespaceName },
          spec: {
            podSelector: {},
            securityGroups: { groupIds: [podGroup.id, cluster.securityGroupId] },
          },
        },
        { parent: this },
      );
      this.workloadSecurityGroupId = podGroup.id;
      this.namespace = isolated.namespaceName;
    } else {
      this.namespace = pulumi.output(undefined);
    }
    this.mode = args.mode;
    this.roleName = role.roleName;
    this.roleArn = role.roleArn;
    this.registerOutputs({ roleArn: this.roleArn, namespace: this.namespace });
  }
}
