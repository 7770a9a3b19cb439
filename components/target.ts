/**
 * Where a tenant stack deploys. `aws` provisions every layer; `local` provisions only the
 * database layer against a local PostgreSQL server and reports the cloud layers as not
 * provisioned (never faked).
 */
export const TARGETS = ["aws", "local"] as const;
export type Target = (typeof TARGETS)[number];

/** Layers that exist on every target; the others need a cloud. */
export const LOCAL_LAYERS = ["database"] as const;
