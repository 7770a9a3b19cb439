/**
 * scripts/ci/rollout.sh in a real git repository: which selection it passes to `tenancy up`
 * (the CLI is replaced by a recorder through TENANCY_BIN), its exit status and job summary.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../fleet/gitRepo.ts";

function repo() {
  const dir = mkdtempSync(join(tmpdir(), "tenancy-rollout-sh-"));
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
  git("init", "--quiet");
  writeFileSync(join(dir, "a"), "1");
  git("add", "a");
  git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "one");
  const recorder = join(dir, "fake-tenancy.sh");
  writeFileSync(
    recorder,
    `#!/usr/bin/env bash\necho "$@" > "${join(dir, "argv")}"\necho '{"event":"summary","tenants":3,"unchanged":3}'\nexit "\${FAKE_STATUS:-0}"\n`,
  );
  chmodSync(recorder, 0o755);
  return { dir, recorder, head: git("rev-parse", "HEAD") };
}

function run(r: ReturnType<typeof repo>, before: string, env: Record<string, string> = {}) {
  writeFileSync(join(r.dir, "summary.md"), "");
  const result = spawnSync("bash", [join(PROJECT_ROOT, "scripts/ci/rollout.sh"), before], {
    cwd: r.dir,
    encoding: "utf8",
    env: {
      ...process.env,
      TENANCY_BIN: r.recorder,
      GITHUB_STEP_SUMMARY: join(r.dir, "summary.md"),
      ...env,
    },
  });
  return {
    ...result,
    argv: readFileSync(join(r.dir, "argv"), "utf8").trim(),
    summary: readFileSync(join(r.dir, "summary.md"), "utf8"),
  };
}

describe("scripts/ci/rollout.sh", () => {
  it("rolls out --changed against a known previous commit, in waves, and writes the summary", () => {
    const r = repo();
    const result = run(r, r.head);
    expect(result.status).toBe(0);
    expect(result.argv).toBe(`up --changed --base ${r.head} --waves 1,10,100 --parallel 4 --json`);
    expect(result.summary).toContain(`## tenancy up --changed --base ${r.head}`);
    expect(result.summary).toContain('{"event":"summary","tenants":3,"unchanged":3}');
  });

  it("falls back to --all when the previous commit is all zeros or unknown, and passes failures on", () => {
    const r = repo();
    expect(run(r, "0000000000000000000000000000000000000000").argv).toBe(
      "up --all --waves 1,10,100 --parallel 4 --json",
    );
    const failed = run(r, "deadbeef", { FAKE_STATUS: "1", TENANCY_WAVES: "5,100" });
    expect(failed.argv).toBe("up --all --waves 5,100 --parallel 4 --json");
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("previous commit 'deadbeef' unknown");
  });
});
