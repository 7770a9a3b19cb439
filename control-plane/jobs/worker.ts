/**
 * Job workers: `concurrency` operations in parallel in this process (different tenants;
 * one tenant's operations are serialized by the executor's lock). A periodic sweep
 * re-enqueues operations a crashed process left running, so a restart resumes them without
 * waiting for the job's expiry.
 */
import type PgBoss from "pg-boss";
import type pg from "pg";
import {
  enqueueOperation,
  OPERATIONS_QUEUE,
  queuedWithoutJob,
  type OperationJob,
} from "./queue.ts";
import type { Executor } from "./executor.ts";

export interface WorkerOptions {
  readonly boss: PgBoss;
  readonly pool: pg.Pool;
  readonly executor: Executor;
  /** Operations run in parallel by this process. @default 4 */
  readonly concurrency?: number;
  /** Seconds between orphan sweeps. @default 15 */
  readonly sweepSeconds?: number;
  /** Seconds before a deferred operation is tried again. @default 2 */
  readonly deferSeconds?: number;
  /** Seconds between looks for the engine while an operation waits for its build. @default 3 */
  readonly engineWaitSeconds?: number;
}

export interface Worker {
  stop(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { boss, pool, executor } = options;
  const deferSeconds = options.deferSeconds ?? 2;
  const handle = async ([job]: PgBoss.Job<OperationJob>[]) => {
    if (!job) return;
    // A RetryLater thrown here fails the job; pg-boss retries it with backoff.
    const outcome = await executor.execute(job.data.operationId);
    if (outcome === "deferred" || outcome === "waiting") {
      const startAfterSeconds =
        outcome === "waiting" ? (options.engineWaitSeconds ?? 3) : deferSeconds;
      await enqueueOperation(boss, pool, job.data.operationId, { startAfterSeconds });
    }
  };
  const workerIds: string[] = [];
  for (let i = 0; i < (options.concurrency ?? 4); i++) {
    workerIds.push(
      await boss.work<OperationJob>(
        OPERATIONS_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 0.5 },
        handle,
      ),
    );
  }
  // Operations left running by a dead process or a lost lock, and queued ones whose job was
  // lost with the database: enqueued again (a job run twice does no harm).
  const sweep = async () => {
    for (const id of await executor.orphans()) await enqueueOperation(boss, pool, id);
    for (const id of await queuedWithoutJob(pool)) await enqueueOperation(boss, pool, id);
  };
  await sweep();
  const timer = setInterval(
    () => void sweep().catch(() => undefined),
    (options.sweepSeconds ?? 15) * 1000,
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      for (const id of workerIds) await boss.offWork({ id });
    },
  };
}
