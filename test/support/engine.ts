/**
 * The real Pulumi engine for tests. Tests that need it use `describeWithEngine`: without an
 * engine they are skipped with one loud line saying why — unless TENANCY_REQUIRE_ENGINE=1
 * (set by CI), which turns the skip into a failing test.
 */
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

/** Engine settings with a fresh file backend and state dir of the test's own. */
export async function testEngine(): Promise<EngineSettings> {
  const stateDir = await mkdtemp(join(tmpdir(), "tenancy-engine-test-"));
  return engineSettings({
    stateDir,
    env: {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${join(stateDir, "backend")}`,
      PULUMI_CONFIG_PASSPHRASE: "test-passphrase",
    },
  });
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
