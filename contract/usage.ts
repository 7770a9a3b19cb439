/**
 * Per-tenant usage: the metric names, the tier budgets of `tiers.yaml`, and the shapes the
 * usage API answers with. The catalog (budgets), the control plane (collection, API,
 * `--fit`) and the CLI read them from here; nobody keeps a copy.
 */
import { z } from "zod";

/** Counters add up over a window; gauges take their largest value. */
export const USAGE_COUNTERS = [
  "statements",
  "statementSeconds",
  "rowsRead",
  "rowsWritten",
  "transactions",
  "apiCalls",
  "operations",
] as const;
const GAUGES = ["connectionsNow", "connectionsPeak", "storageRows", "storageBytes"] as const;

/** Series kept per tenant and 5-minute bucket (and rolled up per day). */
export const USAGE_METRICS = [...USAGE_COUNTERS, ...GAUGES] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];
export const usageMetricSchema = z.enum(USAGE_METRICS);
export const COUNTER_METRICS: readonly UsageMetric[] = USAGE_COUNTERS;

/** Bucket widths the API serves. */
export const USAGE_STEPS = { "5m": 300, "1h": 3600, "1d": 86400 } as const;
export type UsageStep = keyof typeof USAGE_STEPS;
export const usageStepSchema = z.enum(Object.keys(USAGE_STEPS) as [UsageStep, ...UsageStep[]]);

/** Most points one usage request may return (a longer range needs a larger step). */
export const MAX_USAGE_POINTS = 2016;
/** Retention: 5-minute buckets for 14 days, daily rollups for 13 months. */
export const FIVE_MINUTE_RETENTION_DAYS = 14;
export const DAILY_RETENTION_MONTHS = 13;

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
};

/** `"10Gi"`, `"500MB"` or a number of bytes. */
export const byteSizeSchema = z
  .union([
    z.int().min(0),
    z
      .string()
      .regex(
        /^\d+(?:\.\d+)?(?:B|Ki|Mi|Gi|Ti|KB|MB|GB|TB)?$/,
        'must be a size such as "10Gi" or "500MB"',
      ),
  ])
  .transform((value) => {
    if (typeof value === "number") return value;
    const [, amount, unit] = /^([\d.]+)(.*)$/.exec(value)!;
    return Math.round(Number(amount) * BYTE_UNITS[unit ?? ""]!);
  });

/**
 * A tier's usage budget: what a tenant of the tier is expected to stay under. A tenant above
 * a budget for a sustained window (see `tenancy usage --fit`) is a candidate for a tier move.
 * Rates are per minute, averaged over each 5-minute bucket.
 */
export const usageBudgetsSchema = z
  .strictObject({
    statementsPerMinute: z.number().positive().optional(),
    statementSecondsPerMinute: z
      .number()
      .positive()
      .optional()
      .describe("Seconds of statement time per minute (client-measured)."),
    rowsWrittenPerMinute: z.number().positive().optional(),
    apiCallsPerMinute: z.number().positive().optional(),
    peakConnections: z.int().positive().optional(),
    storageBytes: byteSizeSchema.optional().describe('Stored data, e.g. "10Gi".'),
  })
  .describe("Usage budgets of the tier; a tenant above one for a sustained window should move.");
export type UsageBudgets = z.infer<typeof usageBudgetsSchema>;
export type BudgetName = keyof UsageBudgets;
export const BUDGET_NAMES = Object.keys(usageBudgetsSchema.shape) as BudgetName[];

/** The value a budget is compared with, from one bucket's point. */
export function budgetValue(name: BudgetName, point: UsagePoint, bucketSeconds: number): number {
  const perMinute = (value: number | null) => ((value ?? 0) * 60) / bucketSeconds;
  switch (name) {
    case "statementsPerMinute":
      return perMinute(point.statements);
    case "statementSecondsPerMinute":
      return perMinute(point.statementSeconds);
    case "rowsWrittenPerMinute":
      return perMinute(point.rowsWritten);
    case "apiCallsPerMinute":
      return perMinute(point.apiCalls);
    case "peakConnections":
      return point.connectionsPeak ?? 0;
    case "storageBytes":
      return point.storageBytes ?? 0;
  }
}

const nullableNumber = z.number().nullable();

/** One bucket of a tenant's usage; null means "not collected", never zero. */
export const usagePointSchema = z.object({
  at: z.string().describe("Start of the bucket (ISO 8601)."),
  tier: z.string().nullable().describe("The tenant's tier when the bucket was collected."),
  statements: nullableNumber,
  statementSeconds: nullableNumber,
  rowsRead: nullableNumber,
  rowsWritten: nullableNumber,
  transactions: nullableNumber,
  apiCalls: nullableNumber,
  operations: nullableNumber,
  connectionsNow: nullableNumber,
  connectionsPeak: nullableNumber,
  storageRows: nullableNumber,
  storageBytes: nullableNumber,
  quotaUsed: z.record(z.string(), z.string()).nullable(),
});
export type UsagePoint = z.infer<typeof usagePointSchema>;

export const usageGapSchema = z.object({
  at: z.string(),
  source: z.string().describe("What could not be read (e.g. shared-database)."),
  reason: z.string(),
});
export type UsageGap = z.infer<typeof usageGapSchema>;

export const usageSeriesSchema = z.object({
  tenant: z.string(),
  from: z.string(),
  to: z.string(),
  step: usageStepSchema,
  points: z.array(usagePointSchema),
  gaps: z.array(usageGapSchema),
});
export type UsageSeries = z.infer<typeof usageSeriesSchema>;

export const usageTopSchema = z.object({
  metric: usageMetricSchema,
  from: z.string(),
  to: z.string(),
  tenants: z.array(z.object({ slug: z.string(), tier: z.string(), value: z.number() })),
});
export type UsageTop = z.infer<typeof usageTopSchema>;

export const budgetBreachSchema = z.object({
  budget: z.enum(BUDGET_NAMES as [BudgetName, ...BudgetName[]]),
  limit: z.number(),
  /** Longest run of consecutive buckets above the limit, in minutes. */
  sustainedMinutes: z.number(),
  /** The buckets of that run: the series that crossed. */
  evidence: z.array(z.object({ at: z.string(), value: z.number() })),
});
export type BudgetBreach = z.infer<typeof budgetBreachSchema>;

export const tierFitSchema = z.object({
  from: z.string(),
  to: z.string(),
  sustainedMinutes: z.number(),
  tenants: z.array(
    z.object({
      slug: z.string(),
      tier: z.string(),
      breaches: z.array(budgetBreachSchema),
      suggestedTier: z
        .string()
        .nullable()
        .describe(
          "The first tier in tiers.yaml order whose budgets the tenant fits; null if none.",
        ),
    }),
  ),
});
export type TierFit = z.infer<typeof tierFitSchema>;
