/**
 * Prometheus view of usage with bounded label cardinality: for each of a few metrics, only the
 * top N tenants of the last hour get a series (`tenancy_tenant_usage{tenant, metric}`), so a
 * fleet of 5,000 tenants exports at most N per metric, never one per tenant.
 */
import { Gauge, type Registry } from "prom-client";
import type pg from "pg";
import type { UsageMetric } from "../../contract/usage.ts";
import { topTenants } from "./usageQueries.ts";

/** Metrics exported for the top tenants. */
export const EXPORTED_USAGE_METRICS: readonly UsageMetric[] = [
  "statements",
  "statementSeconds",
  "rowsWritten",
  "apiCalls",
  "connectionsPeak",
  "storageBytes",
];

export function registerUsageMetrics(
  registry: Registry,
  pool: Pick<pg.Pool, "query">,
  topN = 20,
): void {
  new Gauge({
    name: "tenancy_tenant_usage",
    help: `Usage over the last hour of the top ${topN} tenants per metric (counters summed, gauges at their peak).`,
    labelNames: ["tenant", "metric"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const to = new Date();
      const from = new Date(to.getTime() - 3600_000);
      for (const metric of EXPORTED_USAGE_METRICS) {
        const top = await topTenants(pool, metric, from, to, topN).catch(() => []);
        for (const { slug, value } of top) this.set({ tenant: slug, metric }, value);
      }
    },
  });
}
