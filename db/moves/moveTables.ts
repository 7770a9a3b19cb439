/**
 * The tables a move copies: every tenant table of the source schema, its key (the primary
 * key: copies run in key order and resume after the last copied key), its columns, and the
 * table of the same name in the target schema. Everything a move refuses is found here,
 * before anything is copied.
 */
import { quoteIdent, quoteQualified } from "../identifiers.ts";
import { listTenantTables, type TenantTable } from "../tenantTables.ts";
import type { Queryable } from "../transaction.ts";
import { TenantMoveError } from "./moveErrors.ts";

/** One side of a move: the identity facts of a tenant table (see db/tenantTables.ts). */
export type MoveTableSide = Pick<
  TenantTable,
  "oid" | "schema" | "name" | "quoted" | "display" | "tenantIdType"
>;

export interface KeyColumn {
  readonly name: string;
  readonly type: string;
}

export interface MoveTable {
  readonly source: MoveTableSide;
  readonly target: MoveTableSide;
  /** Stored (non-generated) columns in source order; the target has them all. */
  readonly columns: readonly string[];
  /** Primary key of the source, in key order. */
  readonly key: readonly KeyColumn[];
  /**
   * How verification hashes a row: `record` (`hash_record_extended`, ~4× as fast) when every
   * column's type has an extended hash function, else `text` (the hash of the row's text).
   */
  readonly rowHash: "record" | "text";
}

/** Name prefix of tables owned by the platform inside a tenant schema (migration ledger). */
const PLATFORM_TABLE_PREFIX = "_tenancy";

/**
 * Plans the copy of a tenant's tables from `sourceSchema` (read through `client`) to
 * `targetSchema` (read through `targetClient`: the same connection for a move inside one
 * database, a connection to the target database otherwise).
 * `strictSource`: the source schema holds only this tenant's data (a bridge schema or a
 * dedicated database), so a table without tenant_id there is refused rather than left behind.
 * @throws TenantMoveError naming the table that cannot be moved.
 */
export async function planMoveTables(
  client: Queryable,
  targetClient: Queryable,
  slug: string,
  sourceSchema: string,
  targetSchema: string,
  strictSource: boolean,
): Promise<MoveTable[]> {
  if (strictSource) await refuseTablesWithoutTenantId(client, slug, sourceSchema);
  const sources = (await listTenantTables(client, [sourceSchema])).filter(
    (t) => !t.name.startsWith(PLATFORM_TABLE_PREFIX),
  );
  const targets = new Map(
    (await listTenantTables(targetClient, [targetSchema])).map((t) => [t.name, t] as const),
  );
  const partitions = await partitionOids(
    client,
    sources.map((t) => t.oid),
  );
  const plan: MoveTable[] = [];
  for (const source of sources) {
    if (partitions.has(source.oid)) continue; // copied through its partitioned parent
    const target = targets.get(source.name);
    if (!target) {
      throw new TenantMoveError(
        `cannot move tenant ${slug}: table ${source.display} has no counterpart ${targetSchema}.${source.name} (run the tenant migrations on the target first)`,
        "target-table-missing",
      );
    }
    const key = await primaryKey(client, source.oid);
    if (key.length === 0) {
      throw new TenantMoveError(
        `cannot move tenant ${slug}: table ${source.display} has no primary key (a move copies and resumes by key)`,
        "table-without-key",
      );
    }
    const stored = await storedColumns(client, source.oid);
    const columns = stored.map((c) => c.name);
    const targetColumns = new Set(
      (await storedColumns(targetClient, target.oid)).map((c) => c.name),
    );
    const missing = columns.filter((c) => !targetColumns.has(c));
    if (missing.length > 0) {
      throw new TenantMoveError(
        `cannot move tenant ${slug}: ${target.display} lacks column(s) ${missing.join(", ")} of ${source.display}`,
        "target-column-missing",
      );
    }
    const rowHash = stored.every((c) => c.hashable) ? "record" : "text";
    plan.push({ source: side(source), target: side(target), columns, key, rowHash });
  }
  return plan;
}

