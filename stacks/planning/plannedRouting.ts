/** The routing record the `db/` drivers return for a placement, as planned placeholders. */
import type { InDatabaseRouting } from "../../components/database/inDatabaseProvisioner.ts";

export function plannedRouting(
  slug: string,
  mode: string,
  host: string,
  port: number,
): InDatabaseRouting {
  const id = slug.replace(/-/g, "_");
  return {
    tenantId: `planned-${slug}`,
    host,
    port,
    database: mode === "dedicated" ? `tenant_${id}` : "app",
    schema: mode === "pool" ? "app" : `tenant_${id}`,
    role: mode === "pool" ? "tenancy_app" : `tenancy_${id}`,
  };
}
