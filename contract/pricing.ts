/**
 * Per-tenant cost estimates: the operator's price table (`pricing.yaml`) and the shape of the
 * cost report. No prices are shipped: the project cannot know what the operator pays.
 */
import { z } from "zod";
import { LAYERS, MODES } from "./modes.ts";
import { USAGE_COUNTERS } from "./usage.ts";

/**
 * What can be priced or used to apportion a shared resource, per tenant over a window:
 * the usage counters (summed), and storage in GiB-months (each collected bucket counts the
 * latest storage sample at or before it, for the bucket's length; a month is 30 days).
 */
export const COST_UNITS = [...USAGE_COUNTERS, "storageGibMonths"] as const;
export type CostUnit = (typeof COST_UNITS)[number];
export const costUnitSchema = z.enum(COST_UNITS);

/** The month of monthly prices and of storage GiB-months: 30 days. */
export const MONTH_SECONDS = 30 * 86400;

const unitPriceSchema = z.strictObject({
  price: z.number().nonnegative().describe("Price of `per` units."),
  per: z.number().positive().default(1).describe("How many units `price` is for (e.g. 1000000)."),
});

const sharedResourceSchema = z
  .strictObject({
    monthly: z.number().nonnegative().describe("What the resource costs per 30 days."),
    layer: z.enum(LAYERS).describe("The layer whose mode says which tenants share it."),
    modes: z.array(z.string()).min(1).describe("Tenants whose layer has one of these modes."),
    apportionBy: costUnitSchema.describe("Usage the cost is split by, in proportion."),
  })
  .superRefine((resource, ctx) => {
    const known: readonly string[] = MODES[resource.layer];
    resource.modes.forEach((mode, index) => {
      if (!known.includes(mode)) {
        ctx.addIssue({
          code: "custom",
          path: ["modes", index],
          message: `"${mode}" is not a ${resource.layer} mode (${known.join(", ")})`,
        });
      }
    });
  });
export type SharedResource = z.infer<typeof sharedResourceSchema>;

export const pricingFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be a three-letter currency code, e.g. "EUR" ("XXX": none)'),
    prices: z
      .strictObject(
        Object.fromEntries(COST_UNITS.map((unit) => [unit, unitPriceSchema.optional()])) as Record<
          CostUnit,
          z.ZodOptional<typeof unitPriceSchema>
        >,
      )
      .default({})
      .describe("Metered prices, charged to the tenant that used the units."),
    shared: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "must be lowercase letters, digits, hyphens"),
        sharedResourceSchema,
      )
      .default({})
      .describe("Fixed-cost resources several tenants share, apportioned by usage."),
  })
  .describe("The operator's price table (pricing.yaml).");
export type PricingFile = z.infer<typeof pricingFileSchema>;

const amount = z.number().describe("In the report's currency, rounded to 1e-6.");

export const costReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  currency: z.string(),
  pricingFile: z.string().describe("The price table the estimate used."),
  rules: z.array(z.string()).describe("How every figure was computed, apportioning included."),
  tenants: z.array(
    z.object({
      slug: z.string(),
      tier: z.string(),
      usage: z.record(costUnitSchema, z.number()),
      metered: z.array(
        z.object({
          unit: costUnitSchema,
          quantity: z.number(),
          price: z.number(),
          per: z.number(),
          cost: amount,
        }),
      ),
      shared: z.array(
        z.object({
          resource: z.string(),
          basis: z.number().describe("The tenant's usage of the apportioning unit."),
          share: z.number().describe("basis / the sharing tenants' total (0..1)."),
          cost: amount,
        }),
      ),
      total: amount,
    }),
  ),
  shared: z.array(
    z.object({
      resource: z.string(),
      windowCost: amount.describe("monthly × window / 30 days."),
      apportionBy: costUnitSchema,
      sharedBy: z.string().describe('e.g. "database in pool, schema".'),
      tenants: z.number().describe("Tenants sharing it that had usage in the window."),
      allocated: amount,
      unallocated: amount.describe("Not apportioned: no sharing tenant used any."),
    }),
  ),
  total: amount.describe("Allocated to tenants (metered + shared)."),
});
export type CostReport = z.infer<typeof costReportSchema>;