function side(table: {
  oid: number;
  schema: string;
  name: string;
  tenantIdType: string;
}): MoveTableSide {
  return {
    oid: table.oid,
    schema: table.schema,
    name: table.name,
    quoted: quoteQualified(table.schema, table.name),
    display: `${table.schema}.${table.name}`,
    tenantIdType: table.tenantIdType,
  };
}

async function refuseTablesWithoutTenantId(
  client: Queryable,
  slug: string,
  schema: string,
): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relname NOT LIKE '\\_tenancy%'
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
      ORDER BY 1`,
    [schema],
  );
  const first = rows[0];
  if (first) {
    throw new TenantMoveError(
      `cannot move tenant ${slug}: table ${schema}.${first.name} has no tenant_id column; every table of the tenant's data needs one (nothing was copied)`,
      "table-without-tenant-id",
    );
  }
}

async function partitionOids(client: Queryable, oids: readonly number[]): Promise<Set<number>> {
  const { rows } = await client.query<{ oid: number }>(
    "SELECT oid::int AS oid FROM pg_catalog.pg_class WHERE oid = ANY ($1::oid[]) AND relispartition",
    [oids],
  );
  return new Set(rows.map((r) => r.oid));
}

async function primaryKey(client: Queryable, oid: number): Promise<KeyColumn[]> {
  const { rows } = await client.query<KeyColumn>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_catalog.pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::oid AND i.indisprimary
      ORDER BY k.ord`,
    [oid],
  );
  return rows;
}

/**
 * Stored columns in order, each with whether `hash_record_extended` can hash it: its type
 * (a domain's base type; an array's element type) has a default hash operator class of its
 * own with an extended hash function (support function 2), or is an enum. Anything else —
 * json, xml, geometric types, composites, ranges — is reported unhashable (the row is then
 * hashed as text: slower, never wrong).
 */
async function storedColumns(
  client: Queryable,
  oid: number,
): Promise<{ name: string; hashable: boolean }[]> {
  const { rows } = await client.query<{ name: string; hashable: boolean }>(
    `WITH cols AS (
       SELECT a.attname, a.attnum, t.oid AS type, t.typtype, t.typelem, t.typsubscript, t.typbasetype
         FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     ), base AS (
       SELECT attname, attnum,
              CASE WHEN typtype = 'd' THEN typbasetype ELSE type END AS type
         FROM cols
     ), scalar AS (
       SELECT b.attname, b.attnum,
              CASE WHEN t.typsubscript = 'pg_catalog.array_subscript_handler'::regproc
                   THEN t.typelem ELSE t.oid END AS type
         FROM base b JOIN pg_catalog.pg_type t ON t.oid = b.type
     )
     SELECT s.attname AS name,
            (t.typtype = 'e' OR EXISTS (
               SELECT 1 FROM pg_catalog.pg_opclass oc
                 JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod AND am.amname = 'hash'
                 JOIN pg_catalog.pg_amproc p ON p.amprocfamily = oc.opcfamily
                  AND p.amproclefttype = oc.opcintype AND p.amprocrighttype = oc.opcintype
                  AND p.amprocnum = 2
                WHERE oc.opcdefault AND oc.opcintype = s.type)) AS hashable
       FROM scalar s JOIN pg_catalog.pg_type t ON t.oid = s.type
      ORDER BY s.attnum`,
    [oid],
  );
  return rows;
}

/** The hash of one row of `table` (aliased `alias`) as verification computes it: bigint. */
export function rowHashSql(table: MoveTable, alias: string): string {
  const row = `ROW(${columnList(table.columns, alias)})`;
  return table.rowHash === "record"
    ? `pg_catalog.hash_record_extended(${row}, 0)`
    : `pg_catalog.hashtextextended(${row}::text, 0)`;
}

/** `"a", "b"` — a quoted column list, optionally qualified with an alias. */
export function columnList(columns: readonly string[], alias?: string): string {
  return columns.map((c) => (alias ? `${alias}.${quoteIdent(c)}` : quoteIdent(c))).join(", ");
}
