/**
 * The fast path of `tenancy diff` (one planning run per verified shape, one diff per pair of
 * shapes, working tree reused as the head, checkouts on tmpfs) gives exactly what planning and
 * diffing every tenant on its own gives (`--exact`), on a sample fleet with every kind of change
 * at once: a tier quota, a component, a tier move, a rename, a removal, an addition.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../cli/diffCommand.ts";
import { createTestRepo, generatedSlug, generatedTenant, type TestRepo } from "./gitRepo.ts";

async function diffJson(repo: TestRepo, ...argv: string[]): Promise<Record<string, unknown>> {
  let stdout = "";
  let stderr = "";
  const code = await diffCommand(
    ["--json", ...argv],
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    { cwd: repo.dir },
  );
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("grouped diff equals the per-tenant computation", () => {
  let repo: TestRepo;
  let base: string;
  let head: string;
  beforeAll(() => {
    repo = createTestRepo(40);
    base = repo.git("rev-parse", "HEAD").trim();
    repo.write(
      "tenants/tiers.yaml",
      repo
        .read("tenants/tiers.yaml")
        .replace('cpu: "2"', 'cpu: "3"')
        .replace("dbConnections: 20", "dbConnections: 25"),
    );
    const tagging = "components/tagging.ts";
    repo.write(
      tagging,
      repo
        .read(tagging)
        .replace(
          "  return labels;\n}",
          '  labels["tenancy.io/schema"] = "2";\n  return labels;\n}',
        ),
    );
    repo.write(
      `tenants/${generatedSlug(3)}.yaml`,
      generatedTenant(3).replace("tier: free", "tier: pro"),
    );
    repo.write(
      `tenants/${generatedSlug(5)}.yaml`,
      generatedTenant(5).replace("name: Generated 00005", "name: Renamed Tenant Five"),
    );
    repo.git("rm", "--quiet", `tenants/${generatedSlug(7)}.yaml`);
    repo.write("tenants/gen-new-one.yaml", "slug: gen-new-one\nname: New One\ntier: pro\n");
    head = repo.commit("everything at once");
  }, 120_000);
  afterAll(() => repo.remove());

  it.each(["aws", "local"])(
    "on the %s target: same tenants, changes, dangers and groups",
    async (target) => {
      const fast = await diffJson(repo, "--base", base, "--head", head, "--target", target);
      const exact = await diffJson(
        repo,
        "--base",
        base,
        "--head",
        head,
        "--target",
        target,
        "--exact",
      );
      expect(fast).toEqual(exact);
      // The sample exercises what it claims: most tenants are affected (the tier quotas reach
      // every pro tenant on both targets, the label every Kubernetes object on aws), the
      // removed and added ones are there, and the fast path grouped them.
      const summary = fast["summary"] as { tenants: number; affected: number; groups: number };
      expect(summary.tenants).toBe(7 + 40 + 1); // the union of both sides
      expect(summary.affected).toBeGreaterThanOrEqual(20);
      const tenants = fast["tenants"] as { slug: string; status: string }[];
      expect(tenants.find((t) => t.slug === generatedSlug(7))?.status).toBe("removed");
      expect(tenants.find((t) => t.slug === "gen-new-one")?.status).toBe("added");
      expect(summary.groups).toBeLessThan(summary.affected / 2);
    },
    240_000,
  );
});
