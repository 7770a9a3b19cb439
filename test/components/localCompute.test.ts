/**
 * The compute layer on the local target under the mock runtime: exactly which Kubernetes
 * objects each mode declares (no AWS resource), and what the stack outputs say. The same
 * objects are checked against a real API server in test/kube/.
 */
import { describe, expect, it } from "vitest";
import { resolveTenant, tenantFileSchema } from "../../catalog/index.ts";
import {
  LocalTenantCompute,
  localNodesNote,
  type LocalComputeMode,
} from "../../components/compute/localTenantCompute.ts";
import { routingRecordSchema } from "../../contract/index.ts";
import { runTenantUnderMocks } from "../../stacks/planning/planTenant.ts";
import { exampleTiers } from "../support/controlPlane.ts";
import { collect, ofType, one, typeCounts } from "./harness.ts";

const QUOTAS = { cpu: "2", memory: "4Gi", requestsPerSecond: 200 };
/** Server-side apply takes fields changed out of band back (test/kube/computeDrift.test.ts). */
const OWNED = { "pulumi.com/patchForce": "true" };

function compute(mode: LocalComputeMode, suspended = false) {
  return collect(
    () => new LocalTenantCompute("acme-compute", { slug: "acme", mode, quotas: QUOTAS, suspended }),
  );
}

const NAMESPACE = {
  "kubernetes:core/v1:Namespace": 1,
  "kubernetes:core/v1:ResourceQuota": 1,
  "kubernetes:core/v1:LimitRange": 1,
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": 4,
  "kubernetes:core/v1:ServiceAccount": 2,
  "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
};

describe("LocalTenantCompute", () => {
  it.each([
    ["pool", { "kubernetes:core/v1:ConfigMap": 1 }],
    ["namespace", NAMESPACE],
    ["dedicated-nodes", NAMESPACE],
  ] as const)(
    "mode %s declares exactly its Kubernetes objects, nothing of AWS",
    async (mode, expected) => {
      const { resources } = await compute(mode);
      expect(typeCounts(resources)).toEqual(expected);
    },
  );

  it("pool: a registration in the shared pool namespace, without an IAM role", async () => {
    const { resources } = await compute("pool");
    const registration = one(resources, "kubernetes:core/v1:ConfigMap");
    expect(registration.inputs["metadata"]).toMatchObject({
      name: "tenant-acme",
      namespace: "tenancy-pool",
    });
    expect(registration.inputs["data"]).toEqual({
      tenant: "acme",
      quotas: JSON.stringify(QUOTAS),
      suspended: "false",
    });
  });

  it("namespace: the deployer ServiceAccount is bound to the deployer Role; workload has no token", async () => {
    const { resources } = await compute("namespace");
    const accounts = ofType(resources, "kubernetes:core/v1:ServiceAccount").map((r) => r.inputs);
    expect(accounts).toEqual([
      expect.objectContaining({
        metadata: { name: "workload", namespace: "tenant-acme", annotations: OWNED },
        automountServiceAccountToken: false,
      }),
      expect.objectContaining({
        metadata: { name: "deployer", namespace: "tenant-acme", annotations: OWNED },
        automountServiceAccountToken: false,
      }),
    ]);
    const binding = one(resources, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
    expect(binding.inputs["subjects"]).toEqual([
      {
        kind: "Group",
        name: "tenancy:tenant:acme:deployers",
        apiGroup: "rbac.authorization.k8s.io",
      },
      { kind: "ServiceAccount", name: "deployer", namespace: "tenant-acme" },
    ]);
    // No IRSA annotation: there is no IAM locally.
    expect(JSON.stringify(accounts)).not.toContain("eks.amazonaws.com");
  });

  it("dedicated-nodes: default node selector and toleration on the namespace; outputs say there are no nodes", async () => {
    const { resources } = await compute("dedicated-nodes");
    const ns = one(resources, "kubernetes:core/v1:Namespace");
    expect((ns.inputs["metadata"] as { annotations: object }).annotations).toEqual({
      ...OWNED,
      "scheduler.alpha.kubernetes.io/node-selector": "tenancy.io/tenant=acme",
      "scheduler.alpha.kubernetes.io/defaultTolerations": JSON.stringify([
        { key: "tenancy.io/tenant", operator: "Equal", value: "acme", effect: "NoSchedule" },
      ]),
    });
    expect(localNodesNote("dedicated-nodes", "acme")).toMatch(
      /^no nodes exist on the local target/,
    );
    expect(localNodesNote("namespace", "acme")).toBeUndefined();
  });

  it.each(["pool", "namespace", "dedicated-nodes"] as const)(
    "mode %s: every Kubernetes object takes back fields changed out of band (patchForce)",
    async (mode) => {
      const { resources } = await compute(mode);
      const kube = resources.filter((r) => r.type.startsWith("kubernetes:"));
      expect(kube.length).toBeGreaterThan(0);
      for (const object of kube) {
        expect([object.name, object.inputs["metadata"]]).toEqual([
          object.name,
          expect.objectContaining({ annotations: expect.objectContaining(OWNED) as unknown }),
        ]);
      }
    },
  );

  it("a suspended tenant's namespace admits no pods", async () => {
    const { resources } = await compute("namespace", true);
    const quota = one(resources, "kubernetes:core/v1:ResourceQuota");
    expect((quota.inputs["spec"] as { hard: Record<string, string> }).hard["pods"]).toBe("0");
  });
});

describe("Tenant on local with a Kubernetes cluster", () => {
  it.each([
    [
      "namespace",
      { compute: { mode: "namespace", namespace: "tenant-loc" } },
      ["storage", "identity"],
    ],
    ["account", {}, ["storage", "compute", "identity"]],
  ] as const)(
    "compute %s: routing and not-provisioned layers",
    async (mode, routingPart, missing) => {
      const tenant = resolveTenant(
        tenantFileSchema.parse({
          slug: "loc",
          name: "Loc",
          tier: "enterprise",
          overrides: { compute: mode, identity: "shared" },
        }),
        await exampleTiers(),
      );
      const { outputs, resources } = await runTenantUnderMocks(tenant, "local", {
        localKubeconfig: "apiVersion: v1\nkind: Config\n",
      });
      const routing = routingRecordSchema.parse(outputs["routing"]);
      expect(routing).toMatchObject(routingPart);
      expect(routing.notProvisioned).toEqual(missing);
      expect(resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
      expect(resources.some((r) => r.type === "pulumi:providers:kubernetes")).toBe(true);
    },
  );
});
