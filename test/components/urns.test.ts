/**
 * URN snapshots: the exact URNs of every tenant topology (the example tenants: pooled,
 * bridge, silo, and each override they use) on both targets, and of the platform stack,
 * computed by the SDK under the mock runtime. A URN is a resource's identity in a stack's
 * state: a renamed component, child or type — or a changed parent — gives a new URN, and the
 * engine then deletes and recreates the resource in every live stack unless the change
 * carries an alias. So a changed URN fails here, and its snapshot diff (test/components/urns/)
 * shows the rename in review, where the alias can be asked for.
 */
import { describe, expect, it } from "vitest";
import type { Target } from "../../contract/index.ts";
import { platformProgram, type PlatformProgramInputs } from "../../stacks/platform/program.ts";
import { runTenantUnderMocks } from "../../stacks/planning/planTenant.ts";
import { runUnderMocks } from "../../stacks/planning/mockRuntime.ts";
import { partitionOf } from "../../components/naming.ts";
import { exampleTenants } from "./harness.ts";

const KUBECONFIG = "apiVersion: v1\nkind: Config\n";

/** The URNs of a run, sorted; every resource must have one. */
function urnsOf(resources: readonly { urn?: string; type: string; name: string }[]): string[] {
  return resources
    .map((r) => {
      if (r.urn === undefined) throw new Error(`no URN for ${r.type} ${r.name}`);
      return r.urn;
    })
    .sort();
}

function snapshotFile(name: string): string {
  return `./urns/${name}.json`;
}

const TARGETS: { readonly name: string; readonly target: Target; readonly kube?: true }[] = [
  { name: "aws", target: "aws" },
  { name: "local", target: "local" },
  { name: "local-kube", target: "local", kube: true },
];

describe("tenant stack URNs", async () => {
  const tenants = await exampleTenants();

  it("the example tenants cover every mode of every layer", () => {
    const seen = new Set(
      tenants.flatMap((t) => Object.entries(t.layers).map(([l, m]) => `${l}:${m}`)),
    );
    expect([...seen].sort()).toEqual([
      "compute:account",
      "compute:dedicated-nodes",
      "compute:namespace",
      "compute:pool",
      "database:dedicated",
      "database:pool",
      "database:schema",
      "identity:federated",
      "identity:shared",
      "storage:bucket",
      "storage:prefix",
    ]);
  });

  for (const { name, target, kube } of TARGETS) {
    it.each(tenants.map((t) => [t.slug, t] as const))(`${name}: %s`, async (slug, tenant) => {
      const { resources } = await runTenantUnderMocks(tenant, target, {
        urns: true,
        ...(kube ? { localKubeconfig: KUBECONFIG } : {}),
      });
      const urns = urnsOf(resources);
      expect(urns.length).toBeGreaterThan(0);
      expect(urns.every((urn) => urn.startsWith(`urn:pulumi:tenant-${slug}::tenancy::`))).toBe(
        true,
      );
      await expect(`${JSON.stringify(urns, null, 2)}\n`).toMatchFileSnapshot(
        snapshotFile(`tenant-${name}-${slug}`),
      );
    });
  }
});

describe("platform stack URNs", () => {
  const inputs: PlatformProgramInputs = {
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

  it("platform-eu-west-1", async () => {
    const { resources } = await runUnderMocks(() => platformProgram(inputs), {
      stack: "platform-eu-west-1",
      region: inputs.region,
      partition: partitionOf(inputs.region),
      stackOutputs: {},
      urns: true,
    });
    await expect(`${JSON.stringify(urnsOf(resources), null, 2)}\n`).toMatchFileSnapshot(
      snapshotFile("platform-eu-west-1"),
    );
  });
});
