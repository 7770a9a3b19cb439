export { compareDiagnostics, formatDiagnostic, type Diagnostic } from "./diagnostics.ts";
export { catalogJsonSchemas, SCHEMA_FILES } from "./jsonSchema.ts";
export {
  loadCatalog,
  validateCatalogFiles,
  TIERS_FILE,
  type Catalog,
  type CatalogFile,
  type CatalogTenant,
  type LoadResult,
} from "./loader.ts";
// The modes are the contract's (contract/modes.ts); the catalog's API passes them on.
export * from "../contract/modes.ts";
export type { ResolvedTenant } from "../contract/resolvedTenant.ts";
export { BUILTIN_QUOTAS, resolveCatalog, resolveTenant } from "./resolve.ts";
export { SYSTEM_TAG_KEYS, tenantViolations, type RuleViolation } from "./rules.ts";
export {
  tenantFileSchema,
  tiersFileSchema,
  type Federation,
  type LifecycleState,
  type Quotas,
  type TenantFile,
  type Tier,
  type TiersFile,
} from "./schema.ts";
export { RESERVED_SLUGS, SLUG_MAX_LENGTH, SLUG_MIN_LENGTH, slugProblem } from "../contract/slug.ts";
export { loadPricingFile, validatePricingText, type PricingLoad } from "./pricing.ts";
