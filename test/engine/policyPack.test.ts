/**
 * The policy pack through the real engine: `--policy-pack policies` starts the compiled pack
 * through the Node.js language host (RunPlugin), and a tenant stack that breaks a rule fails
 * `preview` and `up` with the rule's message — while compliant stacks, including a real
 * tenant stack run by the control plane's runner, pass.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  LocalWorkspace,
  type EngineEvent,
  type PolicyEvent,
  type Stack,
} from "@pulumi/pulumi/automation/index.js";
import { beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import type { EngineSettings } from "../../control-plane/runner/engine.ts";
import { toStackErrorWithPolicies } from "../../control-plane/runner/errors.ts";
import { repositoryPolicyPacks } from "../../control-plane/runner/policyPack.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { exampleTenant } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { bootstrapTestDatabase, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
const FIXTURE = resolve("test", "engine", "fixtures", "namespaceGrant.ts");
const VIOLATION = "references tenant egret's resources from tenant wren";

describeWithEngine("the policy pack through the engine", () => {
  let engine: EngineSettings;
  let packDir: string;

  beforeAll(async () => {
    // Compiled by the global setup (or here, if its sources changed since): never rebuilt under
    // another test file's engine run.
    let packs: string[];
    [engine, packs] = await Promise.all([testEngine(), repositoryPolicyPacks()]);
    packDir = packs[0]!;
  }, 300_000);

  /** The fixture program as stack `tenant-<slug>`, in a workspace of its own. */
  async function fixtureStack(slug: string, foreignTenant?: string): Promise<Stack> {
    const workDir = await mkdtemp(join(tmpdir(), "tenancy-policy-"));
    const tsx = createRequire(resolve("package.json")).resolve("tsx");
    await writeFile(
      join(workDir, "Pulumi.yaml"),
      stringify({
        name: "tenancy",
        runtime: { name: "nodejs", options: { typescript: false, nodeargs: `--import ${tsx}` } },
        main: FIXTURE,
      }),
    );
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: `tenant-${slug}`, workDir },
      { pulumiCommand: engine.command, envVars: { ...engine.env } },
    );
    if (foreignTenant) await stack.setConfig("probe:foreignTenant", { value: foreignTenant });
    return stack;
  }

  function recorder() {
    const events: EngineEvent[] = [];
    return {
      onEvent: (e: EngineEvent) => events.push(e),
      events: () => events.flatMap((e) => (e.policyEvent ? [e.policyEvent] : [])),
      violations: (): Pick<PolicyEvent, "policyName" | "enforcementLevel" | "message">[] =>
        events.flatMap((e) =>
          e.policyEvent
            ? [
                {
                  policyName: e.policyEvent.policyName,
                  enforcementLevel: e.policyEvent.enforcementLevel,
                  message: e.policyEvent.message,
                },
              ]
            : [],
        ),
      /** The summary's policy packs (the engine writes the key as `PolicyPacks`). */
      packsRun: () => {
        const summary = events.find((e) => e.summaryEvent)?.summaryEvent as
          Record<string, unknown> | undefined;
        return summary?.["PolicyPacks"] ?? summary?.["policyPacks"];
      },
    };
  }

  it("fails preview of a stack that uses another tenant's namespace, with the rule's message", async () => {
    const stack = await fixtureStack("wren", "egret");
    const seen = recorder();
    const failure = await stack.preview({ policyPacks: [packDir], onEvent: seen.onEvent }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(String(failure)).toContain(VIOLATION);
    // What the runner reports for such a failure: the rule and its message.
    expect(toStackErrorWithPolicies("tenant-wren", failure, seen.events()).reason).toBe(
      `policy violations: no-cross-tenant-references: ${VIOLATION}`,
    );
    expect(seen.violations()).toEqual([
      {
        policyName: "no-cross-tenant-references",
        enforcementLevel: "mandatory",
        message: expect.stringContaining(VIOLATION) as string,
      },
    ]);
    // The same stack without the pack previews fine: the failure is the rule's.
    await expect(stack.preview()).resolves.toBeDefined();
  }, 300_000);

  it("fails up of that stack before anything is created", async () => {
    const stack = await fixtureStack("wren", "egret");
    const seen = recorder();
    await expect(stack.up({ policyPacks: [packDir], onEvent: seen.onEvent })).rejects.toThrow(
      VIOLATION,
    );
    expect(seen.violations().map((v) => v.policyName)).toEqual(["no-cross-tenant-references"]);
    const state = (await stack.exportStack()).deployment as { resources?: { type: string }[] };
    expect((state.resources ?? []).map((r) => r.type)).not.toContain(
      "pulumi-nodejs:dynamic:Resource",
    );
  }, 300_000);

  it("passes a stack that uses only its own namespace", async () => {
    const stack = await fixtureStack("wren");
    const seen = recorder();
    const result = await stack.up({ policyPacks: [packDir], onEvent: seen.onEvent });
    expect(result.summary.result).toBe("succeeded");
    expect(seen.violations()).toEqual([]);
    expect(seen.packsRun()).toEqual({ [`tenancy-isolation|local|${packDir}`]: "0.1.0" });
    await stack.destroy();
  }, 300_000);

  it("passes a real tenant stack previewed by the runner with the pack", async () => {
    const { url, rolePrefix, name } = db.current;
    await bootstrapTestDatabase(db.current);
    const tenant = await exampleTenant({ slug: "policy-bridge", name: "Policy", tier: "pro" });
    const runner = new TenantStackRunner({
      engine,
      configFor: localStackConfig({ adminUrl: url, rolePrefix, databasePrefix: `${name}_db` }),
      policyPacks: [packDir],
    });
    const seen = recorder();
    const preview = await runner.preview(tenant, { onEvent: seen.onEvent });
    expect(preview.counts.create).toBeGreaterThan(0);
    expect(seen.violations()).toEqual([]);
    expect(seen.packsRun()).toEqual({ [`tenancy-isolation|local|${packDir}`]: "0.1.0" });
  }, 300_000);
});
