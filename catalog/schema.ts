/**
 * The catalog's zod schemas. Types are inferred from them; the JSON Schemas shipped for
 * editors are generated from them (see ./jsonSchema.ts). Objects are strict: an unknown
 * key is an error, never silently ignored.
 */
import { z } from "zod";
import { ENCRYPTION, MODES } from "./modes.ts";
import { slugProblem } from "./slug.ts";

export const slugSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = slugProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe("Tenant identifier: a DNS label of at most 30 characters, not a reserved word.");

export const databaseModeSchema = z.enum(MODES.database);
export const storageModeSchema = z.enum(MODES.storage);
export const computeModeSchema = z.enum(MODES.compute);
export const identityModeSchema = z.enum(MODES.identity);

/** AWS region name, e.g. eu-west-1, us-gov-west-1. */
export const regionSchema = z
  .string()
  .regex(/^[a-z]{2}(?:-gov)?-[a-z]+-\d$/, "must be an AWS region name such as eu-west-1")
  .describe("AWS region the tenant's dedicated resources live in.");

export const DATA_RESIDENCIES = ["us", "eu", "ap", "ca", "sa", "me", "af", "il"] as const;
export const dataResidencySchema = z
  .enum(DATA_RESIDENCIES)
  .describe("Where the tenant's data must stay; the region must be in this geography.");

/** A CPU quantity as tenant quotas use it (a subset of Kubernetes quantities). */
export const cpuQuantitySchema = z
  .string()
  .regex(/^(?:\d+m|\d+(?:\.\d+)?)$/, 'must be a Kubernetes CPU quantity such as "500m" or "2"');

/** A memory quantity as tenant quotas use it (binary units only). */
export const memoryQuantitySchema = z
  .string()
  .regex(/^\d+(?:Ki|Mi|Gi|Ti)$/, 'must be a Kubernetes memory quantity such as "512Mi"');

export const quotasSchema = z
  .strictObject({
    cpu: cpuQuantitySchema
      .optional()
      .describe("CPU limit of the tenant's namespace (Kubernetes quantity)."),
    memory: memoryQuantitySchema
      .optional()
      .describe("Memory limit of the tenant's namespace (Kubernetes quantity)."),
    dbConnections: z
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("Maximum concurrent database connections of the tenant."),
    statementTimeoutMs: z
      .int()
      .min(100)
      .max(3_600_000)
      .optional()
      .describe("Statements of the tenant running longer than this are cancelled."),
    requestsPerSecond: z
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe("API request rate limit of the tenant."),
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

const httpsUrl = z
  .url({ protocol: /^https$/, error: "must be an https:// URL" })
  .describe("An https:// URL.");

export const federationSchema = z
  .discriminatedUnion("protocol", [
    z.strictObject({
      protocol: z.literal("oidc"),
      issuer: httpsUrl.describe("OIDC issuer URL of the tenant's identity provider."),
      clientId: z.string().min(1).max(255),
      clientSecretRef: z
        .string()
        .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/)
        .optional()
        .describe("Name of the secret holding the client secret (never the secret itself)."),
      scopes: z.array(z.string().regex(/^[\x21-\x7e]+$/)).optional(),
    }),
    z.strictObject({
      protocol: z.literal("saml"),
      metadataUrl: httpsUrl.describe("SAML metadata document URL of the tenant's IdP."),
    }),
  ])
  .describe("The tenant's own identity provider, required when identity is federated.");

const tagKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_.:/=+@-]{0,126}$/, "invalid tag key");
export const tagsSchema = z
  .record(tagKey, z.string().max(256))
  .describe("Extra tags/labels added to every resource of the tenant.");

export const LIFECYCLE_STATES = ["active", "suspended", "offboarding"] as const;

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
  layers: z
    .strictObject({
      database: databaseModeSchema,
      storage: storageModeSchema,
      compute: computeModeSchema,
      identity: identityModeSchema,
    })
    .describe("Isolation mode of every layer for tenants of this tier."),
  encryption: z.enum(ENCRYPTION).default("shared"),
  quotas: quotasSchema.optional(),
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
export type Federation = z.infer<typeof federationSchema>;
export type LayerOverrides = z.infer<typeof layerOverridesSchema>;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];
