/**
 * Rules that span fields or files: a tenant against its tier, and tenants against each
 * other. They return path + message pairs; the loader locates them in the YAML, the
 * service turns them into problem+json — the same rules for catalog files and API calls.
 */
import { didYouMean } from "./diagnostics.ts";
import {
  assertNever,
  LAYERS,
  type DatabaseMode,
  type Encryption,
  type IdentityMode,
  type StorageMode,
} from "../contract/modes.ts";
import type { TenantFile, TiersFile } from "./schema.ts";

/** Tag keys the platform sets itself on every resource; catalog `tags` may not use them. */
export const SYSTEM_TAG_KEYS: readonly string[] = ["tenant", "tier", "cost-center", "managed-by"];

export interface RuleViolation {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** Point at the key rather than its value (e.g. a field that should not be there). */
  readonly key?: boolean;
}

/** Problems of one tenant against the tiers. Empty when the tenant is consistent. */
export function tenantViolations(tenant: TenantFile, tiers: TiersFile): RuleViolation[] {
  // Own keys only: "__proto__", "constructor" or "toString" are not tiers.
  const tier = Object.hasOwn(tiers.tiers, tenant.tier) ? tiers.tiers[tenant.tier] : undefined;
  if (!tier) {
    const names = Object.keys(tiers.tiers);
    return [
      {
        path: ["tier"],
        message: `unknown tier "${tenant.tier}"${didYouMean(tenant.tier, names)}; tiers are ${names.join(", ")}`,
      },
    ];
  }
  const violations: RuleViolation[] = [];
  for (const layer of LAYERS) {
    const mode = tenant.overrides?.[layer];
    if (mode === undefined || mode === tier.layers[layer]) continue;
    const allowed: readonly string[] = tier.allowedOverrides?.[layer] ?? [];
    if (!allowed.includes(mode)) {
      violations.push({
        path: ["overrides", layer],
        message:
          `tier "${tenant.tier}" does not allow ${layer} "${mode}" ` +
          `(allowed: ${allowed.length ? allowed.join(", ") : `only the tier's "${tier.layers[layer]}"`}); ` +
          `choose another tier or add it to tiers.${tenant.tier}.allowedOverrides.${layer}`,
      });
    }
  }
  for (const key of Object.keys(tenant.tags ?? {})) {
    if (SYSTEM_TAG_KEYS.includes(key)) {
      violations.push({
        path: ["tags", key],
        key: true,
        message: `"${key}" is set by the platform; remove it`,
      });
    }
  }
  const identity = tenant.overrides?.identity ?? tier.layers.identity;
  const federation = federationViolation(identity, Boolean(tenant.federation));
  if (federation) violations.push(federation);
  const encryption = tenant.encryption ?? tier.encryption;
  const storage = tenant.overrides?.storage ?? tier.layers.storage;
  const database = tenant.overrides?.database ?? tier.layers.database;
  if (!tenantKeyIsUsed(encryption, storage, database)) {
    violations.push({
      path: [tenant.encryption ? "encryption" : "tier"],
      message:
        'encryption "dedicated" needs storage "bucket" or database "dedicated" to use the tenant key',
    });
  }
  const region = tenant.region ?? tiers.defaults.region;
  if (tier.regions && !tier.regions.includes(region)) {
    violations.push({
      path: [tenant.region ? "region" : "tier"],
      message: `region "${region}" is not offered by tier "${tenant.tier}" (regions: ${tier.regions.join(", ")})`,
    });
  }
  if (tenant.dataResidency && !regionIsIn(region, tenant.dataResidency)) {
    violations.push({
      path: [tenant.region ? "region" : "dataResidency"],
      message: `region "${region}" is outside data residency "${tenant.dataResidency}"`,
    });
  }
  return violations;
}

/** Identity `federated` needs a federation; any other identity mode may not have one. */
function federationViolation(
  identity: IdentityMode,
  hasFederation: boolean,
): RuleViolation | undefined {
  switch (identity) {
    case "federated":
      return hasFederation
        ? undefined
        : {
            path: ["federation"],
            message: "is required because identity is federated (add protocol oidc or saml)",
          };
    case "shared":
      return hasFederation
        ? {
            path: ["federation"],
            key: true,
            message: `is set but identity is "${identity}"; remove it or override identity to federated`,
          }
        : undefined;
    default:
      return assertNever(identity, "identity mode");
  }
}

/** False when the tenant has a key of its own that neither its storage nor its database uses. */
function tenantKeyIsUsed(
  encryption: Encryption,
  storage: StorageMode,
  database: DatabaseMode,
): boolean {
  switch (encryption) {
    case "shared":
      return true;
    case "dedicated":
      return storageUsesTenantKey(storage) || databaseUsesTenantKey(database);
    default:
      return assertNever(encryption, "encryption");
  }
}

/** A bucket of the tenant's own is encrypted with its key; the shared bucket is not. */
function storageUsesTenantKey(storage: StorageMode): boolean {
  switch (storage) {
    case "bucket":
      return true;
    case "prefix":
      return false;
    default:
      return assertNever(storage, "storage mode");
  }
}

/** A dedicated database is encrypted with the tenant's key; shared placements are not. */
function databaseUsesTenantKey(database: DatabaseMode): boolean {
  switch (database) {
    case "dedicated":
      return true;
    case "pool":
    case "schema":
      return false;
    default:
      return assertNever(database, "database mode");
  }
}

/** AWS region prefixes per geography (us-gov-* counts as us). */
function regionIsIn(region: string, residency: string): boolean {
  return region.split("-")[0] === residency;
}
