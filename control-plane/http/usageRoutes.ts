/**
 * /v1/tenants/:slug/usage (a tenant token reads its own), /v1/usage/top and /v1/usage/fit
 * (operator token). Ranges are checked before any query: a bad range is a 400 naming the limit.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type pg from "pg";
import { z } from "zod";
import type { TiersFile } from "../../catalog/index.ts";
import {
  FIVE_MINUTE_RETENTION_DAYS,
  MAX_USAGE_POINTS,
  tierFitSchema,
  USAGE_STEPS,
  usageMetricSchema,
  usageSeriesSchema,
  usageStepSchema,
  usageTopSchema,
  type UsageStep,
} from "../../contract/usage.ts";
import { getTenant } from "../store/store.ts";
import { BUCKET_SECONDS } from "../usage/buckets.ts";
import { tenantsOverBudget } from "../usage/fitQuery.ts";
import { readSeries, topTenants } from "../usage/usageQueries.ts";
import { requireAccess } from "./auth.ts";
import { problem, sendProblem, type Problem } from "./problem.ts";

export interface UsageRoutesDeps {
  readonly pool: pg.Pool;
  readonly tiers: () => TiersFile;
}

export const instant = z.iso
  .datetime({ offset: true })
  .describe("ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z");
const rangeQuery = { from: instant.optional(), to: instant.optional() };
const duration = z.string().regex(/^\d{1,4}[mh]$/, 'must be minutes or hours, e.g. "15m" or "1h"');

export const HOUR = 3600_000;
/** Longest window of /top and /fit: the 5-minute buckets' retention. */
const MAX_WINDOW_MS = FIVE_MINUTE_RETENTION_DAYS * 24 * HOUR;

/** The range asked for, defaulting to the `defaultMs` before now; a problem when invalid. */
export function rangeOf(
  query: { from?: string | undefined; to?: string | undefined },
  defaultMs: number,
): { from: Date; to: Date } | Problem {
  const to = query.to ? new Date(query.to) : new Date();
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - defaultMs);
  if (from.getTime() >= to.getTime()) {
    return problem(
      400,
      "invalid-range",
      `from (${from.toISOString()}) must be before to (${to.toISOString()})`,
    );
  }
  return { from, to };
}

export function isProblem(value: object): value is Problem {
  return "reason" in value;
}

function minutesOf(text: string): number {
  const amount = Number(text.slice(0, -1));
  return text.endsWith("h") ? amount * 60 : amount;
}

export function usageRoutes(deps: UsageRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      "/v1/tenants/:slug/usage",
      {
        schema: {
          summary: `A tenant's usage series; at most ${MAX_USAGE_POINTS} points (default: the last 24 h at 5m)`,
          params: z.object({ slug: z.string().max(64) }),
          querystring: z.strictObject({ ...rangeQuery, step: usageStepSchema.optional() }),
          response: { 200: usageSeriesSchema },
        },
      },
      async (request, reply) => {
        const { slug } = request.params;
        if (!requireAccess(request, reply, slug)) return reply;
        const step: UsageStep = request.query.step ?? "5m";
        const range = rangeOf(request.query, 24 * HOUR);
        if (isProblem(range)) return sendProblem(reply, range);
        const points = Math.ceil(
          (range.to.getTime() - range.from.getTime()) / (USAGE_STEPS[step] * 1000),
        );
        if (points > MAX_USAGE_POINTS) {
          return sendProblem(
            reply,
            problem(
              400,
              "range-too-large",
              `${points} points of ${step}; at most ${MAX_USAGE_POINTS} per request: shorten the range or use a larger step (${Object.keys(USAGE_STEPS).join(", ")})`,
            ),
          );
        }
        if (!(await getTenant(deps.pool, slug))) {
          return sendProblem(reply, problem(404, "tenant-not-found", `tenant "${slug}" not found`));
        }
        const series = await readSeries(deps.pool, slug, range.from, range.to, step);
        return {
          tenant: slug,
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          step,
          ...series,
        };
      },
    );

    app.get(
      "/v1/usage/top",
      {
        schema: {
          summary: "The tenants with the largest usage by a metric (default: the last hour)",
          querystring: z.strictObject({
            metric: usageMetricSchema,
            limit: z.coerce.number().int().min(1).max(100).optional(),
            ...rangeQuery,
          }),
          response: { 200: usageTopSchema },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const range = rangeOf(request.query, HOUR);
        if (isProblem(range)) return sendProblem(reply, range);
        const tooLong = windowProblem(range);
        if (tooLong) return sendProblem(reply, tooLong);
        const tenants = await topTenants(
          deps.pool,
          request.query.metric,
          range.from,
          range.to,
          request.query.limit ?? 20,
        );
        return {
          metric: request.query.metric,
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          tenants,
        };
      },
    );

    app.get(
      "/v1/usage/fit",
      {
        schema: {
          summary:
            "Tenants above a budget of their tier (tiers.yaml `budgets`) for a sustained window, " +
            "with the buckets that crossed and the first tier they fit (default: the last 24 h, 15m)",
          querystring: z.strictObject({ ...rangeQuery, sustained: duration.optional() }),
          response: { 200: tierFitSchema },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const range = rangeOf(request.query, 24 * HOUR);
        if (isProblem(range)) return sendProblem(reply, range);
        const tooLong = windowProblem(range);
        if (tooLong) return sendProblem(reply, tooLong);
        const minutes = minutesOf(request.query.sustained ?? "15m");
        const bucketMinutes = BUCKET_SECONDS / 60;
        if (minutes < bucketMinutes || minutes % bucketMinutes !== 0) {
          return sendProblem(
            reply,
            problem(
              400,
              "invalid-sustained",
              `sustained must be a multiple of ${bucketMinutes} minutes (got ${minutes})`,
            ),
          );
        }
        const tenants = await tenantsOverBudget(
          deps.pool,
          deps.tiers(),
          range.from,
          range.to,
          minutes / bucketMinutes,
        );
        return {
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          sustainedMinutes: minutes,
          tenants,
        };
      },
    );
  };
}

function windowProblem(range: { from: Date; to: Date }): Problem | undefined {
  if (range.to.getTime() - range.from.getTime() <= MAX_WINDOW_MS) return undefined;
  return problem(
    400,
    "range-too-large",
    `the window may span at most ${FIVE_MINUTE_RETENTION_DAYS} days (the retention of 5-minute buckets)`,
  );
}
