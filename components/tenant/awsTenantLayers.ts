/**
 * The layers of a tenant on the `aws` target: compute (EKS namespace, nodes or an account,
 * and the workload role), database (shared RDS, or an instance of its own), storage, identity,
 * and the tenant's own KMS key when its encryption is `dedicated`; wired to the outputs of the
 * platform stack of its region.
 */
import * as pulumi from "@pulumi/pulumi";
import { computeParts, TenantCompute } from "../compute/tenantCompute.ts";
import { adminUrlFromSecret } from "../database/postgresUrl.ts";
import { TenantDatabase } from "../database/tenantDatabase.ts";
import { TenantIdentity } from "../identity/tenantIdentity.ts";
import { partitionOf, tenantKeyAlias } from "../naming.ts";
import { EncryptionKey } from "../security/encryptionKey.ts";
import { storageKeyOf, TenantStorage } from "../storage/tenantStorage.ts";
import {
  computeQuotasOf,
  databaseArgsOf,
  needsTenantKey,
  requireInput,
  type TargetLayers,
} from "./tenantLayers.ts";

/** Declares the tenant's AWS layers as children of `parent`, named after `name`. */
export const awsTenantLayers: TargetLayers = (name, args, notProvisioned, parent) => {
  const { tenant } = args;
  const platformOutputs = requireInput(
    args.platform,
    `tenant ${tenant.slug}: target aws needs the outputs of the platform stack of ${tenant.region}`,
    parent,
  );
  const platform = pulumi.output(platformOutputs).apply((p) => {
    if (p.region !== tenant.region) {
      throw new Error(
        `tenant ${tenant.slug} is in ${tenant.region} but the platform stack is in ${p.region}; point tenancy:platformStack at the platform stack of ${tenant.region}`,
      );
    }
    return p;
  });
  const partition = partitionOf(tenant.region);
  const tenantKey = needsTenantKey(tenant)
    ? new EncryptionKey(
        `${name}-kms`,
        { description: `Data of tenant ${tenant.slug}`, alias: tenantKeyAlias(tenant.slug) },
        { parent },
      ).keyArn
    : undefined;
  const platformKey = platform.platformKeyArn;

  const compute = new TenantCompute(
    `${name}-compute`,
    {
      slug: tenant.slug,
      mode: tenant.layers.compute,
      partition,
      suspended: tenant.lifecycle === "suspended",
      quotas: computeQuotasOf(tenant),
      cluster: {
        name: platform.clusterName,
        oidcProviderArn: platform.clusterOidcProviderArn,
        oidcIssuer: platform.clusterOidcIssuer,
        nodeRoleArn: platform.nodeRoleArn,
        nodeSubnetIds: platform.nodeSubnetIds,
        securityGroupId: platform.clusterSecurityGroupId,
        vpcId: platform.vpcId,
        vpcCidr: platform.vpcCidr,
        poolNamespace: platform.poolNamespace,
        poolServiceAccount: platform.poolServiceAccount,
        ingressNamespace: platform.ingressNamespace,
      },
      ...(computeParts(tenant.layers.compute).placement === "account"
        ? {
            accounts: {
              parentId: platform.apply((p) =>
                required(p.accountsParentId, "accountsParentId", tenant.slug),
              ),
              emailTemplate: platform.apply((p) =>
                required(p.accountEmailTemplate, "accountEmailTemplate", tenant.slug),
              ),
            },
          }
        : {}),
    },
    { parent },
  );

  const database = new TenantDatabase(
    `${name}-database`,
    {
      ...databaseArgsOf(args, "aws"),
      sharedAdminUrl: adminUrlFromSecret(
        platform.databaseAdminSecretArn,
        platform.apply((p) => ({
          host: p.databaseHost,
          port: p.databasePort,
          database: p.databaseName,
        })),
        { parent },
      ),
      dedicatedServer: {
        vpcId: platform.vpcId,
        subnetIds: platform.privateSubnetIds,
        clientSecurityGroupIds: compute.workloadSecurityGroupId
          ? [compute.workloadSecurityGroupId]
          : [],
        ...(tenantKey ? { kmsKeyArn: tenantKey } : {}),
      },
      secretKmsKeyArn: tenantKey ?? platformKey,
    },
    { parent },
  );

  const storage = new TenantStorage(
    `${name}-storage`,
    {
      slug: tenant.slug,
      mode: tenant.layers.storage,
      region: tenant.region,
      partition,
      sharedBucketName: platform.sharedBucketName,
      bucketNamePrefix: platform.bucketNamePrefix,
      kmsKeyArn: storageKeyOf(tenant.layers.storage, {
        ...(tenantKey ? { tenant: tenantKey } : {}),
        platform: platformKey,
      }),
      roleName: compute.roleName,
    },
    { parent },
  );

  const identity = new TenantIdentity(
    `${name}-identity`,
    {
      slug: tenant.slug,
      mode: tenant.layers.identity,
      userPoolId: platform.userPoolId,
      ...(tenant.federation ? { federation: tenant.federation } : {}),
    },
    { parent },
  );

  const routing = pulumi
    .all([
      database.routing,
      storage.bucketName,
      compute.namespace,
      identity.groupName,
      identity.providerName ?? pulumi.output(undefined),
    ])
    .apply(([db, bucket, namespace, group, provider]) => ({
      database: db,
      storage: { mode: storage.mode, bucket, prefix: storage.prefix },
      compute: { mode: compute.mode, ...(namespace === undefined ? {} : { namespace }) },
      identity: { mode: identity.mode, group, ...(provider === undefined ? {} : { provider }) },
      notProvisioned,
    }));
  return { routing, databasePassword: database.password };
};

function required(value: string | undefined, key: string, slug: string): string {
  if (value === undefined) {
    throw new Error(
      `tenant ${slug} has compute "account" but the platform stack exports no ${key}`,
    );
  }
  return value;
}
