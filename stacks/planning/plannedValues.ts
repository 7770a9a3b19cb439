/**
 * Placeholder values for planning under Pulumi's mock runtime: what the platform stack and
 * the cloud would return, spelled so nobody mistakes them for real ones (account
 * 000000000000, `planned` ids, `.invalid` hosts).
 */
import { partitionOf } from "../../components/naming.ts";
import type { PlatformOutputs } from "../../components/platform/platformOutputs.ts";

export const PLANNED_ACCOUNT = "000000000000";

/** Outputs a platform stack of `region` would export. */
export function plannedPlatformOutputs(region: string): PlatformOutputs {
  const partition = partitionOf(region);
  const arn = (service: string, resource: string, withRegion = true) =>
    `arn:${partition}:${service}:${withRegion ? region : ""}:${PLANNED_ACCOUNT}:${resource}`;
  return {
    region,
    partition,
    vpcId: "vpc-planned",
    vpcCidr: "10.0.0.0/16",
    privateSubnetIds: ["subnet-planned-a", "subnet-planned-b"],
    clusterName: "tenancy-planned",
    clusterOidcProviderArn: arn("iam", "oidc-provider/oidc.eks.planned.invalid/id/PLANNED", false),
    clusterOidcIssuer: "https://oidc.eks.planned.invalid/id/PLANNED",
    clusterSecurityGroupId: "sg-planned-cluster",
    nodeRoleArn: arn("iam", "role/tenancy-planned-nodes", false),
    nodeSubnetIds: ["subnet-planned-a", "subnet-planned-b"],
    kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n",
    poolNamespace: "tenancy-pool",
    poolServiceAccount: "tenancy-broker",
    ingressNamespace: "ingress-nginx",
    platformKeyArn: arn("kms", "key/planned-platform"),
    sharedBucketName: "tenancy-planned-shared",
    bucketNamePrefix: "tenancy-planned",
    databaseHost: "shared.planned.invalid",
    databasePort: 5432,
    databaseName: "app",
    databaseAdminSecretArn: arn("secretsmanager", "secret:rds!planned-shared"),
    userPoolId: `${region}_planned`,
    accountsParentId: "ou-planned",
    accountEmailTemplate: "aws+{slug}@tenancy.invalid",
  };
}

/** Admin URL of the local server when planning the `local` target (never connected to). */
export const PLANNED_LOCAL_ADMIN_URL = "postgres://planned:planned@localhost.invalid:5432/tenancy";
