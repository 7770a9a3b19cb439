/**
 * The `tenancy:tenant` stack config: a resolved tenant spec as JSON (what the control plane
 * sets for the stack). Validated here, at the boundary, so components receive a typed,
 * consistent spec: modes, isolation and system tags must agree with each other.
 */
import { z } from "zod";
import { isolationOf, LAYERS, type ResolvedTenant } from "../../catalog/index.ts";
import {
  computeModeSchema,
  cpuQuantitySchema,
  databaseModeSchema,
  dataResidencySchema,
  federationSchema,
  identityModeSchema,
  LIFECYCLE_STATES,
  memoryQuantitySchema,
  regionSchema,
  slugSchema,
  storageModeSchema,
} from "../../catalog/schema.ts";

const isolation = z.enum(["pool", "bridge", "silo"]);

export const resolvedTenantSchema = z
  .strictObject({
    slug: slugSchema,
    name: z.string().min(1),
    tier: z.string().min(1),
    lifecycle: z.enum(LIFECYCLE_STATES),
    region: regionSchema,
    dataResidency: dataResidencySchema.optional(),
    layers: z.strictObject({
      database: databaseModeSchema,
      storage: storageModeSchema,
      compute: computeModeSchema,
      identity: identityModeSchema,
    }),
    isolation: z.strictObject({
      database: isolation,
      storage: isolation,
      compute: isolation,
      identity: isolation,
    }),
    overridden: z.array(z.enum(LAYERS)),
    encryption: z.enum(["shared", "dedicated"]),
    quotas: z.strictObject({
      cpu: cpuQuantitySchema,
      memory: memoryQuantitySchema,
      dbConnections: z.int().min(1).max(1000),
      statementTimeoutMs: z.int().min(100).max(3_600_000),
      requestsPerSecond: z.int().min(1),
    }),
    costCenter: z.string().min(1),
    tags: z.record(z.string(), z.string()),
    federation: federationSchema.optional(),
  })
  .superRefine((t, ctx) => {
    for (const layer of LAYERS) {
      const expected = isolationOf(layer, t.layers[layer] as never, t.encryption);
      if (t.isolation[layer] !== expected) {
        ctx.addIssue({
          code: "custom",
          path: ["isolation", layer],
          message: `is "${t.isolation[layer]}" but ${layer} "${t.layers[layer]}" is "${expected}"`,
        });
      }
    }
    const system: Record<string, string> = {
      tenant: t.slug,
      tier: t.tier,
      "cost-center": t.costCenter,
    };
    for (const [key, value] of Object.entries(system)) {
      if (t.tags[key] !== value) {
        ctx.addIssue({ code: "custom", path: ["tags", key], message: `must be "${value}"` });
      }
    }
    if ((t.layers.identity === "federated") !== (t.federation !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["federation"],
        message: "is required exactly when identity is federated",
      });
    }
  });

/** Parses the JSON of `tenancy:tenant`; errors name the field. */
export function parseTenantSpec(json: string): ResolvedTenant {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`config tenancy:tenant is not JSON: ${(error as Error).message}`);
  }
  const result = resolvedTenantSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`config tenancy:tenant is invalid: ${issues.join("; ")}`);
  }
  return result.data;
}
