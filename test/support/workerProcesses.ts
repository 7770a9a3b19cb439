/**
 * Job workers in processes of their own (test/engine/scripts/worker.ts), for crash tests: each
 * works on a test control plane's databases with the test's engine state, and runs in a
 * process group of its own (as under a supervisor), so killing the group with SIGKILL kills
 * the worker and the engine it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { EngineSettings } from "../../control-plane/runner/engine.ts";
import type { TestControlPlane } from "./controlPlane.ts";
import type { TestDatabase } from "./postgres.ts";

export interface WorkerProcesses {
  /** Every worker started so far (killed ones too). */
  readonly started: readonly ChildProcess[];
  start(): ChildProcess;
  /** SIGKILL to the worker's process group; a group already gone is no error. */
  kill(worker: ChildProcess): void;
  killAll(): void;
}

export function workerProcesses(
  plane: Pick<TestControlPlane, "controlUrl" | "sharedUrl">,
  db: Pick<TestDatabase, "name" | "rolePrefix">,
  engine: EngineSettings,
  extraEnv: NodeJS.ProcessEnv = {},
): WorkerProcesses {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extraEnv,
    WORKER_CONTROL_URL: plane.controlUrl,
    WORKER_SHARED_URL: plane.sharedUrl,
    WORKER_ROLE_PREFIX: db.rolePrefix,
    WORKER_DATABASE_PREFIX: `${db.name}_db`,
    WORKER_STATE_DIR: engine.stateDir,
    PULUMI_BACKEND_URL: engine.backendUrl,
    PULUMI_CONFIG_PASSPHRASE: engine.env.PULUMI_CONFIG_PASSPHRASE,
  };
  const started: ChildProcess[] = [];
  const kill = (worker: ChildProcess): void => {
    try {
      if (worker.pid) process.kill(-worker.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return {
    started,
    start() {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join("test", "engine", "scripts", "worker.ts")],
        { env, detached: true, stdio: ["ignore", "ignore", "inherit"] },
      );
      started.push(child);
      return child;
    },
    kill,
    killAll() {
      for (const worker of started) kill(worker);
    },
  };
}
