/**
 * The cost estimate: usage × the operator's prices (metered), plus each shared resource's
 * cost for the window split among the tenants sharing it in proportion to their usage. Pure:
 * the quantities come from ./costQuery.ts. Every rule applied is stated in the report.
 */
import type { Layer } from "../../contract/modes.ts";
import {
  COST_UNITS,
  MONTH_SECONDS,
  type CostReport,
  type CostUnit,
  type PricingFile,
} from "../../contract/pricing.ts";

export interface TenantUsage {
  readonly slug: string;
  readonly tier: string;
  /** The tenant's mode of each layer (for shared resources). */
  readonly modes: Readonly<Partial<Record<Layer, string>>>;
  readonly usage: Readonly<Record<CostUnit, number>>;
}

export interface CostInput {
  readonly from: Date;
  readonly to: Date;
  readonly pricingFile: string;
  readonly pricing: PricingFile;
  readonly tenants: readonly TenantUsage[];
}

type TenantCost = CostReport["tenants"][number];

export function estimateCost(input: CostInput): CostReport {
  const { pricing } = input;
  const windowSeconds = (input.to.getTime() - input.from.getTime()) / 1000;
  const tenants = new Map<string, TenantCost>(
    input.tenants.map((t) => [
      t.slug,
      {
        slug: t.slug,
        tier: t.tier,
        usage: { ...t.usage },
        metered: meteredCosts(t.usage, pricing),
        shared: [],
        total: 0,
      },
    ]),
  );
  const rules = [
    `metered: quantity × price / per, charged to the tenant that used it`,
    `storageGibMonths: each collected 5-minute bucket (or whole day, past 14 days) counts the ` +
      `latest storage sample at or before it for the bucket's length; a month is 30 days`,
  ];
  const shared: CostReport["shared"] = [];
  for (const [name, resource] of Object.entries(pricing.shared)) {
    const windowCost = (resource.monthly * windowSeconds) / MONTH_SECONDS;
    const members = input.tenants.filter((t) =>
      resource.modes.includes(t.modes[resource.layer] ?? ""),
    );
    const total = members.reduce((sum, t) => sum + t.usage[resource.apportionBy], 0);
    const sharedBy = `${resource.layer} in ${resource.modes.join(", ")}`;
    rules.push(
      `${name}: ${resource.monthly} ${pricing.currency}/month × ${hours(windowSeconds)} h / 720 h = ` +
        `${round(windowCost)} ${pricing.currency}, split among the tenants whose ${sharedBy} ` +
        `in proportion to their ${resource.apportionBy} in the window (share = the tenant's ` +
        `${resource.apportionBy} / all of theirs); unallocated when none of them used any`,
    );
    let allocated = 0;
    if (total > 0) {
      for (const member of members) {
        const basis = member.usage[resource.apportionBy];
        const share = basis / total;
        const cost = windowCost * share;
        allocated += cost;
        tenants.get(member.slug)!.shared.push({
          resource: name,
          basis,
          share: round(share),
          cost: round(cost),
        });
      }
    }
    shared.push({
      resource: name,
      windowCost: round(windowCost),
      apportionBy: resource.apportionBy,
      sharedBy,
      tenants: members.length,
      allocated: round(allocated),
      unallocated: round(windowCost - allocated),
    });
  }
  let grand = 0;
  for (const tenant of tenants.values()) {
    const sum =
      tenant.metered.reduce((s, m) => s + m.cost, 0) +
      tenant.shared.reduce((s, m) => s + m.cost, 0);
    tenant.total = round(sum);
    grand += sum;
  }
  return {
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    currency: pricing.currency,
    pricingFile: input.pricingFile,
    rules,
    tenants: [...tenants.values()].sort((a, b) => b.total - a.total || (a.slug < b.slug ? -1 : 1)),
    shared,
    total: round(grand),
  };
}

function meteredCosts(
  usage: Readonly<Record<CostUnit, number>>,
  pricing: PricingFile,
): TenantCost["metered"] {
  const metered: TenantCost["metered"] = [];
  for (const unit of COST_UNITS) {
    const price = pricing.prices[unit];
    if (!price) continue;
    metered.push({
      unit,
      quantity: usage[unit],
      price: price.price,
      per: price.per,
      cost: round((usage[unit] * price.price) / price.per),
    });
  }
  return metered;
}

function hours(seconds: number): number {
  return round(seconds / 3600);
}

/** Amounts and shares to 1e-6 (floating-point noise below that is not information). */
export function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
