import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { planCatalogResources, shapeKey } from "../../stacks/planning/planCatalog.ts";
import { planTenantResources } from "../../stacks/planning/planTenant.ts";
import { exampleTenants } from "./harness.ts";

interface PlanJson {
  target: string;
  tenants: { slug: string; resources: { type: string; name: string; parent: string | null }[] }[];
}

async function plan(...argv: string[]): Promise<PlanJson> {
  let stdout = "";
  let stderr = "";
  const code = await main(["plan", "--json", ...argv], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return JSON.parse(stdout) as PlanJson;
}

const DEDICATED = {
  database: "aws:rds/instance:Instance",
  bucket: "aws:s3/bucket:Bucket",
  namespace: "kubernetes:core/v1:Namespace",
};

describe("tenancy plan --json: resources", () => {
  it("a pooled tenant declares no dedicated database, bucket or namespace; a silo tenant declares all", async () => {
    const { tenants } = await plan("--tenant", "bluebird", "--tenant", "falcon-bank");
    const types = (slug: string) =>
      new Set(tenants.find((t) => t.slug === slug)?.resources.map((r) => r.type));
    for (const type of Object.values(DEDICATED)) {
      expect(types("bluebird").has(type), `bluebird ${type}`).toBe(false);
      expect(types("falcon-bank").has(type), `falcon-bank ${type}`).toBe(true);
    }
    const bluebird = tenants.find((t) => t.slug === "bluebird")?.resources ?? [];
    expect(bluebird).toContainEqual({
      type: "kubernetes:core/v1:ConfigMap",
      name: "bluebird-compute-pool-registration",
      parent: "bluebird-compute-pool",
    });
    expect(bluebird).toContainEqual({
      type: "tenancy:tenant:Tenant",
      name: "bluebird",
      parent: null,
    });
  });

  it("is sorted by name then type, entries have exactly type, name, parent; parents exist", async () => {
    const { tenants } = await plan();
    expect(tenants.map((t) => t.slug)).toEqual([
      "bluebird",
      "corvid-labs",
      "dunlin",
      "egret-health",
      "falcon-bank",
      "gannet-gov",
      "heron",
    ]);
    for (const t of tenants) {
      const keys = t.resources.map((r) => `${r.name}\u0000${r.type}`);
      expect(keys).toEqual([...keys].sort());
      const names = new Set(t.resources.map((r) => r.name));
      for (const r of t.resources) {
        expect(Object.keys(r)).toEqual(["type", "name", "parent"]);
        if (r.parent !== null)
          expect(names.has(r.parent), `${t.slug}: parent ${r.parent}`).toBe(true);
      }
    }
  });

  it("--target local declares only the database layer", async () => {
    const { target, tenants } = await plan("--target", "local", "--tenant", "falcon-bank");
    expect(target).toBe("local");
    expect(tenants[0]?.resources).toEqual([
      { type: "tenancy:tenant:Tenant", name: "falcon-bank", parent: null },
      {
        type: "tenancy:database:TenantDatabase",
        name: "falcon-bank-database",
        parent: "falcon-bank",
      },
      {
        type: "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
        name: "falcon-bank-database-objects",
        parent: "falcon-bank-database",
      },
    ]);
  });

  it("is the same output twice (deterministic), and --exact agrees with the per-shape plan", async () => {
    const first = await plan();
    expect(await plan()).toEqual(first);
    expect(await plan("--exact")).toEqual(first);
  });

  it("per-shape planning equals running the program for each tenant, on both targets", async () => {
    const tenants = await exampleTenants();
    for (const target of ["aws", "local"] as const) {
      const planned = await planCatalogResources(tenants, target);
      for (const tenant of tenants) {
        expect(planned.get(tenant.slug), `${tenant.slug} on ${target}`).toEqual(
          await planTenantResources(tenant, target),
        );
      }
    }
    // The two free tenants share a shape; every other example tenant has one of its own.
    expect(new Set(tenants.map((t) => shapeKey(t, "aws"))).size).toBe(6);
  });

  it("the planning stand-in declares exactly what the real db/ dynamic resource declares", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--import",
      "tsx",
      "test/components/fixtures/planWithDynamicResource.ts",
      "egret-health",
    ]);
    const real = JSON.parse(stdout) as unknown;
    expect(real).toEqual(
      await planTenantResources(
        (await exampleTenants()).find((t) => t.slug === "egret-health")!,
        "aws",
      ),
    );
    expect(real).toContainEqual({
      type: "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
      name: "egret-health-database-objects",
      parent: "egret-health-database",
    });
  });

  it("the project's entry point (stacks/main.ts) runs both targets from stack config", async () => {
    const run = async (config: Record<string, string>) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          "--import",
          "tsx",
          "test/components/fixtures/runMainUnderMocks.ts",
          "tenant-dunlin",
          "us-west-2",
        ],
        { env: { ...process.env, PULUMI_CONFIG: JSON.stringify(config) }, maxBuffer: 1 << 24 },
      );
      return JSON.parse(stdout) as {
        resources: { type: string; name: string; inputs: Record<string, unknown> }[];
        outputs: Record<string, unknown>;
      };
    };
    const local = await run({
      "tenancy:target": "local",
      "tenancy:databaseUrl": "postgres://admin:pw@localhost:5432/tenancy",
      "tenancy:rolePrefix": "t1",
    });
    expect(local.resources.map((r) => r.type)).toEqual([
      "tenancy:tenant:Tenant",
      "tenancy:database:TenantDatabase",
      "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
    ]);
    expect(local.resources[2]?.inputs).toMatchObject({
      slug: "dunlin",
      mode: "schema",
      rolePrefix: "t1",
      adminUrl: "postgres://admin:pw@localhost:5432/tenancy",
      quotas: { dbConnections: 25, statementTimeoutMs: 15000 },
    });
    expect(local.outputs).toMatchObject({
      slug: "dunlin",
      target: "local",
      routing: { notProvisioned: ["storage", "compute", "identity"] },
    });
    // With the local cluster's kubeconfig (secret config), the compute layer is declared too.
    const withCluster = await run({
      "tenancy:target": "local",
      "tenancy:databaseUrl": "postgres://admin:pw@localhost:5432/tenancy",
      "tenancy:kubeconfig": "apiVersion: v1\nkind: Config\n",
    });
    expect(withCluster.resources.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        "pulumi:providers:kubernetes",
        "tenancy:compute:LocalTenantCompute",
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ResourceQuota",
      ]),
    );
    expect(withCluster.resources.some((r) => r.type.startsWith("aws:"))).toBe(false);
    expect(withCluster.outputs).toMatchObject({
      routing: {
        compute: { mode: "namespace", namespace: "tenant-dunlin" },
        notProvisioned: ["storage", "identity"],
      },
    });
    const aws = await run({ "tenancy:target": "aws" });
    expect(aws.resources.map((r) => r.type)).toContain("pulumi:pulumi:StackReference");
    expect(
      aws.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => r.inputs["bucket"]),
    ).toEqual(["tenancy-planned-tenant-dunlin"]);
  }, 120_000);

  it("the table gains a resource count, and naming a tenant lists its stack", async () => {
    let stdout = "";
    expect(
      await main(["plan", "--tenant", "dunlin"], {
        stdout: (s) => (stdout += s),
        stderr: () => undefined,
      }),
    ).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(/STATE\s+RESOURCES$/);
    expect(stdout).toContain("stack tenant-dunlin (aws): 38 resources");
    expect(stdout).toMatch(/\n {4}dunlin-storage {2}tenancy:storage:TenantStorage\n/);
  });
});
