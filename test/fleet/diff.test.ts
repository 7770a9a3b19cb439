/**
 * `tenancy diff` against real temporary git repositories: the base is checked out by git, both
 * sides are planned by their own code in child processes, and the diffs are asserted exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../cli/diffCommand.ts";
import { MARKDOWN_LIMIT } from "../../fleet/diffReport.ts";
import { createTestRepo, generatedSlug, generatedTier, type TestRepo } from "./gitRepo.ts";

interface DiffJson {
  summary: { tenants: number; affected: number; dangerous: number; errors: number; groups: number };
  groups: {
    id: number;
    tenants: string[];
    headline: string;
    dangers: string[];
    resources: {
      op: string;
      type: string;
      name: string;
      changes: { path: string; old?: unknown; new?: unknown }[];
    }[];
  }[];
  tenants: {
    slug: string;
    status: string;
    group: number | null;
    error?: string;
    dangers: string[];
    violations: string[];
    resources: {
      op: string;
      type: string;
      name: string;
      changes: { path: string; old?: unknown; new?: unknown; replaces?: string }[];
    }[];
  }[];
}

async function diff(repo: TestRepo, ...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await diffCommand(
    argv,
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    { cwd: repo.dir },
  );
  return { code, stdout, stderr };
}

async function diffJson(repo: TestRepo, ...argv: string[]): Promise<DiffJson> {
  const result = await diff(repo, "--json", ...argv);
  // The only line allowed on stderr: the note that the working tree has uncommitted changes.
  expect(result.stderr.replace(/^tenancy diff: the head is the working tree, with .*\n/, "")).toBe(
    "",
  );
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as DiffJson;
}

describe("tenancy diff on a fleet of 2,000 generated tenants plus the examples", () => {
  let repo: TestRepo;
  let base: string;
  let quota: string;
  let comments: string;
  beforeAll(() => {
    repo = createTestRepo(2000);
    base = repo.git("rev-parse", "HEAD").trim();
    repo.write(
      "tenants/tiers.yaml",
      repo.read("tenants/tiers.yaml").replace('cpu: "2"', 'cpu: "3"'),
    );
    quota = repo.commit("pro: 3 CPUs");
    repo.write(
      "tenants/tiers.yaml",
      repo.read("tenants/tiers.yaml").replace("tiers:", "# the tiers we sell\ntiers:"),
    );
    const file = "components/compute/isolatedNamespace.ts";
    repo.write(file, repo.read(file).replace("export ", "// a comment-only change\nexport "));
    comments = repo.commit("comments only");
  }, 120_000);
  afterAll(() => repo.remove());

  // Pro tenants that do not set their own CPU quota: every generated pro tenant, and of the
  // examples dunlin and egret-health (heron sets cpu: "4").
  const proTenants = () =>
    [
      "dunlin",
      "egret-health",
      ...Array.from({ length: 2000 }, (_, i) => i + 1)
        .filter((i) => generatedTier(i) === "pro")
        .map(generatedSlug),
    ].sort();

  it("one tier quota: exactly that tier's tenants, in one group, each listed in JSON", async () => {
    const json = await diffJson(repo, "--base", base, "--head", quota);
    expect(json.summary).toEqual({
      tenants: 2007,
      affected: 1002,
      dangerous: 0,
      errors: 0,
      groups: 1,
    });
    expect(json.groups[0]?.tenants).toEqual(proTenants());
    expect(json.tenants.map((t) => t.slug)).toEqual(proTenants());
    const dunlin = json.tenants.find((t) => t.slug === "dunlin");
    expect(dunlin?.resources).toEqual([
      {
        op: "update",
        type: "kubernetes:core/v1:LimitRange",
        name: "dunlin-compute-namespace-limits",
        changes: [{ path: "spec.limits[0].max.cpu", old: "2", new: "3", replaces: "update" }],
      },
      {
        op: "update",
        type: "kubernetes:core/v1:ResourceQuota",
        name: "dunlin-compute-namespace-quota",
        changes: [
          { path: 'spec.hard["limits.cpu"]', old: "2", new: "3", replaces: "update" },
          { path: 'spec.hard["requests.cpu"]', old: "2", new: "3", replaces: "update" },
        ],
      },
    ]);
  }, 180_000);

  it("the markdown stays under the limit, names the group and its size", async () => {
    const { code, stdout } = await diff(repo, "--markdown", "--base", base, "--head", quota);
    expect(code).toBe(0);
    expect(stdout.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(stdout).toContain("**1,002 tenants affected** of 2,007 · 1 group");
    expect(stdout).toContain(
      '### Group 1 · 1,002 tenants · `LimitRange` `spec.limits[0].max.cpu` "2" → "3"',
    );
    expect(stdout).toContain("`dunlin`, `egret-health`, `gen-00002`");
    expect(stdout).toContain("and 987 more tenants");
  }, 180_000);

  it("a comment-only change to the catalog and a component lists nobody", async () => {
    const json = await diffJson(repo, "--base", quota, "--head", comments);
    expect(json.summary).toEqual({
      tenants: 2007,
      affected: 0,
      dangerous: 0,
      errors: 0,
      groups: 0,
    });
    expect(json.tenants).toEqual([]);
  }, 180_000);
});

describe("tenancy diff on the example catalog", () => {
  let repo: TestRepo;
  let base: string;
  beforeAll(() => {
    repo = createTestRepo();
    base = repo.git("rev-parse", "HEAD").trim();
  }, 60_000);
  afterAll(() => repo.remove());

  it("one tenant's tier move: only that tenant, dangerous first (isolation, stateful delete)", async () => {
    repo.write(
      "tenants/dunlin.yaml",
      repo.read("tenants/dunlin.yaml") + "overrides:\n  database: dedicated\n",
    );
    repo.commit("dunlin: dedicated database");
    const json = await diffJson(repo, "--base", base, "--head", "HEAD");
    expect(json.tenants.map((t) => t.slug)).toEqual(["dunlin"]);
    const dunlin = json.tenants[0];
    expect(dunlin?.dangers).toContain("isolation: database schema → dedicated");
    expect(dunlin?.dangers).toContain(
      "replace pulumi-nodejs:dynamic/tenancy:TenantDatabase dunlin-database-objects",
    );
    expect(dunlin?.resources).toContainEqual(
      expect.objectContaining({ op: "create", type: "aws:rds/instance:Instance" }),
    );
    const { stdout } = await diff(repo, "--base", base, "--head", "HEAD");
    expect(stdout.indexOf("### ⚠️ Dangerous changes")).toBeGreaterThan(0);
    expect(stdout.indexOf("### ⚠️ Dangerous changes")).toBeLessThan(stdout.indexOf("Group 1"));
    expect(stdout).toContain("- `dunlin` (pro → pro): isolation: database schema → dedicated");
    // Two diffs (four planners): at load average ~25 each took ~60 s, 120 s ran out twice.
  }, 300_000);

  it("a component change reaches every tenant whose resources change; secrets stay masked", async () => {
    const file = "stacks/planning/plannedValues.ts";
    repo.write(
      file,
      repo
        .read(file)
        .replace(
          "postgres://planned:planned@localhost.invalid",
          "postgres://planned:s3cr3t@localhost.invalid",
        ),
    );
    const { code, stdout } = await diff(repo, "--json", "--target", "local", "--base", "HEAD");
    expect(code).toBe(0);
    expect(stdout).not.toContain("s3cr3t");
    const json = JSON.parse(stdout) as DiffJson;
    // On the local target every tenant's in-database objects take the admin URL as input.
    expect(json.tenants.map((t) => t.slug)).toEqual([
      "bluebird",
      "corvid-labs",
      "dunlin",
      "egret-health",
      "falcon-bank",
      "gannet-gov",
      "heron",
    ]);
    expect(json.summary.groups).toBe(1);
    expect(json.tenants[0]?.resources[0]?.changes).toEqual([
      { path: "adminUrl", old: "[secret]", new: "[secret]", replaces: "update" },
    ]);
    repo.git("checkout", "--", file);
  }, 120_000);

  it("a tenant whose program throws is reported; the others are still diffed", async () => {
    const file = "components/tenant/tenant.ts";
    const constructorStart = 'super("tenancy:tenant:Tenant", name, {}, opts);';
    const source = repo.read(file);
    expect(source).toContain(constructorStart); // the fault is injected where it runs
    repo.write(
      file,
      source.replace(
        constructorStart,
        `${constructorStart}\n    if (args.tenant.tags["explode"]) throw new Error(\`cannot build \${args.tenant.slug}\`);`,
      ),
    );
    repo.write(
      "tenants/heron.yaml",
      repo.read("tenants/heron.yaml") + 'tags: { explode: "yes" }\n',
    );
    repo.write(
      "tenants/tiers.yaml",
      repo.read("tenants/tiers.yaml").replace("memory: 4Gi", "memory: 5Gi"),
    );
    const json = await diffJson(repo, "--base", "HEAD");
    expect(json.tenants.find((t) => t.slug === "heron")).toEqual(
      expect.objectContaining({ status: "error", error: "head: cannot build heron" }),
    );
    expect(json.tenants.filter((t) => t.status === "changed").map((t) => t.slug)).toEqual([
      "dunlin",
      "egret-health",
    ]);
    repo.git("checkout", "--", ".");
  }, 120_000);

  it("bad input: an unknown base ref, an invalid head catalog (file:line, exit 1)", async () => {
    const missing = await diff(repo, "--base", "no-such-branch");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('git ref "no-such-branch" does not exist');
    repo.write(
      "tenants/bluebird.yaml",
      repo.read("tenants/bluebird.yaml").replace("tier: free", "tier: fre"),
    );
    const invalid = await diff(repo, "--base", "HEAD");
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toBe("");
    expect(invalid.stderr).toContain("uncommitted change: tenants/bluebird.yaml\n");
    expect(invalid.stderr).toMatch(
      /tenants\/bluebird\.yaml:\d+:\d+: tier: unknown tier "fre" \(did you mean "free"\?\)/,
    );
    expect(invalid.stderr).toContain("the head (working tree) catalog is invalid (1 error)");
    repo.git("checkout", "--", ".");
  }, 120_000);
});
