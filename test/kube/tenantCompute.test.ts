/**
 * The compute layer on the local target, for real: tenant stacks deployed through the engine
 * into a real Kubernetes API server (etcd + kube-apiserver + kube-controller-manager), then
 * attacked as the tenant's own ServiceAccount. Nothing here is mocked: every refusal below
 * is the API server's (RBAC, ResourceQuota admission, Pod Security Admission).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveTenant, tenantFileSchema, type ResolvedTenant } from "../../catalog/index.ts";
import type { LocalCluster } from "../../control-plane/localCluster.ts";
import { TenantStackRunner, type UpResult } from "../../control-plane/runner/tenantStacks.ts";
import { exampleTiers } from "../support/controlPlane.ts";
import {
  describeWithCluster,
  kubeClient,
  restrictedPod,
  serviceAccountToken,
  testCluster,
  type KubeClient,
} from "../support/kube.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { kubeStackRunner } from "../support/kubeStacks.ts";

const db = useTestDatabase();

describeWithCluster("tenant compute on a real Kubernetes API server (local target)", () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let runner: TenantStackRunner;
  let alpha: ResolvedTenant; // namespace
  let beta: ResolvedTenant; // dedicated-nodes
  let pooled: ResolvedTenant; // pool
  const up: Record<string, UpResult> = {};
  /** alpha's deployer ServiceAccount: the identity its CI deploys with. */
  let asAlpha: KubeClient;

  beforeAll(async () => {
    cluster = await testCluster();
    admin = kubeClient(cluster);
    runner = await kubeStackRunner(db.current, cluster);
    const tiers = await exampleTiers();
    const spec = (input: object) => resolveTenant(tenantFileSchema.parse(input), tiers);
    alpha = spec({
      slug: "kube-alpha",
      name: "Alpha",
      tier: "pro",
      quotas: { cpu: "1", memory: "1Gi" },
    });
    beta = spec({
      slug: "kube-beta",
      name: "Beta",
      tier: "pro",
      overrides: { compute: "dedicated-nodes" },
    });
    pooled = spec({ slug: "kube-pooled", name: "Pooled", tier: "free" });
    const results = await Promise.all([alpha, beta, pooled].map((t) => runner.up(t)));
    results.forEach((result, i) => (up[[alpha, beta, pooled][i]!.slug] = result));
    asAlpha = kubeClient(
      cluster,
      await serviceAccountToken(cluster, "tenant-kube-alpha", "deployer"),
    );
  }, 900_000);

  afterAll(async () => {
    for (const tenant of [alpha, beta, pooled]) {
      if (tenant) await runner?.destroy(tenant.slug).catch(() => undefined);
    }
  }, 600_000);

  it("the routing record names each tenant's namespace; only cloud layers are not provisioned", () => {
    expect(up["kube-alpha"]!.routing.compute).toEqual({
      mode: "namespace",
      namespace: "tenant-kube-alpha",
    });
    expect(up["kube-beta"]!.routing.compute).toEqual({
      mode: "dedicated-nodes",
      namespace: "tenant-kube-beta",
    });
    expect(up["kube-pooled"]!.routing.compute).toEqual({ mode: "pool", namespace: "tenancy-pool" });
    expect([...up["kube-alpha"]!.routing.notProvisioned].sort()).toEqual(["identity", "storage"]);
    expect(up["kube-beta"]!.outputs["nodes"]).toMatch(
      /^no nodes exist on the local target: pods of tenant-kube-beta get node selector and toleration tenancy\.io\/tenant=kube-beta/,
    );
    expect(up["kube-alpha"]!.outputs["nodes"]).toBeUndefined();
  });

  it("the namespace is restricted, with the quota, limits, policies and RBAC from the catalog", async () => {
    const ns = (await admin.get("/api/v1/namespaces/tenant-kube-alpha")).body;
    expect(ns.metadata?.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "tenancy.io/tenant": "kube-alpha",
    });
    const quota = (
      await admin.get("/api/v1/namespaces/tenant-kube-alpha/resourcequotas/tenancy-quota")
    ).body;
    expect(quota.spec?.hard).toEqual({
      "requests.cpu": "1",
      "limits.cpu": "1",
      "requests.memory": "1Gi",
      "limits.memory": "1Gi",
      pods: "50",
      "services.loadbalancers": "0",
      "services.nodeports": "0",
    });
    // The controller-manager has computed usage: the quota is enforced, not just stored.
    expect(quota.status?.hard).toEqual(quota.spec?.hard);
    const policies =
      (await admin.get("/apis/networking.k8s.io/v1/namespaces/tenant-kube-alpha/networkpolicies"))
        .body.items ?? [];
    expect(policies.map((p) => p.metadata?.name).sort()).toEqual([
      "allow-dns",
      "allow-ingress-controller",
      "allow-same-namespace",
      "default-deny",
    ]);
    const deny = policies.find((p) => p.metadata?.name === "default-deny");
    // Selects every pod (empty selector), both directions, and allows nothing.
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const binding = (
      await admin.get(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-kube-alpha/rolebindings/tenancy-deployer",
      )
    ).body;
    expect(binding.subjects).toEqual([
      {
        kind: "Group",
        apiGroup: "rbac.authorization.k8s.io",
        name: "tenancy:tenant:kube-alpha:deployers",
      },
      { kind: "ServiceAccount", name: "deployer", namespace: "tenant-kube-alpha" },
    ]);
    const registration = (
      await admin.get("/api/v1/namespaces/tenancy-pool/configmaps/tenant-kube-pooled")
    ).body;
    expect(registration.data).toMatchObject({ tenant: "kube-pooled", suspended: "false" });
  });

  it("as its ServiceAccount, a tenant works in its own namespace and nowhere else", async () => {
    const configMap = (name: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
    });
    // Positive control: its own namespace accepts it.
    expect(
      (await asAlpha.create("/api/v1/namespaces/tenant-kube-alpha/configmaps", configMap("own")))
        .status,
    ).toBe(201);
    // Another tenant's namespace: neither read nor write.
    expect((await asAlpha.get("/api/v1/namespaces/tenant-kube-beta/configmaps")).status).toBe(403);
    expect((await asAlpha.get("/api/v1/namespaces/tenant-kube-beta/secrets")).status).toBe(403);
    expect(
      (
        await asAlpha.create(
          "/api/v1/namespaces/tenant-kube-beta/configmaps",
          configMap("intruder"),
        )
      ).status,
    ).toBe(403);
    expect((await asAlpha.get("/api/v1/namespaces/tenancy-pool/configmaps")).status).toBe(403);
    // Cluster-scoped objects: no namespaces, cluster roles or bindings; no listing of namespaces.
    expect(
      (
        await asAlpha.create("/api/v1/namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: "mine" },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await asAlpha.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: "escalate" },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: "cluster-admin",
          },
          subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: "tenant-kube-alpha" }],
        })
      ).status,
    ).toBe(403);
    expect((await asAlpha.get("/api/v1/namespaces")).status).toBe(403);
    // Nor may it loosen its own namespace: quota and RBAC are not the deployer's to change.
    expect(
      (
        await asAlpha.call(
          "DELETE",
          "/api/v1/namespaces/tenant-kube-alpha/resourcequotas/tenancy-quota",
        )
      ).status,
    ).toBe(403);
    expect(
      (await asAlpha.get("/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-kube-alpha/roles"))
        .status,
    ).toBe(403);
  });

  it("a create over the quota is refused by the API server", async () => {
    const pods = "/api/v1/namespaces/tenant-kube-alpha/pods";
    const fits = await asAlpha.create(
      pods,
      restrictedPod("fits", { cpu: "600m", memory: "512Mi" }),
    );
    expect(fits.status).toBe(201);
    const over = await asAlpha.create(
      pods,
      restrictedPod("over", { cpu: "600m", memory: "256Mi" }),
    );
    expect(over.status).toBe(403);
    expect(over.body.message).toMatch(
      /exceeded quota: tenancy-quota, requested: .*limits\.cpu=600m.*limited: .*limits\.cpu=1/,
    );
    await asAlpha.call("DELETE", `${pods}/fits`);
  });

  it("a privileged container is refused by the API server itself (its default --allow-privileged=false)", async () => {
    const response = await asAlpha.create(
      "/api/v1/namespaces/tenant-kube-alpha/pods",
      restrictedPod("bad", { cpu: "100m", memory: "64Mi" }, (pod) => {
        pod.spec.containers[0]!.securityContext["privileged"] = true;
        pod.spec.containers[0]!.securityContext["allowPrivilegeEscalation"] = true;
      }),
    );
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(
      /securityContext\.privileged: Forbidden: disallowed by cluster policy/,
    );
  });

  it.each([
    [
      "a hostPath volume",
      (pod: ReturnType<typeof restrictedPod>) => {
        pod.spec.volumes = [{ name: "host", hostPath: { path: "/etc" } }];
      },
      /restricted volume types \(volume "host" uses restricted volume type "hostPath"\)/,
    ],
    [
      "hostNetwork",
      (pod: ReturnType<typeof restrictedPod>) => {
        pod.spec.hostNetwork = true;
      },
      /host namespaces \(hostNetwork=true\)/,
    ],
    [
      "a root user",
      (pod: ReturnType<typeof restrictedPod>) => {
        pod.spec.securityContext["runAsNonRoot"] = false;
        pod.spec.securityContext["runAsUser"] = 0;
      },
      /runAsNonRoot != true|runAsUser=0/,
    ],
    [
      "privilege escalation",
      (pod: ReturnType<typeof restrictedPod>) => {
        pod.spec.containers[0]!.securityContext["allowPrivilegeEscalation"] = true;
      },
      /allowPrivilegeEscalation != false/,
    ],
  ])(
    "Pod Security Admission refuses %s in the tenant's namespace",
    async (_what, patch, reason) => {
      const response = await asAlpha.create(
        "/api/v1/namespaces/tenant-kube-alpha/pods",
        restrictedPod("bad", { cpu: "100m", memory: "64Mi" }, patch),
      );
      expect(response.status).toBe(403);
      expect(response.body.message).toMatch(/violates PodSecurity "restricted:latest"/);
      expect(response.body.message).toMatch(reason);
    },
  );

  it("a NodePort or LoadBalancer service is refused (quota 0)", async () => {
    for (const type of ["NodePort", "LoadBalancer"]) {
      const response = await asAlpha.create("/api/v1/namespaces/tenant-kube-alpha/services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: type.toLowerCase() },
        spec: { type, selector: { app: "x" }, ports: [{ port: 80 }] },
      });
      expect(response.status).toBe(403);
      expect(response.body.message).toMatch(
        /exceeded quota: tenancy-quota, requested: (services\.loadbalancers=1,)?services\.nodeports=1/,
      );
    }
    // Positive control: an internal ClusterIP service is fine.
    const internal = await asAlpha.create("/api/v1/namespaces/tenant-kube-alpha/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "internal" },
      spec: { selector: { app: "x" }, ports: [{ port: 80 }] },
    });
    expect(internal.status).toBe(201);
  });

  it("dedicated-nodes: the namespace's pods get the tenant's node selector and toleration", async () => {
    const created = await admin.create(
      "/api/v1/namespaces/tenant-kube-beta/pods",
      restrictedPod("pinned", { cpu: "100m", memory: "64Mi" }),
    );
    expect(created.status).toBe(201);
    expect(created.body.spec?.nodeSelector).toEqual({ "tenancy.io/tenant": "kube-beta" });
    expect(created.body.spec?.tolerations).toContainEqual({
      key: "tenancy.io/tenant",
      operator: "Equal",
      value: "kube-beta",
      effect: "NoSchedule",
    });
  });

  it("offboarding leaves no namespace, role, binding or registration behind", async () => {
    await Promise.all([alpha, beta, pooled].map((t) => runner.destroy(t.slug)));
    for (const ns of ["tenant-kube-alpha", "tenant-kube-beta"]) {
      expect((await admin.get(`/api/v1/namespaces/${ns}`)).status).toBe(404);
    }
    const bindings = (await admin.get("/apis/rbac.authorization.k8s.io/v1/rolebindings")).body
      .items;
    expect(bindings).toBeInstanceOf(Array);
    expect(bindings!.filter((b) => b.metadata?.namespace?.startsWith("tenant-kube-"))).toEqual([]);
    const roles = (await admin.get("/apis/rbac.authorization.k8s.io/v1/roles")).body.items;
    expect(roles).toBeInstanceOf(Array);
    expect(roles!.filter((r) => r.metadata?.namespace?.startsWith("tenant-kube-"))).toEqual([]);
    expect(
      (await admin.get("/api/v1/namespaces/tenancy-pool/configmaps/tenant-kube-pooled")).status,
    ).toBe(404);
    // The shared pool namespace itself stays.
    expect((await admin.get("/api/v1/namespaces/tenancy-pool")).status).toBe(200);
  }, 600_000);
});
