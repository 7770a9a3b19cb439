/**
 * The real Pulumi engine for tests. Tests that need it use `describeWithEngine`: without an
 * engine they are skipped with one loud line saying why — unless TENANCY_REQUIRE_ENGINE=1
 * (set by CI), which turns the skip into a failing test.
 */
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import {
  engineSettings,
  EngineUnavailableError,
  pulumiRoot,
  type EngineSettings,
} from "../../control-plane/runner/engine.ts";

export const engineRoot = pulumiRoot();
const required = process.env.TENANCY_REQUIRE_ENGINE === "1";

/** The environment for a file backend in `stateDir` (with a test passphrase). */
export function fileBackendEnv(stateDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${join(stateDir, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: "test-passphrase",
  };
}

/** Engine settings with a fresh file backend and state dir of the test's own. */
export async function testEngine(): Promise<EngineSettings> {
  const stateDir = await mkdtemp(join(tmpdir(), "tenancy-engine-test-"));
  return engineSettings({ stateDir, env: fileBackendEnv(stateDir) });
}

/**
 * A state dir and an environment in which no engine is found: none on PATH, none in the build
 * cache; the engine root is the empty directory `root` (a test may "finish the build" by
 * putting a bin/ in it). `label` names the temporary directories.
 */
export async function engineMissingSettings(
  label: string,
): Promise<{ root: string; stateDir: string; env: NodeJS.ProcessEnv }> {
  const root = await mkdtemp(join(tmpdir(), `tenancy-${label}-engine-`));
  const stateDir = await mkdtemp(join(tmpdir(), `tenancy-${label}-state-`));
  const env: NodeJS.ProcessEnv = {
    ...fileBackendEnv(stateDir),
    PATH: (process.env.PATH ?? "")
      .split(":")
      .filter((dir) => dir && !existsSync(join(dir, "pulumi")))
      .join(":"),
    TENANCY_PULUMI_ROOT: root,
    TENANCY_PULUMI_CACHE: join(root, "empty-cache"),
  };
  delete env.TENANCY_PULUMI_BIN;
  return { root, stateDir, env };
}

export function describeWithEngine(name: string, body: () => void): void {
  if (engineRoot) {
    describe(name, body);
    return;
  }
  const reason = new EngineUnavailableError(
    "no Pulumi engine: run scripts/pulumi/ensure-pulumi.sh (or source scripts/pulumi/env.sh) to build it",
  ).message;
  if (required) {
    describe(name, () => {
      it("needs the Pulumi engine (TENANCY_REQUIRE_ENGINE=1)", () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED "${name}": ${reason} ***\n`);
  describe.skip(name, body);
}
