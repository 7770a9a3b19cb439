/**
 * Dedicated placement (silo on the local target): a database of the tenant's own on the same
 * server, bootstrapped and protected like the shared one, reachable only by the tenant role
 * (and the audit role). On AWS the database would be an instance of its own; the SQL is the same.
 */
import pg from "pg";
import { bootstrapDatabase, grantApplicationAccess } from "../bootstrap.ts";
import { quoteIdent } from "../identifiers.ts";
import { registerTenant } from "../registry.ts";
import {
  inTransaction,
  withClient,
  withDatabaseName,
  withTenantDdlLock,
  type Queryable,
} from "../transaction.ts";
import { generatePassword, placementOf, routingFor, type DriverContext } from "./driverContext.ts";
import { migrateNewSchema, tenantCreationFailed } from "./migrateNewSchema.ts";
import { lockTenant } from "./schemaDriver.ts";
import { ensureTenantRole } from "./tenantRole.ts";
import type { ProvisionResult, TenantDatabaseSpec } from "./types.ts";

/** Creates (or completes) a dedicated-database tenant. */
export async function createDedicatedTenant(
  context: DriverContext,
  spec: TenantDatabaseSpec,
): Promise<ProvisionResult> {
  // Bootstrapping the new database alters cluster-wide roles: serialize with every other
  // tenant DDL on this server for the whole creation.
  return withClient(pg, context.adminUrl, (lock) =>
    withTenantDdlLock(lock, () => createDedicatedTenantLocked(context, spec, lock)),
  );
}

/** `client`: the control-database connection holding the DDL lock (advisory locks are reentrant per session). */
async function createDedicatedTenantLocked(
  context: DriverContext,
  spec: TenantDatabaseSpec,
  client: pg.Client,
): Promise<ProvisionResult> {
  const names = context.names(spec.slug);
  const password = spec.password ?? generatePassword();
  const row = await inTransaction(client, async () => {
    await lockTenant(client, spec.slug);
    const result = await registerTenant(client, {
      ...(spec.tenantId === undefined ? {} : { id: spec.tenantId }),
      slug: spec.slug,
      ...placementOf(context, "dedicated", spec.slug),
      dbConnections: spec.quotas.dbConnections,
      statementTimeoutMs: spec.quotas.statementTimeoutMs,
    });
    await ensureTenantRole(client, names.role, context.sharedSchema, spec.quotas, password);
    return result;
  });
  await createDedicatedDatabase(client, context, names, tenantCreationFailed(spec.slug));
  return { routing: routingFor(context, row), password };
}

/**
 * The tenant's own database (created from template0 when missing), bootstrapped and
 * protected, usable by its role `names.role` (which must exist), with the tenant migrations
 * applied. Idempotent. `client`: a control-database connection holding the tenant DDL lock.
 * Used by a dedicated signup and by a move into a dedicated database.
 */
export async function createDedicatedDatabase(
  client: Queryable,
  context: DriverContext,
  names: { readonly role: string; readonly database: string },
  failure: (reason: string) => Error,
): Promise<void> {
  const exists = await client.query("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", [
    names.database,
  ]);
  if (exists.rows.length === 0) {
    // template0: never connected to, so concurrent creations cannot collide on it.
    await client.query(
      `CREATE DATABASE ${quoteIdent(names.database)} OWNER ${quoteIdent(context.roles.owner)} TEMPLATE template0`,
    );
  }
  const databaseUrl = withDatabaseName(context.adminUrl, names.database);
  await withClient(pg, databaseUrl, (target) =>
    bootstrapDatabase(target, {
      rolePrefix: context.rolePrefix,
      sharedSchema: context.sharedSchema,
      applicationRoles: [names.role],
      registry: false,
      revokePublicConnect: true,
    }),
  );
  await migrateNewSchema(context, { url: databaseUrl, schema: context.sharedSchema }, failure);
}

/**
 * Grants a dedicated tenant's role what it was given at creation in its own database again
 * (CONNECT, USAGE and DML on its schema): privileges revoked out of band come back with any
 * update, as a schema tenant's do.
 */
export async function restoreDedicatedAccess(
  context: DriverContext,
  routing: { readonly database: string; readonly schema: string; readonly role: string },
): Promise<void> {
  await withClient(pg, withDatabaseName(context.adminUrl, routing.database), async (client) => {
    await client.query(
      `GRANT CONNECT ON DATABASE ${quoteIdent(routing.database)} TO ${quoteIdent(routing.role)}`,
    );
    await grantApplicationAccess(client, context.roles.owner, routing.schema, [routing.role]);
  });
}
