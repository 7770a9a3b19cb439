/**
 * Cancelling an engine operation through its AbortSignal: the CLI gets SIGINT and, if it is
 * still running after the grace period (here: waiting on a provider call that does not end),
 * SIGKILL — after which its plugins exit on their own. A CLI that stops on SIGINT is left to
 * stop.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation/index.js";
import { beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { cancellable, EngineCancelled } from "../../control-plane/runner/cancellation.ts";
import type { EngineSettings } from "../../control-plane/runner/engine.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { engineProcesses } from "../support/engineProcesses.ts";

const FIXTURE = resolve("test", "engine", "fixtures", "namespaceGrant.ts");
const MARKER = "TENANCY_ENGINE_PROBE";

describeWithEngine("cancelling an engine operation", () => {
  let engine: EngineSettings;

  beforeAll(async () => {
    engine = await testEngine();
  }, 300_000);

  async function slowStack(slug: string, createDelayMs: number, probe: string) {
    const workDir = await mkdtemp(join(tmpdir(), "tenancy-cancel-"));
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
      { pulumiCommand: engine.command, envVars: { ...engine.env, [MARKER]: probe } },
    );
    await stack.setConfig("probe:createDelayMs", { value: String(createDelayMs) });
    return { stack, workDir };
  }

  /** Runs `up`, aborting once the grant's create is in flight; how it ended, and when. */
  async function upAndCancel(stack: Stack, workDir: string, graceMs: number) {
    const controller = new AbortController();
    const output: string[] = [];
    let abortedAt = 0;
    const onEvent = (event: EngineEvent) => {
      const pre = event.resourcePreEvent?.metadata;
      if (pre?.op === "create" && pre.type === "pulumi-nodejs:dynamic:Resource") {
        setTimeout(() => {
          abortedAt = Date.now();
          controller.abort();
        }, 1000);
      }
    };
    const outcome = await cancellable(
      controller.signal,
      { command: engine.command.command, workDir },
      graceMs,
      () => stack.up({ onEvent, onOutput: (o) => output.push(o), signal: controller.signal }),
    ).then(
      () => "succeeded" as const,
      (error: unknown) => error,
    );
    return { outcome, afterAbortMs: Date.now() - abortedAt, output: output.join("") };
  }

  it("kills a CLI that is still running after the grace period; its plugins exit", async () => {
    const probe = randomUUID();
    const { stack, workDir } = await slowStack("cancel-stuck", 600_000, probe);
    const graceMs = 3000;
    const { outcome, afterAbortMs, output } = await upAndCancel(stack, workDir, graceMs);
    expect(outcome).toBeInstanceOf(EngineCancelled);
    expect((outcome as EngineCancelled).killed).toBe(true);
    expect(afterAbortMs).toBeGreaterThanOrEqual(graceMs);
    expect(afterAbortMs).toBeLessThan(graceMs + 10_000);
    // SIGINT came first: the CLI acknowledged it and started cancelling.
    expect(output).toMatch(/cancel/i);
    let left = await engineProcesses(MARKER, probe);
    const deadline = Date.now() + 15_000;
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      left = await engineProcesses(MARKER, probe);
    }
    expect(left.map((p) => p.kind)).toEqual([]);
    await stack.cancel().catch(() => undefined); // the killed CLI's lock
  }, 300_000);

  it("leaves a CLI that stops on SIGINT to stop by itself", async () => {
    const probe = randomUUID();
    const { stack, workDir } = await slowStack("cancel-clean", 4000, probe);
    const graceMs = 120_000;
    const { outcome, afterAbortMs } = await upAndCancel(stack, workDir, graceMs);
    expect(outcome).toBeInstanceOf(EngineCancelled);
    expect((outcome as EngineCancelled).killed).toBe(false);
    expect(afterAbortMs).toBeLessThan(60_000);
    // Cancelled cleanly: no lock left, the next update runs (and finishes the grant).
    await stack.setConfig("probe:createDelayMs", { value: "0" });
    const result = await stack.up();
    expect(result.summary.result).toBe("succeeded");
    await stack.destroy();
  }, 300_000);
});
