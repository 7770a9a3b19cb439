/**
 * Copying a tenant's rows (same database): batches in key order, each batch and its
 * checkpoint in one transaction (a killed mover resumes after the last committed batch),
 * then rounds applying the keys captured meanwhile. The mover's session runs with
 * `session_replication_role = replica` (set by the caller), so foreign keys and user
 * triggers do not fire on the target while it converges: the source is the truth and the
 * final apply happens with the source fenced.
 */
import { PLATFORM_SCHEMA, quoteIdent } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";
import { columnList, type MoveTable } from "./moveTables.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

/** Where the copy of one table stands (stored in `tenant_moves.checkpoints`, by source oid). */
export interface CopyCheckpoint {
  /** Key of the last copied row, or null before the first batch. */
  readonly last: readonly unknown[] | null;
  readonly rows: number;
  readonly done: boolean;
}

/** The table's key columns, quoted and comma-separated (optionally qualified by `alias`). */
export function keyColumns(table: MoveTable, alias?: string): string {
  return columnList(
    table.key.map((k) => k.name),
    alias,
  );
}

/** What selecting the next batch of `table` after `checkpoint` needs, in either copy. */
export interface BatchWindow {
  readonly columns: string;
  readonly key: string;
  /** The key in descending order (to find a batch's last key). */
  readonly descending: string;
  /** `$1` is the tenant id, then the checkpoint's key values. */
  readonly params: unknown[];
  /** `AND (key) > (checkpoint)`, or "" before the first batch. */
  readonly after: string;
}

export function batchWindow(
  table: MoveTable,
  tenantId: string,
  checkpoint: CopyCheckpoint,
): BatchWindow {
  const key = keyColumns(table);
  const params: unknown[] = [tenantId];
  let after = "";
  if (checkpoint.last) {
    const casts = table.key.map((k, i) => {
      params.push(checkpoint.last?.[i] ?? null);
      return `$${i + 2}::${k.type}`;
    });
    after = `AND (${key}) > (${casts.join(", ")})`;
  }
  return {
    columns: columnList(table.columns),
    key,
    descending: table.key.map((k) => `${quoteIdent(k.name)} DESC`).join(", "),
    params,
    after,
  };
}

/**
 * Copies the next batch of `table` after `checkpoint`, recording the new checkpoint in the
 * same transaction. Returns the new checkpoint.
 */
export async function copyBatch(
  client: Queryable,
  tenantId: string,
  table: MoveTable,
  checkpoint: CopyCheckpoint,
  batchSize: number,
): Promise<CopyCheckpoint> {
  const { columns, key, descending, params, after } = batchWindow(table, tenantId, checkpoint);
  await client.query("BEGIN");
  try {
    const { rows } = await client.query<{ written: number; last: unknown[] | null }>(
      `WITH batch AS MATERIALIZED (
         SELECT ${columns} FROM ${table.source.quoted}
          WHERE tenant_id = $1::${table.source.tenantIdType} ${after}
          ORDER BY ${key} LIMIT ${Math.trunc(batchSize)}
       ), written AS (
         INSERT INTO ${table.target.quoted} (${columns}) OVERRIDING SYSTEM VALUE
         SELECT ${columns} FROM batch RETURNING 1
       )
       SELECT (SELECT count(*) FROM written)::int AS written,
              (SELECT pg_catalog.json_build_array(${key}) FROM batch ORDER BY ${descending} LIMIT 1) AS last`,
      params,
    );
    const result = rows[0] ?? { written: 0, last: null };
    const next: CopyCheckpoint = {
      last: result.last ?? checkpoint.last,
      rows: checkpoint.rows + result.written,
      done: result.written < batchSize,
    };
    await client.query(
      `UPDATE ${platform}.tenant_moves
          SET checkpoints = checkpoints || pg_catalog.jsonb_build_object($2::text, $3::jsonb),
              updated_at = now()
        WHERE tenant_id = $1`,
      [tenantId, String(table.source.oid), JSON.stringify(next)],
    );
    await client.query("COMMIT");
    return next;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Applies every captured key committed so far, in one transaction: the target's rows with
 * those keys are deleted and the source's current rows with those keys inserted (a key
 * deleted at the source simply is not re-inserted). Returns the number of change records
 * applied (and removed).
 */
export async function applyCapturedChanges(
  client: Queryable,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<number> {
  // One snapshot for the watermark, the keys read and the delete: a change record numbered
  // below the watermark but committed after it is neither applied nor deleted (next round).
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  try {
    const { rows } = await client.query<{ watermark: string | null; n: string }>(
      `SELECT max(id)::text AS watermark, count(*)::text AS n
         FROM ${platform}.tenant_move_changes WHERE tenant_id = $1`,
      [tenantId],
    );
    const watermark = rows[0]?.watermark ?? null;
    if (watermark === null) {
      await client.query("COMMIT");
      return 0;
    }
    for (const table of tables) {
      const keyNames = table.key.map((k) => quoteIdent(k.name));
      const keys = `SELECT DISTINCT ${keyNames.map((k) => `r.${k}`).join(", ")}
                      FROM ${platform}.tenant_move_changes c
                     CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::${table.source.quoted}, c.key) r
                     WHERE c.tenant_id = $1 AND c.table_oid = $2::oid AND c.id <= $3::bigint`;
      const tuple = (alias: string) => `(${keyNames.map((k) => `${alias}.${k}`).join(", ")})`;
      const params = [tenantId, table.source.oid, watermark];
      await client.query(
        `DELETE FROM ${table.target.quoted} t USING (${keys}) k
          WHERE ${tuple("t")} = ${tuple("k")} AND t.tenant_id = $1::${table.target.tenantIdType}`,
        params,
      );
      await client.query(
        `INSERT INTO ${table.target.quoted} (${columnList(table.columns)}) OVERRIDING SYSTEM VALUE
         SELECT ${columnList(table.columns, "s")} FROM ${table.source.quoted} s JOIN (${keys}) k
             ON ${tuple("s")} = ${tuple("k")}
          WHERE s.tenant_id = $1::${table.source.tenantIdType}`,
        params,
      );
    }
    const removed = await client.query(
      `DELETE FROM ${platform}.tenant_move_changes WHERE tenant_id = $1 AND id <= $2::bigint`,
      [tenantId, watermark],
    );
    await client.query("COMMIT");
    return removed.rowCount ?? 0;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
