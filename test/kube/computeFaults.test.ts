/**
 * Bad input and faults of the compute layer on the local target, against a real API server
 * of this file's own (it is stopped and restarted here, so no other file shares it):
 * an invalid quantity never reaches the API server, the API server going down mid-operation
 * is a retryable failure that the next run resumes from, and a namespace deleted out of
 * band shows in a refresh and is recreated by the next `up`.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ResolvedTenant } from "../../catalog/index.ts";
import {
  startLocalCluster,
  stopLocalCluster,
  type LocalCluster,
} from "../../control-plane/localCluster.ts";
import { StackOperationError } from "../../control-plane/runner/errors.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { describeWithCluster, kubeClient, type KubeClient } from "../support/kube.ts";
import { freePort } from "../support/ports.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { exampleTenant } from "../support/controlPlane.ts";
import { kubeStackRunner } from "../support/kubeStacks.ts";

const db = useTestDatabase();

describeWithCluster("compute layer faults on a real API server (local target)", () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let runner: TenantStackRunner;
  let tenant: ResolvedTenant;
  const NS = "/api/v1/namespaces/tenant-kube-fault";
  const QUOTA = `${NS}/resourcequotas/tenancy-quota`;

  beforeAll(async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "tenancy-test-kube-faults-"));
    cluster = await startLocalCluster({
      stateDir,
      apiPort: await freePort(),
      etcdPort: await freePort({ consecutive: 2 }),
    });
    admin = kubeClient(cluster);
    tenant = await exampleTenant({
      slug: "kube-fault",
      name: "Fault",
      tier: "pro",
      quotas: { cpu: "1", memory: "1Gi" },
    });
    runner = await kubeStackRunner(db.current, cluster);
    await runner.up(tenant);
  }, 600_000);

  afterAll(async () => {
    await runner?.destroy(tenant.slug).catch(() => undefined);
    if (cluster) await stopLocalCluster(cluster.stateDir, { purge: true });
  }, 600_000);

  const hardCpu = async () => (await admin.get(QUOTA)).body.spec?.hard?.["limits.cpu"];

  it("an invalid quantity is refused before the API server sees it; the tenant keeps its quota", async () => {
    const bad = { ...tenant, quotas: { ...tenant.quotas, cpu: "lots" } };
    const error = await runner.up(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackOperationError);
    expect((error as StackOperationError).kind).toBe("failed");
    expect((error as StackOperationError).reason).toMatch(
      /quotas\.cpu: must be a Kubernetes CPU quantity/,
    );
    expect(await hardCpu()).toBe("1");
  }, 300_000);

  it("a quota the API server refuses fails the operation with its message; the tenant keeps its previous quota and limits", async () => {
    // The platform caps tenant CPU with a ValidatingAdmissionPolicy (CEL, in the API server).
    const policy = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
    expect(
      (
        await admin.create(policy, {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicy",
          metadata: { name: "tenant-cpu-cap" },
          spec: {
            failurePolicy: "Fail",
            matchConstraints: {
              resourceRules: [
                {
                  apiGroups: [""],
                  apiVersions: ["v1"],
                  operations: ["CREATE", "UPDATE"],
                  resources: ["resourcequotas"],
                },
              ],
            },
            validations: [
              {
                expression:
                  "!has(object.spec.hard) || !('limits.cpu' in object.spec.hard) || quantity(object.spec.hard['limits.cpu']).compareTo(quantity('16')) <= 0",
                message: "a tenant namespace may have at most 16 CPUs (cluster cap)",
              },
            ],
          },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin.create(`${policy.replace("policies", "policybindings")}`, {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicyBinding",
          metadata: { name: "tenant-cpu-cap" },
          spec: {
            policyName: "tenant-cpu-cap",
            validationActions: ["Deny"],
            matchResources: {
              namespaceSelector: {
                matchExpressions: [{ key: "tenancy.io/tenant", operator: "Exists" }],
              },
            },
          },
        })
      ).status,
    ).toBe(201);
    // The policy is in force once a dry-run create over the cap is refused.
    const probe = {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "probe" },
      spec: { hard: { "limits.cpu": "64" } },
    };
    for (let i = 0; i < 100; i++) {
      if ((await admin.create(`${NS}/resourcequotas?dryRun=All`, probe)).status === 422) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const limitsBefore = (await admin.get(`${NS}/limitranges/tenancy-limits`)).body;

    const huge = { ...tenant, quotas: { ...tenant.quotas, cpu: "64" } };
    const error = await runner.up(huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackOperationError);
    expect((error as StackOperationError).kind).toBe("failed");
    expect((error as StackOperationError).reason).toContain(
      "a tenant namespace may have at most 16 CPUs (cluster cap)",
    );
    expect(await hardCpu()).toBe("1");
    expect((await admin.get(`${NS}/limitranges/tenancy-limits`)).body).toEqual(limitsBefore);
    // Within the cap the same stack deploys again.
    await runner.up(tenant);
    expect(await hardCpu()).toBe("1");
  }, 600_000);

  it("the API server down mid-operation is retryable, and the next run resumes", async () => {
    // kill -9: no graceful shutdown of the API server (etcd and the controller-manager stay).
    process.kill(
      Number(await readFile(join(cluster.stateDir, "kube-apiserver.pid"), "utf8")),
      "SIGKILL",
    );
    const bigger = { ...tenant, quotas: { ...tenant.quotas, cpu: "2" } };
    const error = await runner.up(bigger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackOperationError);
    expect((error as StackOperationError).kind).toBe("retryable");
    expect((error as StackOperationError).reason).toMatch(/unreachable|connection refused/);
    // Back up (same etcd, same state dir); the retry applies the change.
    await startLocalCluster({ stateDir: cluster.stateDir });
    await runner.up(bigger);
    expect(await hardCpu()).toBe("2");
  }, 600_000);

  it("a namespace deleted out of band shows in a refresh and the next up recreates it", async () => {
    expect((await admin.call("DELETE", NS)).status).toBe(200);
    for (let i = 0; i < 300 && (await admin.get(NS)).status !== 404; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await admin.get(NS)).status).toBe(404);
    const tenantNow = { ...tenant, quotas: { ...tenant.quotas, cpu: "2" } };
    await runner.refresh(tenantNow);
    const preview = await runner.preview(tenantNow);
    expect(preview.changes).toContainEqual(
      expect.objectContaining({ kind: "create", type: "kubernetes:core/v1:Namespace" }),
    );
    await runner.up(tenantNow);
    expect((await admin.get(NS)).body.status?.phase).toBe("Active");
    expect(await hardCpu()).toBe("2");
  }, 600_000);
});
