/**
 * Verification split around the write fence, so that the full scan of every row runs while
 * the tenant still writes and the fence only rechecks what changed since:
 *
 * 1. **before the fence** (no apply runs between this step and the fence): one REPEATABLE
 *    READ snapshot S on the source reads the change records visible in S — the keys `P`
 *    captured but not yet applied — and the count + checksum of every row whose key is not in
 *    `P`; one REPEATABLE READ snapshot T on the target (written by nobody but the mover, who
 *    is here) takes the same digest over the same keys and records T's xmin. They must match.
 * 2. **under the fence**: the keys of every change record present now (`P` and every write
 *    committed after S: its record commits with it, and applies do not run before the fence),
 *    read before the final apply; then the final apply; then the keys of every row, on each
 *    side, whose xmin is not older than its snapshot's xmin (written after the snapshot or by
 *    a transaction in progress at it: a write the capture missed, or someone writing the
 *    target behind the mover's back). Those keys are compared row by row on both sides
 *    (presence and the hash of the row's text), and the row counts of every table (deleted
 *    rows leave no xmin; a count finds them).
 *
 * Why that is complete: a key outside those sets was not written on the source after S nor on
 * the target after T and was not pending at S, so its row now is its row in S and in T, which
 * the digests found equal (a sum of 64-bit hashes, as the full verification before it); a key
 * deleted since on one side only changes that side's count. The xmin test is conservative: a
 * long transaction elsewhere on the server holds the snapshot xmin back and makes more rows
 * look recent (rechecked under the fence: slower, never wrong).
 */
import { PLATFORM_SCHEMA, quoteIdent, quoteLiteral } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { rowHashSql, type MoveTable, type MoveTableSide } from "./moveTables.ts";
import type { TableDigest, VerifiedTable } from "./verifyCopy.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

interface Sides {
  readonly source: Queryable;
  readonly target: Queryable;
}

/** What the pre-fence verification leaves for the fenced one. */
export interface PreVerified {
  readonly tables: VerifiedTable[];
  /** xmin of the source's snapshot S, as text. */
  readonly sourceXmin: string;
  /** xmin of the target's snapshot T, as text. */
  readonly targetXmin: string;
}

function keyObject(table: MoveTable, alias: string): string {
  return `pg_catalog.jsonb_build_object(${table.key
    .map((k) => `${quoteLiteral(k.name)}, ${alias}.${quoteIdent(k.name)}`)
    .join(", ")})`;
}

async function digestExcept(
  client: Queryable,
  table: MoveTable,
  side: MoveTableSide,
  tenantId: string,
  excluded: string,
): Promise<TableDigest> {
  // The pending keys are excluded with a hash anti-join on the typed key columns (building a
  // jsonb key per row for a NOT IN cost more than hashing the row).
  const { rows } = await client.query<{ rows: string; checksum: string }>(
    `SELECT count(*)::text AS rows,
            COALESCE(sum(${rowHashSql(table, "s")}::numeric), 0)::text AS checksum
       FROM ${side.quoted} s WHERE s.tenant_id = $1::${side.tenantIdType}
        AND NOT EXISTS (
          SELECT 1 FROM pg_catalog.jsonb_populate_recordset(NULL::${side.quoted}, $2::jsonb) k
           WHERE ${keyTuple(table, "k")} = ${keyTuple(table, "s")})`,
    [tenantId, excluded],
  );
  return { rows: Number(rows[0]?.rows ?? 0), checksum: rows[0]?.checksum ?? "0" };
}

/** `(alias.k1, alias.k2)`: the table's key as a row value. */
function keyTuple(table: MoveTable, alias: string): string {
  return `(${table.key.map((k) => `${alias}.${quoteIdent(k.name)}`).join(", ")})`;
}

function verifyFailed(slug: string, detail: string, tables: VerifiedTable[]): TenantMoveError {
  return Object.assign(
    new TenantMoveError(
      `move of tenant ${slug}: verification failed, the copy differs from the source: ${detail}`,
      "verify-failed",
    ),
    { tables },
  );
}

/** Step 1 (see the module comment). @throws TenantMoveError (`verify-failed`). */
export async function verifyBeforeFence(
  sides: Sides,
  slug: string,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<PreVerified> {
  await sides.source.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const sameSession = sides.source === sides.target;
  if (!sameSession) await sides.target.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    const snapshotXmin = async (client: Queryable) =>
      (
        await client.query<{ xmin: string }>(
          "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text AS xmin",
        )
      ).rows[0]?.xmin ?? "0";
    const sourceXmin = await snapshotXmin(sides.source);
    const targetXmin = await snapshotXmin(sides.target);
    const results: VerifiedTable[] = [];
    for (const table of tables) {
      const { rows } = await sides.source.query<{ keys: string }>(
        `SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT c.key), '[]'::jsonb)::text AS keys
           FROM ${platform}.tenant_move_changes c WHERE c.tenant_id = $1 AND c.table_oid = $2::oid`,
        [tenantId, table.source.oid],
      );
      const pending = rows[0]?.keys ?? "[]";
      results.push({
        table: table.target.display,
        source: await digestExcept(sides.source, table, table.source, tenantId, pending),
        target: await digestExcept(sides.target, table, table.target, tenantId, pending),
      });
    }
    const differing = results.filter(
      (r) => r.source.rows !== r.target.rows || r.source.checksum !== r.target.checksum,
    );
    if (differing.length > 0) {
      throw verifyFailed(
        slug,
        differing
          .map(
            (r) =>
              `${r.table}: ${r.target.rows} rows (source ${r.source.rows}), checksum ${r.target.checksum} (source ${r.source.checksum}) before the fence`,
          )
          .join("; "),
        results,
      );
    }
    return { tables: results, sourceXmin, targetXmin };
  } finally {
    await sides.source.query("COMMIT").catch(() => undefined);
    if (!sameSession) await sides.target.query("COMMIT").catch(() => undefined);
  }
}

