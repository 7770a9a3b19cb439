/**
 * Copying a tenant's rows between two databases of one server (a move to or from a dedicated
 * database): the same batches in key order and rounds of captured keys as copyRows.ts, but
 * each batch is read on the source connection as JSON and written on the target connection
 * (`json_populate_recordset` over the target table's row type: columns match by name, every
 * value goes through its type's text form, so nothing is lost).
 *
 * A batch's rows and its checkpoint live in different databases, so they cannot commit
 * together: the rows commit first, then the checkpoint. A mover killed between the two copies
 * that batch again on resume, and `ON CONFLICT DO NOTHING` skips the rows already there — a
 * row changed since was captured by the source's triggers and is replaced by the catch-up.
 */
import { PLATFORM_SCHEMA, quoteIdent } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";
import { batchWindow, keyColumns, type CopyCheckpoint } from "./copyRows.ts";
import { columnList, type MoveTable } from "./moveTables.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

/** The connections of a move across databases. */
export interface AcrossDatabases {
  /** Connected to the source's database (holds the capture triggers and the change table). */
  readonly source: Queryable;
  /** Connected to the target's database. */
  readonly target: Queryable;
  /** Connected to the control database (holds `tenant_moves` and its checkpoints). */
  readonly control: Queryable;
}

function fromJson(table: MoveTable, param: string): string {
  return `pg_catalog.json_populate_recordset(NULL::${table.target.quoted}, ${param}::json)`;
}

/** Copies the next batch of `table` after `checkpoint` to the target; returns the new checkpoint. */
export async function copyBatchAcross(
  sides: AcrossDatabases,
  tenantId: string,
  table: MoveTable,
  checkpoint: CopyCheckpoint,
  batchSize: number,
): Promise<CopyCheckpoint> {
  const { columns, key, descending, params, after } = batchWindow(table, tenantId, checkpoint);
  const { rows } = await sides.source.query<{
    n: number;
    rows: string | null;
    last: unknown[] | null;
  }>(
    `WITH batch AS MATERIALIZED (
       SELECT ${columns} FROM ${table.source.quoted}
        WHERE tenant_id = $1::${table.source.tenantIdType} ${after}
        ORDER BY ${key} LIMIT ${Math.trunc(batchSize)}
     )
     SELECT (SELECT count(*) FROM batch)::int AS n,
            (SELECT pg_catalog.json_agg(b)::text FROM batch b) AS rows,
            (SELECT pg_catalog.json_build_array(${key}) FROM batch ORDER BY ${descending} LIMIT 1) AS last`,
    params,
  );
  const batch = rows[0] ?? { n: 0, rows: null, last: null };
  if (batch.rows !== null) {
    await sides.target.query(
      `INSERT INTO ${table.target.quoted} (${columns}) OVERRIDING SYSTEM VALUE
       SELECT ${columns} FROM ${fromJson(table, "$1")}
       ON CONFLICT DO NOTHING`,
      [batch.rows],
    );
  }
  const next: CopyCheckpoint = {
    last: batch.last ?? checkpoint.last,
    rows: checkpoint.rows + batch.n,
    done: batch.n < batchSize,
  };
  await sides.control.query(
    `UPDATE ${platform}.tenant_moves
        SET checkpoints = checkpoints || pg_catalog.jsonb_build_object($2::text, $3::jsonb),
            updated_at = now()
      WHERE tenant_id = $1`,
    [tenantId, String(table.source.oid), JSON.stringify(next)],
  );
  return next;
}

/**
 * Applies every captured key committed so far: on the target, in one transaction, the rows
 * with those keys are deleted and the source's rows with those keys inserted; then the
 * applied change records are deleted on the source (the source side is one snapshot).
 * Re-applying (a mover killed between the two) gives the same result. Returns the number of
 * change records applied.
 */
export async function applyCapturedAcross(
  sides: AcrossDatabases,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<number> {
  // One snapshot on the source for the watermark, the keys and rows read and the delete: a
  // change record numbered below the watermark but committed after it is neither applied nor
  // deleted (the next round takes it).
  await sides.source.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  try {
    const applied = await applyInSnapshot(sides, tenantId, tables);
    await sides.source.query("COMMIT");
    return applied;
  } catch (error) {
    await sides.source.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

async function applyInSnapshot(
  sides: AcrossDatabases,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<number> {
  const { rows } = await sides.source.query<{ watermark: string | null }>(
    `SELECT max(id)::text AS watermark FROM ${platform}.tenant_move_changes WHERE tenant_id = $1`,
    [tenantId],
  );
  const watermark = rows[0]?.watermark ?? null;
  if (watermark === null) return 0;
  const changed: { table: MoveTable; keys: string; rows: string | null }[] = [];
  for (const table of tables) {
    const keyNames = table.key.map((k) => quoteIdent(k.name));
    const tuple = (alias: string) => `(${keyNames.map((k) => `${alias}.${k}`).join(", ")})`;
    const keys = `SELECT DISTINCT ${keyNames.map((k) => `r.${k}`).join(", ")}
                    FROM ${platform}.tenant_move_changes c
                   CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::${table.source.quoted}, c.key) r
                   WHERE c.tenant_id = $1 AND c.table_oid = $2::oid AND c.id <= $3::bigint`;
    const { rows: found } = await sides.source.query<{ keys: string | null; rows: string | null }>(
      `WITH k AS MATERIALIZED (${keys})
       SELECT (SELECT pg_catalog.json_agg(k)::text FROM k) AS keys,
              (SELECT pg_catalog.json_agg(s)::text FROM (
                 SELECT ${columnList(table.columns, "s")} FROM ${table.source.quoted} s JOIN k
                     ON ${tuple("s")} = ${tuple("k")}
                  WHERE s.tenant_id = $1::${table.source.tenantIdType}) s) AS rows`,
      [tenantId, table.source.oid, watermark],
    );
    const keysJson = found[0]?.keys ?? null;
    if (keysJson !== null) changed.push({ table, keys: keysJson, rows: found[0]?.rows ?? null });
  }
  await sides.target.query("BEGIN");
  try {
    for (const { table, keys, rows: current } of changed) {
      const keyNames = table.key.map((k) => quoteIdent(k.name));
      const tuple = (alias: string) => `(${keyNames.map((k) => `${alias}.${k}`).join(", ")})`;
      await sides.target.query(
        `DELETE FROM ${table.target.quoted} t
          USING (SELECT ${keyColumns(table)} FROM ${fromJson(table, "$2")}) k
          WHERE ${tuple("t")} = ${tuple("k")} AND t.tenant_id = $1::${table.target.tenantIdType}`,
        [tenantId, keys],
      );
      if (current !== null) {
        await sides.target.query(
          `INSERT INTO ${table.target.quoted} (${columnList(table.columns)}) OVERRIDING SYSTEM VALUE
           SELECT ${columnList(table.columns)} FROM ${fromJson(table, "$1")}`,
          [current],
        );
      }
    }
    await sides.target.query("COMMIT");
  } catch (error) {
    await sides.target.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  const removed = await sides.source.query(
    `DELETE FROM ${platform}.tenant_move_changes WHERE tenant_id = $1 AND id <= $2::bigint`,
    [tenantId, watermark],
  );
  return removed.rowCount ?? 0;
}
