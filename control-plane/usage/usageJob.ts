/**
 * The usage sampler as a job on the control plane's pg-boss queue: scheduled every minute
 * (cron), one at a time across every process (singleton queue, and the cycle's own advisory
 * lock). A failed cycle is not retried: the next minute's cycle picks up where it stopped.
 */
import type PgBoss from "pg-boss";
import { runUsageCycle, type UsageCycleOptions, type UsageCycleReport } from "./usageCycle.ts";

export const USAGE_QUEUE = "tenant-usage";

export interface UsageJobOptions extends UsageCycleOptions {
  /** Cron of the cycle. @default every minute */
  readonly cron?: string;
  /** Told about every finished cycle (metrics, logs). */
  readonly onCycle?: (report: UsageCycleReport) => void;
  /** Told about a failed cycle. @default one line on stderr */
  readonly onError?: (error: unknown) => void;
}

export interface UsageJob {
  stop(): Promise<void>;
}

export async function startUsageJob(boss: PgBoss, options: UsageJobOptions): Promise<UsageJob> {
  await boss.createQueue(USAGE_QUEUE, {
    name: USAGE_QUEUE,
    policy: "singleton",
    retryLimit: 0,
    expireInSeconds: 5 * 60,
  });
  await boss.schedule(USAGE_QUEUE, options.cron ?? "* * * * *");
  const workerId = await boss.work(USAGE_QUEUE, { pollingIntervalSeconds: 5 }, async () => {
    try {
      options.onCycle?.(await runUsageCycle(options));
    } catch (error) {
      (options.onError ?? logCycleError)(error);
    }
  });
  return {
    async stop() {
      await boss.offWork({ id: workerId });
    },
  };
}

function logCycleError(error: unknown): void {
  console.error(
    `tenancy: usage collection cycle failed (the next one resumes): ${
      error instanceof Error ? error.message : String(error)
    }`,
  );
}
