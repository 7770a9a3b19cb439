/**
 * Tenants for the usage tests on a test control plane: pooled tenants signed up over the API,
 * a tenant of another mode made by the driver and registered in the control plane, a pool
 * logged in as the application role, and the sampler's cycle options. `rolePrefix` is the
 * plane's (the file's database name).
 */
import pg from "pg";
import type { UsageCycleOptions } from "../../control-plane/usage/usageCycle.ts";
import { createTenantDatabaseDriver } from "../../db/drivers/index.ts";
import type { DatabaseMode, TenantRouting } from "../../db/drivers/types.ts";
import { loginUrl } from "../db/fixtures.ts";
import type { TestControlPlane } from "../support/controlPlane.ts";

/** Signs free tenants up over the API; their tenant ids by slug. */
export async function signUpFree(
  plane: TestControlPlane,
  slugs: readonly string[],
): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const slug of slugs) {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: slug, tier: "free" },
    });
    const body = (await response.json()) as {
      tenant: { routing: { database: { tenantId: string } } };
    };
    ids[slug] = body.tenant.routing.database.tenantId;
  }
  return ids;
}

/**
 * A tenant made by the driver (quotas: 5 connections, 10 s) and registered in the control
 * plane as active, without resolved layers (its modes come from its tier).
 */
export async function driverTenant(
  plane: TestControlPlane,
  rolePrefix: string,
  tenant: { slug: string; name: string; tier: string; mode: DatabaseMode; password: string },
): Promise<TenantRouting> {
  const driver = createTenantDatabaseDriver({
    adminUrl: plane.sharedUrl,
    rolePrefix,
    databasePrefix: `${rolePrefix}_db`,
  });
  const { routing } = await driver.create({
    slug: tenant.slug,
    mode: tenant.mode,
    quotas: { dbConnections: 5, statementTimeoutMs: 10_000 },
    password: tenant.password,
  });
  await plane.pool.query(
    `INSERT INTO control_plane.tenants (slug, name, tier, source, spec, resolved, state)
     VALUES ($1, $2, $3, 'api', '{}', '{}', 'active')`,
    [tenant.slug, tenant.name, tenant.tier],
  );
  return routing;
}

/** A pool on the shared database logged in as the application role (given a password here). */
export async function appRolePool(
  plane: TestControlPlane,
  rolePrefix: string,
  max: number,
): Promise<pg.Pool> {
  const password = "app-password-0123456789";
  await plane.pool.query(`ALTER ROLE ${rolePrefix}_app PASSWORD '${password}'`);
  return new pg.Pool({
    connectionString: loginUrl(plane.sharedUrl, `${rolePrefix}_app`, password),
    max,
  });
}

/** The sampler's cycle on the plane's databases, sizing storage on every cycle. */
export function usageCycleOptions(plane: TestControlPlane, rolePrefix: string): UsageCycleOptions {
  return {
    controlDatabaseUrl: plane.controlUrl,
    sharedDatabaseUrl: plane.sharedUrl,
    rolePrefix,
    storageEverySeconds: 0,
  };
}
