/**
 * `tenancy up` with the local cluster's kubeconfig: the rollout deploys the compute layer into
 * a real API server, the desired-state hash is planned with the cluster (so a second run starts
 * no engine), and a quota change reaches the namespace's ResourceQuota.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ResolvedTenant } from "../../catalog/index.ts";
import { runUp, type UpContext, type UpSettings } from "../../cli/upCommand.ts";
import type { LocalCluster } from "../../control-plane/localCluster.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { testEngine } from "../support/engine.ts";
import { describeWithCluster, kubeClient, testCluster, type KubeClient } from "../support/kube.ts";
import { exampleTenant } from "../support/controlPlane.ts";
import { bootstrapTestDatabase, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
const QUOTA = "/api/v1/namespaces/tenant-kube-up/resourcequotas/tenancy-quota";

describeWithCluster("tenancy up with the local cluster's kubeconfig", () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let context: UpContext;
  let tenant: ResolvedTenant;
  const deployed: string[] = [];

  async function up(list: ResolvedTenant[]) {
    let stdout = "";
    const settings: UpSettings = {
      waves: [100],
      parallel: 1,
      onBusy: "skip",
      busyTimeoutMs: 0,
      json: true,
      onDeploy: (slug) => deployed.push(slug),
    };
    const report = await runUp(list, context, settings, {
      stdout: (s) => (stdout += s),
      stderr: () => undefined,
    });
    return {
      report,
      events: stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as object),
    };
  }

  beforeAll(async () => {
    cluster = await testCluster();
    admin = kubeClient(cluster);
    const { url, rolePrefix, name } = db.current;
    await bootstrapTestDatabase(db.current);
    context = {
      engine: await testEngine(),
      local: {
        adminUrl: url,
        rolePrefix,
        databasePrefix: `${name}_db`,
        kubeconfig: cluster.kubeconfig,
      },
      controlPool: db.current.pool,
    };
    tenant = await exampleTenant({
      slug: "kube-up",
      name: "Kube Up",
      tier: "pro",
      quotas: { cpu: "1", memory: "1Gi" },
    });
  }, 600_000);

  afterAll(async () => {
    if (!context) return;
    const runner = new TenantStackRunner({
      engine: context.engine,
      configFor: localStackConfig(context.local),
    });
    await runner.destroy("kube-up").catch(() => undefined);
  }, 600_000);

  const hardCpu = async () => (await admin.get(QUOTA)).body.spec?.hard?.["limits.cpu"];

  it("deploys the namespace and its quota; a second run starts no engine", async () => {
    const first = await up([tenant]);
    expect(first.report.succeeded).toEqual(["kube-up"]);
    expect(deployed).toEqual(["kube-up"]);
    expect(await hardCpu()).toBe("1");

    deployed.length = 0;
    const second = await up([tenant]);
    expect(deployed).toEqual([]);
    expect(second.report.unchanged).toEqual(["kube-up"]);
    expect(second.events.at(-1)).toMatchObject({ event: "summary", unchanged: 1, succeeded: 0 });
  }, 900_000);

  it("a quota change is deployed to the ResourceQuota", async () => {
    deployed.length = 0;
    const changed = { ...tenant, quotas: { ...tenant.quotas, cpu: "2" } };
    const { report } = await up([changed]);
    expect(report.succeeded).toEqual(["kube-up"]);
    expect(deployed).toEqual(["kube-up"]);
    expect(await hardCpu()).toBe("2");
  }, 900_000);
});
