/**
 * The resolved tenant: what catalog resolution (catalog/resolve.ts) produces, what the
 * control plane stores and sets as the `tenancy:tenant` stack config, and what the stack
 * program and the planner consume. One schema, types inferred from it; the stack program
 * validates the config with it, so components receive a typed, consistent spec (modes,
 * isolation and system tags agreeing with each other).
 */
import { z } from "zod";
import { ENCRYPTION, isolationOf, LAYERS } from "./modes.ts";
import { slugSchema } from "./slug.ts";
import {
  dataResidencySchema,
  federationSchema,
  layerModesSchema,
  LIFECYCLE_STATES,
  quotaFieldSchemas,
  regionSchema,
} from "./tenantFields.ts";

const isolationSchema = z.enum(["pool", "bridge", "silo"]);

/** Every quota, filled in (tenant → tier → catalog defaults → built-ins). */
export const resolvedQuotasSchema = z.strictObject(quotaFieldSchemas);
export type ResolvedQuotas = z.infer<typeof resolvedQuotasSchema>;

export const resolvedTenantSchema = z
  .strictObject({
    slug: slugSchema,
    name: z.string().min(1),
    tier: z.string().min(1),
    lifecycle: z.enum(LIFECYCLE_STATES),
    region: regionSchema,
    dataResidency: dataResidencySchema.optional(),
    /** Final mode of every layer. */
    layers: layerModesSchema,
    /** Pool / bridge / silo classification of every layer. */
    isolation: z.strictObject({
      database: isolationSchema,
      storage: isolationSchema,
      compute: isolationSchema,
      identity: isolationSchema,
    }),
    /** Layers whose mode comes from a tenant override rather than the tier. */
    overridden: z.array(z.enum(LAYERS)),
    encryption: z.enum(ENCRYPTION),
    quotas: resolvedQuotasSchema,
    costCenter: z.string().min(1),
    /** Every tag to put on the tenant's resources: system tags plus the tenant's extras. */
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
      "managed-by": "tenancy",
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

/** A tenant with every layer, quota and tag decided. */
export type ResolvedTenant = Readonly<z.infer<typeof resolvedTenantSchema>>;

/** Parses a resolved tenant given as JSON (`what` names the source in errors). */
export function parseResolvedTenant(json: string, what: string): ResolvedTenant {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`${what} is not JSON: ${(error as Error).message}`);
  }
  const result = resolvedTenantSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`${what} is invalid: ${issues.join("; ")}`);
  }
  return result.data;
}
