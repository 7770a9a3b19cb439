/**
 * `tenancy:tenant:Tenant` — every layer of one tenant, from its resolved catalog spec. On
 * `aws` all four layers (plus the tenant's own KMS key when its encryption is `dedicated`);
 * on `local` only the database layer, the others reported as not provisioned.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type {
  ComputeMode,
  Layer,
  ResolvedTenant,
  RoutingRecord,
  Target,
} from "../../contract/index.ts";
import { localComputeMode, LocalTenantCompute } from "../compute/localTenantCompute.ts";
import { computeParts, TenantCompute } from "../compute/tenantCompute.ts";
import type { InDatabaseProvisioner } from "../database/inDatabaseProvisioner.ts";
import { adminUrlFromSecret } from "../database/postgresUrl.ts";
import { TenantDatabase } from "../database/tenantDatabase.ts";
import { TenantIdentity } from "../identity/tenantIdentity.ts";
import { partitionOf, tenantKeyAlias } from "../naming.ts";
import type { PlatformOutputs } from "../platform/platformOutputs.ts";
import { EncryptionKey } from "../security/encryptionKey.ts";
import { storageKeyOf, TenantStorage } from "../storage/tenantStorage.ts";

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
  const reason = `not provisioned on this target (${target}): needs a cloud; use --target aws`;
  const compute = !local.cluster
    ? `not provisioned on this target (${target}): no local Kubernetes cluster (scripts/kube/start-cluster.sh)`
    : local.computeMode !== undefined && localComputeMode(local.computeMode) === undefined
      ? `not provisioned on this target (${target}): compute "account" needs AWS Organizations; use --target aws`
      : undefined;
  return { storage: reason, ...(compute === undefined ? {} : { compute }), identity: reason };
}

/** Whether the tenant gets a KMS key of its own (shared by its database, bucket and secrets). */
export function needsTenantKey(tenant: ResolvedTenant): boolean {
  return tenant.encryption === "dedicated";
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
    const { tenant } = args;
    const quotas = {
      dbConnections: tenant.quotas.dbConnections,
      statementTimeoutMs: tenant.quotas.statementTimeoutMs,
    };
    this.notProvisioned = notProvisionedLayers(args.target, {
      cluster: args.localCluster !== undefined,
      computeMode: tenant.layers.compute,
    });
    const notProvisioned = Object.keys(this.notProvisioned) as Layer[];
    this.computeNodes = undefined;

    if (args.target === "local") {
      if (args.localAdminUrl === undefined) {
        throw new pulumi.ResourceError(
          `tenant ${tenant.slug}: target local needs the local server's admin URL (config tenancy:databaseUrl or DATABASE_URL)`,
          this,
        );
      }
      const database = new TenantDatabase(
        `${name}-database`,
        {
          slug: tenant.slug,
          mode: tenant.layers.database,
          target: "local",
          quotas,
          provisioner: args.provisioner,
          sharedAdminUrl: args.localAdminUrl,
        },
        { parent: this },
      );
      this.databasePassword = database.password;
      const computeMode = localComputeMode(tenant.layers.compute);
      if (args.localCluster === undefined || computeMode === undefined) {
        this.routing = database.routing.apply((db) => ({ database: db, notProvisioned }));
        this.registerOutputs({ routing: this.routing });
        return;
      }
      const compute = new LocalTenantCompute(
        `${name}-compute`,
        {
          slug: tenant.slug,
          mode: computeMode,
          suspended: tenant.lifecycle === "suspended",
          quotas: {
            cpu: tenant.quotas.cpu,
            memory: tenant.quotas.memory,
            requestsPerSecond: tenant.quotas.requestsPerSecond,
          },
        },
        { parent: this, providers: [args.localCluster] },
      );
      this.computeNodes = compute.nodes;
      this.routing = pulumi.all([database.routing, compute.namespace]).apply(([db, namespace]) => ({
        database: db,
        compute: { mode: compute.mode, namespace },
        notProvisioned,
      }));
      this.registerOutputs({ routing: this.routing });
      return;
    }

    if (args.platform === undefined) {
      throw new pulumi.ResourceError(
        `tenant ${tenant.slug}: target aws needs the outputs of the platform stack of ${tenant.region}`,
        this,
      );
    }
    const platform = pulumi.output(args.platform).apply((p) => {
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
          { parent: this },
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
        quotas: {
          cpu: tenant.quotas.cpu,
          memory: tenant.quotas.memory,
          requestsPerSecond: tenant.quotas.requestsPerSecond,
        },
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
      { parent: this },
    );

    const database = new TenantDatabase(
      `${name}-database`,
      {
        slug: tenant.slug,
        mode: tenant.layers.database,
        target: "aws",
        quotas,
        provisioner: args.provisioner,
        sharedAdminUrl: adminUrlFromSecret(
          platform.databaseAdminSecretArn,
          platform.apply((p) => ({
            host: p.databaseHost,
            port: p.databasePort,
            database: p.databaseName,
          })),
          { parent: this },
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
      { parent: this },
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
      { parent: this },
    );

    const identity = new TenantIdentity(
      `${name}-identity`,
      {
        slug: tenant.slug,
        mode: tenant.layers.identity,
        userPoolId: platform.userPoolId,
        ...(tenant.federation ? { federation: tenant.federation } : {}),
      },
      { parent: this },
    );

    this.databasePassword = database.password;
    this.routing = pulumi
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
    this.registerOutputs({ routing: this.routing });
  }
}

function required(value: string | undefined, key: string, slug: string): string {
  if (value === undefined) {
    throw new Error(
      `tenant ${slug} has compute "account" but the platform stack exports no ${key}`,
    );
  }
  return value;
}
