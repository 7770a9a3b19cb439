/** The login role of a schema or dedicated tenant: limits, timeout, search_path. */
import { quoteIdent } from "../identifiers.ts";
import { ensureRole, setRoleSearchPath, setRoleStatementTimeout } from "../roles.ts";
import type { Queryable } from "../transaction.ts";
import type { TenantQuotas } from "./types.ts";

/**
 * Creates or converges the tenant role: LOGIN, no privileges of its own (NOSUPERUSER,
 * NOBYPASSRLS, NOINHERIT ...), CONNECTION LIMIT = dbConnections, statement_timeout and
 * search_path set on the role. Sets the password when given.
 */
export async function ensureTenantRole(
  client: Queryable,
  role: string,
  searchPath: string,
  quotas: TenantQuotas,
  password: string | undefined,
): Promise<void> {
  await ensureRole(client, {
    name: role,
    attributes: [
      "LOGIN",
      "NOINHERIT",
      "NOSUPERUSER",
      "NOCREATEDB",
      "NOCREATEROLE",
      "NOREPLICATION",
      "NOBYPASSRLS",
    ],
    connectionLimit: quotas.dbConnections,
    ...(password === undefined ? {} : { password }),
  });
  await applyRoleSettings(client, role, searchPath, quotas);
}

/** Applies changed quotas to an existing tenant role. */
export async function applyTenantRoleQuotas(
  client: Queryable,
  role: string,
  searchPath: string,
  quotas: TenantQuotas,
): Promise<void> {
  await client.query(
    `ALTER ROLE ${quoteIdent(role)} CONNECTION LIMIT ${Math.trunc(quotas.dbConnections)}`,
  );
  await applyRoleSettings(client, role, searchPath, quotas);
}

/**
 * The role-level settings of a tenant role are exactly those the quotas own
 * (statement_timeout, search_path). PostgreSQL lets any role `ALTER ROLE <itself> SET ...`,
 * so a tenant can make `statement_timeout = 0` or `work_mem = '1GB'` its default: every
 * setting on the role — role-wide and per database — is reset before the owned ones are set.
 */
export async function applyRoleSettings(
  client: Queryable,
  role: string,
  searchPath: string,
  quotas: TenantQuotas,
): Promise<void> {
  const { rows } = await client.query<{ database: string }>(
    `SELECT d.datname AS database FROM pg_catalog.pg_db_role_setting s
       JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
      WHERE s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)`,
    [role],
  );
  for (const { database } of rows) {
    await client.query(
      `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${quoteIdent(database)} RESET ALL`,
    );
  }
  await client.query(`ALTER ROLE ${quoteIdent(role)} RESET ALL`);
  await setRoleStatementTimeout(client, role, quotas.statementTimeoutMs);
  await setRoleSearchPath(client, role, searchPath);
}
