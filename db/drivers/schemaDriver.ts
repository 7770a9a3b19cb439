/**
 * Schema placement (bridge): a schema `tenant_<slug>` in the shared database, owned by the
 * owner role, usable only by the tenant's own login role, which has a CONNECTION LIMIT and a
 * statement_timeout. Tenant migrations are applied and the tables protected.
 */
import pg from "pg";
import { grantApplicationAccess } from "../bootstrap.ts";
import { quoteIdent } from "../identifiers.ts";
import { findTenant, registerTenant, updateTenantQuotas } from "../registry.ts";
import { inTransaction, lockTenantDdl, withClient, type Queryable } from "../transaction.ts";
import { generatePassword, placementOf, routingFor, type DriverContext } from "./driverContext.ts";
import { migrateNewSchema, tenantCreationFailed } from "./migrateNewSchema.ts";
import { assertRegisteredAs } from "./poolDriver.ts";
import { applyTenantRoleQuotas, ensureTenantRole } from "./tenantRole.ts";
import type { ProvisionResult, TenantDatabaseSpec, TenantQuotas } from "./types.ts";

/**
 * The tenant's login role (with its quotas) and its schema in the shared database, owned by
 * the owner role and usable only by that role. Call inside a transaction holding the tenant
 * DDL lock; used by signup and by a move into a schema.
 */
export async function createSchemaPlacement(
  client: Queryable,
  context: DriverContext,
  names: { readonly role: string; readonly schema: string },
  quotas: TenantQuotas,
  password: string,
): Promise<void> {
  await ensureTenantRole(client, names.role, names.schema, quotas, password);
  const schema = quoteIdent(names.schema);
  await client.query(
    `CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${quoteIdent(context.roles.owner)}`,
  );
  await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
  await grantSchemaAccess(client, context, { roleName: names.role, schemaName: names.schema });
}

/** CONNECT on the shared database and USAGE + DML on its own schema, for a schema tenant's role. */
async function grantSchemaAccess(
  client: Queryable,
  context: DriverContext,
  placement: { readonly roleName: string; readonly schemaName: string },
): Promise<void> {
  await client.query(
    `GRANT CONNECT ON DATABASE ${quoteIdent(context.controlDatabase)} TO ${quoteIdent(placement.roleName)}`,
  );
  await grantApplicationAccess(client, context.roles.owner, placement.schemaName, [
    placement.roleName,
  ]);
}

/** Creates (or completes) a schema tenant. */
export async function createSchemaTenant(
  context: DriverContext,
  spec: TenantDatabaseSpec,
): Promise<ProvisionResult> {
  const names = context.names(spec.slug);
  const password = spec.password ?? generatePassword();
  const row = await withClient(pg, context.adminUrl, (client) =>
    inTransaction(client, async () => {
      await lockTenant(client, spec.slug);
      const registered = await registerTenant(client, {
        ...(spec.tenantId === undefined ? {} : { id: spec.tenantId }),
        slug: spec.slug,
        ...placementOf(context, "schema", spec.slug),
        dbConnections: spec.quotas.dbConnections,
        statementTimeoutMs: spec.quotas.statementTimeoutMs,
      });
      await createSchemaPlacement(client, context, names, spec.quotas, password);
      return registered;
    }),
  );
  await migrateNewSchema(
    context,
    { url: context.adminUrl, schema: names.schema },
    tenantCreationFailed(spec.slug),
  );
  return { routing: routingFor(context, row), password };
}

/** Applies new quotas (and a new password when given) to a schema or dedicated tenant. */
export async function updateTenantWithRole(
  context: DriverContext,
  spec: TenantDatabaseSpec,
): Promise<ProvisionResult> {
  return withClient(pg, context.adminUrl, (client) =>
    inTransaction(client, async () => {
      await lockTenant(client, spec.slug);
      await assertRegisteredAs(client, spec.slug, spec.mode);
      const current = await findTenant(client, spec.slug);
      if (!current) throw new Error(`tenant ${spec.slug} is not registered`);
      // With a password the role is (re)created as needed: a role dropped out of band comes back.
      if (spec.password !== undefined) {
        await ensureTenantRole(
          client,
          current.roleName,
          current.schemaName,
          spec.quotas,
          spec.password,
        );
      } else {
        await applyTenantRoleQuotas(client, current.roleName, current.schemaName, spec.quotas);
      }
      // Privileges revoked out of band (a refresh shows them) come back with any update; a
      // dedicated tenant's are granted in its own database, by the driver after this.
      if (spec.mode === "schema") await grantSchemaAccess(client, context, current);
      const row = await updateTenantQuotas(client, spec.slug, spec.quotas);
      return {
        routing: routingFor(context, row),
        ...(spec.password === undefined ? {} : { password: spec.password }),
      };
    }),
  );
}

/** Serialises provisioning of one tenant (per database). */
export async function lockTenant(client: Queryable, slug: string): Promise<void> {
  await client.query(
    "SELECT pg_advisory_xact_lock(pg_catalog.hashtext('tenancy.tenant'), pg_catalog.hashtext($1))",
    [slug],
  );
  await lockTenantDdl(client);
}
