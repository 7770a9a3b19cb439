/**
 * Pool placement: the tenant is a row in the registry; its data lives in the shared schema
 * next to every other pooled tenant's, separated by RLS. Onboarding is one transaction.
 */
import pg from "pg";
import { findTenant, registerTenant, updateTenantQuotas } from "../registry.ts";
import { inTransaction, withClient, withPooledClient } from "../transaction.ts";
import { placementOf, routingFor, type DriverContext } from "./driverContext.ts";
import type { ProvisionResult, TenantDatabaseSpec } from "./types.ts";

/** Registers a pooled tenant (idempotent). */
export async function createPooledTenant(
  context: DriverContext,
  spec: TenantDatabaseSpec,
): Promise<ProvisionResult> {
  return withPooledClient(pg, context.adminUrl, (client) =>
    inTransaction(client, async () => {
      const row = await registerTenant(client, {
        ...(spec.tenantId === undefined ? {} : { id: spec.tenantId }),
        slug: spec.slug,
        ...placementOf(context, "pool", spec.slug),
        dbConnections: spec.quotas.dbConnections,
        statementTimeoutMs: spec.quotas.statementTimeoutMs,
      });
      return { routing: routingFor(context, row) };
    }),
  );
}

/**
 * Records new quotas. Pooled tenants share the application role, so the database cannot
 * enforce them per tenant: the application applies them (pool size per tenant from
 * `routing.quotas.dbConnections`, `withTenant(..., { statementTimeoutMs })`).
 */
export async function updatePooledTenant(
  context: DriverContext,
  spec: TenantDatabaseSpec,
): Promise<ProvisionResult> {
  return withClient(pg, context.adminUrl, async (client) => {
    await assertRegisteredAs(client, spec.slug, "pool");
    const row = await updateTenantQuotas(client, spec.slug, spec.quotas);
    return { routing: routingFor(context, row) };
  });
}

/** Throws unless the tenant is registered with `mode`. */
export async function assertRegisteredAs(
  client: pg.Client,
  slug: string,
  mode: TenantDatabaseSpec["mode"],
): Promise<void> {
  const row = await findTenant(client, slug);
  if (!row) throw new Error(`tenant ${slug} is not registered; create it first`);
  if (row.mode !== mode) {
    throw new Error(
      `tenant ${slug} is registered with database mode ${row.mode}, not ${mode}; a mode change replaces the tenant database (delete, then create)`,
    );
  }
}
