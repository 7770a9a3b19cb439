/**
 * Durable jobs on pg-boss (in the control-plane database). A job carries only an operation
 * id; the operation row is the source of truth, so a job run twice does no harm.
 */
import PgBoss from "pg-boss";
import type { Queryable } from "../store/store.ts";

export const OPERATIONS_QUEUE = "tenant-operations";
export const JOBS_SCHEMA = "control_plane_jobs";

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
    schema: JOBS_SCHEMA,
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
  options: { startAfterSeconds?: number; fallback?: boolean; fallbackDelaySeconds?: number } = {},
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
    ...(options.fallback
      ? { priority: -10, startAfter: options.fallbackDelaySeconds ?? FALLBACK_DELAY_SECONDS }
      : {}),
    ...(options.startAfterSeconds ? { startAfter: options.startAfterSeconds } : {}),
  });
}

/**
 * Queued operations that no job will run: their job was fetched by a worker that lost the
 * database before it could record the outcome, so the job sits `active` until it expires.
 * Older than `graceSeconds` so that an operation being enqueued right now is not counted.
 */
export async function queuedWithoutJob(db: Queryable, graceSeconds = 10): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT o.id FROM control_plane.operations o
      WHERE o.state IN ('queued', 'waiting-for-engine') AND o.created_at < now() - make_interval(secs => $2)
        AND NOT EXISTS (SELECT 1 FROM ${JOBS_SCHEMA}.job j
                         WHERE j.name = $1 AND j.state IN ('created', 'retry')
                           AND j.data ->> 'operationId' = o.id::text)
      ORDER BY o.created_at LIMIT 500`,
    [OPERATIONS_QUEUE, graceSeconds],
  );
  return rows.map((r) => r.id);
}

/** Jobs ready to run now (delayed safety-net jobs of inline operations are not depth). */
export async function readyJobCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${JOBS_SCHEMA}.job
      WHERE name = $1 AND state IN ('created', 'retry') AND start_after <= now()`,
    [OPERATIONS_QUEUE],
  );
  return rows[0]?.n ?? 0;
}
