/**
 * Previews many tenants with bounded parallelism: what a change of the catalog (or of the
 * code) does to each tenant's stack. A failed preview is reported for its tenant, not thrown.
 */
import { needsStack, type ResolvedTenant } from "../../catalog/index.ts";
import { toStackError } from "./errors.ts";
import type { TenantPreview } from "./previewSummary.ts";
import { stackNameOf } from "../../contract/index.ts";
import type { TenantStackRunner } from "./tenantStacks.ts";

export async function previewTenants(
  runner: Pick<TenantStackRunner, "preview">,
  tenants: readonly ResolvedTenant[],
  parallelism = 4,
): Promise<TenantPreview[]> {
  const results: TenantPreview[] = new Array<TenantPreview>(tenants.length);
  let next = 0;
  const work = async () => {
    while (next < tenants.length) {
      const index = next++;
      const tenant = tenants[index]!;
      try {
        results[index] = await runner.preview(tenant);
      } catch (error) {
        results[index] = {
          tenant: tenant.slug,
          stack: stackNameOf(tenant.slug),
          changes: [],
          counts: { create: 0, update: 0, replace: 0, delete: 0, same: 0 },
          error: toStackError(stackNameOf(tenant.slug), error).reason,
        };
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(parallelism, tenants.length)) }, work),
  );
  return results;
}

/** Tenants that have a stack of their own (fully pooled tenants are registrations only). */
export function stackTenants(tenants: readonly ResolvedTenant[]): ResolvedTenant[] {
  return tenants.filter((t) => needsStack(t) && t.lifecycle !== "offboarding");
}