/** Keys of every change record present (read under the fence, before the final apply). */
export async function capturedKeys(
  source: Queryable,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<Map<number, string>> {
  const keys = new Map<number, string>();
  for (const table of tables) {
    const { rows } = await source.query<{ keys: string }>(
      `SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT c.key), '[]'::jsonb)::text AS keys
         FROM ${platform}.tenant_move_changes c WHERE c.tenant_id = $1 AND c.table_oid = $2::oid`,
      [tenantId, table.source.oid],
    );
    keys.set(table.source.oid, rows[0]?.keys ?? "[]");
  }
  return keys;
}

/** key text → row hash of the rows with the given keys (jsonb array). */
async function rowsByKey(
  client: Queryable,
  table: MoveTable,
  side: MoveTableSide,
  tenantId: string,
  keys: string,
): Promise<Map<string, string>> {
  const tuple = (alias: string) => keyTuple(table, alias);
  const { rows } = await client.query<{ key: string; hash: string }>(
    `SELECT ${keyObject(table, "s")}::text AS key,
            ${rowHashSql(table, "s")}::text AS hash
       FROM (SELECT DISTINCT e FROM pg_catalog.jsonb_array_elements($2::jsonb) e) e
      CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::${side.quoted}, e.e) k
       JOIN ${side.quoted} s ON ${tuple("s")} = ${tuple("k")}
      WHERE s.tenant_id = $1::${side.tenantIdType}`,
    [tenantId, keys],
  );
  return new Map(rows.map((r) => [r.key, r.hash]));
}

/**
 * Keys of the tenant's rows written by a transaction not older than a snapshot's xmin: every
 * row inserted or updated after that snapshot was taken (or by a transaction in progress then,
 * subtransactions included), and some older ones (harmless: rechecked too). Deleted rows leave
 * nothing; the counts find those.
 */
async function writtenSince(
  client: Queryable,
  table: MoveTable,
  side: MoveTableSide,
  tenantId: string,
  xmin: string,
): Promise<unknown[]> {
  const { rows } = await client.query<{ keys: string }>(
    `SELECT COALESCE(pg_catalog.jsonb_agg(${keyObject(table, "s")}), '[]'::jsonb)::text AS keys
       FROM ${side.quoted} s
      WHERE s.tenant_id = $1::${side.tenantIdType}
        AND pg_catalog.age(s.xmin) <= pg_catalog.age((($2::numeric % 4294967296)::bigint)::text::xid)`,
    [tenantId, xmin],
  );
  return JSON.parse(rows[0]?.keys ?? "[]") as unknown[];
}

async function count(client: Queryable, side: MoveTableSide, tenantId: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${side.quoted} WHERE tenant_id = $1::${side.tenantIdType}`,
    [tenantId],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Step 2 (see the module comment), after the final apply; `captured` was read before it.
 * @throws TenantMoveError (`verify-failed`) naming each table that differs.
 */
export async function verifyUnderFence(
  sides: Sides,
  slug: string,
  tenantId: string,
  tables: readonly MoveTable[],
  pre: PreVerified,
  captured: Map<number, string>,
): Promise<{ tables: VerifiedTable[]; rechecked: number }> {
  const results: VerifiedTable[] = [];
  const problems: string[] = [];
  let rechecked = 0;
  for (const [i, table] of tables.entries()) {
    const keys = JSON.stringify([
      ...(JSON.parse(captured.get(table.source.oid) ?? "[]") as unknown[]),
      ...(await writtenSince(sides.source, table, table.source, tenantId, pre.sourceXmin)),
      ...(await writtenSince(sides.target, table, table.target, tenantId, pre.targetXmin)),
    ]);
    const source = await rowsByKey(sides.source, table, table.source, tenantId, keys);
    const target = await rowsByKey(sides.target, table, table.target, tenantId, keys);
    const differing = [...new Set([...source.keys(), ...target.keys()])].filter(
      (k) => source.get(k) !== target.get(k),
    );
    rechecked += new Set([...source.keys(), ...target.keys()]).size;
    const rows = {
      source: await count(sides.source, table.source, tenantId),
      target: await count(sides.target, table.target, tenantId),
    };
    const checksum = pre.tables[i]?.target.checksum ?? "0";
    results.push({
      table: table.target.display,
      source: { rows: rows.source, checksum: pre.tables[i]?.source.checksum ?? "0" },
      target: { rows: rows.target, checksum },
    });
    if (rows.source !== rows.target || differing.length > 0) {
      problems.push(
        `${table.target.display}: ${rows.target} rows (source ${rows.source}), ${differing.length} changed rows differ${differing.length > 0 ? ` (first key ${differing[0]})` : ""}`,
      );
    }
  }
  if (problems.length > 0) throw verifyFailed(slug, problems.join("; "), results);
  return { tables: results, rechecked };
}
