import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  partitionOf,
  referencedTenants,
  tenantBucketName,
  tenantGroupName,
  tenantIamPath,
  tenantKeyAlias,
  tenantNamespaceName,
  tenantPrefix,
  tenantSecretName,
} from "../../components/naming.ts";
import { slugProblem } from "../../catalog/index.ts";

const slug = fc
  .stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/)
  .filter((s) => !s.includes("--") && slugProblem(s) === undefined);

describe("tenant identifiers", () => {
  it.each([
    ["namespace", tenantNamespaceName("acme-co")],
    ["prefix ARN", `arn:aws:s3:::shared/${tenantPrefix("acme-co")}*`],
    ["s3:prefix condition", tenantPrefix("acme-co")],
    [
      "IAM role ARN",
      `arn:aws:iam::123456789012:role${tenantIamPath("acme-co")}tenancy-acme-co-workload`,
    ],
    ["KMS alias", tenantKeyAlias("acme-co")],
    ["secret name", tenantSecretName("acme-co", "database")],
    ["bucket name", tenantBucketName("acme-prod", "acme-co")],
    ["bucket ARN", `arn:aws-us-gov:s3:::${tenantBucketName("acme-prod", "acme-co")}/*`],
    ["IRSA subject", "system:serviceaccount:tenant-acme-co:workload"],
    ["Cognito group", tenantGroupName("acme-co")],
    [
      "JSON policy",
      JSON.stringify({ Condition: { StringLike: { "s3:prefix": ["tenants/acme-co/"] } } }),
    ],
  ])("%s names its owner", (_what, identifier) => {
    expect([...referencedTenants({ value: identifier })]).toEqual(["acme-co"]);
  });

  it("ignores tags and labels, and shared identifiers", () => {
    expect(
      referencedTenants({
        tags: { team: "tenant-other" },
        metadata: { labels: { x: "tenant-other" }, namespace: "tenancy-pool" },
        bucket: "acme-prod-shared",
        role: "arn:aws:iam::1:role/tenancy-pool-broker",
      }).size,
    ).toBe(0);
  });

  it("refuses bucket prefixes that would make names ambiguous", () => {
    expect(() => tenantBucketName("x-tenant-y", "a")).toThrow(/may not contain "-tenant-"/);
  });

  it.each([
    ["us-east-1", "aws"],
    ["us-gov-west-1", "aws-us-gov"],
    ["cn-north-1", "aws-cn"],
  ])("partition of %s is %s", (region, partition) => expect(partitionOf(region)).toBe(partition));

  it("every identifier of a tenant names that tenant and no other (property)", () => {
    fc.assert(
      fc.property(slug, slug, (a, b) => {
        fc.pre(a !== b);
        const ids = [
          tenantNamespaceName(a),
          tenantPrefix(a),
          tenantIamPath(a),
          tenantKeyAlias(a),
          tenantSecretName(a, "database"),
          tenantBucketName("acme-prod", a),
          `arn:aws:s3:::${tenantBucketName("acme-prod", a)}/*`,
          `system:serviceaccount:${tenantNamespaceName(a)}:workload`,
        ];
        const found = referencedTenants(ids);
        return found.has(a) && !found.has(b) && found.size === 1;
      }),
      { numRuns: 300 },
    );
  });
});
