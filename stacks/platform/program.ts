/**
 * The platform stack program (`platform-<region>`): shared infrastructure of one region, and
 * the outputs tenant stacks read (see components/platform/platformOutputs.ts). The VPC and the
 * EKS cluster exist already and are referenced by id.
 */
import { awsSdk } from "../../components/awsSdk.ts";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { NamespaceQuotas } from "../../components/compute/isolatedNamespace.ts";
import { partitionOf } from "../../components/naming.ts";
import { Platform, type PlatformArgs } from "../../components/platform/platform.ts";
import type { PlatformOutputs } from "../../components/platform/platformOutputs.ts";
import { taggingTransformation } from "../../components/tagging.ts";
import { kubeconfigFor } from "./kubeconfig.ts";

export interface PlatformProgramInputs {
  readonly region: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly privateSubnetIds: readonly string[];
  readonly clusterName: string;
  /** ARN of the cluster's IAM OIDC provider (IRSA). */
  readonly clusterOidcProviderArn: string;
  /** IAM role of the nodes of tenant node groups. */
  readonly nodeRoleArn: string;
  /** @default privateSubnetIds */
  readonly nodeSubnetIds?: readonly string[];
  readonly bucketNamePrefix: string;
  /** Cost center of the shared infrastructure. @default "platform" */
  readonly costCenter?: string;
  readonly accounts?: { readonly parentId: string; readonly emailTemplate: string };
  readonly database?: PlatformArgs["database"];
  readonly poolQuotas?: NamespaceQuotas;
  readonly ingressNamespace?: string;
}

/** Tags of the platform's resources (no tenant: they are shared). */
export function platformTags(costCenter: string): Record<string, string> {
  return { "managed-by": "tenancy", "cost-center": costCenter, component: "platform" };
}

export function platformProgram(inputs: PlatformProgramInputs): Promise<Record<string, unknown>> {
  pulumi.runtime.registerStackTransformation(
    taggingTransformation(platformTags(inputs.costCenter ?? "platform")),
  );
  const partition = partitionOf(inputs.region);
  const aws = awsSdk();
  const awsProvider = new aws.Provider(`aws-${inputs.region}`, { region: inputs.region });
  const cluster = aws.eks.getClusterOutput({ name: inputs.clusterName }, { provider: awsProvider });
  const kubeconfig = pulumi
    .all([cluster.endpoint, cluster.certificateAuthorities])
    .apply(([endpoint, authorities]) =>
      kubeconfigFor({
        clusterName: inputs.clusterName,
        region: inputs.region,
        endpoint,
        certificateAuthority: authorities[0]?.data ?? "",
      }),
    );
  const clusterSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
  const oidcIssuer = cluster.identities.apply((ids) => {
    const issuer = ids[0]?.oidcs[0]?.issuer;
    if (!issuer)
      throw new Error(`cluster ${inputs.clusterName} has no OIDC issuer; enable IRSA on it first`);
    return issuer;
  });
  const k8sProvider = new k8s.Provider(`cluster-${inputs.region}`, {
    kubeconfig,
    enableServerSideApply: true,
    deleteUnreachable: false,
  });
  const platform = new Platform(
    "platform",
    {
      region: inputs.region,
      partition,
      network: {
        vpcId: inputs.vpcId,
        vpcCidr: inputs.vpcCidr,
        privateSubnetIds: [...inputs.privateSubnetIds],
      },
      cluster: { securityGroupId: clusterSecurityGroupId },
      bucketNamePrefix: inputs.bucketNamePrefix,
      ...(inputs.database ? { database: inputs.database } : {}),
      ...(inputs.poolQuotas ? { poolQuotas: inputs.poolQuotas } : {}),
      ...(inputs.ingressNamespace ? { ingressNamespace: inputs.ingressNamespace } : {}),
    },
    { providers: [awsProvider, k8sProvider] },
  );
  const outputs: { [K in keyof PlatformOutputs]: pulumi.Input<PlatformOutputs[K]> } = {
    region: inputs.region,
    partition,
    vpcId: inputs.vpcId,
    vpcCidr: inputs.vpcCidr,
    privateSubnetIds: [...inputs.privateSubnetIds],
    clusterName: inputs.clusterName,
    clusterOidcProviderArn: inputs.clusterOidcProviderArn,
    clusterOidcIssuer: oidcIssuer,
    clusterSecurityGroupId,
    nodeRoleArn: inputs.nodeRoleArn,
    nodeSubnetIds: [...(inputs.nodeSubnetIds ?? inputs.privateSubnetIds)],
    kubeconfig,
    poolNamespace: platform.poolNamespace,
    poolServiceAccount: platform.poolServiceAccount,
    ingressNamespace: platform.ingressNamespace,
    platformKeyArn: platform.platformKeyArn,
    sharedBucketName: platform.sharedBucketName,
    bucketNamePrefix: inputs.bucketNamePrefix,
    databaseHost: platform.databaseHost,
    databasePort: platform.databasePort,
    databaseName: platform.databaseName,
    databaseAdminSecretArn: platform.databaseAdminSecretArn,
    userPoolId: platform.userPoolId,
    accountsParentId: inputs.accounts?.parentId,
    accountEmailTemplate: inputs.accounts?.emailTemplate,
  };
  return Promise.resolve(
    Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined)),
  );
}
