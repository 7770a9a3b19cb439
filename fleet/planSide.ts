/**
 * Plans one side of a diff in a child process: the checkout's own planner when it has one
 * speaking our protocol, otherwise the head's planner pointed at the checkout's code.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PLAN_PROTOCOL, type PlanWorkerResult } from "./planWorker.ts";

const HEAD_WORKER = join(dirname(fileURLToPath(import.meta.url)), "planWorker.ts");
const WORKER_PATH = "fleet/planWorker.ts";

export interface PlanSideOptions {
  readonly root: string;
  readonly catalogDir: string;
  readonly target: string;
  /** Plan every tenant on its own instead of once per verified shape. */
  readonly exact?: boolean;
  /** Plan the local target with a Kubernetes cluster (see ./planWorker.ts). */
  readonly localCluster?: boolean;
  /** A JSON file of resolved specs to plan instead of the catalog. */
  readonly tenantsFile?: string;
}

export async function planSide(options: PlanSideOptions): Promise<PlanWorkerResult> {
  const own = join(options.root, WORKER_PATH);
  if (existsSync(own)) {
    // A checkout older than an option we pass refuses it: the head's planner then plans it.
    const newOptions = options.localCluster === true || options.tenantsFile !== undefined;
    const result = await runWorker(own, options).catch((error: unknown) => {
      if (newOptions) return undefined;
      throw error;
    });
    if (result?.protocol === PLAN_PROTOCOL) return result;
  }
  return runWorker(HEAD_WORKER, options);
}

async function runWorker(worker: string, options: PlanSideOptions): Promise<PlanWorkerResult> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-plan-"));
  const out = join(dir, "plan.json");
  try {
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          worker,
          "--root",
          options.root,
          "--catalog",
          options.catalogDir,
          "--target",
          options.target,
          "--out",
          out,
          ...(options.exact ? ["--exact"] : []),
          ...(options.localCluster ? ["--local-cluster"] : []),
          ...(options.tenantsFile ? ["--tenants", options.tenantsFile] : []),
        ],
        { cwd: options.root, stdio: ["ignore", "ignore", "pipe"] },
      );
      let err = "";
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0
          ? resolve(err)
          : reject(new Error(`planning ${options.root} failed: ${lastLines(err)}`)),
      );
    });
    void stderr;
    return JSON.parse(await readFile(out, "utf8")) as PlanWorkerResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-5).join("\n") || "no output";
}
