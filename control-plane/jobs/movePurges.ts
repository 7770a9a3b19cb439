/**
 * The end of a move's grace period: a job on its own queue, scheduled for the moment the old
 * placement may go (one per tenant: a singleton key), purges it with the purge proof and
 * appends the report to the move operation's stream (event `purged`). A job that runs early
 * (clock skew) or while the mover holds the tenant is sent again for later.
 */
import type PgBoss from "pg-boss";
import type pg from "pg";
import type { DriverOptions } from "../../db/drivers/types.ts";
import { TenantMoveError } from "../../db/moves/moveErrors.ts";
import { moveStatus, purgeMovedTenant } from "../../db/moves/moveTenant.ts";
import { appendEvent } from "../store/store.ts";

export const MOVE_PURGES_QUEUE = "tenant-move-purges";

export interface MovePurgeJob {
  readonly slug: string;
  readonly operationId: string;
}

export async function createPurgeQueue(boss: PgBoss): Promise<void> {
  await boss.createQueue(MOVE_PURGES_QUEUE, {
    name: MOVE_PURGES_QUEUE,
    // One waiting job per singleton key (tenant): scheduling again is a no-op.
    policy: "short",
    retryLimit: 10,
    retryDelay: 30,
    retryBackoff: true,
  });
}

/** Schedules the purge of `slug`'s old placement at `at` (again: the same job). */
export async function schedulePurge(
  boss: PgBoss,
  slug: string,
  operationId: string,
  at: Date,
): Promise<void> {
  await boss.send(MOVE_PURGES_QUEUE, { slug, operationId } satisfies MovePurgeJob, {
    startAfter: at,
    singletonKey: `move-purge:${slug}`,
  });
}

export interface PurgeWorkerOptions {
  readonly boss: PgBoss;
  readonly pool: pg.Pool;
  readonly database: DriverOptions;
}

/** Works the purge queue; returns the worker id (for `offWork`). */
export async function startPurgeWorker(options: PurgeWorkerOptions): Promise<string> {
  const { boss, pool, database } = options;
  return boss.work<MovePurgeJob>(
    MOVE_PURGES_QUEUE,
    { batchSize: 1, pollingIntervalSeconds: 1 },
    async ([job]) => {
      if (!job) return;
      const { slug, operationId } = job.data;
      const base = { ...database, slug };
      let report;
      try {
        report = await purgeMovedTenant(base);
      } catch (error) {
        // The mover holds the tenant right now: try again a little later.
        if (error instanceof TenantMoveError && error.reason === "move-running") {
          await schedulePurge(boss, slug, operationId, new Date(Date.now() + 5000));
          return;
        }
        throw error;
      }
      if (report) {
        await appendEvent(pool, operationId, "purged", {
          step: "purge",
          message: `old placement of ${slug} purged and verified`,
          verified: report.verified,
          verifiedBy: report.verifiedBy,
        });
        return;
      }
      const { move } = await moveStatus(base);
      // Not due yet (the job ran early): again at the deadline. No switched move: nothing left.
      if (move?.phase === "switched" && move.purgeAfter) {
        await schedulePurge(boss, slug, operationId, move.purgeAfter);
      }
    },
  );
}
