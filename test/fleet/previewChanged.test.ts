/**
 * `tenancy preview --changed`: the real engine previews only the tenants the offline diff
 * finds affected (in a real temporary git repository), and its report is grouped like the
 * diff. A comment-only change opens no engine at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { previewCommand, type PreviewRunner } from "../../cli/previewCommand.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { PREVIEW_COMMENT_MARKER } from "../../fleet/previewGroups.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { bootstrapTestDatabase, useTestDatabase } from "../support/postgres.ts";
import { createTestRepo, generatedSlug, type TestRepo } from "./gitRepo.ts";

interface PreviewJson {
  base?: { ref: string; commit: string };
  summary: { previewed: number; changed: number; groups: number; failed: number };
  withoutStack: string[];
  groups: { id: number; tenants: string[]; changes: { kind: string; name: string }[] }[];
  tenants: { tenant: string }[];
}

async function preview(
  repo: TestRepo,
  openRunner: (() => Promise<PreviewRunner>) | undefined,
  ...argv: string[]
) {
  let stdout = "";
  let stderr = "";
  let opened = 0;
  const code = await previewCommand(
    argv,
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    {
      cwd: repo.dir,
      openRunner: async () => {
        opened++;
        if (!openRunner) throw new Error("no engine in this test");
        return openRunner();
      },
    },
  );
  return { code, stdout, stderr, opened };
}

// gen-00002 and gen-00004 are pro (own stacks), gen-00001 and gen-00003 free (no stack).
const PRO = [generatedSlug(2), generatedSlug(4)];

describe("tenancy preview --changed without changes that matter", () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = createTestRepo(4);
  });
  afterAll(() => repo?.remove());

  it("a comment-only change previews nothing and starts no engine", async () => {
    repo.write("tenants/dunlin.yaml", `# reviewed\n${repo.read("tenants/dunlin.yaml")}`);
    const result = await preview(repo, undefined, "--changed");
    repo.git("checkout", "--", ".");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.opened).toBe(0);
    const json = JSON.parse(result.stdout) as PreviewJson;
    expect(json.summary).toMatchObject({ previewed: 0, changed: 0, groups: 0 });
    expect(json.base?.ref).toBe("HEAD");
  }, 300_000);

  it("bad input: an unknown base, --base without --changed", async () => {
    const unknown = await preview(repo, undefined, "--changed", "--base", "no-such-ref");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^tenancy preview: .*no-such-ref/);
    expect(unknown.opened).toBe(0);
    await expect(preview(repo, undefined, "--base", "HEAD")).rejects.toThrow(
      "--base goes with --changed",
    );
  }, 120_000);
});

const db = useTestDatabase();

describeWithEngine("tenancy preview --changed on the real engine (local target)", () => {
  let repo: TestRepo;
  let openRunner: () => Promise<PreviewRunner>;
  const previewed: string[] = [];

  beforeAll(async () => {
    repo = createTestRepo(4);
    const { url, rolePrefix, name } = db.current;
    await bootstrapTestDatabase(db.current);
    const engine = await testEngine();
    const runner = new TenantStackRunner({
      engine,
      configFor: localStackConfig({ adminUrl: url, rolePrefix, databasePrefix: `${name}_db` }),
    });
    openRunner = async () => ({
      runner: {
        preview: (tenant, observer) => {
          previewed.push(tenant.slug);
          return runner.preview(tenant, observer);
        },
      },
      close: async () => undefined,
    });
  }, 300_000);

  afterAll(() => repo?.remove());

  it("previews exactly the affected stacks, grouped: two tenants with one quota change form one group", async () => {
    for (const slug of PRO) {
      repo.write(
        `tenants/${slug}.yaml`,
        `${repo.read(`tenants/${slug}.yaml`)}quotas:\n  dbConnections: 7\n`,
      );
    }
    repo.write("tenants/dunlin.yaml", `# reviewed\n${repo.read("tenants/dunlin.yaml")}`);
    repo.write(
      `tenants/${generatedSlug(1)}.yaml`,
      `${repo.read(`tenants/${generatedSlug(1)}.yaml`)}quotas:\n  dbConnections: 2\n`,
    );
    const base = repo.git("rev-parse", "HEAD").trim();
    const json = await preview(repo, openRunner, "--changed", "--base", "HEAD", "--parallel", "2");
    const markdown = await preview(repo, openRunner, "--changed", "--markdown");
    repo.git("checkout", "--", ".");

    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    // The pro tenants only: dunlin's comment and the free tenant's registration need no stack.
    expect(previewed.sort()).toEqual([...PRO, ...PRO].sort());
    const report = JSON.parse(json.stdout) as PreviewJson;
    expect(report.base).toEqual({ ref: "HEAD", commit: base });
    expect(report.tenants.map((t) => t.tenant).sort()).toEqual(PRO);
    // A free (fully pooled) tenant has no stack: named, not previewed.
    expect(report.withoutStack).toEqual([generatedSlug(1)]);
    expect(report.summary).toMatchObject({ previewed: 2, changed: 2, groups: 1, failed: 0 });
    expect(report.groups[0]?.tenants).toEqual(PRO);
    expect(report.groups[0]?.changes.length).toBeGreaterThan(0);
    expect(report.groups[0]?.changes.every((c) => !c.name.includes(generatedSlug(2)))).toBe(true);

    expect(markdown.code).toBe(0);
    expect(markdown.stdout.startsWith(PREVIEW_COMMENT_MARKER)).toBe(true);
    expect(markdown.stdout).toContain("### Group 1 · 2 tenants");
    expect(markdown.stdout).toContain(`Tenants: \`${PRO[0]}\`, \`${PRO[1]}\``);
    expect(markdown.stdout).toContain(`\`${generatedSlug(1)}\``);
  }, 900_000);
});
