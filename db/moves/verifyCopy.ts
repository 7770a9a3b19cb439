/**
 * What a verified copy reports (the verification itself is in splitVerify.ts: per table the
 * row count and an order-independent checksum — the sum of a 64-bit hash of each row's text
 * over the copied columns — on both sides); and the sequences: every sequence behind a copied
 * column is set past the copied maximum (never lowered, not even by a race: a shared sequence
 * keeps serving other tenants while it is set).
 */
import { quoteIdent } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";
import { withShortLock } from "./captureTriggers.ts";
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

/**
 * Sets every sequence owned by a copied target column past the column's maximum, without ever
 * moving it back: a shared (pool) sequence is drawn from by other tenants meanwhile, and a
 * setval computed from a value read earlier would hand their ids out a second time (23505 on
 * their next insert). First one nextval: above the maximum, the sequence is left as it is.
 * Otherwise setval under ALTER SEQUENCE's lock (SHARE ROW EXCLUSIVE: every nextval, which takes
 * ROW EXCLUSIVE, waits for it), so the value read is the value replaced.
 */
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
      const { rows: maxima } = await client.query<{ max: string | null; next: string | null }>(
        `SELECT m.max::text AS max,
                CASE WHEN m.max IS NOT NULL THEN pg_catalog.nextval($1::regclass)::text END AS next
           FROM (SELECT max(${quoteIdent(column)})::bigint AS max FROM ${table.target.quoted}) m`,
        [sequence],
      );
      const max = maxima[0]?.max ?? null;
      const next = maxima[0]?.next ?? null;
      if (max === null || next === null) continue; // nothing copied: the sequence is untouched
      if (BigInt(next) > BigInt(max)) {
        set.push({ sequence, value: next });
        continue;
      }
      set.push({ sequence, value: await setPastUnderLock(client, sequence, max) });
    }
  }
  return set;
}

/** setval(GREATEST(max, last value)) with every nextval of the sequence held off. */
async function setPastUnderLock(client: Queryable, sequence: string, max: string): Promise<string> {
  let value = max;
  await withShortLock(client, async () => {
    const { rows } = await client.query<{ cycle: boolean }>(
      "SELECT seqcycle AS cycle FROM pg_catalog.pg_sequence WHERE seqrelid = $1::regclass",
      [sequence],
    );
    // Restates the sequence's own CYCLE setting: no change, only the lock.
    await client.query(`ALTER SEQUENCE ${sequence} ${rows[0]?.cycle ? "CYCLE" : "NO CYCLE"}`);
    const { rows: advanced } = await client.query<{ value: string }>(
      `SELECT pg_catalog.setval($1::regclass,
                GREATEST($2::bigint, (SELECT last_value FROM ${sequence})), true)::text AS value`,
      [sequence, max],
    );
    value = advanced[0]?.value ?? max;
  });
  return value;
}
