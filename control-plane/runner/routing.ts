/**
 * The routing record: where a tenant's things are, as a tenant stack exports them. Apps and
 * the service resolve connections from it, so moving a tenant between tiers changes only
 * this record. Secrets are references (a secret name / ARN), never values.
 */
import { z } from "zod";

export const routingRecordSchema = z.object({
  database: z
    .object({
      mode: z.enum(["pool", "schema", "dedicated"]),
      host: z.string().optional(),
      port: z.number().int().optional(),
      database: z.string().optional(),
      schema: z.string().optional(),
      role: z.string().optional(),
      /** Where the tenant's database password is kept (Secrets Manager ARN, or a local ref). */
      secretRef: z.string().optional(),
    })
    .optional(),
  storage: z
    .object({
      mode: z.enum(["prefix", "bucket"]),
      bucket: z.string().optional(),
      prefix: z.string().optional(),
    })
    .optional(),
  compute: z.object({ mode: z.string(), namespace: z.string().optional() }).optional(),
  identity: z
    .object({ mode: z.string(), group: z.string().optional(), provider: z.string().optional() })
    .optional(),
  /** Layers this target could not provision (e.g. cloud layers on the local target). */
  notProvisioned: z.array(z.string()).default([]),
});

export type RoutingRecord = z.infer<typeof routingRecordSchema>;

/** Reads the `routing` output of a tenant stack. Unknown extra fields are dropped. */
export function parseRoutingRecord(outputs: Readonly<Record<string, unknown>>): RoutingRecord {
  const parsed = routingRecordSchema.safeParse(outputs.routing ?? {});
  if (!parsed.success) {
    throw new Error(
      `tenant stack exported an invalid routing record: ${parsed.error.issues[0]?.message ?? ""}`,
    );
  }
  return parsed.data;
}
