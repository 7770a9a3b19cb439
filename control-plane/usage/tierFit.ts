/**
 * Tier fit: which tenants exceed their tier's usage budgets for a sustained window, with the
 * buckets that crossed as evidence, and the first tier (in tiers.yaml order) whose budgets they
 * fit — the input to a tier move. A tenant is judged against its current tier over the whole
 * window; its series continue across a tier move (they are kept by tenant, not by tier).
 */
import type { TiersFile } from "../../catalog/index.ts";
import {
  BUDGET_NAMES,
  budgetValue,
  type BudgetBreach,
  type BudgetName,
  type UsageBudgets,
  type UsagePoint,
} from "../../contract/usage.ts";
import { BUCKET_SECONDS } from "./buckets.ts";

export interface TenantFit {
  readonly slug: string;
  readonly tier: string;
  readonly breaches: BudgetBreach[];
  readonly suggestedTier: string | null;
}

/** Budgets of every tier that declares some, by tier name. */
export function tierBudgets(tiers: TiersFile): Map<string, UsageBudgets> {
  const budgets = new Map<string, UsageBudgets>();
  for (const [name, tier] of Object.entries(tiers.tiers)) {
    if (tier.budgets && Object.keys(tier.budgets).length > 0) budgets.set(name, tier.budgets);
  }
  return budgets;
}

/**
 * Longest run of consecutive buckets above `limit`, when it lasts at least `sustained`
 * buckets. Points must be consecutive 5-minute buckets (nulls are "not collected": they
 * break a run).
 */
export function longestBreach(
  points: readonly UsagePoint[],
  name: BudgetName,
  limit: number,
  sustained: number,
): BudgetBreach | undefined {
  let best: { at: string; value: number }[] = [];
  let run: { at: string; value: number }[] = [];
  for (const point of points) {
    const collected = point.tier !== null;
    const value = collected ? budgetValue(name, point, BUCKET_SECONDS) : 0;
    if (collected && value > limit) {
      run.push({ at: point.at, value: round(value) });
      if (run.length > best.length) best = run;
    } else run = [];
  }
  if (best.length < sustained) return undefined;
  return {
    budget: name,
    limit,
    sustainedMinutes: (best.length * BUCKET_SECONDS) / 60,
    evidence: best,
  };
}

/** The largest value held for `sustained` consecutive buckets (max over windows of the min). */
export function sustainedPeak(
  points: readonly UsagePoint[],
  name: BudgetName,
  sustained: number,
): number {
  let peak = 0;
  for (let i = 0; i + sustained <= points.length; i++) {
    let low = Infinity;
    for (let j = i; j < i + sustained; j++) {
      const point = points[j]!;
      low = Math.min(low, point.tier === null ? 0 : budgetValue(name, point, BUCKET_SECONDS));
    }
    peak = Math.max(peak, low);
  }
  return peak;
}

/** Judges one tenant's 5-minute series against its tier, and finds a tier it fits. */
export function fitTenant(
  slug: string,
  tier: string,
  points: readonly UsagePoint[],
  tiers: TiersFile,
  sustained: number,
): TenantFit {
  const budgets = tierBudgets(tiers);
  const own = budgets.get(tier) ?? {};
  const breaches: BudgetBreach[] = [];
  for (const name of BUDGET_NAMES) {
    const limit = own[name];
    if (limit === undefined) continue;
    const breach = longestBreach(points, name, limit, sustained);
    if (breach) breaches.push(breach);
  }
  let suggestedTier: string | null = null;
  if (breaches.length > 0) {
    const peaks = new Map(
      BUDGET_NAMES.map((name) => [name, sustainedPeak(points, name, sustained)]),
    );
    for (const candidate of Object.keys(tiers.tiers)) {
      if (candidate === tier) continue;
      const limits = budgets.get(candidate) ?? {};
      if (
        BUDGET_NAMES.every((name) => limits[name] === undefined || peaks.get(name)! <= limits[name])
      ) {
        suggestedTier = candidate;
        break;
      }
    }
  }
  return { slug, tier, breaches, suggestedTier };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
