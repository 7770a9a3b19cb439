/**
 * The desired-state hash `tenancy up` skips stacks by follows what each tenant's stack
 * declares: planned (child process, mock runtime) from the code on disk of a real temporary
 * repository. A comment changes no hash; a component change changes exactly the hashes of
 * the tenants whose resources it alters; the local target is planned with a cluster exactly
 * when the stacks get a kubeconfig.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, resolveCatalog, type ResolvedTenant } from "../../catalog/index.ts";
import type { UpContext } from "../../cli/upCommand.ts";
import type { EngineSettings } from "../../control-plane/runner/engine.ts";
import { stackTenants } from "../../control-plane/runner/previewTenants.ts";
import { desiredStateHasher } from "../../fleet/desiredStateHasher.ts";
import { planSide } from "../../fleet/planSide.ts";
import { createTestRepo, type TestRepo } from "./gitRepo.ts";

const LABELS = "components/tagging.ts";
const LABELS_RETURN = "  return labels;\n}";

describe("desired-state hash from the declared resources", () => {
  let repo: TestRepo;
  let tenants: ResolvedTenant[];

  const context = (kubeconfig?: string): UpContext => ({
    engine: {
      projectDir: repo.dir,
      command: { version: "3.0.0-test" },
    } as unknown as EngineSettings,
    local: {
      adminUrl: "postgres://admin:pw@127.0.0.1:5432/app",
      ...(kubeconfig ? { kubeconfig } : {}),
    },
    controlPool: undefined as never,
  });

  async function hashes(kubeconfig?: string): Promise<Map<string, string>> {
    const hashOf = await desiredStateHasher(context(kubeconfig), tenants);
    return new Map(tenants.map((t) => [t.slug, hashOf(t)]));
  }

  function changed(before: Map<string, string>, after: Map<string, string>): string[] {
    return [...before.keys()].filter((slug) => before.get(slug) !== after.get(slug)).sort();
  }

  /** Tenants with a Kubernetes object in their planned local stack (with a cluster). */
  async function tenantsWithKubernetesObjects(): Promise<string[]> {
    const plan = await planSide({
      root: repo.dir,
      catalogDir: "tenants",
      target: "local",
      localCluster: true,
    });
    if (!plan.ok) throw new Error(plan.diagnostics.join("\n"));
    const stackSlugs = new Set(tenants.map((t) => t.slug));
    return plan.tenants
      .filter(
        (t) =>
          stackSlugs.has(t.slug) &&
          (plan.shapes[t.shape]?.resources ?? []).some((r) => r.type.startsWith("kubernetes:")),
      )
      .map((t) => t.slug)
      .sort();
  }

  beforeAll(async () => {
    repo = createTestRepo();
    const loaded = await loadCatalog(join(repo.dir, "tenants"));
    if (!loaded.ok) throw new Error("example catalog invalid");
    tenants = stackTenants(resolveCatalog(loaded.catalog));
    expect(tenants.length).toBeGreaterThan(2);
  }, 120_000);

  afterAll(() => repo?.remove());

  it("a comment-only change to a component changes no tenant's hash", async () => {
    const before = await hashes("kubeconfig: a");
    repo.write(LABELS, `// Labels are applied by a transformation.\n${repo.read(LABELS)}`);
    const after = await hashes("kubeconfig: a");
    repo.git("checkout", "--", LABELS);
    expect(after.size).toBe(tenants.length);
    expect(changed(before, after)).toEqual([]);
  }, 300_000);

  it("a component change alters exactly the tenants whose resources it changes", async () => {
    const withKube = await tenantsWithKubernetesObjects();
    // Some stack tenants have Kubernetes objects on the local target, some do not.
    expect(withKube.length).toBeGreaterThan(0);
    expect(withKube.length).toBeLessThan(tenants.length);
    const before = { kube: await hashes("kubeconfig: a"), none: await hashes() };
    repo.write(
      LABELS,
      repo
        .read(LABELS)
        .replace(LABELS_RETURN, `  labels["tenancy.io/schema"] = "2";\n${LABELS_RETURN}`),
    );
    expect(repo.read(LABELS)).toContain("tenancy.io/schema");
    const after = { kube: await hashes("kubeconfig: a"), none: await hashes() };
    repo.git("checkout", "--", LABELS);
    // With a cluster: the tenants with Kubernetes objects, and only those.
    expect(changed(before.kube, after.kube)).toEqual(withKube);
    // Without one the local stacks declare no Kubernetes object: nothing to roll out.
    expect(changed(before.none, after.none)).toEqual([]);
  }, 300_000);

  it("a spec change alters only that tenant's hash; the stack config is part of it", async () => {
    const before = await hashes();
    const [first, ...rest] = tenants;
    tenants = [{ ...first!, quotas: { ...first!.quotas, dbConnections: 3 } }, ...rest];
    const after = await hashes();
    tenants = [first!, ...rest];
    expect(changed(before, after)).toEqual([first!.slug]);
    const otherCluster = await hashes("kubeconfig: b");
    expect(changed(before, otherCluster)).toEqual(tenants.map((t) => t.slug).sort());
  }, 300_000);
});
