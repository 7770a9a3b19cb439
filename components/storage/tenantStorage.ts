/**
 * `tenancy:storage:TenantStorage` — the storage layer of one tenant.
 *
 * - `prefix` (pool): no bucket; an IAM policy on the tenant's role allowing only
 *   `tenants/<slug>/*` in the shared bucket, and ListBucket only under that prefix.
 * - `bucket` (bridge, or silo with the tenant's own key): a {@link SecureBucket} of its own and
 *   an IAM policy allowing only that bucket.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import type { StorageMode } from "../../catalog/index.ts";
import { assertNever } from "../../contract/index.ts";
import { tenantBucketName, tenantIamPath, tenantPrefix } from "../naming.ts";
import { bucketArnOf, SecureBucket, type LifecycleSettings } from "./secureBucket.ts";

export interface TenantStorageArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** Isolation mode of this layer, from the resolved catalog spec. */
  readonly mode: StorageMode;
  /** AWS region of the buckets (for the KMS `kms:ViaService` condition). */
  readonly region: string;
  /** AWS partition, for ARNs. @default "aws" */
  readonly partition?: string;
  /** The platform's shared bucket (prefix mode). */
  readonly sharedBucketName: pulumi.Input<string>;
  /** Prefix of tenant bucket names (bucket mode); the bucket is `<prefix>-tenant-<slug>`. */
  readonly bucketNamePrefix: pulumi.Input<string>;
  /**
   * Key the tenant's objects are encrypted with: the shared bucket's key in prefix mode; the
   * tenant's own key (encryption `dedicated`) or the platform key in bucket mode.
   */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Name of the tenant's workload role, which receives the access policy. */
  readonly roleName: pulumi.Input<string>;
  /** Lifecycle rules of a tenant bucket. @default see {@link LifecycleSettings} */
  readonly lifecycle?: LifecycleSettings;
}

const OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
];

function kmsStatement(kmsKeyArn: string, region: string) {
  return {
    Sid: "UseDataKeyThroughS3",
    Effect: "Allow",
    Action: ["kms:Decrypt", "kms:GenerateDataKey"],
    Resource: kmsKeyArn,
    Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
  };
}

export interface AccessPolicyInput {
  readonly slug: string;
  readonly bucketName: string;
  readonly kmsKeyArn: string;
  readonly region: string;
  readonly partition?: string;
}

/** Prefix mode: objects under `tenants/<slug>/` and listing of that prefix only. */
export function prefixAccessPolicy(input: AccessPolicyInput) {
  const bucketArn = bucketArnOf(input.bucketName, input.partition);
  const prefix = tenantPrefix(input.slug);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListOwnPrefixOnly",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
      },
      {
        Sid: "ReadWriteOwnPrefix",
        Effect: "Allow",
        Action: OBJECT_ACTIONS,
        Resource: `${bucketArn}/${prefix}*`,
      },
      kmsStatement(input.kmsKeyArn, input.region),
    ],
  };
}

/** Bucket mode: the tenant's own bucket, nothing else. */
export function bucketAccessPolicy(input: AccessPolicyInput) {
  const bucketArn = bucketArnOf(input.bucketName, input.partition);
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListOwnBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
      {
        Sid: "ReadWriteOwnBucket",
        Effect: "Allow",
        Action: OBJECT_ACTIONS,
        Resource: `${bucketArn}/*`,
      },
      kmsStatement(input.kmsKeyArn, input.region),
    ],
  };
}

/**
 * The key a tenant's objects are encrypted with: the shared bucket's (the platform key) in
 * prefix mode; in bucket mode the tenant's own key when it has one, else the platform key.
 */
export function storageKeyOf<K>(mode: StorageMode, keys: { tenant?: K; platform: K }): K {
  switch (mode) {
    case "prefix":
      return keys.platform;
    case "bucket":
      return keys.tenant ?? keys.platform;
    default:
      return assertNever(mode, "storage mode");
  }
}

export class TenantStorage extends pulumi.ComponentResource {
  public readonly mode: StorageMode;
  /** Bucket holding the tenant's objects (the shared bucket in prefix mode). */
  public readonly bucketName: pulumi.Output<string>;
  /** Key prefix of the tenant's objects (`tenants/<slug>/` or empty). */
  public readonly prefix: string;
  public readonly policyArn: pulumi.Output<string>;

  constructor(name: string, args: TenantStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:storage:TenantStorage", name, {}, opts);
    const partition = args.partition ?? "aws";
    let bucketName: pulumi.Output<string>;
    let document: (input: AccessPolicyInput) => object;
    switch (args.mode) {
      case "prefix":
        bucketName = pulumi.output(args.sharedBucketName);
        document = prefixAccessPolicy;
        this.prefix = tenantPrefix(args.slug);
        break;
      case "bucket": {
        const bucket = new SecureBucket(
          `${name}-bucket`,
          {
            bucketName: pulumi
              .output(args.bucketNamePrefix)
              .apply((prefix) => tenantBucketName(prefix, args.slug)),
            kmsKeyArn: args.kmsKeyArn,
            partition,
            ...(args.lifecycle ? { lifecycle: args.lifecycle } : {}),
          },
          { parent: this },
        );
        bucketName = bucket.bucketName;
        document = bucketAccessPolicy;
        this.prefix = "";
        break;
      }
      default:
        assertNever(args.mode, "storage mode");
    }
    const aws = awsSdk();
    const policy = new aws.iam.Policy(
      `${name}-access`,
      {
        path: tenantIamPath(args.slug),
        description: `Storage access of tenant ${args.slug} (${args.mode} mode)`,
        policy: pulumi.all([bucketName, args.kmsKeyArn]).apply(([bucket, kmsKeyArn]) =>
          JSON.stringify(
            document({
              slug: args.slug,
              bucketName: bucket,
              kmsKeyArn,
              region: args.region,
              partition,
            }),
          ),
        ),
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-access`,
      { role: args.roleName, policyArn: policy.arn },
      { parent: this },
    );
    this.mode = args.mode;
    this.bucketName = bucketName;
    this.policyArn = policy.arn;
    this.registerOutputs({ bucketName: this.bucketName, policyArn: this.policyArn });
  }
}
