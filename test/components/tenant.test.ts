import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseResolvedTenant, routingRecordSchema, slugOfStack } from "../../contract/index.ts";
import { kubernetesLabelsFor } from "../../components/tagging.ts";
import { TAGGABLE_AWS_TYPES } from "../../policies/rules/tagging.ts";
import { runTenantUnderMocks } from "../../stacks/planning/planTenant.ts";
import * as pulumi from "@pulumi/pulumi";
import { readTenantStackConfig } from "../../stacks/tenant/config.ts";
import { exampleTenant, exampleTenants, typeCounts } from "./harness.ts";

type Counts = Record<string, number>;
const add = (...parts: Counts[]): Counts => {
  const total: Counts = {};
  for (const part of parts)
    for (const [k, v] of Object.entries(part)) total[k] = (total[k] ?? 0) + v;
  return total;
};

const ROLE = { "aws:iam/role:Role": 1 };
const POOL_COMPUTE = { "kubernetes:core/v1:ConfigMap": 1 };
const NAMESPACE = {
  "kubernetes:core/v1:Namespace": 1,
  "kubernetes:core/v1:ResourceQuota": 1,
  "kubernetes:core/v1:LimitRange": 1,
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": 5,
  "kubernetes:core/v1:ServiceAccount": 1,
  "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
  "aws:ec2/securityGroup:SecurityGroup": 1,
  "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy": 1,
};
const NODES = { "aws:eks/nodeGroup:NodeGroup": 1 };
const ACCOUNT = { "aws:organizations/account:Account": 1 };
const DB_OBJECTS = { "pulumi-nodejs:dynamic/tenancy:TenantDatabase": 1 };
const DB_SECRET = {
  "aws:secretsmanager/secret:Secret": 1,
  "aws:secretsmanager/secretVersion:SecretVersion": 1,
};
const KEY = { "aws:kms/key:Key": 1, "aws:kms/alias:Alias": 1 };
const RDS = {
  "aws:rds/subnetGroup:SubnetGroup": 1,
  "aws:ec2/securityGroup:SecurityGroup": 1,
  "aws:rds/parameterGroup:ParameterGroup": 1,
  "aws:rds/instance:Instance": 1,
};
const RDS_INGRESS = { "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1 };
const ACCESS = {
  "aws:iam/policy:Policy": 1,
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
};
const BUCKET = {
  "aws:s3/bucket:Bucket": 1,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
  "aws:s3/bucketVersioning:BucketVersioning": 1,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
  "aws:s3/bucketPolicy:BucketPolicy": 1,
};
const GROUP = { "aws:cognito/userGroup:UserGroup": 1 };
const IDP = { "aws:cognito/identityProvider:IdentityProvider": 1 };

describe("Tenant on aws: every example tenant declares exactly its layers", () => {
  it.each([
    ["bluebird", add(ROLE, POOL_COMPUTE, DB_OBJECTS, ACCESS, GROUP)],
    ["corvid-labs", add(ROLE, POOL_COMPUTE, DB_OBJECTS, ACCESS, GROUP)],
    ["dunlin", add(ROLE, NAMESPACE, DB_OBJECTS, DB_SECRET, ACCESS, BUCKET, GROUP)],
    // pro + dedicated database: the database gets a key of its own; the bucket uses the platform key
    [
      "egret-health",
      add(
        ROLE,
        NAMESPACE,
        DB_OBJECTS,
        DB_SECRET,
        KEY,
        RDS,
        RDS_INGRESS,
        ACCESS,
        BUCKET,
        GROUP,
        IDP,
      ),
    ],
    // enterprise: one tenant key for database, bucket and secrets
    [
      "falcon-bank",
      add(
        ROLE,
        NAMESPACE,
        NODES,
        DB_OBJECTS,
        DB_SECRET,
        KEY,
        RDS,
        RDS_INGRESS,
        ACCESS,
        BUCKET,
        GROUP,
        IDP,
      ),
    ],
    // account mode: no pods in the platform's cluster, so nothing is admitted to its database
    ["gannet-gov", add(ROLE, ACCOUNT, DB_OBJECTS, DB_SECRET, KEY, RDS, ACCESS, BUCKET, GROUP, IDP)],
    ["heron", add(ROLE, NAMESPACE, NODES, DB_OBJECTS, ACCESS, BUCKET, GROUP)],
  ])("%s", async (slug, expected) => {
    const { resources } = await runTenantUnderMocks(await exampleTenant(slug), "aws");
    expect(typeCounts(resources)).toEqual(expected);
    const tenantRoot = resources.find((r) => r.type === "tenancy:tenant:Tenant");
    expect(tenantRoot).toMatchObject({ name: slug, parent: null });
    for (const r of resources) expect(r.name.startsWith(slug) || r.parent === null).toBe(true);
  });

  it("the silo tenant's bucket, database and secrets use its own key; a bridge tenant's bucket the platform key", async () => {
    const silo = await runTenantUnderMocks(await exampleTenant("falcon-bank"), "aws");
    const siloKey = "arn:aws:kms:eu-central-1:000000000000:key/planned-falcon-bank-kms-key";
    const input = (run: typeof silo, type: string) =>
      run.resources.find((r) => r.type === type)?.inputs;
    expect(input(silo, "aws:rds/instance:Instance")?.["kmsKeyId"]).toBe(siloKey);
    expect(input(silo, "aws:secretsmanager/secret:Secret")?.["kmsKeyId"]).toBe(siloKey);
    expect(
      JSON.stringify(
        input(
          silo,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ),
      ),
    ).toContain(siloKey);
    const bridge = await runTenantUnderMocks(await exampleTenant("dunlin"), "aws");
    expect(
      JSON.stringify(
        input(
          bridge,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ),
      ),
    ).toContain("arn:aws:kms:us-west-2:000000000000:key/planned-platform");
  });

  it("GovCloud tenants get aws-us-gov ARNs", async () => {
    const { resources } = await runTenantUnderMocks(await exampleTenant("gannet-gov"), "aws");
    const policy = resources.find((r) => r.type === "aws:iam/policy:Policy")?.inputs[
      "policy"
    ] as string;
    expect(policy).toContain("arn:aws-us-gov:s3:::tenancy-planned-tenant-gannet-gov");
    expect(policy).not.toContain("arn:aws:");
  });
});

describe("Tenant on local", () => {
  it("declares only the database layer and reports the rest as not provisioned", async () => {
    for (const tenant of await exampleTenants()) {
      const { resources, outputs } = await runTenantUnderMocks(tenant, "local");
      expect(resources.map((r) => r.type)).toEqual([
        "tenancy:tenant:Tenant",
        "tenancy:database:TenantDatabase",
        "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
      ]);
      expect(Object.keys(outputs["notProvisioned"] as object)).toEqual([
        "storage",
        "compute",
        "identity",
      ]);
      const routing = routingRecordSchema.parse(outputs["routing"]);
      expect(routing.notProvisioned).toEqual(["storage", "compute", "identity"]);
      expect(routing.database?.mode).toBe(tenant.layers.database);
      expect(routing.storage).toBeUndefined();
    }
  });
});

describe("stack outputs", () => {
  it("the routing record is the one the control plane reads", async () => {
    for (const tenant of await exampleTenants()) {
      const { outputs } = await runTenantUnderMocks(tenant, "aws");
      const routing = routingRecordSchema.parse(outputs["routing"]);
      expect(routing).toMatchObject({
        database: { mode: tenant.layers.database },
        storage: { mode: tenant.layers.storage },
        compute: { mode: tenant.layers.compute },
        identity: { mode: tenant.layers.identity },
        notProvisioned: [],
      });
      expect("databasePassword" in outputs).toBe(tenant.layers.database !== "pool");
    }
  });
});

/** The SDK's own declaration of a resource's args: does it take `tags`? */
function declaresTags(type: string): boolean {
  const path = /^aws:([^/]+)\/([^:]+):/.exec(type);
  if (!path) throw new Error(`unexpected type ${type}`);
  const source = readFileSync(`node_modules/@pulumi/aws/${path[1]}/${path[2]}.d.ts`, "utf8");
  const args = /export interface \w+Args \{[\s\S]*?\n\}/.exec(source)?.[0] ?? "";
  return /\n\s+tags\?:/.test(args);
}

describe("tags and labels (one stack transformation)", () => {
  it("reach every taggable AWS resource and every Kubernetes object of every example tenant", async () => {
    const seenTaggable = new Set<string>();
    for (const tenant of await exampleTenants()) {
      const { resources } = await runTenantUnderMocks(tenant, "aws");
      const labels = kubernetesLabelsFor(tenant.tags);
      for (const r of resources) {
        if (r.type.startsWith("aws:")) {
          const taggable = declaresTags(r.type);
          expect(TAGGABLE_AWS_TYPES.has(r.type), `${r.type} taggable per SDK: ${taggable}`).toBe(
            taggable,
          );
          if (!taggable) {
            expect(r.inputs["tags"], r.type).toBeUndefined();
            continue;
          }
          seenTaggable.add(r.type);
          expect(r.inputs["tags"], `${tenant.slug} ${r.name}`).toEqual(tenant.tags);
        } else if (r.type.startsWith("kubernetes:")) {
          const metadata = r.inputs["metadata"] as { labels?: Record<string, string> };
          expect(metadata.labels, `${tenant.slug} ${r.name}`).toMatchObject(labels);
        }
      }
    }
    expect([...seenTaggable].sort()).toEqual(
      [...TAGGABLE_AWS_TYPES].filter((t) => t !== "aws:cognito/userPool:UserPool").sort(),
    );
  });

  it("labels carry the tenant, tier and cost center, as valid label values", () => {
    expect(
      kubernetesLabelsFor({
        tenant: "acme",
        tier: "pro",
        "cost-center": "sales emea/2",
        "managed-by": "tenancy",
        team: "x",
      }),
    ).toEqual({
      "tenancy.io/tenant": "acme",
      "tenancy.io/tier": "pro",
      "tenancy.io/cost-center": "sales_emea_2",
      "app.kubernetes.io/managed-by": "tenancy",
    });
  });

  it("the catalog's extra tags reach the resources too", async () => {
    const { resources } = await runTenantUnderMocks(await exampleTenant("egret-health"), "aws");
    const bucket = resources.find((r) => r.type === "aws:s3/bucket:Bucket");
    expect(bucket?.inputs["tags"]).toMatchObject({
      compliance: "hipaa",
      tenant: "egret-health",
      tier: "pro",
      "cost-center": "sales-emea",
    });
  });
});

describe("tenant stack configuration", () => {
  it("accepts every resolved example tenant as tenancy:tenant JSON", async () => {
    for (const tenant of await exampleTenants())
      expect(parseResolvedTenant(JSON.stringify(tenant), "config tenancy:tenant")).toEqual(tenant);
  });

  it.each([
    [
      "isolation that contradicts the modes",
      { isolation: { database: "pool", storage: "pool", compute: "pool", identity: "pool" } },
      /isolation.database: is "pool" but database "schema" is "bridge"/,
    ],
    [
      "a tenant tag naming another tenant",
      { tags: { tenant: "other", tier: "pro", "cost-center": "sales-na" } },
      /tags.tenant: must be "dunlin"/,
    ],
    [
      "federated identity without a federation",
      {
        layers: {
          database: "schema",
          storage: "bucket",
          compute: "namespace",
          identity: "federated",
        },
        isolation: { database: "bridge", storage: "bridge", compute: "bridge", identity: "silo" },
      },
      /federation: is required exactly when identity is federated/,
    ],
    ["an unknown field", { extra: 1 }, /extra/],
  ])("refuses %s", async (_what, patch, message) => {
    const tenant = await exampleTenant("dunlin");
    expect(() =>
      parseResolvedTenant(JSON.stringify({ ...tenant, ...patch }), "config tenancy:tenant"),
    ).toThrow(message);
  });

  it("reads tenancy:tenant, the target, the local server (secret) and the db naming", async () => {
    const dunlin = await exampleTenant("dunlin");
    pulumi.runtime.setAllConfig(
      {
        "tenancy:tenant": JSON.stringify(dunlin),
        "tenancy:target": "local",
        "tenancy:databaseUrl": "postgres://admin:pw@localhost:5432/tenancy",
        "tenancy:rolePrefix": "t1",
      },
      ["tenancy:databaseUrl"],
    );
    const config = await readTenantStackConfig("tenant-dunlin");
    expect(config).toMatchObject({ tenant: dunlin, target: "local", naming: { rolePrefix: "t1" } });
    expect(await pulumi.isSecret(config.localAdminUrl!)).toBe(true);
    await expect(readTenantStackConfig("tenant-heron")).rejects.toThrow(
      /is for "dunlin" but this stack is tenant-heron/,
    );
    pulumi.runtime.setAllConfig({ "tenancy:target": "gcp" });
    await expect(readTenantStackConfig("tenant-dunlin")).rejects.toThrow(
      /tenancy:target must be one of aws, local/,
    );
    // Without tenancy:tenant the spec comes from the catalog, by the stack's slug.
    pulumi.runtime.setAllConfig({});
    expect((await readTenantStackConfig("tenant-heron")).tenant).toEqual(
      await exampleTenant("heron"),
    );
    await expect(readTenantStackConfig("tenant-nobody")).rejects.toThrow(
      /"nobody" is not in catalog \/.*\/tenants;/,
    );
    // A relative catalog directory is the project's, wherever the engine runs the program.
    const cwd = process.cwd();
    process.chdir("stacks");
    try {
      expect((await readTenantStackConfig("tenant-heron")).tenant.slug).toBe("heron");
    } finally {
      process.chdir(cwd);
    }
  });

  it("tenant stacks are named tenant-<slug>", () => {
    expect(slugOfStack("tenant-acme-co")).toBe("acme-co");
    expect(() => slugOfStack("platform")).toThrow(/tenant-<slug>/);
  });
});
