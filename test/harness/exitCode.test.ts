/**
 * A failed test run must exit non-zero through the project's own global setup: the
 * embedded PostgreSQL package's exit hook used to turn every failed run into exit code 0.
 */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

it("a run with a failing test exits 1 with the project's global setup", () => {
  const run = spawnSync(
    process.execPath,
    [
      "node_modules/vitest/vitest.mjs",
      "run",
      "--config",
      "test/harness/fixtures/failing.config.ts",
    ],
    { encoding: "utf8", env: { ...process.env, TENANCY_SKIP_ENGINE: "1", CI: "" } },
  );
  expect(run.stdout + run.stderr).toContain("fails on purpose");
  expect(run.status).toBe(1);
}, 120_000);
