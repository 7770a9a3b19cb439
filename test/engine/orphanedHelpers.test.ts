/**
 * A worker killed with -9 in the middle of a Pulumi update takes its `pulumi` process with it
 * (same process group), but the engine starts its plugins in process groups of their own:
 * the Node.js language host (and the program it runs) and the dynamic provider host. They
 * must notice that the engine is gone and exit, not run on for hours.
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { engineProcesses, type EngineProcess } from "../support/engineProcesses.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { workerProcesses, type WorkerProcesses } from "../support/workerProcesses.ts";

const db = useTestDatabase();
const MARKER = "TENANCY_ENGINE_PROBE";
const probe = randomUUID();
/** How long the helpers may take to notice: parent polls every 0.5 s, SIGINT grace 5 s. */
const BOUND_MS = 15_000;

describeWithEngine("engine helper processes after a killed worker", () => {
  let plane: TestControlPlane;
  let workers: WorkerProcesses | undefined;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    const engine = await testEngine();
    plane = await startTestControlPlane(db.current.name, { concurrency: 0 });
    workers = workerProcesses(plane, db.current, engine, { [MARKER]: probe });
    worker = workers.start();
  }, 300_000);

  afterAll(async () => {
    workers?.killAll();
    // Whatever a failed run left behind must not outlive the test.
    for (const p of await engineProcesses(MARKER, probe)) killPid(p.pid);
    await plane?.stop();
  }, 120_000);

  it("leaves no language host, program or dynamic provider running", async () => {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "orphan-probe", name: "Orphan probe", tier: "pro" },
    });
    expect(response.status).toBe(202);

    // Kill only once every kind of helper is running: the update is under way.
    const running = await until(
      async () => {
        const found = await engineProcesses(MARKER, probe);
        const kinds = new Set(found.map((p) => p.kind));
        return ["engine", "language-host", "program", "dynamic-provider"].every((k) =>
          kinds.has(k as EngineProcess["kind"]),
        )
          ? found
          : undefined;
      },
      240_000,
      "the worker never had the engine, language host, program and dynamic provider running",
    );
    expect(running.length).toBeGreaterThanOrEqual(4);

    workers!.kill(worker!);
    const killedAt = Date.now();
    let left = await engineProcesses(MARKER, probe);
    while (left.length > 0 && Date.now() - killedAt < BOUND_MS) {
      await new Promise((r) => setTimeout(r, 250));
      left = await engineProcesses(MARKER, probe);
    }
    console.log(
      `engine helpers gone ${Date.now() - killedAt} ms after kill -9 (${running.length} were running)`,
    );
    expect(left.map((p) => `${p.kind}: ${p.command}`)).toEqual([]);
  }, 600_000);
});

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function until<T>(
  probeOnce: () => Promise<T | undefined>,
  withinMs: number,
  failure: string,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probeOnce();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((r) => setTimeout(r, 100));
  }
}
