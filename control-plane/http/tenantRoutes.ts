/** /v1/tenants: signup, list, read, change, offboard. */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { tenantFileSchema } from "../../catalog/index.ts";
import { layerOverridesSchema, quotasSchema } from "../../catalog/schema.ts";
import type { ResourceFailure } from "../jobs/failure.ts";
import {
  getTenant,
  latestDeletionReport,
  latestDriftReport,
  latestResourceFailure,
  listTenantPage,
  tenantOperations,
} from "../store/store.ts";
import type { TenantService } from "../service/tenantService.ts";
import type pg from "pg";
import { requireAccess } from "./auth.ts";
import { problem, sendProblem } from "./problem.ts";
import {
  acceptedView,
  operationView,
  tenantDetailView,
  tenantView,
  sendAccepted,
  toOperationView,
  toTenantView,
} from "./views.ts";

export interface TenantRoutesDeps {
  readonly pool: pg.Pool;
  readonly service: Pick<TenantService, "signup" | "change" | "move" | "offboard" | "refresh">;
}

const slugParams = z.object({ slug: z.string().max(64) });
const idempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 visible ASCII characters")
    .optional(),
});

const DEFAULT_PAGE = 100;
const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(200).optional(),
});

/** Opaque cursors: the last slug of the page, base64url. */
function encodeCursor(slug: string): string {
  return Buffer.from(`after:${slug}`).toString("base64url");
}

function decodeCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const slug = /^after:([a-z0-9-]{1,64})$/.exec(text)?.[1];
  return slug;
}

export const tenantPatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  tier: z.string().min(1).max(64).optional(),
  overrides: layerOverridesSchema.optional(),
  lifecycle: z.enum(["active", "suspended"]).optional(),
  quotas: quotasSchema.optional(),
  moveGrace: z
    .string()
    .max(20)
    .optional()
    .describe(
      "When the change moves data: how long the old placement stays read-only before its purge (24h, 30m, 0). Default 24h.",
    ),
});

export function tenantRoutes(deps: TenantRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      "/v1/tenants",
      {
        schema: {
          summary: "Sign a tenant up",
          body: tenantFileSchema.omit({ $schema: true }),
          headers: idempotencyHeaders,
          response: { 202: acceptedView, 200: acceptedView },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const key = request.headers["idempotency-key"];
        const result = await deps.service.signup(request.body, key);
        return sendAccepted(reply, result, `/v1/tenants/${result.tenant.slug}`);
      },
    );

    app.get(
      "/v1/tenants",
      {
        schema: {
          summary: "List tenants, by slug, a page at a time (follow `next`)",
          querystring: listQuery,
          response: {
            200: z.object({
              tenants: z.array(tenantView),
              next: z.string().nullable().describe("URL of the next page; null on the last"),
            }),
          },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const limit = request.query.limit ?? DEFAULT_PAGE;
        let after: string | undefined;
        if (request.query.cursor !== undefined) {
          after = decodeCursor(request.query.cursor);
          if (after === undefined)
            return sendProblem(reply, problem(400, "invalid-cursor", "the cursor is not valid"));
        }
        const page = await listTenantPage(deps.pool, {
          limit: limit + 1,
          ...(after ? { after } : {}),
        });
        const tenants = page.slice(0, limit);
        const next =
          page.length > limit
            ? `/v1/tenants?limit=${limit}&cursor=${encodeCursor(tenants.at(-1)!.slug)}`
            : null;
        if (next) reply.header("link", `<${next}>; rel="next"`);
        return { tenants: tenants.map(toTenantView), next };
      },
    );

    app.get(
      "/v1/tenants/:slug",
      {
        schema: {
          summary: "Read a tenant (operator token, or that tenant's own token)",
          params: slugParams,
          response: { 200: tenantDetailView },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply, request.params.slug)) return reply;
        const tenant = await getTenant(deps.pool, request.params.slug);
        if (!tenant)
          return sendProblem(
            reply,
            problem(404, "tenant-not-found", `tenant "${request.params.slug}" not found`),
          );
        const [failed, drift] = await Promise.all([
          tenant.lastError ? latestResourceFailure(deps.pool, tenant.slug) : undefined,
          latestDriftReport(deps.pool, tenant.slug),
        ]);
        const view = {
          ...toTenantView(tenant),
          lastFailure:
            failed?.failure && typeof failed.failure === "object"
              ? { ...(failed.failure as ResourceFailure), operationId: failed.operationId }
              : null,
          drift: drift?.report ? { operationId: drift.operationId, report: drift.report } : null,
        };
        if (tenant.state !== "deleted") return view;
        const report = await latestDeletionReport(deps.pool, tenant.slug);
        return { ...view, ...(report ? { deletionReport: report } : {}) };
      },
    );

    app.get(
      "/v1/tenants/:slug/operations",
      {
        schema: {
          summary: "A tenant's operations, newest first (at most 100)",
          params: slugParams,
          response: { 200: z.object({ operations: z.array(operationView) }) },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply, request.params.slug)) return reply;
        const tenant = await getTenant(deps.pool, request.params.slug);
        if (!tenant)
          return sendProblem(
            reply,
            problem(404, "tenant-not-found", `tenant "${request.params.slug}" not found`),
          );
        const operations = await tenantOperations(deps.pool, tenant.slug, 100);
        return { operations: operations.map(toOperationView) };
      },
    );

    app.patch(
      "/v1/tenants/:slug",
      {
        schema: {
          summary:
            "Change quotas, lifecycle or tier; a database placement change starts a `move` operation",
          params: slugParams,
          body: tenantPatchSchema,
          response: { 202: acceptedView },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        return sendAccepted(reply, await deps.service.change(request.params.slug, request.body));
      },
    );

    app.post(
      "/v1/tenants/:slug/refresh",
      {
        schema: {
          summary:
            "Refresh the tenant's stack (an operation); its result is the drift report between the stack's state and reality",
          params: slugParams,
          response: { 202: acceptedView },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        return sendAccepted(reply, await deps.service.refresh(request.params.slug));
      },
    );

    app.post(
      "/v1/tenants/:slug/move",
      {
        schema: {
          summary:
            "Move a tenant's data to a tier or a database mode (a `move` operation; nothing to move: 200 saying so)",
          params: slugParams,
          body: z.strictObject({
            to: z.string().min(1).max(64).describe("A tier name, or a database mode (override)"),
            grace: tenantPatchSchema.shape.moveGrace,
          }),
          response: {
            202: acceptedView,
            200: z.object({ tenant: tenantView, operation: z.null(), message: z.string() }),
          },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        const result = await deps.service.move(
          request.params.slug,
          request.body.to,
          request.body.grace,
        );
        if (result.operation === undefined) {
          return reply.status(200).send({
            tenant: toTenantView(result.tenant),
            operation: null,
            message: result.message,
          });
        }
        return sendAccepted(reply, result, `/v1/operations/${result.operation.id}`);
      },
    );

    app.delete(
      "/v1/tenants/:slug",
      {
        schema: {
          summary: "Offboard a tenant",
          params: slugParams,
          response: { 202: acceptedView },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        return sendAccepted(reply, await deps.service.offboard(request.params.slug));
      },
    );
  };
}
