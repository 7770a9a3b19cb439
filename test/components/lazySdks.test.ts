/**
 * The AWS and Kubernetes SDKs are loaded only by programs that declare their resources: a
 * tenant program on the `local` target runs without the AWS SDK, and without the Kubernetes
 * SDK too when no cluster runs; the `aws` target loads both. Each case runs in a fresh Node
 * process, since the module cache is per process.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../fleet/gitRepo.ts";

const SCRIPT = `
const { loadCatalog, resolveCatalog } = await import(${JSON.stringify(join(PROJECT_ROOT, "catalog/index.ts"))});
const { runTenantUnderMocks } = await import(${JSON.stringify(join(PROJECT_ROOT, "stacks/planning/planTenant.ts"))});
const [target, slug, kube] = process.argv.slice(-3);
const loaded = await loadCatalog(${JSON.stringify(join(PROJECT_ROOT, "tenants"))});
const tenant = resolveCatalog(loaded.catalog).find((t) => t.slug === slug);
const result = await runTenantUnderMocks(tenant, target, kube === "kube" ? { localKubeconfig: "apiVersion: v1" } : {});
const sdks = Object.keys((await import("node:module")).createRequire(import.meta.url).cache)
  .filter((p) => /@pulumi\\/(aws|kubernetes)\\/index\\.js$/.test(p))
  .map((p) => p.split("/").at(-2)).sort();
console.log(JSON.stringify({ resources: result.resources.length, sdks }));
`;

async function sdksLoaded(target: string, slug: string, kube: "kube" | "none") {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", SCRIPT, target, slug, kube],
    { cwd: PROJECT_ROOT },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
    resources: number;
    sdks: string[];
  };
}

describe("the AWS and Kubernetes SDKs are loaded on demand", () => {
  it.each([
    ["local", "dunlin", "none", []],
    ["local", "dunlin", "kube", ["kubernetes"]],
    ["local", "falcon-bank", "kube", ["kubernetes"]],
    ["aws", "dunlin", "none", ["aws", "kubernetes"]],
  ] as const)(
    "%s target, %s, cluster %s: loads %j",
    async (target, slug, kube, expected) => {
      const result = await sdksLoaded(target, slug, kube);
      expect(result.sdks).toEqual(expected);
      expect(result.resources).toBeGreaterThan(2);
    },
    120_000,
  );
});
