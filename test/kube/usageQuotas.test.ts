/**
 * The usage sampler's Kubernetes source against the real local API server: `status.used` of
 * the ResourceQuotas in each tenant's namespace (`tenant-<slug>`), as the quota admission
 * charged it for pods created there; other namespaces are not read as tenants; a wrong token
 * or an unreachable server is an error, which a cycle records as a gap (never zeros).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LocalCluster } from "../../control-plane/localCluster.ts";
import { kubeQuotaReader, type KubeAccess } from "../../control-plane/usage/kubeQuotas.ts";
import { runUsageCycle } from "../../control-plane/usage/usageCycle.ts";
import { readSeries } from "../../control-plane/usage/usageQueries.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import {
  describeWithCluster,
  kubeClient,
  restrictedPod,
  testCluster,
  type KubeClient,
} from "../support/kube.ts";
import { freePort } from "../support/ports.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
const NAMESPACES = ["tenant-quota-a", "tenant-quota-b", "not-a-tenant-quota"];
const HARD = { pods: "5", "requests.cpu": "2", "requests.memory": "1Gi" };

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

describeWithCluster(
  "namespace quota usage from the real API server",
  () => {
    let cluster: LocalCluster;
    let admin: KubeClient;
    let access: KubeAccess;
    let plane: TestControlPlane;

    async function createPod(namespace: string, name: string, cpu: string, memory: string) {
      // The default ServiceAccount appears shortly after the namespace: retry until admitted.
      await until(`pod ${namespace}/${name}`, async () => {
        const response = await admin.create(
          `/api/v1/namespaces/${namespace}/pods`,
          restrictedPod(name, { cpu, memory }),
        );
        return response.status === 201 ? true : undefined;
      });
    }

    beforeAll(async () => {
      cluster = await testCluster();
      admin = kubeClient(cluster);
      access = { server: cluster.server, caCert: cluster.caCert, token: cluster.adminToken };
      for (const namespace of NAMESPACES) {
        await admin.create("/api/v1/namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: namespace },
        });
        await admin.create(`/api/v1/namespaces/${namespace}/resourcequotas`, {
          apiVersion: "v1",
          kind: "ResourceQuota",
          metadata: { name: "tenancy-quota" },
          spec: { hard: HARD },
        });
        // The quota controller fills status.hard; until then admission refuses pods.
        await until(`status of ${namespace}'s quota`, async () => {
          const quota = await admin.get(
            `/api/v1/namespaces/${namespace}/resourcequotas/tenancy-quota`,
          );
          return quota.body.status?.hard?.pods === "5" ? true : undefined;
        });
      }
      await createPod("tenant-quota-a", "web", "250m", "64Mi");
      await createPod("tenant-quota-a", "worker", "500m", "128Mi");
      await createPod("not-a-tenant-quota", "web", "1", "256Mi");
      plane = await startTestControlPlane(db.current.name, { usage: false });
      for (const slug of ["quota-a", "quota-b", "quota-c"]) {
        await plane.pool.query(
          `INSERT INTO control_plane.tenants (slug, name, tier, source, spec, resolved, state)
           VALUES ($1, $1, 'pro', 'api', '{}', '{}', 'active')`,
          [slug],
        );
      }
    }, 600_000);

    afterAll(async () => {
      await plane?.stop();
      for (const namespace of NAMESPACES) {
        await admin?.call("DELETE", `/api/v1/namespaces/${namespace}`).catch(() => undefined);
      }
    });

    it("reads status.used of each tenant namespace's quota; others are not tenants", async () => {
      const read = kubeQuotaReader(access);
      const used = await until("quota usage of tenant-quota-a", async () => {
        const all = await read(["quota-a", "quota-b", "quota-c"]);
        return all.get("quota-a")?.pods === "2" ? all : undefined;
      });
      expect(Object.fromEntries(used)).toEqual({
        "quota-a": { pods: "2", "requests.cpu": "750m", "requests.memory": "192Mi" },
        "quota-b": { pods: "0", "requests.cpu": "0", "requests.memory": "0" },
      });
      // The same namespace is read only when its slug is asked for.
      expect([...(await read(["quota-b"])).keys()]).toEqual(["quota-b"]);
    }, 90_000);

    it("a wrong token or an unreachable API server is an error naming it", async () => {
      await expect(kubeQuotaReader({ ...access, token: "not-a-token" })([])).rejects.toThrow(
        /Kubernetes API \/api\/v1\/resourcequotas: 401/,
      );
      const closed = `https://127.0.0.1:${await freePort()}`;
      await expect(kubeQuotaReader({ ...access, server: closed }, 2000)([])).rejects.toThrow(
        /ECONNREFUSED/,
      );
    });

    it("a cycle stores the quota usage in the tenant's series, and a gap when it cannot", async () => {
      const cycle = {
        controlDatabaseUrl: plane.controlUrl,
        sharedDatabaseUrl: plane.sharedUrl,
        rolePrefix: db.current.name,
        storageEverySeconds: 0,
      };
      const now = Date.now();
      const report = await runUsageCycle({ ...cycle, kubeQuotas: kubeQuotaReader(access) });
      expect(report.gaps).toEqual([]);
      const range = [new Date(now - 600_000), new Date(now + 600_000)] as const;
      const a = await readSeries(plane.pool, "quota-a", ...range, "5m");
      expect(a.points.find((p) => p.quotaUsed)?.quotaUsed).toEqual({
        pods: "2",
        "requests.cpu": "750m",
        "requests.memory": "192Mi",
      });
      const c = await readSeries(plane.pool, "quota-c", ...range, "5m");
      expect(c.points.every((p) => p.quotaUsed === null)).toBe(true); // no namespace

      const later = new Date(now + 86_400_000);
      const away = await runUsageCycle({
        ...cycle,
        now: () => later,
        kubeQuotas: kubeQuotaReader(
          { ...access, server: `https://127.0.0.1:${await freePort()}` },
          2000,
        ),
      });
      expect(away.gaps.map((g) => g.source)).toEqual(["kubernetes"]);
      const gap = await readSeries(
        plane.pool,
        "quota-a",
        new Date(later.getTime() - 300_000),
        new Date(later.getTime() + 300_000),
        "5m",
      );
      expect(gap.points.find((p) => p.tier !== null)?.quotaUsed).toBeNull();
      expect(gap.gaps.map((g) => g.source)).toEqual(["kubernetes"]);
    });
  },
  { engine: false },
);
