/**
 * Planning many tenants. A tenant's resource list (type, name, parent) depends only on its
 * shape — target, layer modes, encryption, region and federation protocol — and on its slug,
 * which every name derives from. So the tenant program runs once per shape, for a stand-in
 * tenant whose slug is a marker, and each tenant of that shape gets the list with the marker
 * replaced by its slug. `exact` runs the program for every tenant instead; the tests check
 * both agree on every example tenant and on random ones.
 */
import type { ResolvedTenant } from "../../catalog/index.ts";
import type { Target } from "../../contract/index.ts";
import type { DeclaredResource } from "./mockRuntime.ts";
import { planTenantResources } from "./planTenant.ts";

export type PlanStrategy = "per-shape" | "exact";

/** Stands in for the slug while planning a shape; appears in no fixed part of any name. */
export const SHAPE_SLUG = "zz-shape-zz";

/** Everything besides the slug that decides which resources a tenant stack declares. */
export function shapeKey(tenant: ResolvedTenant, target: Target): string {
  return JSON.stringify({
    target,
    layers: tenant.layers,
    encryption: tenant.encryption,
    region: target === "aws" ? tenant.region : null,
    federation: tenant.federation?.protocol ?? null,
  });
}

function asShape(tenant: ResolvedTenant): ResolvedTenant {
  return { ...tenant, slug: SHAPE_SLUG, tags: { ...tenant.tags, tenant: SHAPE_SLUG } };
}

function withSlug(resources: readonly DeclaredResource[], slug: string): DeclaredResource[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name.replaceAll(SHAPE_SLUG, slug),
    parent: r.parent === null ? null : r.parent.replaceAll(SHAPE_SLUG, slug),
  }));
}

export interface PlanCatalogOptions {
  /** @default "per-shape" */
  readonly strategy?: PlanStrategy;
  /** Called after each program run (progress reporting). */
  readonly onRun?: (runs: number) => void;
}

/** Resource lists of every tenant, by slug, each sorted by name then type. */
export async function planCatalogResources(
  tenants: readonly ResolvedTenant[],
  target: Target,
  options: PlanCatalogOptions = {},
): Promise<Map<string, DeclaredResource[]>> {
  const plans = new Map<string, DeclaredResource[]>();
  let runs = 0;
  if (options.strategy === "exact") {
    for (const tenant of tenants) {
      plans.set(tenant.slug, await planTenantResources(tenant, target));
      options.onRun?.(++runs);
    }
    return plans;
  }
  const shapes = new Map<string, DeclaredResource[]>();
  for (const tenant of tenants) {
    const key = shapeKey(tenant, target);
    let shape = shapes.get(key);
    if (!shape) {
      shape = await planTenantResources(asShape(tenant), target);
      shapes.set(key, shape);
      options.onRun?.(++runs);
    }
    plans.set(tenant.slug, sortByName(withSlug(shape, tenant.slug)));
  }
  return plans;
}

function sortByName(resources: DeclaredResource[]): DeclaredResource[] {
  return resources.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0,
  );
}
