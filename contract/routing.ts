/**
 * The routing record: where a tenant's things are. A tenant stack exports it as its
 * `routing` output; the pooled fast path (no stack) builds the same shape from the database
 * driver's answer; the control plane stores it and the API serves it, described by this
 * schema in the OpenAPI document. Apps resolve connections from it, so moving a tenant
 * between tiers changes only this record. Secrets are references, never values.
 *
 * Objects are strict: a field one side adds and the other does not know fails loudly at the
 * seam instead of being dropped on the way.
 */
import { z } from "zod";
import { LAYERS, MODES } from "./modes.ts";

export const databaseRoutingSchema = z
  .strictObject({
    mode: z.enum(MODES.database),
    tenantId: z
      .uuid()
      .describe("The tenant's id in the registry: the value of app.tenant_id (withTenant)."),
    host: z.string().min(1),
    port: z.int().min(1).max(65_535),
    database: z.string().min(1),
    schema: z.string().min(1).describe("Schema of the tenant's application tables."),
    role: z.string().min(1).describe("Login role: the shared application role, or the tenant's."),
    secretRef: z
      .string()
      .optional()
      .describe(
        "Where the tenant role's password is kept (Secrets Manager ARN, or a stack output).",
      ),
    version: z
      .int()
      .min(1)
      .describe(
        "Routing version: 1, incremented by every move of the tenant to another placement. An application holding an older version is refused by the old placement (SQLSTATE TN002).",
      ),
  })
  .describe("Where the tenant's rows live and as whom to connect.");
export type DatabaseRouting = z.infer<typeof databaseRoutingSchema>;

export const storageRoutingSchema = z.strictObject({
  mode: z.enum(MODES.storage),
  bucket: z.string().min(1),
  prefix: z.string(),
});

export const computeRoutingSchema = z.strictObject({
  mode: z.enum(MODES.compute),
  namespace: z.string().optional(),
});

export const identityRoutingSchema = z.strictObject({
  mode: z.enum(MODES.identity),
  group: z.string().min(1),
  provider: z.string().optional(),
});

export const routingRecordSchema = z
  .strictObject({
    database: databaseRoutingSchema,
    storage: storageRoutingSchema.optional(),
    compute: computeRoutingSchema.optional(),
    identity: identityRoutingSchema.optional(),
    notProvisioned: z
      .array(z.enum(LAYERS))
      .describe("Layers this target could not provision (cloud layers on the local target)."),
  })
  .describe("Where a tenant's things are; the same shape for every placement.");
export type RoutingRecord = z.infer<typeof routingRecordSchema>;

/** The database part of a routing record, taken from a record with more fields (a driver's). */
export function databaseRoutingFrom(source: DatabaseRouting): DatabaseRouting {
  return {
    mode: source.mode,
    tenantId: source.tenantId,
    host: source.host,
    port: source.port,
    database: source.database,
    schema: source.schema,
    role: source.role,
    ...(source.secretRef === undefined ? {} : { secretRef: source.secretRef }),
    version: source.version,
  };
}

/** Validates a routing record (a stack's `routing` output, a stored record). */
export function parseRoutingRecord(value: unknown, what = "routing record"): RoutingRecord {
  const parsed = routingRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`invalid ${what}: ${issues.join("; ")}`);
  }
  return parsed.data;
}
