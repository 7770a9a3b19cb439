/**
 * Field schemas shared by the catalog files (catalog/schema.ts, where most are optional) and
 * the resolved tenant (./resolvedTenant.ts, where they are filled in). Defined once, so a
 * tightened rule applies on both sides of the Automation API seam.
 */
import { z } from "zod";
import { MODES } from "./modes.ts";

export const databaseModeSchema = z.enum(MODES.database);
export const storageModeSchema = z.enum(MODES.storage);
export const computeModeSchema = z.enum(MODES.compute);
export const identityModeSchema = z.enum(MODES.identity);

/** Mode of every layer (a tier's `layers`, a resolved tenant's `layers`). */
export const layerModesSchema = z.strictObject({
  database: databaseModeSchema,
  storage: storageModeSchema,
  compute: computeModeSchema,
  identity: identityModeSchema,
});

/** AWS region name, e.g. eu-west-1, us-gov-west-1. */
export const regionSchema = z
  .string()
  .regex(/^[a-z]{2}(?:-gov)?-[a-z]+-\d$/, "must be an AWS region name such as eu-west-1")
  .describe("AWS region the tenant's dedicated resources live in.");

export const DATA_RESIDENCIES = ["us", "eu", "ap", "ca", "sa", "me", "af", "il"] as const;
export const dataResidencySchema = z
  .enum(DATA_RESIDENCIES)
  .describe("Where the tenant's data must stay; the region must be in this geography.");

export const LIFECYCLE_STATES = ["active", "suspended", "offboarding"] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/** One schema per quota; the catalog makes each optional, the resolved tenant requires all. */
export const quotaFieldSchemas = {
  cpu: z
    .string()
    .regex(/^(?:\d+m|\d+(?:\.\d+)?)$/, 'must be a Kubernetes CPU quantity such as "500m" or "2"')
    .describe("CPU limit of the tenant's namespace (Kubernetes quantity)."),
  memory: z
    .string()
    .regex(/^\d+(?:Ki|Mi|Gi|Ti)$/, 'must be a Kubernetes memory quantity such as "512Mi"')
    .describe("Memory limit of the tenant's namespace (Kubernetes quantity)."),
  dbConnections: z
    .int()
    .min(1)
    .max(1000)
    .describe("Maximum concurrent database connections of the tenant."),
  statementTimeoutMs: z
    .int()
    .min(100)
    .max(3_600_000)
    .describe("Statements of the tenant running longer than this are cancelled."),
  requestsPerSecond: z.int().min(1).max(100_000).describe("API request rate limit of the tenant."),
} as const;

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
export type Federation = z.infer<typeof federationSchema>;
