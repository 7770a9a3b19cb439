/**
 * Discovery of tenant tables — every table or partitioned table with a `tenant_id` column —
 * with the facts protect, audit and purge need, in one catalog query.
 */
import { PLATFORM_SCHEMA, quoteQualified } from "./identifiers.ts";
import type { Queryable } from "./transaction.ts";

export interface TenantTable {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** `"schema"."name"`, ready for SQL. */
  readonly quoted: string;
  /** `schema.name`, for messages. */
  readonly display: string;
  /** `format_type` of tenant_id, e.g. `uuid`, `text`. */
  readonly tenantIdType: string;
  readonly tenantIdNotNull: boolean;
  readonly rlsEnabled: boolean;
  readonly rlsForced: boolean;
  /** A valid, non-partial index whose first key column is tenant_id exists. */
  readonly hasTenantIndex: boolean;
  readonly owner: string;
  readonly partitioned: boolean;
}

interface Row {
  oid: number;
  schema: string;
  name: string;
  tenant_id_type: string;
  not_null: boolean;
  rls: boolean;
  forced: boolean;
  has_index: boolean;
  owner: string;
  partitioned: boolean;
}

/** Schemas never scanned: the catalogs and the platform's own schema. */
export const EXCLUDED_SCHEMAS_SQL = `n.nspname NOT IN ('pg_catalog', 'information_schema', '${PLATFORM_SCHEMA}')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;

/**
 * Tenant tables of the connected database, optionally only in `schemas`, ordered by schema
 * and name.
 */
export async function listTenantTables(
  client: Queryable,
  schemas?: readonly string[],
): Promise<TenantTable[]> {
  const { rows } = await client.query<Row>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name,
            pg_catalog.format_type(a.atttypid, a.atttypmod) AS tenant_id_type,
            a.attnotnull AS not_null, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
            EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                     WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum
                       AND i.indisvalid AND i.indpred IS NULL) AS has_index,
            pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            c.relkind = 'p' AS partitioned
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
                                     AND NOT a.attisdropped AND a.attnum > 0
      WHERE c.relkind IN ('r', 'p') AND ${EXCLUDED_SCHEMAS_SQL}
        AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
      ORDER BY n.nspname, c.relname`,
    [schemas && schemas.length > 0 ? [...schemas] : null],
  );
  return rows.map((r) => ({
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    quoted: quoteQualified(r.schema, r.name),
    display: `${r.schema}.${r.name}`,
    tenantIdType: r.tenant_id_type,
    tenantIdNotNull: r.not_null,
    rlsEnabled: r.rls,
    rlsForced: r.forced,
    hasTenantIndex: r.has_index,
    owner: r.owner,
    partitioned: r.partitioned,
  }));
}
