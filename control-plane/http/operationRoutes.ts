/** /v1/operations/:id and its server-sent events (engine progress, log lines, final result). */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type pg from "pg";
import type { TenantService } from "../service/tenantService.ts";
import { z } from "zod";
import { eventsAfter, getOperation } from "../store/store.ts";
import { requireAccess } from "./auth.ts";
import { problem, sendProblem } from "./problem.ts";
import { acceptedView, operationView, sendAccepted, toOperationView } from "./views.ts";

const idParams = z.object({ id: z.string().max(64) });
const TERMINAL_EVENTS = new Set(["succeeded", "failed"]);

export function operationRoutes(deps: {
  pool: pg.Pool;
  service: Pick<TenantService, "retry" | "abortMove">;
  pollMs?: number;
}): FastifyPluginAsyncZod {
  const pollMs = deps.pollMs ?? 250;
  return async (app) => {
    app.get(
      "/v1/operations/:id",
      {
        schema: {
          summary: "Read an operation",
          params: idParams,
          response: { 200: operationView },
        },
      },
      async (request, reply) => {
        const operation = await getOperation(deps.pool, request.params.id);
        if (!operation)
          return sendProblem(reply, problem(404, "operation-not-found", "operation not found"));
        if (!requireAccess(request, reply, operation.tenantSlug)) return reply;
        return toOperationView(operation);
      },
    );

    app.post(
      "/v1/operations/:id/retry",
      {
        schema: {
          summary:
            "Run a failed operation again (a new operation); repeated while it is open, the same one",
          params: idParams,
          response: { 202: acceptedView },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        return sendAccepted(reply, await deps.service.retry(request.params.id));
      },
    );

    app.post(
      "/v1/operations/:id/abort",
      {
        schema: {
          summary:
            "Abort a move before its switch: rolled back, the tenant stays on its source, the operation ends cancelled (409 once switched)",
          params: idParams,
          response: { 202: acceptedView },
        },
      },
      async (request, reply) => {
        if (!requireAccess(request, reply)) return reply;
        return sendAccepted(reply, await deps.service.abortMove(request.params.id));
      },
    );

    app.get(
      "/v1/operations/:id/events",
      {
        schema: {
          summary: "Follow an operation (text/event-stream); resumes after Last-Event-ID",
          params: idParams,
          headers: z.object({
            "last-event-id": z
              .string()
              .regex(/^\d{1,18}$/)
              .optional(),
          }),
        },
      },
      async (request, reply) => {
        const operation = await getOperation(deps.pool, request.params.id);
        if (!operation)
          return sendProblem(reply, problem(404, "operation-not-found", "operation not found"));
        if (!requireAccess(request, reply, operation.tenantSlug)) return reply;
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          connection: "keep-alive",
          "x-accel-buffering": "no",
        });
        let last = Number(request.headers["last-event-id"] ?? 0);
        let closed = false;
        request.raw.on("close", () => (closed = true));
        while (!closed) {
          const events = await eventsAfter(deps.pool, operation.id, last);
          let finished = false;
          for (const event of events) {
            raw.write(
              `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`,
            );
            last = event.id;
            finished ||= TERMINAL_EVENTS.has(event.type);
          }
          if (finished) break;
          if (events.length === 0) {
            const current = await getOperation(deps.pool, operation.id);
            if (
              current &&
              (current.state === "succeeded" || current.state === "failed") &&
              events.length === 0
            ) {
              // Terminal state without a terminal event after `last`: it was sent before.
              if ((await eventsAfter(deps.pool, operation.id, last)).length === 0) break;
            }
            raw.write(": keep-alive\n\n");
            await new Promise((done) => setTimeout(done, pollMs));
          }
        }
        raw.end();
      },
    );
  };
}
