import { describe, expect, it } from "vitest";
import { TenantStorage } from "../../components/storage/tenantStorage.ts";
import { SecureBucket } from "../../components/storage/secureBucket.ts";
import { collect, json, one, PLATFORM, REGION, typeCounts } from "./harness.ts";

const TENANT_KEY = "arn:aws:kms:eu-west-1:000000000000:key/tenant-key";

function storage(mode: "prefix" | "bucket", kmsKeyArn = PLATFORM.platformKeyArn) {
  return collect(
    () =>
      new TenantStorage("acme-storage", {
        slug: "acme",
        mode,
        region: REGION,
        sharedBucketName: PLATFORM.sharedBucketName,
        bucketNamePrefix: PLATFORM.bucketNamePrefix,
        kmsKeyArn,
        roleName: "tenancy-acme-workload",
      }),
  );
}

const BUCKET_PARTS = {
  "aws:s3/bucket:Bucket": 1,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
  "aws:s3/bucketVersioning:BucketVersioning": 1,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
  "aws:s3/bucketPolicy:BucketPolicy": 1,
};
const ACCESS_POLICY = {
  "aws:iam/policy:Policy": 1,
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
};

describe("TenantStorage", () => {
  it.each([
    ["prefix", ACCESS_POLICY],
    ["bucket", { ...BUCKET_PARTS, ...ACCESS_POLICY }],
  ] as const)("mode %s declares exactly its resources", async (mode, expected) => {
    const { resources } = await storage(mode);
    expect(typeCounts(resources)).toEqual(expected);
  });

  it("prefix mode allows only tenants/<slug>/ of the shared bucket, and lists only that prefix", async () => {
    const { resources } = await storage("prefix");
    const policy = one(resources, "aws:iam/policy:Policy");
    expect(policy.inputs["path"]).toBe("/tenancy/tenants/acme/");
    const bucketArn = `arn:aws:s3:::${PLATFORM.sharedBucketName}`;
    expect(json(policy.inputs["policy"])).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ListOwnPrefixOnly",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: bucketArn,
          Condition: { StringLike: { "s3:prefix": ["tenants/acme/", "tenants/acme/*"] } },
        },
        {
          Sid: "ReadWriteOwnPrefix",
          Effect: "Allow",
          Action: [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
          ],
          Resource: `${bucketArn}/tenants/acme/*`,
        },
        {
          Sid: "UseDataKeyThroughS3",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:GenerateDataKey"],
          Resource: PLATFORM.platformKeyArn,
          Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
        },
      ],
    });
    const attachment = one(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    expect(attachment.inputs["role"]).toBe("tenancy-acme-workload");
  });

  it("no statement of either mode grants a wildcard resource or action", async () => {
    for (const mode of ["prefix", "bucket"] as const) {
      const { resources } = await storage(mode);
      const doc = json(one(resources, "aws:iam/policy:Policy").inputs["policy"]) as {
        Statement: { Resource: string; Action: string | string[] }[];
      };
      for (const s of doc.Statement) {
        expect(s.Resource).not.toBe("*");
        expect(s.Resource).not.toContain(":::*");
        // The shared bucket as a whole is never granted: only the tenant's prefix.
        expect(s.Resource).not.toBe(`arn:aws:s3:::${PLATFORM.sharedBucketName}/*`);
        expect([s.Action].flat().filter((a) => a === "*" || a.endsWith(":*"))).toEqual([]);
      }
    }
  });

  it.each([
    ["platform key (bridge)", PLATFORM.platformKeyArn],
    ["tenant key (silo)", TENANT_KEY],
  ])(
    "bucket mode: private, versioned, owner-enforced, TLS-only, encrypted with the %s",
    async (_what, key) => {
      const { resources } = await storage("bucket", key);
      const bucketName = `${PLATFORM.bucketNamePrefix}-tenant-acme`;
      expect(one(resources, "aws:s3/bucket:Bucket").inputs).toMatchObject({
        bucket: bucketName,
        forceDestroy: false,
      });
      expect(
        one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs,
      ).toMatchObject({
        bucket: bucketName,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(
        one(
          resources,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ).inputs["rules"],
      ).toEqual([
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key },
          bucketKeyEnabled: true,
        },
      ]);
      expect(
        one(resources, "aws:s3/bucketVersioning:BucketVersioning").inputs[
          "versioningConfiguration"
        ],
      ).toEqual({
        status: "Enabled",
      });
      expect(
        one(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"],
      ).toEqual({
        objectOwnership: "BucketOwnerEnforced",
      });
      const policy = json(one(resources, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]) as {
        Statement: { Effect: string; Condition: unknown; Resource: string[] }[];
      };
      expect(policy.Statement.map((s) => [s.Effect, s.Condition])).toEqual([
        ["Deny", { Bool: { "aws:SecureTransport": "false" } }],
        ["Deny", { NumericLessThan: { "s3:TlsVersion": "1.2" } }],
      ]);
      expect(policy.Statement[0]?.Resource).toEqual([
        `arn:aws:s3:::${bucketName}`,
        `arn:aws:s3:::${bucketName}/*`,
      ]);
      const access = json(one(resources, "aws:iam/policy:Policy").inputs["policy"]) as {
        Statement: { Resource: string }[];
      };
      expect(access.Statement.map((s) => s.Resource)).toEqual([
        `arn:aws:s3:::${bucketName}`,
        `arn:aws:s3:::${bucketName}/*`,
        key,
      ]);
    },
  );

  it("lifecycle rules expire noncurrent versions and abort stale uploads by default", async () => {
    const { resources } = await collect(
      () =>
        new SecureBucket("b", {
          bucketName: "acme-prod-shared",
          kmsKeyArn: PLATFORM.platformKeyArn,
          lifecycle: { noncurrentVersionExpirationDays: 30, transitionToInfrequentAccessDays: 60 },
        }),
    );
    expect(
      one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
      ],
    ).toEqual([
      {
        id: "expire-noncurrent-versions",
        status: "Enabled",
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: 30 },
      },
      {
        id: "abort-incomplete-uploads",
        status: "Enabled",
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
      {
        id: "transition-to-infrequent-access",
        status: "Enabled",
        filter: {},
        transitions: [{ days: 60, storageClass: "STANDARD_IA" }],
      },
    ]);
  });
});
