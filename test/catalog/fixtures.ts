/** In-memory catalogs for tests: a valid tiers file and helpers to add tenant files. */
import type { CatalogFile } from "../../catalog/index.ts";

export const TIERS_YAML = `defaults:
  region: us-east-1
tiers:
  free:
    layers:
      database: pool
      storage: prefix
      compute: pool
      identity: shared
  pro:
    layers:
      database: schema
      storage: bucket
      compute: namespace
      identity: shared
    allowedOverrides:
      database: [dedicated]
      identity: [federated]
    regions: [us-east-1, eu-west-1]
`;

export function catalogFiles(tenants: Record<string, string>, tiers = TIERS_YAML): CatalogFile[] {
  return [
    { path: "tenants/tiers.yaml", text: tiers },
    ...Object.entries(tenants).map(([name, text]) => ({ path: `tenants/${name}`, text })),
  ];
}
