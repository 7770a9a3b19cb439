/**
 * The tenant registry (`tenancy.tenants` in the control database): one row per tenant with
 * its uuid, mode, placement names and quotas. The uuid is the value of `tenant_id` in every
 * application table, whatever the placement.
 */
import { MODES, type DatabaseMode } from "../contract/modes.ts";
import { SLUG_PATTERN } from "../contract/slug.ts";
import { PLATFORM_SCHEMA, quoteIdent } from "./identifiers.ts";
import type { Queryable } from "./transaction.ts";

const table = `${quoteIdent(PLATFORM_SCHEMA)}.tenants`;

/** DDL of the registry (run as the owner role by bootstrap). */
export const REGISTRY_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS ${table} (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '${SLUG_PATTERN.source}'),
  mode text NOT NULL CHECK (mode IN (${MODES.database.map((mode) => `'${mode}'`).join(", ")})),
  schema_name text NOT NULL,
  role_name text NOT NULL,
  database_name text NOT NULL,
  db_connections integer NOT NULL CHECK (db_connections > 0),
  statement_timeout_ms integer NOT NULL CHECK (statement_timeout_ms > 0),
  routing_version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS routing_version bigint NOT NULL DEFAULT 1;
COMMENT ON TABLE ${table} IS 'Tenants and where their data lives; managed by the tenancy control plane.';
`;

export type { DatabaseMode };

export interface RegistryRow {
  readonly id: string;
  readonly slug: string;
  readonly mode: DatabaseMode;
  readonly schemaName: string;
  readonly roleName: string;
  readonly databaseName: string;
  readonly dbConnections: number;
  readonly statementTimeoutMs: number;
  /** Incremented by every switch of the tenant's placement (a move). */
  readonly routingVersion: number;
}

interface DbRow {
  id: string;
  slug: string;
  mode: DatabaseMode;
  schema_name: string;
  role_name: string;
  database_name: string;
  db_connections: number;
  statement_timeout_ms: number;
  routing_version: string;
}

const COLUMNS =
  "id, slug, mode, schema_name, role_name, database_name, db_connections, statement_timeout_ms, routing_version";

function fromDb(row: DbRow): RegistryRow {
  return {
    id: row.id,
    slug: row.slug,
    mode: row.mode,
    schemaName: row.schema_name,
    roleName: row.role_name,
    databaseName: row.database_name,
    dbConnections: row.db_connections,
    statementTimeoutMs: row.statement_timeout_ms,
    routingVersion: Number(row.routing_version),
  };
}

/** The registered tenant with that slug, if any. */
export async function findTenant(
  client: Queryable,
  slug: string,
): Promise<RegistryRow | undefined> {
  const { rows } = await client.query<DbRow>(`SELECT ${COLUMNS} FROM ${table} WHERE slug = $1`, [
    slug,
  ]);
  return rows[0] ? fromDb(rows[0]) : undefined;
}

/** Every registered tenant, by slug. */
export async function listTenants(client: Queryable): Promise<RegistryRow[]> {
  const { rows } = await client.query<DbRow>(`SELECT ${COLUMNS} FROM ${table} ORDER BY slug`);
  return rows.map(fromDb);
}

export type RegistrationInput = Omit<RegistryRow, "id" | "routingVersion"> & {
  readonly id?: string;
};

/**
 * Registers a tenant, or returns the existing row when the same slug is registered with the
 * same mode (idempotent create). A different mode or id is an error naming the tenant.
 */
export async function registerTenant(
  client: Queryable,
  input: RegistrationInput,
): Promise<RegistryRow> {
  const existing = await findTenant(client, input.slug);
  if (existing) {
    if (existing.mode !== input.mode) {
      throw new Error(
        `tenant ${input.slug} is already registered with database mode ${existing.mode}; ` +
          `changing it to ${input.mode} needs a migration (delete and re-create)`,
      );
    }
    if (input.id !== undefined && input.id !== existing.id) {
      throw new Error(
        `tenant ${input.slug} is already registered with id ${existing.id}, not ${input.id}`,
      );
    }
    return updateTenantQuotas(client, input.slug, input);
  }
  const { rows } = await client.query<DbRow>(
    `INSERT INTO ${table} (id, slug, mode, schema_name, role_name, database_name, db_connections, statement_timeout_ms)
     VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8)
     RETURNING ${COLUMNS}`,
    [
      input.id ?? null,
      input.slug,
      input.mode,
      input.schemaName,
      input.roleName,
      input.databaseName,
      input.dbConnections,
      input.statementTimeoutMs,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error(`registering tenant ${input.slug} returned no row`);
  return fromDb(row);
}

/** Updates the quotas of a registered tenant; errors when it is not registered. */
export async function updateTenantQuotas(
  client: Queryable,
  slug: string,
  quotas: { readonly dbConnections: number; readonly statementTimeoutMs: number },
): Promise<RegistryRow> {
  const { rows } = await client.query<DbRow>(
    `UPDATE ${table} SET db_connections = $2, statement_timeout_ms = $3, updated_at = now()
      WHERE slug = $1 RETURNING ${COLUMNS}`,
    [slug, quotas.dbConnections, quotas.statementTimeoutMs],
  );
  const row = rows[0];
  if (!row) throw new Error(`tenant ${slug} is not registered`);
  return fromDb(row);
}

/** Removes the registry row; returns whether one existed. */
export async function unregisterTenant(client: Queryable, slug: string): Promise<boolean> {
  const { rowCount } = await client.query(`DELETE FROM ${table} WHERE slug = $1`, [slug]);
  return (rowCount ?? 0) > 0;
}
