/** Temporary checkouts for fleet commands, in a real git repository. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkoutCommit, checkoutParents, isCleanCheckoutOf } from "../../fleet/gitCheckout.ts";
import { createTestRepo, PROJECT_ROOT, type TestRepo } from "./gitRepo.ts";

describe("temporary checkouts", () => {
  let repo: TestRepo;
  let first: string;
  let second: string;
  beforeAll(() => {
    repo = createTestRepo();
    first = repo.git("rev-parse", "HEAD").trim();
    repo.write("tenants/heron.yaml", repo.read("tenants/heron.yaml") + "# second\n");
    second = repo.commit("second");
  }, 60_000);
  afterAll(() => repo.remove());

  it("go to TENANCY_CHECKOUT_DIR when set, else /dev/shm when writable, then the temp dir", () => {
    expect(checkoutParents({ TENANCY_CHECKOUT_DIR: "/somewhere" })).toEqual(["/somewhere"]);
    const parents = checkoutParents({});
    expect(parents.at(-1)).toBe(tmpdir());
    expect(parents.slice(0, -1)).toEqual(existsSync("/dev/shm") ? ["/dev/shm"] : []);
  });

  it("fall back to the next place when one fails, and leave nothing behind", async () => {
    const checkout = await checkoutCommit(repo.dir, first, ["/nonexistent/place", tmpdir()]);
    try {
      expect(checkout.dir.startsWith(tmpdir())).toBe(true);
      expect(readFileSync(join(checkout.dir, "tenants/heron.yaml"), "utf8")).not.toContain(
        "# second",
      );
    } finally {
      await checkout.remove();
    }
    expect(existsSync(checkout.dir)).toBe(false);
    expect(repo.git("worktree", "list").trim().split("\n")).toHaveLength(1);
    await expect(checkoutCommit(repo.dir, first, ["/nonexistent/place"])).rejects.toThrow();
    expect(repo.git("worktree", "list").trim().split("\n")).toHaveLength(1);
  });

  it("the working tree stands for a commit only when it is that commit with nothing uncommitted", async () => {
    expect(await isCleanCheckoutOf(repo.dir, second)).toBe(true);
    expect(await isCleanCheckoutOf(repo.dir, first)).toBe(false);
    repo.write("tenants/untracked.yaml", "slug: untracked\n");
    expect(await isCleanCheckoutOf(repo.dir, second)).toBe(false);
    repo.git("clean", "--quiet", "-f", "tenants");
    expect(await isCleanCheckoutOf(repo.dir, second)).toBe(true);
  });

  it("an interrupted diff deletes its checkout before it dies (SIGTERM, as CI runners send)", async () => {
    const place = mkdtempSync(join(tmpdir(), "tenancy-checkouts-"));
    try {
      const child = spawn(
        process.execPath,
        [join(PROJECT_ROOT, "bin/tenancy.js"), "diff", "--base", first, "--json"],
        { cwd: repo.dir, env: { ...process.env, TENANCY_CHECKOUT_DIR: place }, stdio: "ignore" },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on("exit", (code, signal) => resolve(signal ?? (String(code) as NodeJS.Signals))),
      );
      const started = Date.now();
      while (!existsSync(join(place, readdirSync(place)[0] ?? "-", "tree", "tenants"))) {
        if (Date.now() - started > 60_000) throw new Error("no checkout appeared");
        await sleep(20);
      }
      child.kill("SIGTERM");
      expect(await exited).toBe("SIGTERM");
      expect(readdirSync(place)).toEqual([]);
    } finally {
      rmSync(place, { recursive: true, force: true });
    }
  }, 90_000);
});
