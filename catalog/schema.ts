/**
 * The catalog's zod schemas. Types are inferred from them; the JSON Schemas shipped for
 * editors are generated from them (see ./jsonSchema.ts). Objects are strict: an unknown
 * key is an error, never silently ignored.
 */
import { z } from "zod";
import { ENCRYPTION } from "../contract/modes.ts";
import { slugSchema } from "../contract/slug.ts";
import { usageBudgetsSchema } from "../contract/usage.ts";
import {
  computeModeSchema,
  databaseModeSchema,
  dataResidencySchema,
  federationSchema,
  identityModeSchema,
  layerModesSchema,
  LIFECYCLE_STATES,
  quotaFieldSchemas,
  regionSchema,
  storageModeSchema,
  type Federation,
  type LifecycleState,
} from "../contract/tenantFields.ts";

export type { Federation, LifecycleState };

export const quotasSchema = z
  .strictObject({
    cpu: quotaFieldSchemas.cpu.optional(),
    memory: quotaFieldSchemas.memory.optional(),
    dbConnections: quotaFieldSchemas.dbConnections.optional(),
    statementTimeoutMs: quotaFieldSchemas.statementTimeoutMs.optional(),
    requestsPerSecond: quotaFieldSchemas.requestsPerSecond.optional(),
  })
  .describe("Per-tenant limits; unset fields fall back to the tier, then to the defaults.");

export const layerOverridesSchema = z
  .strictObject({
    database: databaseModeSchema.optional(),
    storage: storageModeSchema.optional(),
    compute: computeModeSchema.optional(),
    identity: identityModeSchema.optional(),
  })
  .describe("Per-layer isolation modes replacing the tier's.");

const tagKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_.:/=+@-]{0,126}$/, "invalid tag key");
export const tagsSchema = z
  .record(tagKey, z.string().max(256))
  .describe("Extra tags/labels added to every resource of the tenant.");

export const tenantFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    slug: slugSchema,
    name: z.string().trim().min(1).max(200).describe("Display name."),
    tier: z.string().min(1).describe("Name of a tier in tiers.yaml."),
    overrides: layerOverridesSchema.optional(),
    encryption: z.enum(ENCRYPTION).optional().describe("Overrides the tier's key choice."),
    region: regionSchema.optional(),
    dataResidency: dataResidencySchema.optional(),
    quotas: quotasSchema.optional(),
    lifecycle: z.enum(LIFECYCLE_STATES).default("active"),
    costCenter: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be letters, digits, '.', '_' or '-'")
      .optional()
      .describe("Cost center billed for the tenant's resources."),
    tags: tagsSchema.optional(),
    federation: federationSchema.optional(),
  })
  .describe("One tenant of the catalog (tenants/<slug>.yaml).");

const allowedOverridesSchema = z
  .strictObject({
    database: z.array(databaseModeSchema).optional(),
    storage: z.array(storageModeSchema).optional(),
    compute: z.array(computeModeSchema).optional(),
    identity: z.array(identityModeSchema).optional(),
  })
  .describe("Modes tenants of this tier may override each layer to. A layer not listed is fixed.");

export const tierSchema = z.strictObject({
  description: z.string().optional(),
  layers: layerModesSchema.describe("Isolation mode of every layer for tenants of this tier."),
  encryption: z.enum(ENCRYPTION).default("shared"),
  quotas: quotasSchema.optional(),
  budgets: usageBudgetsSchema.optional(),
  allowedOverrides: allowedOverridesSchema.optional(),
  regions: z
    .array(regionSchema)
    .min(1)
    .optional()
    .describe("Regions tenants of this tier may use; any region when absent."),
});

export const tierNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, "must be lowercase letters, digits and hyphens");

export const tiersFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    defaults: z
      .strictObject({
        region: regionSchema.default("us-east-1"),
        costCenter: z.string().default("unassigned"),
        quotas: quotasSchema.optional(),
      })
      .default({ region: "us-east-1", costCenter: "unassigned" }),
    tiers: z.record(tierNameSchema, tierSchema).refine((tiers) => Object.keys(tiers).length > 0, {
      message: "at least one tier is required",
    }),
  })
  .describe("Tiers of the catalog (tenants/tiers.yaml).");

export type TenantFile = z.infer<typeof tenantFileSchema>;
export type TiersFile = z.infer<typeof tiersFileSchema>;
export type Tier = z.infer<typeof tierSchema>;
export type Quotas = z.infer<typeof quotasSchema>;
export type LayerOverrides = z.infer<typeof layerOverridesSchema>;
