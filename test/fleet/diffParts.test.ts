import type { ResolvedTenant } from "../../catalog/index.ts";
import type { Target } from "../../contract/index.ts";
import { describe, expect, it } from "vitest";
import { diffMarkdown, MARKDOWN_LIMIT } from "../../fleet/diffReport.ts";
import { diffFleet, specDangers } from "../../fleet/fleetDiff.ts";
import { planTenants, type PlannedShape } from "../../fleet/planWorker.ts";
import { diffInputs } from "../../fleet/propertyDiff.ts";
import { changeKindOf } from "../../fleet/replaceRules.ts";
import { materialize } from "../../fleet/shapeMarkers.ts";
import { runTenantUnderMocks } from "../../stacks/planning/planTenant.ts";
import { exampleTenants } from "../components/harness.ts";

describe("replace-forcing properties", () => {
  it.each([
    ["aws:rds/instance:Instance", "storageEncrypted", "replace"],
    ["aws:rds/instance:Instance", "allocatedStorage", "update"],
    ["aws:rds/instance:Instance", "dbSubnetGroupName", "may-replace"],
    ["aws:s3/bucket:Bucket", "bucket", "replace"],
    ["aws:s3/bucket:Bucket", "tags.tier", "update"],
    ["aws:kms/key:Key", "keyUsage", "replace"],
    ["aws:kms/key:Key", "description", "update"],
    ["aws:iam/role:Role", "path", "replace"],
    ["aws:iam/role:Role", "assumeRolePolicy", "update"],
    ["kubernetes:core/v1:Namespace", "metadata.name", "replace"],
    ["kubernetes:core/v1:Namespace", "metadata.labels.tier", "update"],
    ["kubernetes:core/v1:ResourceQuota", 'spec.hard["limits.cpu"]', "update"],
    ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "roleRef.name", "replace"],
    ["pulumi-nodejs:dynamic/tenancy:TenantDatabase", "mode", "replace"],
    ["pulumi-nodejs:dynamic/tenancy:TenantDatabase", "quotas.dbConnections", "update"],
    ["aws:secretsmanager/secretVersion:SecretVersion", "secretString", "may-replace"],
    ["aws:unknown/thing:Thing", "anything", "may-replace"],
    ["tenancy:tenant:Tenant", "anything", "update"],
  ])("%s %s → %s", (type, path, kind) => {
    expect(changeKindOf(type, path)).toBe(kind);
  });

  it("every resource type the components declare on aws is in the table", async () => {
    const { REPLACE_RULES } = await import("../../fleet/replaceRules.ts");
    const types = new Set<string>();
    for (const tenant of await exampleTenants()) {
      for (const r of (await runTenantUnderMocks(tenant, "aws")).resources) types.add(r.type);
    }
    const missing = [...types].filter(
      (t) => !(t in REPLACE_RULES) && !t.startsWith("tenancy:") && !t.startsWith("pulumi:"),
    );
    expect(missing).toEqual([]);
  });
});

describe("property diff", () => {
  it("names changed leaves with old and new values, masks secrets, ignores engine keys", () => {
    expect(
      diffInputs(
        {
          spec: { hard: { "limits.cpu": "2", pods: "10" } },
          list: [1, 2],
          password: "a",
          __provider: "x",
        },
        {
          spec: { hard: { "limits.cpu": "4", pods: "10" } },
          list: [1, 3],
          password: "b",
          extra: true,
          __provider: "y",
        },
        new Set(["password"]),
      ),
    ).toEqual([
      { path: "extra", new: true },
      { path: "list[1]", old: 2, new: 3 },
      { path: "password", old: "[secret]", new: "[secret]" },
      { path: 'spec.hard["limits.cpu"]', old: "2", new: "4" },
    ]);
  });
});

describe("spec dangers", () => {
  it("flags isolation moves, encryption and offboarding, not other lifecycle changes", () => {
    const spec = {
      layers: { database: "schema", storage: "bucket", compute: "namespace", identity: "shared" },
      encryption: "shared",
      lifecycle: "active",
    };
    expect(
      specDangers(spec, {
        ...spec,
        layers: { ...spec.layers, database: "dedicated" },
        encryption: "dedicated",
        lifecycle: "offboarding",
      }),
    ).toEqual([
      "isolation: database schema → dedicated",
      "isolation: encryption shared → dedicated",
      "lifecycle: active → offboarding",
    ]);
    expect(specDangers(spec, { ...spec, lifecycle: "suspended" })).toEqual([]);
    expect(specDangers(spec, undefined)).toEqual(["tenant removed from the catalog"]);
  });
});

describe("planning per verified shape", () => {
  it("equals planning every tenant on its own, for every example tenant on both targets", async () => {
    const run = (spec: unknown, target: string) =>
      runTenantUnderMocks(spec as ResolvedTenant, target as Target);
    for (const target of ["aws", "local"]) {
      const tenants = (await exampleTenants()) as unknown as Parameters<typeof planTenants>[0];
      const shared = await planTenants(tenants, target, run);
      const exact = await planTenants(tenants, target, run, true);
      for (const t of shared.tenants) {
        const mine = shared.shapes[t.shape] as PlannedShape;
        const theirs = exact.shapes[`tenant:${t.slug}`] as PlannedShape;
        const resources = mine.literal
          ? mine.resources
          : materialize(mine.resources, t.slug, t.name);
        expect(resources, `${target} ${t.slug}`).toEqual(theirs.resources);
      }
      // Hyphenated slugs share through the underscore token: fewer runs than tenants × 2.
      expect(shared.tenants.filter((t) => t.shape.startsWith("tenant:"))).toEqual([]);
    }
  }, 120_000);

  it("falls back to one run per tenant when the program derives something else from the slug", async () => {
    const tenants = (await exampleTenants()).slice(0, 2) as unknown as Parameters<
      typeof planTenants
    >[0];
    const shared = await planTenants(tenants, "aws", async (spec: { slug: string }, target) => {
      const result = await runTenantUnderMocks(spec as unknown as ResolvedTenant, target as Target);
      return {
        resources: [{ ...result.resources[0]!, inputs: { upper: spec.slug.toUpperCase() } }],
      };
    });
    expect(shared.tenants.map((t) => t.shape)).toEqual(
      tenants.map((t: { slug: string }) => `tenant:${t.slug}`),
    );
  }, 60_000);
});

describe("markdown size", () => {
  it("stays under the limit for 5,000 tenants that each differ, and points at the JSON", () => {
    const resource = (cpu: string) => ({
      type: "kubernetes:core/v1:ResourceQuota",
      name: "q",
      parent: null,
      parentType: null,
      inputs: { spec: { hard: { cpu } } },
      secretInputs: [],
    });
    const side = (offset: number) => ({
      tenants: Array.from({ length: 5000 }, (_, i) => ({
        slug: `t${i}`,
        name: `T ${i}`,
        spec: { tier: "pro" },
        shape: `s${i}`,
      })),
      shapes: Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [
          `s${i}`,
          { literal: true, resources: [resource(String(i + offset))] },
        ]),
      ),
    });
    const diff = diffFleet(side(0), side(1));
    expect(diff.groups).toHaveLength(5000);
    const markdown = diffMarkdown(diff, {
      base: { ref: "main", commit: "a".repeat(40) },
      head: { ref: null, commit: null },
      target: "aws",
    });
    expect(markdown.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(markdown).toContain("**5,000 tenants affected** of 5,000 · 5,000 groups");
    expect(markdown).toMatch(
      /more sections not shown to stay under 60,000 characters: run `tenancy diff --base main --json`/,
    );
  });
});
