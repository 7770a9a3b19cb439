import type {
  PolicyResource,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import {
  bucketsBlockPublicAccess,
  databasesProtected,
  noCrossTenantReferences,
  noPublicData,
  resourcePolicies,
  stackPolicies,
  tenantNamespacesIsolated,
  tenantResourcesTagged,
} from "../../policies/pack.ts";
import { stackNameOf } from "../../contract/index.ts";
import { runTenantUnderMocks } from "../../stacks/planning/planTenant.ts";
import { platformProgram } from "../../stacks/platform/program.ts";
import { collect, exampleTenants } from "../components/harness.ts";

interface Res {
  type: string;
  name?: string;
  stack?: string;
  props: Record<string, unknown>;
}

const urnOf = (r: Res) =>
  `urn:pulumi:${r.stack ?? "tenant-acme"}::tenancy::${r.type}::${r.name ?? "r"}`;

function checkResource(policy: ResourceValidationPolicy, r: Res): string[] {
  const messages: string[] = [];
  const args = {
    type: r.type,
    name: r.name ?? "r",
    urn: urnOf(r),
    props: r.props,
    opts: {},
    stackTags: new Map(),
  };
  void (policy.validateResource as ResourceValidation)(
    args as unknown as ResourceValidationArgs,
    (m) => messages.push(m),
  );
  return messages;
}

function checkStack(
  policy: StackValidationPolicy,
  resources: (Res & { propertyDependencies?: Record<string, { urn: string }[]> })[],
): string[] {
  const messages: string[] = [];
  const policyResources = resources.map((r) => ({
    type: r.type,
    name: r.name ?? "r",
    urn: urnOf(r),
    props: r.props,
    opts: {},
    dependencies: [],
    propertyDependencies: r.propertyDependencies ?? {},
  }));
  void policy.validateStack(
    {
      resources: policyResources as unknown as PolicyResource[],
      stackTags: new Map(),
    } as unknown as StackValidationArgs,
    (m, urn) => messages.push(`${m} @ ${urn ?? ""}`),
  );
  return messages;
}

const TAGS = { tenant: "acme", tier: "pro", "cost-center": "cc", "managed-by": "tenancy" };
const LABELS = {
  "tenancy.io/tenant": "acme",
  "tenancy.io/tier": "pro",
  "tenancy.io/cost-center": "cc",
  "app.kubernetes.io/managed-by": "tenancy",
};
const SAFE_RDS = {
  storageEncrypted: true,
  kmsKeyId: "arn:aws:kms:eu-west-1:1:key/k",
  deletionProtection: true,
  skipFinalSnapshot: false,
  finalSnapshotIdentifier: "tenancy-acme-final",
  backupRetentionPeriod: 14,
  publiclyAccessible: false,
};

describe("tenant-resources-tagged", () => {
  it.each<[string, Res, string[]]>([
    ["a tagged role", { type: "aws:iam/role:Role", props: { tags: TAGS } }, []],
    [
      "an untagged role",
      { type: "aws:iam/role:Role", props: {} },
      [
        'missing tag "tenant"',
        'missing tag "tier"',
        'missing tag "cost-center"',
        'missing tag "managed-by"',
      ],
    ],
    [
      "another tenant's tag",
      { type: "aws:s3/bucket:Bucket", props: { tags: { ...TAGS, tenant: "other" } } },
      ['tag "tenant" is "other" in the stack of tenant acme'],
    ],
    ["an untaggable type", { type: "aws:s3/bucketPolicy:BucketPolicy", props: {} }, []],
    [
      "a labelled namespace",
      { type: "kubernetes:core/v1:Namespace", props: { metadata: { labels: LABELS } } },
      [],
    ],
    [
      "an unlabelled network policy",
      {
        type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        props: { metadata: { labels: { "tenancy.io/tenant": "acme" } } },
      },
      [
        'missing label "tenancy.io/tier"',
        'missing label "tenancy.io/cost-center"',
        'missing label "app.kubernetes.io/managed-by"',
      ],
    ],
    [
      "a platform key with platform tags",
      {
        type: "aws:kms/key:Key",
        stack: "platform-eu-west-1",
        props: { tags: { "managed-by": "tenancy", "cost-center": "platform" } },
      },
      [],
    ],
    [
      "a platform key without cost center",
      {
        type: "aws:kms/key:Key",
        stack: "platform-eu-west-1",
        props: { tags: { "managed-by": "tenancy" } },
      },
      ['missing tag "cost-center"'],
    ],
  ])("%s", (_what, resource, expected) =>
    expect(checkResource(tenantResourcesTagged, resource)).toEqual(expected),
  );
});

describe("no-public-data", () => {
  it.each<[string, Res, string[]]>([
    ["a private database", { type: "aws:rds/instance:Instance", props: SAFE_RDS }, []],
    [
      "a public database",
      { type: "aws:rds/instance:Instance", props: { ...SAFE_RDS, publiclyAccessible: true } },
      ["database is publicly accessible"],
    ],
    [
      "a full public access block",
      {
        type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        props: {
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
      },
      [],
    ],
    [
      "a partial public access block",
      {
        type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        props: {
          blockPublicAcls: true,
          blockPublicPolicy: false,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
      },
      ["public access block leaves blockPublicPolicy off"],
    ],
    [
      "a public-read ACL",
      { type: "aws:s3/bucketAclV2:BucketAclV2", props: { acl: "public-read" } },
      ['bucket ACL "public-read" is public'],
    ],
    [
      "a TLS-only deny policy",
      {
        type: "aws:s3/bucketPolicy:BucketPolicy",
        props: {
          policy: JSON.stringify({
            Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*" }],
          }),
        },
      },
      [],
    ],
    [
      "a policy allowing everyone",
      {
        type: "aws:s3/bucketPolicy:BucketPolicy",
        props: {
          policy: JSON.stringify({
            Statement: [
              { Sid: "Open", Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:GetObject" },
            ],
          }),
        },
      },
      ["bucket policy statement Open allows everyone"],
    ],
    [
      "a security group open to the world",
      {
        type: "aws:ec2/securityGroup:SecurityGroup",
        props: { ingress: [{ cidrBlocks: ["0.0.0.0/0"], fromPort: 5432 }] },
      },
      ["security group admits 0.0.0.0/0"],
    ],
    [
      "an ingress rule from the world",
      {
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        props: { cidrIpv6: "::/0" },
      },
      ["ingress rule admits ::/0"],
    ],
    [
      "an ingress rule from a security group",
      {
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        props: { referencedSecurityGroupId: "sg-1" },
      },
      [],
    ],
  ])("%s", (_what, resource, expected) =>
    expect(checkResource(noPublicData, resource)).toEqual(expected),
  );
});

describe("databases-encrypted-and-protected", () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ["a protected instance", SAFE_RDS, []],
    ["unencrypted", { ...SAFE_RDS, storageEncrypted: false }, ["storage is not encrypted"]],
    [
      "without a customer key",
      { ...SAFE_RDS, kmsKeyId: undefined },
      ["no customer-managed KMS key (kmsKeyId)"],
    ],
    ["unprotected", { ...SAFE_RDS, deletionProtection: false }, ["deletion protection is off"]],
    [
      "skipping the final snapshot",
      { ...SAFE_RDS, skipFinalSnapshot: true },
      ["no final snapshot on deletion"],
    ],
    ["without backups", { ...SAFE_RDS, backupRetentionPeriod: 0 }, ["automated backups are off"]],
  ])("%s", (_what, props, expected) =>
    expect(checkResource(databasesProtected, { type: "aws:rds/instance:Instance", props })).toEqual(
      expected,
    ),
  );
});

describe("no-cross-tenant-references", () => {
  it.each<[string, Res, string[]]>([
    [
      "own prefix",
      {
        type: "aws:iam/policy:Policy",
        props: {
          policy: JSON.stringify({
            Statement: [{ Resource: "arn:aws:s3:::shared/tenants/acme/*" }],
          }),
        },
      },
      [],
    ],
    [
      "another tenant's prefix",
      {
        type: "aws:iam/policy:Policy",
        props: {
          policy: JSON.stringify({
            Statement: [{ Resource: "arn:aws:s3:::shared/tenants/zeta/*" }],
          }),
        },
      },
      ["references tenant zeta's resources from tenant acme"],
    ],
    [
      "another tenant's bucket",
      { type: "aws:s3/bucketPolicy:BucketPolicy", props: { bucket: "acme-prod-tenant-zeta" } },
      ["references tenant zeta's resources from tenant acme"],
    ],
    [
      "another tenant's key alias",
      { type: "aws:kms/alias:Alias", props: { name: "alias/tenancy/tenants/zeta/key" } },
      ["references tenant zeta's resources from tenant acme"],
    ],
    [
      "another tenant's namespace",
      { type: "kubernetes:core/v1:ConfigMap", props: { metadata: { namespace: "tenant-zeta" } } },
      ["references tenant zeta's resources from tenant acme"],
    ],
    [
      "another tenant's role",
      {
        type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        props: { role: "arn:aws:iam::1:role/tenancy/tenants/zeta/tenancy-zeta-workload" },
      },
      ["references tenant zeta's resources from tenant acme"],
    ],
    [
      "another tenant's service account",
      {
        type: "aws:iam/role:Role",
        props: {
          assumeRolePolicy: JSON.stringify({
            Condition: { StringEquals: { sub: "system:serviceaccount:tenant-zeta:workload" } },
          }),
        },
      },
      ["references tenant zeta's resources from tenant acme"],
    ],
    [
      "a tag mentioning another tenant (tags are not references)",
      { type: "aws:iam/role:Role", props: { tags: { note: "tenant-zeta" } } },
      [],
    ],
    [
      "the shared bucket and the pool namespace",
      {
        type: "kubernetes:core/v1:ConfigMap",
        props: {
          metadata: { name: "tenant-acme", namespace: "tenancy-pool" },
          data: { bucket: "acme-prod-shared" },
        },
      },
      [],
    ],
  ])("%s", (_what, resource, expected) =>
    expect(checkResource(noCrossTenantReferences, resource)).toEqual(expected),
  );
});

const namespace = (name: string): Res => ({
  type: "kubernetes:core/v1:Namespace",
  name: `${name}-ns`,
  props: { metadata: { name, labels: LABELS } },
});
const defaultDeny = (
  ns: string,
  spec: Record<string, unknown> = { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
): Res => ({
  type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  name: `${ns}-deny`,
  props: { metadata: { name: "default-deny", namespace: ns }, spec },
});
const quota = (ns: string): Res => ({
  type: "kubernetes:core/v1:ResourceQuota",
  name: `${ns}-quota`,
  props: {
    metadata: { namespace: ns },
    spec: { hard: { "limits.cpu": "2", "limits.memory": "4Gi" } },
  },
});

describe("tenant-namespaces-isolated (stack)", () => {
  it.each<[string, Res[], string[]]>([
    [
      "namespace with default deny and quota",
      [namespace("tenant-acme"), defaultDeny("tenant-acme"), quota("tenant-acme")],
      [],
    ],
    [
      "no network policy",
      [namespace("tenant-acme"), quota("tenant-acme")],
      ["namespace tenant-acme has no default-deny NetworkPolicy"],
    ],
    [
      "a policy that allows ingress is not default deny",
      [
        namespace("tenant-acme"),
        defaultDeny("tenant-acme", {
          podSelector: {},
          policyTypes: ["Ingress", "Egress"],
          ingress: [{}],
        }),
        quota("tenant-acme"),
      ],
      ["namespace tenant-acme has no default-deny NetworkPolicy"],
    ],
    [
      "ingress only is not default deny",
      [
        namespace("tenant-acme"),
        defaultDeny("tenant-acme", { podSelector: {}, policyTypes: ["Ingress"] }),
        quota("tenant-acme"),
      ],
      ["namespace tenant-acme has no default-deny NetworkPolicy"],
    ],
    [
      "a policy of another namespace does not count",
      [namespace("tenant-acme"), defaultDeny("tenant-zeta"), quota("tenant-acme")],
      ["namespace tenant-acme has no default-deny NetworkPolicy"],
    ],
    [
      "no quota",
      [namespace("tenant-acme"), defaultDeny("tenant-acme")],
      ["namespace tenant-acme has no ResourceQuota on CPU and memory"],
    ],
  ])("%s", (_what, resources, expected) =>
    expect(checkStack(tenantNamespacesIsolated, resources).map((m) => m.split(" @ ")[0])).toEqual(
      expected,
    ),
  );
});

describe("buckets-block-public-access (stack)", () => {
  const bucket: Res = {
    type: "aws:s3/bucket:Bucket",
    name: "b",
    props: { bucket: "acme-prod-tenant-acme" },
  };
  const block = (props: Record<string, unknown>): Res => ({
    type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    name: "pab",
    props,
  });
  it("passes when a block names the bucket", () =>
    expect(
      checkStack(bucketsBlockPublicAccess, [bucket, block({ bucket: "acme-prod-tenant-acme" })]),
    ).toEqual([]));
  it("passes when a block depends on the bucket (unknown name at preview)", () =>
    expect(
      checkStack(bucketsBlockPublicAccess, [
        bucket,
        { ...block({}), propertyDependencies: { bucket: [{ urn: urnOf(bucket) }] } },
      ]),
    ).toEqual([]));
  it("fails for a bucket without a block", () =>
    expect(checkStack(bucketsBlockPublicAccess, [bucket, block({ bucket: "other" })])).toEqual([
      `bucket has no public access block @ ${urnOf(bucket)}`,
    ]));
});

describe("the pack on real stacks (collected under mocks)", () => {
  async function subjectsOf(
    stack: string,
    run: Promise<{
      resources: readonly {
        type: string;
        name: string;
        inputs: Readonly<Record<string, unknown>>;
      }[];
    }>,
  ) {
    const { resources } = await run;
    return resources.map((r) => ({ type: r.type, name: r.name, stack, props: { ...r.inputs } }));
  }

  it("passes every example tenant's stack and a platform stack", async () => {
    const stacks: [string, Res[]][] = [];
    for (const tenant of await exampleTenants()) {
      stacks.push([
        tenant.slug,
        await subjectsOf(stackNameOf(tenant.slug), runTenantUnderMocks(tenant, "aws")),
      ]);
    }
    stacks.push([
      "platform",
      await subjectsOf(
        "platform-eu-west-1",
        collect(
          () =>
            platformProgram({
              region: "eu-west-1",
              vpcId: "vpc-1",
              vpcCidr: "10.0.0.0/16",
              privateSubnetIds: ["a", "b"],
              clusterName: "c",
              clusterOidcProviderArn: "arn:aws:iam::1:oidc-provider/x",
              nodeRoleArn: "arn:aws:iam::1:role/n",
              bucketNamePrefix: "acme-prod",
            }),
          "platform-eu-west-1",
        ),
      ),
    ]);
    for (const [name, resources] of stacks) {
      const violations = [
        ...resources.flatMap((r) =>
          resourcePolicies.flatMap((p) =>
            checkResource(p, r).map((m) => `${p.name}: ${r.name}: ${m}`),
          ),
        ),
        ...stackPolicies.flatMap((p) => checkStack(p, resources).map((m) => `${p.name}: ${m}`)),
      ];
      expect(violations, name).toEqual([]);
    }
  });

  it("catches a tenant stack that points at another tenant's bucket", async () => {
    const tenant = (await exampleTenants()).find((t) => t.slug === "dunlin")!;
    const resources = await subjectsOf("tenant-dunlin", runTenantUnderMocks(tenant, "aws"));
    const policy = resources.find((r) => r.type === "aws:iam/policy:Policy")!;
    policy.props["policy"] = String(policy.props["policy"]).replaceAll(
      "tenant-dunlin",
      "tenant-falcon-bank",
    );
    expect(checkResource(noCrossTenantReferences, policy)).toEqual([
      "references tenant falcon-bank's resources from tenant dunlin",
    ]);
  });
});
