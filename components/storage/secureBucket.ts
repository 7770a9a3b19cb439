/**
 * `tenancy:storage:SecureBucket` — an S3 bucket that is private, encrypted with a given KMS
 * key, versioned, owner-enforced (ACLs disabled), TLS-only, with lifecycle rules. Used for
 * the platform's shared bucket and for tenant buckets alike.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";

export interface LifecycleSettings {
  /**
   * Days before noncurrent object versions expire.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Days before incomplete multipart uploads are aborted.
   * @default 7
   */
  readonly abortIncompleteMultipartUploadDays?: number;
  /**
   * Days before current objects move to STANDARD_IA; none when unset.
   * @default undefined
   */
  readonly transitionToInfrequentAccessDays?: number;
}

export interface SecureBucketArgs {
  /** Globally unique bucket name. */
  readonly bucketName: pulumi.Input<string>;
  /** ARN of the KMS key objects are encrypted with (SSE-KMS, bucket keys on). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** AWS partition, for ARNs. @default "aws" */
  readonly partition?: string;
  /** Lifecycle rules. @default see {@link LifecycleSettings} */
  readonly lifecycle?: LifecycleSettings;
}

/** Every public-access switch on. */
export const PUBLIC_ACCESS_BLOCKED = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
} as const;

/** Bucket policy: deny any request not made over TLS (1.2 or later). */
export function tlsOnlyBucketPolicy(bucketArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyOutdatedTls",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
      },
    ],
  };
}

/** Lifecycle rules with defaults applied. */
export function lifecycleRules(settings: LifecycleSettings = {}) {
  const transition = settings.transitionToInfrequentAccessDays;
  return [
    {
      id: "expire-noncurrent-versions",
      status: "Enabled",
      filter: {},
      noncurrentVersionExpiration: {
        noncurrentDays: settings.noncurrentVersionExpirationDays ?? 90,
      },
    },
    {
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: {},
      abortIncompleteMultipartUpload: {
        daysAfterInitiation: settings.abortIncompleteMultipartUploadDays ?? 7,
      },
    },
    ...(transition === undefined
      ? []
      : [
          {
            id: "transition-to-infrequent-access",
            status: "Enabled",
            filter: {},
            transitions: [{ days: transition, storageClass: "STANDARD_IA" }],
          },
        ]),
  ];
}

export function bucketArnOf(bucketName: string, partition = "aws"): string {
  return `arn:${partition}:s3:::${bucketName}`;
}

export class SecureBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:storage:SecureBucket", name, {}, opts);
    const partition = args.partition ?? "aws";
    const aws = awsSdk();
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucket: args.bucketName, forceDestroy: false, objectLockEnabled: false },
      { parent: this },
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.bucket, ...PUBLIC_ACCESS_BLOCKED },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: {
              sseAlgorithm: "aws:kms",
              kmsMasterKeyId: args.kmsKeyArn,
            },
            bucketKeyEnabled: true,
          },
        ],
      },
      { parent: this },
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
      { parent: this },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket: bucket.bucket, rules: lifecycleRules(args.lifecycle) },
      { parent: this, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket: bucket.bucket,
        policy: bucket.bucket.apply((b) =>
          JSON.stringify(tlsOnlyBucketPolicy(bucketArnOf(b, partition))),
        ),
      },
      // A policy applied before the public access block could briefly allow public access.
      { parent: this, dependsOn: [publicAccess] },
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.bucket.apply((b) => bucketArnOf(b, partition));
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}
