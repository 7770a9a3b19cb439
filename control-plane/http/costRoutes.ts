/**
 * GET /v1/usage/cost: the per-tenant cost estimate from usage and the operator's price table
 * (`pricing.yaml`, read at each request, so a fix takes effect without a restart). Operator
 * token only: a tenant's share of a shared resource depends on the other tenants' usage.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type pg from "pg";
import { z } from "zod";
import { formatDiagnostic, loadPricingFile, type TiersFile } from "../../catalog/index.ts";
import { costReportSchema } from "../../contract/pricing.ts";
import { getTenant } from "../store/store.ts";
import { estimateCost } from "../usage/costEstimate.ts";
import { usageForCost } from "../usage/costQuery.ts";
import { requireAccess } from "./auth.ts";
import { problem, sendProblem } from "./problem.ts";
import { HOUR, instant, isProblem, rangeOf } from "./usageRoutes.ts";

export interface CostRoutesDeps {
  readonly pool: pg.Pool;
  readonly tiers: () => TiersFile;
  /** The operator's price table; without one the route answers pricing-not-configured. */
  readonly pricingFile?: string;
}

/** Longest cost window (daily rollups serve the days past the 5-minute retention). */
export const MAX_COST_WINDOW_DAYS = 31;

export function costRoutes(deps: CostRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      "/v1/usage/cost",
      {
        schema: {
          summary:
            "Per-tenant cost estimate: usage × the prices of pricing.yaml, shared resources " +
            "apportioned by usage (the rules are in the answer); default: the last 24 h",
          querystring: z.strictObject({
            from: instant.optional(),
            to: instant.optional(),
            tenant: z.string().max(64).optional().describe("Only this tenant's line."),
          }),
          response: { 200: costReportSchema },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const range = rangeOf(request.query, 24 * HOUR);
        if (isProblem(range)) return sendProblem(reply, range);
        if (range.to.getTime() - range.from.getTime() > MAX_COST_WINDOW_DAYS * 24 * HOUR) {
          return sendProblem(
            reply,
            problem(
              400,
              "range-too-large",
              `the window may span at most ${MAX_COST_WINDOW_DAYS} days`,
            ),
          );
        }
        const slug = request.query.tenant;
        if (slug !== undefined && !(await getTenant(deps.pool, slug))) {
          return sendProblem(reply, problem(404, "tenant-not-found", `tenant "${slug}" not found`));
        }
        if (!deps.pricingFile) {
          return sendProblem(
            reply,
            problem(
              409,
              "pricing-not-configured",
              "no price table: start the control plane with --pricing FILE (see pricing.example.yaml)",
            ),
          );
        }
        const loaded = await loadPricingFile(deps.pricingFile);
        if (loaded.kind === "missing") {
          return sendProblem(
            reply,
            problem(
              409,
              "pricing-not-configured",
              `no price table at ${loaded.file}: write one (see pricing.example.yaml; no prices are shipped)`,
            ),
          );
        }
        if (loaded.kind === "invalid") {
          const lines = loaded.diagnostics.map(formatDiagnostic);
          return sendProblem(
            reply,
            problem(
              409,
              "pricing-invalid",
              `${loaded.file} is invalid: ${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ""}`,
              loaded.diagnostics.map((d, i) => ({ path: d.path, message: lines[i]! })),
            ),
          );
        }
        const tenants = await usageForCost(deps.pool, deps.tiers(), range.from, range.to);
        const report = estimateCost({
          from: range.from,
          to: range.to,
          pricingFile: loaded.file,
          pricing: loaded.pricing,
          tenants,
        });
        if (slug === undefined) return report;
        const own = report.tenants.filter((t) => t.slug === slug);
        return { ...report, tenants: own, total: own[0]?.total ?? 0 };
      },
    );
  };
}
