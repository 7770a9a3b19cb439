/**
 * The contract across the Automation API seam: the control plane runs `stacks/main.ts` by
 * path, so nothing but this module ties the two sides together. Imports nothing of ours.
 */
export {
  assertNever,
  ENCRYPTION,
  isolationOf,
  LAYERS,
  MODES,
  needsStack,
  type ComputeMode,
  type DatabaseMode,
  type Encryption,
  type IdentityMode,
  type Isolation,
  type Layer,
  type LayerModes,
  type StorageMode,
} from "./modes.ts";
export {
  parseResolvedTenant,
  resolvedQuotasSchema,
  resolvedTenantSchema,
  type ResolvedQuotas,
  type ResolvedTenant,
} from "./resolvedTenant.ts";
export {
  databaseRoutingFrom,
  databaseRoutingSchema,
  parseRoutingRecord,
  routingRecordSchema,
  type DatabaseRouting,
  type RoutingRecord,
} from "./routing.ts";
export {
  RESERVED_SLUGS,
  SLUG_MAX_LENGTH,
  SLUG_MIN_LENGTH,
  SLUG_PATTERN,
  slugProblem,
  slugSchema,
} from "./slug.ts";
export {
  CONFIG_NAMES,
  CONFIG_NAMESPACE,
  configKey,
  isPlatformStack,
  isTarget,
  platformStackFor,
  slugOfStack,
  stackNameOf,
  TARGETS,
  TENANT_STACK_PREFIX,
  type ConfigName,
  type Target,
} from "./stacks.ts";
export {
  DATA_RESIDENCIES,
  federationSchema,
  LIFECYCLE_STATES,
  regionSchema,
  type Federation,
  type LifecycleState,
} from "./tenantFields.ts";
