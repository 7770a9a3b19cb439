/**
 * Resolution: catalog → resolved tenant specs. Tier defaults + per-layer overrides give the
 * final mode of every layer; quotas fall back tenant → tier → catalog defaults → built-ins.
 * Pure and deterministic: components, the service and the diffs all consume its output,
 * whose shape is the contract's (contract/resolvedTenant.ts).
 */
import type { Catalog } from "./loader.ts";
import {
  isolationOf,
  LAYERS,
  type Isolation,
  type Layer,
  type LayerModes,
} from "../contract/modes.ts";
import type { ResolvedTenant } from "../contract/resolvedTenant.ts";
import type { Quotas, TenantFile, TiersFile } from "./schema.ts";

/** Quotas used when neither the tenant, its tier nor the catalog defaults set one. */
export const BUILTIN_QUOTAS: Required<Quotas> = {
  cpu: "1",
  memory: "1Gi",
  dbConnections: 10,
  statementTimeoutMs: 10_000,
  requestsPerSecond: 50,
};

/** Resolves one tenant against the tiers. The tenant must have passed `tenantViolations`. */
export function resolveTenant(tenant: TenantFile, tiers: TiersFile): ResolvedTenant {
  const tier = Object.hasOwn(tiers.tiers, tenant.tier) ? tiers.tiers[tenant.tier] : undefined;
  if (!tier) throw new Error(`tenant ${tenant.slug}: unknown tier "${tenant.tier}"`);
  const layers: LayerModes = { ...tier.layers, ...stripUndefined(tenant.overrides ?? {}) };
  const encryption = tenant.encryption ?? tier.encryption;
  const isolation = Object.fromEntries(
    LAYERS.map((layer) => [layer, isolationOf(layer, layers[layer], encryption)]),
  ) as Record<Layer, Isolation>;
  const overridden = LAYERS.filter(
    (layer) =>
      tenant.overrides?.[layer] !== undefined && tenant.overrides[layer] !== tier.layers[layer],
  );
  const quotas: Required<Quotas> = {
    ...BUILTIN_QUOTAS,
    ...stripUndefined(tiers.defaults.quotas ?? {}),
    ...stripUndefined(tier.quotas ?? {}),
    ...stripUndefined(tenant.quotas ?? {}),
  };
  const costCenter = tenant.costCenter ?? tiers.defaults.costCenter;
  return {
    slug: tenant.slug,
    name: tenant.name,
    tier: tenant.tier,
    lifecycle: tenant.lifecycle,
    region: tenant.region ?? tiers.defaults.region,
    ...(tenant.dataResidency ? { dataResidency: tenant.dataResidency } : {}),
    layers,
    isolation,
    overridden,
    encryption,
    quotas,
    costCenter,
    tags: {
      ...tenant.tags,
      tenant: tenant.slug,
      tier: tenant.tier,
      "cost-center": costCenter,
      "managed-by": "tenancy",
    },
    ...(tenant.federation ? { federation: tenant.federation } : {}),
  };
}

/** Resolves every tenant of a validated catalog, in slug order. */
export function resolveCatalog(catalog: Catalog): ResolvedTenant[] {
  return catalog.tenants.map(({ spec }) => resolveTenant(spec, catalog.tiers));
}

function stripUndefined<T extends object>(
  value: T,
): { [K in keyof T]-?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]-?: Exclude<T[K], undefined>;
  };
}
