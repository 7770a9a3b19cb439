/**
 * `tenancy:platform:Platform` — the shared infrastructure of one region (the `platform`
 * stack): the platform KMS key, the shared PostgreSQL server, the shared bucket of pooled
 * tenants, the pool namespace on the cluster and the shared user pool. The VPC and the
 * cluster already exist and are referenced by id.
 */
import * as pulumi from "@pulumi/pulumi";
import { IsolatedNamespace, type NamespaceQuotas } from "../compute/isolatedNamespace.ts";
import {
  POSTGRES_PORT,
  PostgresServer,
  type PostgresServerArgs,
} from "../database/postgresServer.ts";
import { SharedUserPool } from "../identity/sharedUserPool.ts";
import { BUCKET_TENANT_MARKER } from "../naming.ts";
import { EncryptionKey } from "../security/encryptionKey.ts";
import { SecureBucket } from "../storage/secureBucket.ts";

export interface PlatformArgs {
  /** AWS region of the platform (one platform stack per region). */
  readonly region: string;
  /** AWS partition of the region (`aws`, `aws-us-gov`, `aws-cn`), for ARNs. */
  readonly partition: string;
  /** The existing VPC, referenced by id. */
  readonly network: {
    readonly vpcId: pulumi.Input<string>;
    readonly vpcCidr: pulumi.Input<string>;
    readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  };
  /** The existing EKS cluster, referenced by id. */
  readonly cluster: {
    /** Cluster security group: the shared database admits it. */
    readonly securityGroupId: pulumi.Input<string>;
  };
  /** Prefix of every bucket name (`<prefix>-shared`, `<prefix>-tenant-<slug>`). */
  readonly bucketNamePrefix: string;
  /** Sizing of the shared server. @default see {@link PostgresServerArgs} */
  readonly database?: Pick<
    PostgresServerArgs,
    | "instanceClass"
    | "allocatedStorage"
    | "maxAllocatedStorage"
    | "engineVersion"
    | "backupRetentionDays"
    | "multiAz"
  >;
  /** Quotas of the pool namespace. @default { cpu: "16", memory: "32Gi", pods: 500 } */
  readonly poolQuotas?: NamespaceQuotas;
  /** @default "tenancy-pool" */
  readonly poolNamespace?: string;
  /** @default "ingress-nginx" */
  readonly ingressNamespace?: string;
  /** @default "tenancy" */
  readonly userPoolName?: string;
}

export const POOL_BROKER_SERVICE_ACCOUNT = "tenancy-broker";

/** Bucket prefixes become part of tenant bucket names; check them before anything is created. */
export function bucketPrefixProblem(prefix: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9-]{1,23}$/.test(prefix)) {
    return "must be 2-24 lowercase letters, digits or hyphens (tenant buckets append -tenant-<slug>)";
  }
  if (prefix.includes(BUCKET_TENANT_MARKER)) return `may not contain "${BUCKET_TENANT_MARKER}"`;
  return undefined;
}

export class Platform extends pulumi.ComponentResource {
  public readonly platformKeyArn: pulumi.Output<string>;
  public readonly sharedBucketName: pulumi.Output<string>;
  public readonly databaseHost: pulumi.Output<string>;
  public readonly databasePort: pulumi.Output<number>;
  public readonly databaseName: pulumi.Output<string>;
  public readonly databaseAdminSecretArn: pulumi.Output<string>;
  public readonly poolNamespace: pulumi.Output<string>;
  public readonly poolServiceAccount: pulumi.Output<string>;
  public readonly ingressNamespace: string;
  public readonly userPoolId: pulumi.Output<string>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:platform:Platform", name, {}, opts);
    const problem = bucketPrefixProblem(args.bucketNamePrefix);
    if (problem)
      throw new pulumi.ResourceError(
        `bucketNamePrefix "${args.bucketNamePrefix}" ${problem}`,
        this,
      );
    const key = new EncryptionKey(
      `${name}-kms`,
      {
        description: "Tenancy platform: shared data of pooled tenants",
        alias: "alias/tenancy/platform",
      },
      { parent: this },
    );
    const database = new PostgresServer(
      `${name}-database`,
      {
        ...args.database,
        identifier: "tenancy-shared",
        description: "the shared tenancy server",
        vpcId: args.network.vpcId,
        subnetIds: args.network.privateSubnetIds,
        clientSecurityGroupIds: [args.cluster.securityGroupId],
        kmsKeyArn: key.keyArn,
      },
      { parent: this },
    );
    const bucket = new SecureBucket(
      `${name}-shared-bucket`,
      {
        bucketName: `${args.bucketNamePrefix}-shared`,
        kmsKeyArn: key.keyArn,
        partition: args.partition,
      },
      { parent: this },
    );
    const ingressNamespace = args.ingressNamespace ?? "ingress-nginx";
    const pool = new IsolatedNamespace(
      `${name}-pool`,
      {
        namespace: args.poolNamespace ?? "tenancy-pool",
        quotas: args.poolQuotas ?? { cpu: "16", memory: "32Gi", pods: 500 },
        ingressNamespace,
        serviceAccount: { name: POOL_BROKER_SERVICE_ACCOUNT },
        deployerGroup: "tenancy:platform:deployers",
        allowedEgress: [{ cidr: args.network.vpcCidr, ports: [443, POSTGRES_PORT] }],
        labels: { "tenancy.io/pool": "true" },
      },
      { parent: this },
    );
    const users = new SharedUserPool(
      `${name}-users`,
      { poolName: args.userPoolName ?? "tenancy" },
      { parent: this },
    );
    this.platformKeyArn = key.keyArn;
    this.sharedBucketName = bucket.bucketName;
    this.databaseHost = database.host;
    this.databasePort = database.port;
    this.databaseName = database.databaseName;
    this.databaseAdminSecretArn = database.masterSecretArn;
    this.poolNamespace = pool.namespaceName;
    this.poolServiceAccount = pool.serviceAccountName;
    this.ingressNamespace = ingressNamespace;
    this.userPoolId = users.userPoolId;
    this.registerOutputs({
      platformKeyArn: this.platformKeyArn,
      sharedBucketName: this.sharedBucketName,
      databaseHost: this.databaseHost,
      poolNamespace: this.poolNamespace,
      userPoolId: this.userPoolId,
    });
  }
}
