import { describe, expect, it } from "vitest";
import { bucketPrefixProblem } from "../../components/platform/platform.ts";
import { platformOutputsSchema } from "../../components/platform/platformOutputs.ts";
import { platformConfigSchema, regionOfPlatformStack } from "../../stacks/platform/config.ts";
import { platformProgram, type PlatformProgramInputs } from "../../stacks/platform/program.ts";
import { collect, json, one, typeCounts } from "./harness.ts";

const INPUTS: PlatformProgramInputs = {
  region: "eu-west-1",
  vpcId: "vpc-123",
  vpcCidr: "10.20.0.0/16",
  privateSubnetIds: ["subnet-a", "subnet-b"],
  clusterName: "saas-prod",
  clusterOidcProviderArn:
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
  nodeRoleArn: "arn:aws:iam::123456789012:role/nodes",
  bucketNamePrefix: "acme-prod",
  accounts: { parentId: "ou-1", emailTemplate: "aws+{slug}@acme.example" },
};

const platform = () => collect(() => platformProgram(INPUTS), "platform-eu-west-1");

describe("platform stack", () => {
  it("declares exactly the shared infrastructure", async () => {
    const { resources } = await platform();
    expect(typeCounts(resources)).toEqual({
      "aws:kms/key:Key": 1,
      "aws:kms/alias:Alias": 1,
      "aws:rds/subnetGroup:SubnetGroup": 1,
      "aws:ec2/securityGroup:SecurityGroup": 1,
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1,
      "aws:rds/parameterGroup:ParameterGroup": 1,
      "aws:rds/instance:Instance": 1,
      "aws:s3/bucket:Bucket": 1,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
      "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
      "aws:s3/bucketVersioning:BucketVersioning": 1,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
      "aws:s3/bucketPolicy:BucketPolicy": 1,
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:core/v1:ResourceQuota": 1,
      "kubernetes:core/v1:LimitRange": 1,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy": 5,
      "kubernetes:core/v1:ServiceAccount": 1,
      "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
      "aws:cognito/userPool:UserPool": 1,
    });
  });

  it("the shared database is encrypted with the platform key, private, protected, TLS only, reachable from the cluster only", async () => {
    const { resources } = await platform();
    const key = one(resources, "aws:kms/key:Key");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(one(resources, "aws:rds/instance:Instance").inputs).toMatchObject({
      identifier: "tenancy-shared",
      storageEncrypted: true,
      kmsKeyId: "arn:aws:kms:eu-west-1:000000000000:key/planned-platform-kms-key",
      publiclyAccessible: false,
      deletionProtection: true,
      skipFinalSnapshot: false,
      backupRetentionPeriod: 14,
      manageMasterUserPassword: true,
      vpcSecurityGroupIds: ["planned-platform-database-sg"],
    });
    expect(
      one(resources, "aws:rds/parameterGroup:ParameterGroup").inputs["parameters"],
    ).toContainEqual({
      name: "rds.force_ssl",
      value: "1",
      applyMethod: "pending-reboot",
    });
    expect(
      one(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs,
    ).toMatchObject({
      referencedSecurityGroupId: "sg-planned-cluster",
      fromPort: 5432,
      toPort: 5432,
    });
  });

  it("the shared bucket blocks public access, is versioned, TLS-only and encrypted with the platform key", async () => {
    const { resources } = await platform();
    expect(one(resources, "aws:s3/bucket:Bucket").inputs["bucket"]).toBe("acme-prod-shared");
    expect(
      one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs,
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(json(one(resources, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])).toMatchObject(
      {
        Statement: [
          { Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } },
          { Effect: "Deny" },
        ],
      },
    );
  });

  it("the pool namespace is isolated like a tenant namespace, with the broker service account", async () => {
    const { resources } = await platform();
    expect(one(resources, "kubernetes:core/v1:Namespace").inputs["metadata"]).toMatchObject({
      name: "tenancy-pool",
      labels: { "tenancy.io/pool": "true", "tenancy.io/cost-center": "platform" },
    });
    expect(one(resources, "kubernetes:core/v1:ServiceAccount").inputs["metadata"]).toMatchObject({
      name: "tenancy-broker",
      namespace: "tenancy-pool",
    });
  });

  it("platform resources are tagged (cost center, managed-by), never with a tenant", async () => {
    const { resources } = await platform();
    const tagged = resources.filter((r) => "tags" in r.inputs);
    expect(tagged.map((r) => r.type).sort()).toEqual(
      [
        "aws:cognito/userPool:UserPool",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:kms/key:Key",
        "aws:rds/instance:Instance",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:s3/bucket:Bucket",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      ].sort(),
    );
    for (const r of tagged) {
      expect(r.inputs["tags"]).toEqual({
        "managed-by": "tenancy",
        "cost-center": "platform",
        component: "platform",
      });
    }
  });

  it("exports every output tenant stacks read", async () => {
    const { outputs } = await platform();
    const parsed = platformOutputsSchema.parse(outputs);
    expect(parsed).toMatchObject({
      region: "eu-west-1",
      partition: "aws",
      clusterOidcIssuer: "https://oidc.eks.planned.invalid/id/PLANNED",
      clusterSecurityGroupId: "sg-planned-cluster",
      poolNamespace: "tenancy-pool",
      poolServiceAccount: "tenancy-broker",
      sharedBucketName: "acme-prod-shared",
      bucketNamePrefix: "acme-prod",
      databaseHost: "tenancy-shared.planned.invalid",
      accountEmailTemplate: "aws+{slug}@acme.example",
    });
    expect(JSON.parse(parsed.kubeconfig)).toMatchObject({
      users: [
        {
          user: {
            exec: {
              command: "aws",
              args: [
                "eks",
                "get-token",
                "--cluster-name",
                "saas-prod",
                "--region",
                "eu-west-1",
                "--output",
                "json",
              ],
            },
          },
        },
      ],
    });
  });

  it.each([
    ["acme-prod", undefined],
    [
      "Acme",
      "must be 2-24 lowercase letters, digits or hyphens (tenant buckets append -tenant-<slug>)",
    ],
    ["acme-tenant-x", 'may not contain "-tenant-"'],
  ])("bucket prefix %s", (prefix, problem) => expect(bucketPrefixProblem(prefix)).toBe(problem));

  it("config: the region comes from the stack name; subnets in two zones are required", () => {
    expect(regionOfPlatformStack("platform-eu-west-1")).toBe("eu-west-1");
    expect(regionOfPlatformStack("platform")).toBeUndefined();
    expect(() => regionOfPlatformStack("tenant-acme")).toThrow(/not a platform stack/);
    const { region: _region, ...rest } = INPUTS;
    expect(
      platformConfigSchema.safeParse({ ...rest, region: "eu-west-1", privateSubnetIds: ["a"] })
        .success,
    ).toBe(false);
    expect(platformConfigSchema.safeParse({ ...INPUTS }).success).toBe(true);
  });
});
