/**
 * The affected set of the local target (`up --changed`, `preview --changed`, `diff --target
 * local`) is planned as deployed with a cluster: a compute quota, which only the namespace's
 * ResourceQuota/LimitRange carry, affects that tier's namespace tenants although no cluster
 * runs here.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { affectedTenants } from "../../fleet/affected.ts";
import { createTestRepo, generatedSlug, type TestRepo } from "./gitRepo.ts";

let repo: TestRepo;
beforeAll(() => {
  repo = createTestRepo(4);
});
afterAll(() => repo?.remove());

it("a tier's cpu quota affects that tier's namespace tenants on the local target", async () => {
  const tiers = repo.read("tenants/tiers.yaml");
  expect(tiers).toContain('cpu: "2"');
  repo.write("tenants/tiers.yaml", tiers.replace('cpu: "2"', 'cpu: "3"'));
  const affected = await affectedTenants(repo.dir, "HEAD", "tenants", "local");
  repo.git("checkout", "--", ".");
  expect(affected.ok).toBe(true);
  expect(affected.errors).toEqual([]);
  // The pro tier's tenants that keep its cpu quota (egret-health and dunlin have namespaces;
  // heron overrides cpu and is offboarding); the generated pro tenants gen-00002/4.
  expect([...affected.slugs].sort()).toEqual(
    ["dunlin", "egret-health", generatedSlug(2), generatedSlug(4)].sort(),
  );
}, 300_000);
