/**
 * /v1/fleet: what the operator console shows first — counts by tier, state and isolation per
 * layer, failures first, queue depth and running operations — and a compact list of every
 * tenant for searching thousands of them in the browser. Operator token only.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type pg from "pg";
import { z } from "zod";
import type { TiersFile } from "../../catalog/index.ts";
import { readyJobCount } from "../jobs/queue.ts";
import type { TenantService } from "../service/tenantService.ts";
import { requireAccess } from "./auth.ts";
import { tenantPatchSchema } from "./tenantRoutes.ts";

export interface FleetRoutesDeps {
  readonly pool: pg.Pool;
  readonly tiers: () => TiersFile;
  readonly service: Pick<TenantService, "previewChange">;
}

const LAYERS = ["database", "storage", "compute", "identity"] as const;
const count = z.record(z.string(), z.int());

const fleetView = z.object({
  tenants: z.int(),
  byState: count,
  byTier: count,
  isolation: z.record(z.string(), count).describe("per layer: tenants per pool/bridge/silo"),
  failures: z.array(
    z.object({ slug: z.string(), tier: z.string(), lastError: z.string().nullable() }),
  ),
  operations: z.object({
    queueDepth: z.int(),
    queued: z.int(),
    waitingForEngine: z.int(),
    running: z.int(),
  }),
  tiers: z.array(z.object({ name: z.string(), layers: z.record(z.string(), z.string()) })),
});

/** The columns of the compact tenant list, one row per tenant. */
const COLUMNS = ["slug", "name", "tier", "state", "region", ...LAYERS];

export function fleetRoutes(deps: FleetRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      "/v1/fleet",
      { schema: { summary: "Fleet overview", response: { 200: fleetView } } },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const { rows: states } = await deps.pool.query<{ tier: string; state: string; n: number }>(
          `SELECT tier, state, count(*)::int AS n FROM control_plane.tenants
            WHERE state <> 'deleted' GROUP BY tier, state`,
        );
        const { rows: isolation } = await deps.pool.query<{
          layer: string;
          isolation: string;
          n: number;
        }>(
          `SELECT l.layer, t.resolved -> 'isolation' ->> l.layer AS isolation, count(*)::int AS n
             FROM control_plane.tenants t, unnest($1::text[]) AS l(layer)
            WHERE t.state <> 'deleted' GROUP BY 1, 2`,
          [LAYERS],
        );
        const { rows: failures } = await deps.pool.query<{
          slug: string;
          tier: string;
          lastError: string | null;
        }>(
          `SELECT slug, tier, last_error AS "lastError" FROM control_plane.tenants
            WHERE state = 'failed' ORDER BY updated_at DESC LIMIT 100`,
        );
        const { rows: ops } = await deps.pool.query<{ state: string; n: number }>(
          `SELECT state, count(*)::int AS n FROM control_plane.operations
            WHERE state IN ('queued', 'waiting-for-engine', 'running') GROUP BY state`,
        );
        const opCount = (state: string) => ops.find((o) => o.state === state)?.n ?? 0;
        const sum = (key: "tier" | "state") => {
          const out: Record<string, number> = {};
          for (const row of states) out[row[key]] = (out[row[key]] ?? 0) + row.n;
          return out;
        };
        const byLayer: Record<string, Record<string, number>> = {};
        for (const row of isolation) {
          (byLayer[row.layer] ??= {})[row.isolation] = row.n;
        }
        return {
          tenants: states.reduce((total, row) => total + row.n, 0),
          byState: sum("state"),
          byTier: sum("tier"),
          isolation: byLayer,
          failures,
          operations: {
            queueDepth: await readyJobCount(deps.pool),
            queued: opCount("queued"),
            waitingForEngine: opCount("waiting-for-engine"),
            running: opCount("running"),
          },
          tiers: Object.entries(deps.tiers().tiers).map(([name, tier]) => ({
            name,
            layers: { ...(tier.layers as Record<string, string>) },
          })),
        };
      },
    );

    app.get(
      "/v1/fleet/tenants",
      {
        schema: {
          summary:
            "Every tenant in one compact table (for search in the console): " +
            "{ columns, rows } — one array of strings per tenant, built by PostgreSQL",
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        // Built as one JSON text by the database: 5,000 rows cost no per-row work here.
        const { rows } = await deps.pool.query<{ body: string }>(
          `SELECT json_build_object('columns', $1::text[], 'rows', COALESCE(json_agg(json_build_array(
                    slug, name, tier, state, COALESCE(resolved ->> 'region', ''),
                    COALESCE(resolved -> 'isolation' ->> 'database', ''),
                    COALESCE(resolved -> 'isolation' ->> 'storage', ''),
                    COALESCE(resolved -> 'isolation' ->> 'compute', ''),
                    COALESCE(resolved -> 'isolation' ->> 'identity', '')) ORDER BY slug), '[]'))::text AS body
             FROM control_plane.tenants WHERE state <> 'deleted'`,
          [COLUMNS],
        );
        return reply.type("application/json").send(rows[0]!.body);
      },
    );

    app.post(
      "/v1/tenants/:slug/change-preview",
      {
        schema: {
          summary: "What PATCH /v1/tenants/:slug would change, without changing anything",
          params: z.object({ slug: z.string().max(64) }),
          body: tenantPatchSchema,
          response: {
            200: z.object({
              before: z.record(z.string(), z.unknown()),
              after: z.record(z.string(), z.unknown()),
            }),
          },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const { before, after } = await deps.service.previewChange(
          request.params.slug,
          request.body,
        );
        return { before: { ...before }, after: { ...after } };
      },
    );
  };
}
