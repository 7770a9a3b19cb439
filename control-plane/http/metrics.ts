/** Prometheus metrics: operations by kind/tier/result, durations, queue depth. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { OperationListener } from "../jobs/executor.ts";

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly listener: OperationListener;
}

export function createMetrics(queueDepth: () => Promise<number>): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tenancy_" });
  const operations = new Counter({
    name: "tenancy_operations_total",
    help: "Finished tenant operations by kind, tier and result.",
    labelNames: ["kind", "tier", "result"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "tenancy_operation_duration_seconds",
    help: "Run time of tenant operations (excluding queue wait).",
    labelNames: ["kind", "tier"] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900],
    registers: [registry],
  });
  new Gauge({
    name: "tenancy_queue_depth",
    help: "Operations waiting in the job queue.",
    registers: [registry],
    async collect() {
      this.set(await queueDepth().catch(() => 0));
    },
  });
  return {
    registry,
    listener: {
      finished(operation, outcome, seconds) {
        operations.inc({ kind: operation.kind, tier: operation.tier, result: outcome });
        duration.observe({ kind: operation.kind, tier: operation.tier }, seconds);
      },
    },
  };
}
