/**
 * The HTTP service: Fastify with zod schemas on every route, OpenAPI at /openapi.json,
 * problem+json errors, bearer auth on everything but /healthz.
 */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type pg from "pg";
import type { Registry } from "prom-client";
import type { TiersFile } from "../../catalog/index.ts";
import { consoleRoutes } from "../console/consoleRoutes.ts";
import type { TenantService } from "../service/tenantService.ts";
import { fleetRoutes } from "./fleetRoutes.ts";
import { authHook, requireAccess, type AuthOptions } from "./auth.ts";
import { rejectMalformedText } from "./wellFormed.ts";
import { operationRoutes } from "./operationRoutes.ts";
import {
  problem,
  problemErrorHandler,
  sendDatabaseUnavailable,
  sendProblem,
  type ServerErrorLog,
} from "./problem.ts";
import { tenantRoutes } from "./tenantRoutes.ts";
import { costRoutes } from "./costRoutes.ts";
import { usageRoutes } from "./usageRoutes.ts";

export interface AppDeps {
  readonly pool: pg.Pool;
  readonly service: Pick<
    TenantService,
    "signup" | "change" | "move" | "offboard" | "retry" | "abortMove" | "previewChange" | "refresh"
  >;
  /** The catalog's tiers (the console offers them). */
  readonly tiers: () => TiersFile;
  /** The operator's price table (`pricing.yaml`) for GET /v1/usage/cost. */
  readonly pricingFile?: string;
  readonly auth: AuthOptions;
  readonly metrics: Registry;
  /** @default false */
  readonly logger?: boolean;
  /** Largest accepted request body in bytes. @default 65536 */
  readonly bodyLimit?: number;
  /** Where every 5xx is reported. @default one line with the stack on stderr */
  readonly serverErrorLog?: ServerErrorLog;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: deps.bodyLimit ?? 64 * 1024 });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(problemErrorHandler(deps.serverErrorLog));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, "route-not-found", `no route ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
  await app.register(swagger, {
    openapi: {
      info: { title: "tenancy control plane", version: "1.0.0" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.addHook("onRequest", authHook(deps.auth));
  app.addHook("preValidation", rejectMalformedText);
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get("/healthz", { schema: { hide: true } }, async (_request, reply) => {
    try {
      await deps.pool.query("SELECT 1");
    } catch {
      return sendDatabaseUnavailable(reply);
    }
    return { status: "ok" };
  });
  // Operator documents: a tenant token reads its own tenant, not the fleet's figures.
  typed.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (!requireAccess(request, reply)) return reply;
    reply.type(deps.metrics.contentType);
    return deps.metrics.metrics();
  });
  typed.get("/openapi.json", { schema: { hide: true } }, (request, reply) => {
    if (!requireAccess(request, reply)) return reply;
    return app.swagger();
  });
  await typed.register(tenantRoutes({ pool: deps.pool, service: deps.service }));
  await typed.register(operationRoutes({ pool: deps.pool, service: deps.service }));
  await typed.register(fleetRoutes({ pool: deps.pool, tiers: deps.tiers, service: deps.service }));
  await typed.register(usageRoutes({ pool: deps.pool, tiers: deps.tiers }));
  await typed.register(
    costRoutes({
      pool: deps.pool,
      tiers: deps.tiers,
      ...(deps.pricingFile ? { pricingFile: deps.pricingFile } : {}),
    }),
  );
  await app.register(consoleRoutes);
  return app;
}
