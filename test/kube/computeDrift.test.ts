/**
 * Drift of the compute layer against a real Kubernetes API server (local target): a refresh
 * of a freshly deployed namespace tenant reports nothing (observed status and bookkeeping are
 * not drift); a ResourceQuota changed out of band is named with the changed quantity, a
 * RoleBinding deleted out of band is reported deleted. The next `up` repairs both: the changed
 * quantity belongs to the hand-editing field manager by then, and the provider's server-side
 * apply takes it back because the objects carry `pulumi.com/patchForce`
 * (components/compute/declaredOwnership.ts; without it the apply fails as a field conflict).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ResolvedTenant } from "../../catalog/index.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { describeWithCluster, kubeClient, testCluster, type KubeClient } from "../support/kube.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { exampleTenant } from "../support/controlPlane.ts";
import { kubeStackRunner } from "../support/kubeStacks.ts";

const db = useTestDatabase();

describeWithCluster("compute drift on a real API server (local target)", () => {
  let admin: KubeClient;
  let runner: TenantStackRunner;
  let tenant: ResolvedTenant;
  const NS = "/api/v1/namespaces/tenant-kube-drift";
  const QUOTA = `${NS}/resourcequotas/tenancy-quota`;
  const BINDING =
    "/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-kube-drift/rolebindings/tenancy-deployer";

  const HAND = "hand-edit";

  /** The field managers that own `spec.hard[key]` of the object at `path`. */
  async function managerOf(path: string, key: string): Promise<string[]> {
    const { metadata } = (await admin.get(path)).body as {
      metadata: { managedFields?: { manager: string; fieldsV1?: unknown }[] };
    };
    return (metadata.managedFields ?? [])
      .filter((entry) => {
        const fields = entry.fieldsV1 as { "f:spec"?: { "f:hard"?: Record<string, unknown> } };
        return fields?.["f:spec"]?.["f:hard"]?.[`f:${key}`] !== undefined;
      })
      .map((entry) => entry.manager);
  }

  beforeAll(async () => {
    const cluster = await testCluster();
    admin = kubeClient(cluster);
    tenant = await exampleTenant({
      slug: "kube-drift",
      name: "Drift",
      tier: "pro",
      quotas: { cpu: "1", memory: "1Gi" },
    });
    runner = await kubeStackRunner(db.current, cluster);
    await runner.up(tenant);
  }, 900_000);

  afterAll(async () => {
    await runner?.destroy(tenant.slug).catch(() => undefined);
  }, 600_000);

  it("reports nothing right after a deployment, then exactly what was changed out of band", async () => {
    const clean = await runner.refresh(tenant);
    expect(clean.drifted).toEqual([]);
    expect(clean.resources).toBeGreaterThan(5); // the namespace's objects and the database's

    const quota = (await admin.get(QUOTA)).body as {
      spec: { hard: Record<string, string> };
    };
    quota.spec.hard["limits.cpu"] = "3";
    // As `kubectl edit` does: an update under a field manager of its own.
    expect((await admin.call("PUT", `${QUOTA}?fieldManager=${HAND}`, quota)).status).toBe(200);
    expect(await managerOf(QUOTA, "limits.cpu")).toEqual([HAND]);
    expect((await admin.call("DELETE", BINDING)).status).toBe(200);

    const drift = await runner.refresh(tenant);
    expect(
      drift.drifted.map(({ type, name, drift, properties }) => ({ type, name, drift, properties })),
    ).toEqual(
      [
        {
          type: "kubernetes:core/v1:ResourceQuota",
          name: expect.any(String) as string,
          drift: "changed",
          properties: [{ path: 'spec.hard["limits.cpu"]', state: "1", live: "3" }],
        },
        {
          type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
          name: expect.any(String) as string,
          drift: "deleted",
          properties: [],
        },
      ].sort((a, b) => a.type.localeCompare(b.type)),
    );

    // The repairing update converges: the declared quantity and the binding are back, the
    // quantity owned by the stack's field manager again, and a refresh finds nothing.
    await runner.up(tenant);
    const repaired = (await admin.get(QUOTA)).body;
    expect(repaired.spec?.hard?.["limits.cpu"]).toBe("1");
    const owners = await managerOf(QUOTA, "limits.cpu");
    expect(owners).toHaveLength(1);
    expect(owners[0]).toMatch(/^pulumi-kubernetes-/);
    expect((await admin.get(BINDING)).status).toBe(200);
    expect((await runner.refresh(tenant)).drifted).toEqual([]);
  }, 900_000);
});
