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
  await setRoleStatementTimeout(client, role, quotas.statementTimeoutMs);
  await setRoleSearchPath(client, role, searchPath);
}

/** Applies changed quotas to an existing tenant role. */
export async function applyTenantRoleQuotas(
  client: Queryable,
  role: string,
  quotas: TenantQuotas,
): Promise<void> {
  await client.query(
    `ALTER ROLE ${quoteIdent(role)} CONNECTION LIMIT ${Math.trunc(quotas.dbConnections)}`,
  );
  await setRoleStatementTimeout(client, role, quotas.statementTimeoutMs);
}
