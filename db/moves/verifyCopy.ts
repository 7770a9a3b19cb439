/**
 * What a verified copy reports (the verification itself is in splitVerify.ts: per table the
 * row count and an order-independent checksum — the sum of a 64-bit hash of each row's text
 * over the copied columns — on both sides); and the sequences: every sequence behind a copied
 * column is set past the copied maximum (never lowered: a shared sequence keeps serving other
 * tenants).
 */
import { quoteIdent } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";
import type { MoveTable } from "./moveTables.ts";

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
