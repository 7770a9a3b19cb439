/** Response shapes of the API (zod, so they are both validated and documented in OpenAPI). */
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { routingRecordSchema } from "../../contract/index.ts";
import {
  OPERATION_KINDS,
  OPERATION_STATES,
  TENANT_STATES,
  type OperationRecord,
  type TenantRecord,
} from "../store/records.ts";

const isoDate = z.string().describe("RFC 3339 timestamp");

export const operationView = z.object({
  id: z.uuid(),
  tenant: z.string(),
  kind: z.enum(OPERATION_KINDS),
  state: z.enum(OPERATION_STATES),
  attempts: z.int(),
  error: z.string().nullable(),
  result: z.unknown().optional(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  links: z.object({ self: z.string(), events: z.string() }),
});

const layerView = z.object({ mode: z.string(), isolation: z.enum(["pool", "bridge", "silo"]) });

export const tenantView = z.object({
  slug: z.string(),
  name: z.string(),
  tier: z.string(),
  state: z.enum(TENANT_STATES),
  source: z.enum(["catalog", "api"]),
  layers: z.object({
    database: layerView,
    storage: layerView,
    compute: layerView,
    identity: layerView,
  }),
  quotas: z.record(z.string(), z.union([z.string(), z.number()])),
  region: z.string(),
  tags: z.record(z.string(), z.string()),
  routing: routingRecordSchema.nullable(),
  lastError: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

const resourceFailureView = z.object({
  resource: z.string().describe("name of the first resource that failed (last URN segment)"),
  type: z.string(),
  urn: z.string(),
  message: z.string().describe("the engine's message about it"),
});

const propertyDriftView = z.object({
  path: z.string(),
  state: z.unknown().optional().describe("value recorded in the stack's state"),
  live: z.unknown().optional().describe("value found by the refresh"),
});

export const driftReportView = z.object({
  stack: z.string(),
  checkedAt: isoDate,
  resources: z.int().describe("resources the refresh read"),
  drifted: z.array(
    z.object({
      urn: z.string(),
      type: z.string(),
      name: z.string(),
      drift: z.enum(["changed", "deleted"]),
      properties: z.array(propertyDriftView),
    }),
  ),
});

/** GET /v1/tenants/:slug: the tenant with its findings. */
export const tenantDetailView = tenantView.extend({
  lastFailure: resourceFailureView
    .extend({ operationId: z.uuid() })
    .nullable()
    .describe("while the tenant has an error: the first failing resource and the engine's message"),
  drift: z
    .object({ operationId: z.uuid(), report: driftReportView })
    .nullable()
    .describe("the drift report of the latest successful refresh"),
  deletionReport: z.unknown().optional(),
});

export const acceptedView = z.object({ tenant: tenantView, operation: operationView });

const iso = (value: string | Date | null): string | null =>
  value === null ? null : new Date(value).toISOString();

export function toOperationView(op: OperationRecord): z.infer<typeof operationView> {
  return {
    id: op.id,
    tenant: op.tenantSlug,
    kind: op.kind,
    state: op.state,
    attempts: op.attempts,
    error: op.error,
    ...(op.result !== null && op.result !== undefined ? { result: op.result } : {}),
    createdAt: iso(op.createdAt)!,
    startedAt: iso(op.startedAt),
    finishedAt: iso(op.finishedAt),
    links: { self: `/v1/operations/${op.id}`, events: `/v1/operations/${op.id}/events` },
  };
}

/**
 * Answers 202 with the tenant as it is now and the operation that will change it; a request
 * answered with an operation it already started (idempotency) says so in a header, and
 * `location`, when given, names what to follow.
 */
export function sendAccepted(
  reply: FastifyReply,
  result: {
    readonly tenant: TenantRecord;
    readonly operation: OperationRecord;
    readonly replayed?: boolean;
  },
  location?: string,
): FastifyReply {
  if (result.replayed) reply.header("idempotent-replayed", "true");
  if (location !== undefined) reply.header("location", location);
  const body: z.infer<typeof acceptedView> = {
    tenant: toTenantView(result.tenant),
    operation: toOperationView(result.operation),
  };
  return reply.status(202).send(body);
}

export function toTenantView(tenant: TenantRecord): z.infer<typeof tenantView> {
  const { resolved } = tenant;
  const layer = (name: "database" | "storage" | "compute" | "identity") => ({
    mode: resolved.layers[name],
    isolation: resolved.isolation[name],
  });
  return {
    slug: tenant.slug,
    name: tenant.name,
    tier: tenant.tier,
    state: tenant.state,
    source: tenant.source,
    layers: {
      database: layer("database"),
      storage: layer("storage"),
      compute: layer("compute"),
      identity: layer("identity"),
    },
    quotas: resolved.quotas,
    region: resolved.region,
    tags: { ...resolved.tags },
    routing: servedRouting(tenant.routing),
    lastError: tenant.lastError,
    createdAt: iso(tenant.createdAt)!,
    updatedAt: iso(tenant.updatedAt)!,
  };
}

/**
 * The stored routing record when it has the contract's shape. Records stored before the
 * contract are rewritten in its shape at start-up (store/storedRouting.ts); one that could
 * not be completed is served as null until the tenant's next operation writes a new one.
 */
function servedRouting(stored: unknown): z.infer<typeof routingRecordSchema> | null {
  if (stored === null || stored === undefined) return null;
  const parsed = routingRecordSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}
