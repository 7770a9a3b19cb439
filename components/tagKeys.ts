/**
 * The tag and label keys of tenant resources, as plain data: the policy pack and the offline
 * fleet diff read them without loading the Pulumi SDK (which ./tagging.ts needs for the stack
 * transformation). Nothing here imports anything.
 */

/** Tag keys every resource of a tenant stack carries. */
export const REQUIRED_TAG_KEYS = ["tenant", "tier", "cost-center", "managed-by"] as const;

export const TENANT_LABEL = "tenancy.io/tenant";
export const TIER_LABEL = "tenancy.io/tier";
export const COST_CENTER_LABEL = "tenancy.io/cost-center";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

/** Label keys every Kubernetes object of a tenant stack carries. */
export const REQUIRED_LABEL_KEYS = [
  TENANT_LABEL,
  TIER_LABEL,
  COST_CENTER_LABEL,
  MANAGED_BY_LABEL,
] as const;
