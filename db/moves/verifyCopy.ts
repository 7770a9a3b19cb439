/**
 * Verification of a copy (run with the source fenced): per table, the row count and an
 * order-independent checksum — the sum of a 64-bit hash of each row's text over the copied
 * columns — on both sides; then every sequence behind a copied column is set past the
 * copied maximum (never lowered: a shared sequence keeps serving other tenants).
 */
import { quoteIdent } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { columnList, type MoveTable, type MoveTableSide } from "./moveTables.ts";

export interface TableDigest {
  readonly rows: number;
  /** Sum of hashtextextended(row text, 0), as a decimal string. */
  readonly checksum: string;
}

export interface VerifiedTable {
  /** `schema.table` of the target. */
  readonly table: string;
  readonly source: TableDigest;
  readonly target: TableDigest;
}

export interface SequenceSet {
  readonly sequence: string;
  readonly value: string;
}

async function digest(
  client: Queryable,
  side: MoveTableSide,
  columns: readonly string[],
  tenantId: string,
): Promise<TableDigest> {
  const { rows } = await client.query<{ rows: string; checksum: string }>(
    `SELECT count(*)::text AS rows,
            COALESCE(sum(pg_catalog.hashtextextended(ROW(${columnList(columns)})::text, 0)::numeric), 0)::text AS checksum
       FROM ${side.quoted} WHERE tenant_id = $1::${side.tenantIdType}`,
    [tenantId],
  );
  return { rows: Number(rows[0]?.rows ?? 0), checksum: rows[0]?.checksum ?? "0" };
}

/**
 * Compares source and target of every table (each read on the connection to its database).
 * @throws TenantMoveError (`verify-failed`) naming each table that differs.
 */
export async function verifyCopy(
  sides: { readonly source: Queryable; readonly target: Queryable },
  slug: string,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<VerifiedTable[]> {
  const results: VerifiedTable[] = [];
  for (const table of tables) {
    results.push({
      table: table.target.display,
      source: await digest(sides.source, table.source, table.columns, tenantId),
      target: await digest(sides.target, table.target, table.columns, tenantId),
    });
  }
  const differing = results.filter(
    (r) => r.source.rows !== r.target.rows || r.source.checksum !== r.target.checksum,
  );
  if (differing.length > 0) {
    const detail = differing
      .map(
        (r) =>
          `${r.table}: ${r.target.rows} rows (source ${r.source.rows}), checksum ${r.target.checksum} (source ${r.source.checksum})`,
      )
      .join("; ");
    throw Object.assign(
      new TenantMoveError(
        `move of tenant ${slug}: verification failed, the copy differs from the source: ${detail}`,
        "verify-failed",
      ),
      { tables: results },
    );
  }
  return results;
}

/** Sets every sequence owned by a copied target column past the column's maximum. */
export async function advanceSequences(
  client: Queryable,
  tables: readonly MoveTable[],
): Promise<SequenceSet[]> {
  const set: SequenceSet[] = [];
  for (const table of tables) {
    for (const column of table.columns) {
      const { rows } = await client.query<{ seq: string | null }>(
        "SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS seq",
        [table.target.quoted, column],
      );
      const sequence = rows[0]?.seq;
      if (!sequence) continue;
      const { rows: advanced } = await client.query<{ value: string | null }>(
        `SELECT pg_catalog.setval($1::regclass,
                  GREATEST(m.max, (SELECT last_value FROM ${sequence})), true)::text AS value
           FROM (SELECT max(${quoteIdent(column)})::bigint AS max FROM ${table.target.quoted}) m
          WHERE m.max IS NOT NULL`,
        [sequence],
      );
      const value = advanced[0]?.value;
      if (value) set.push({ sequence, value });
    }
  }
  return set;
}
