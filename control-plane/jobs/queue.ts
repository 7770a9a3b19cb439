/**
 * Durable jobs on pg-boss (in the control-plane database). A job carries only an operation
 * id; the operation row is the source of truth, so a job run twice does no harm.
 */
import PgBoss from "pg-boss";
import type { Queryable } from "../store/store.ts";

export const OPERATIONS_QUEUE = "tenant-operations";

/** Delay of the safety-net job of an operation run inline (pooled signups). */
export const FALLBACK_DELAY_SECONDS = 30;

export interface OperationJob {
  readonly operationId: string;
}

export interface QueueOptions {
  readonly connectionString: string;
  /** Retries of retryable engine errors (lock conflicts, transient failures). @default 5 */
  readonly retryLimit?: number;
  /** First retry delay in seconds; doubles each retry. @default 5 */
  readonly retryDelaySeconds?: number;
}

export async function startQueue(options: QueueOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: "control_plane_jobs",
    max: 4,
    application_name: "tenancy-jobs",
  });
  boss.on("error", (error) => console.error(`tenancy: job queue error: ${error.message}`));
  await boss.start();
  await boss.createQueue(OPERATIONS_QUEUE, {
    name: OPERATIONS_QUEUE,
    retryLimit: options.retryLimit ?? 5,
    retryDelay: options.retryDelaySeconds ?? 5,
    retryBackoff: true,
    // Long enough for a dedicated database; a crashed worker's job is also picked up earlier
    // by the orphan sweep (see worker.ts).
    expireInSeconds: 60 * 60,
  });
  return boss;
}

/** Enqueues inside the caller's transaction: the job exists iff the operation row does. */
export async function enqueueOperation(
  boss: PgBoss,
  tx: Queryable,
  operationId: string,
  options: { startAfterSeconds?: number; fallback?: boolean } = {},
): Promise<void> {
  const db = {
    executeSql: async (text: string, values: unknown[]) => {
      const result = await tx.query(text, values);
      return { rows: result.rows as unknown[] };
    },
  };
  await boss.send(OPERATIONS_QUEUE, { operationId } satisfies OperationJob, {
    db,
    // A fallback job (its operation normally runs in the request) waits and yields to real
    // work, so thousands of pooled signups never delay a bridge deployment.
    ...(options.fallback ? { priority: -10, startAfter: FALLBACK_DELAY_SECONDS } : {}),
    ...(options.startAfterSeconds ? { startAfter: options.startAfterSeconds } : {}),
  });
}
