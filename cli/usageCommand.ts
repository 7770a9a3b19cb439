/**
 * `tenancy usage`: per-tenant usage from a running control plane.
 *
 *   tenancy usage [--top 20] [--metric statements]      the noisiest tenants (last hour)
 *   tenancy usage --tenant slug [--step 5m|1h|1d]        one tenant's series (last 24 h)
 *   tenancy usage --fit [--sustained 15m]                tenants above their tier's budgets
 *   tenancy usage --cost [--tenant slug]                 cost estimate from pricing.yaml (24 h)
 *   common: [--from ISO] [--to ISO] [--json] [--url URL]
 */
import { parseArgs } from "node:util";
import {
  USAGE_METRICS,
  USAGE_STEPS,
  type TierFit,
  type UsageSeries,
  type UsageTop,
} from "../contract/usage.ts";
import type { CostReport } from "../contract/pricing.ts";
import { apiClient } from "./apiClient.ts";
import { costLines } from "./costLines.ts";
import { UsageError, type CliIo } from "./io.ts";

export async function usageCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      top: { type: "string" },
      metric: { type: "string" },
      step: { type: "string" },
      fit: { type: "boolean", default: false },
      cost: { type: "boolean", default: false },
      sustained: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean", default: false },
      url: { type: "string" },
    },
  });
  if (positionals.length > 0)
    throw new UsageError(`usage takes no arguments (got "${positionals[0]}")`);
  if (values.cost && (values.fit || values.top || values.metric || values.step)) {
    throw new UsageError("--cost takes only --tenant, --from, --to, --json and --url");
  }
  if (values.fit && (values.tenant || values.top || values.metric)) {
    throw new UsageError("--fit lists every tenant: it takes no --tenant, --top or --metric");
  }
  if (values.tenant && (values.top || values.metric)) {
    throw new UsageError("--tenant shows one tenant's series: it takes no --top or --metric");
  }
  if (values.metric && !(USAGE_METRICS as readonly string[]).includes(values.metric)) {
    throw new UsageError(
      `unknown metric "${values.metric}"; metrics are ${USAGE_METRICS.join(", ")}`,
    );
  }
  if (values.step && !(values.step in USAGE_STEPS)) {
    throw new UsageError(`--step must be one of ${Object.keys(USAGE_STEPS).join(", ")}`);
  }
  const top = values.top === undefined ? 20 : Number(values.top);
  if (!Number.isInteger(top) || top < 1 || top > 100) throw new UsageError("--top must be 1-100");
  const query = new URLSearchParams();
  if (values.from) query.set("from", values.from);
  if (values.to) query.set("to", values.to);
  const api = await apiClient(values.url);
  const out = (text: string) => io.stdout(`${text}\n`);

  if (values.cost) {
    if (values.tenant) query.set("tenant", values.tenant);
    const report = await api.call<CostReport>("GET", `/v1/usage/cost?${query}`);
    if (values.json) out(JSON.stringify(report, null, 2));
    else for (const line of costLines(report)) out(line);
    return 0;
  }

  if (values.fit) {
    if (values.sustained) query.set("sustained", values.sustained);
    const fit = await api.call<TierFit>("GET", `/v1/usage/fit?${query}`);
    if (values.json) {
      out(JSON.stringify(fit, null, 2));
      return 0;
    }
    out(
      `tenants above their tier's budget for ${fit.sustainedMinutes} min or more, ${fit.from} .. ${fit.to}:`,
    );
    if (fit.tenants.length === 0) out("  none");
    for (const tenant of fit.tenants) {
      out(`  ${tenant.slug} (${tenant.tier}) → ${tenant.suggestedTier ?? "no tier fits"}`);
      for (const breach of tenant.breaches) {
        const peak = Math.max(...breach.evidence.map((e) => e.value));
        out(
          `    ${breach.budget} > ${breach.limit} for ${breach.sustainedMinutes} min ` +
            `(${breach.evidence[0]!.at} .. ${breach.evidence.at(-1)!.at}, up to ${peak})`,
        );
      }
    }
    return 0;
  }

  if (values.tenant) {
    if (values.step) query.set("step", values.step);
    const series = await api.call<UsageSeries>(
      "GET",
      `/v1/tenants/${encodeURIComponent(values.tenant)}/usage?${query}`,
    );
    if (values.json) {
      out(JSON.stringify(series, null, 2));
      return 0;
    }
    out(`${series.tenant}: ${series.from} .. ${series.to}, step ${series.step}`);
    out(
      "at                        tier        stmts  stmt_s  rows_rd  rows_wr  api  ops  conn_pk  storage_bytes",
    );
    const cell = (value: number | null, width: number) =>
      (value === null ? "-" : String(Math.round(value * 1000) / 1000)).padStart(width);
    for (const p of series.points) {
      if (p.tier === null) continue;
      out(
        `${p.at.padEnd(25)} ${(p.tier ?? "").padEnd(8)} ${cell(p.statements, 8)} ${cell(p.statementSeconds, 7)} ` +
          `${cell(p.rowsRead, 8)} ${cell(p.rowsWritten, 8)} ${cell(p.apiCalls, 4)} ${cell(p.operations, 4)} ` +
          `${cell(p.connectionsPeak, 8)} ${cell(p.storageBytes, 14)}`,
      );
    }
    const empty = series.points.filter((p) => p.tier === null).length;
    if (empty > 0) out(`(${empty} of ${series.points.length} buckets not collected)`);
    for (const gap of series.gaps) out(`gap at ${gap.at}: ${gap.source}: ${gap.reason}`);
    return 0;
  }

  query.set("metric", values.metric ?? "statements");
  query.set("limit", String(top));
  const result = await api.call<UsageTop>("GET", `/v1/usage/top?${query}`);
  if (values.json) {
    out(JSON.stringify(result, null, 2));
    return 0;
  }
  out(`top ${top} tenants by ${result.metric}, ${result.from} .. ${result.to}:`);
  if (result.tenants.length === 0) out("  no usage recorded");
  for (const [i, t] of result.tenants.entries()) {
    out(`${String(i + 1).padStart(4)}. ${t.slug.padEnd(31)} ${t.tier.padEnd(12)} ${t.value}`);
  }
  return 0;
}
