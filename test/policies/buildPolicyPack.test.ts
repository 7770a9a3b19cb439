/**
 * The compiled policy pack (policies/dist) is read by every engine run of the service, the CLI
 * and other test files while a build may be running: a build must never leave dist emptied or
 * half-written, and builds racing each other must end with one complete dist and no leftovers.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { policyPackFresh } from "../../control-plane/runner/policyPack.ts";
import { buildPolicyPack, POLICY_PACK_DIR } from "../../scripts/build-policy-pack.ts";

const DIST = join(POLICY_PACK_DIR, "dist");

/** What a reader of dist sees at this instant: absent, complete, or incomplete. */
function distState(): "absent" | "complete" | "incomplete" {
  if (!existsSync(DIST)) return "absent";
  const complete =
    existsSync(join(DIST, "package.json")) && existsSync(join(DIST, "policies", "index.js"));
  // Between the checks a swap may have happened; look once more before calling it incomplete.
  if (complete || !existsSync(DIST)) return complete ? "complete" : "absent";
  return existsSync(join(DIST, "package.json")) && existsSync(join(DIST, "policies", "index.js"))
    ? "complete"
    : "incomplete";
}

describe("building the policy pack", () => {
  it("two builds at once never show a reader an incomplete dist, and leave one fresh build", async () => {
    const seen = { absent: 0, complete: 0, incomplete: 0 };
    let building = true;
    const watcher = (async () => {
      while (building) {
        seen[distState()] += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await Promise.all([buildPolicyPack(), buildPolicyPack()]);
    } finally {
      building = false;
      await watcher;
    }
    expect(seen.incomplete).toBe(0);
    expect(seen.complete).toBeGreaterThan(0);
    expect(distState()).toBe("complete");
    expect(await policyPackFresh()).toBe(true);
    const leftovers = (await readdir(POLICY_PACK_DIR)).filter((f) => f.startsWith("dist."));
    expect(leftovers).toEqual([]);
  }, 180_000);
});
