/** The `tenancy.tenant_moves` row: what a re-run of a move resumes from. */
import { PLATFORM_SCHEMA, quoteIdent } from "../identifiers.ts";
import type { DatabaseMode } from "../registry.ts";
import type { Queryable } from "../transaction.ts";
import type { CopyCheckpoint } from "./copyRows.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { MOVE_CHANGES_SQL, MOVE_STATE_SQL, RETIRED_PLACEMENTS_SQL } from "./moveSchemaSql.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

export type MovePhase = "copying" | "catching-up" | "switched";

/** One end of a move: a schema, its role and the database holding it. */
export interface Placement {
  readonly mode: DatabaseMode;
  readonly schema: string;
  readonly role: string;
  readonly database: string;
}

export interface MoveRecord {
  readonly tenantId: string;
  readonly slug: string;
  readonly phase: MovePhase;
  readonly source: Placement;
  readonly target: Placement;
  /** By source table oid. */
  readonly checkpoints: Readonly<Record<string, CopyCheckpoint>>;
  readonly graceMs: number;
  readonly purgeAfter: Date | null;
}

interface Row {
  tenant_id: string;
  slug: string;
  phase: MovePhase;
  source: Placement;
  target: Placement;
  checkpoints: Record<string, CopyCheckpoint>;
  grace_ms: string;
  purge_after: Date | null;
}

/** Creates the move objects when missing (as the owner role; the caller is a superuser). */
export async function ensureMoveObjects(client: Queryable, owner: string): Promise<void> {
  const { rows } = await client.query<{ ready: boolean }>(
    `SELECT to_regclass('${PLATFORM_SCHEMA}.tenant_move_changes') IS NOT NULL
        AND to_regprocedure('${PLATFORM_SCHEMA}.assert_routing(bigint)') IS NOT NULL
        AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                     WHERE attrelid = to_regclass('${PLATFORM_SCHEMA}.tenant_moves')
                       AND attname = 'abort_requested') AS ready`,
  );
  if (rows[0]?.ready) return;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(pg_catalog.hashtext('tenancy.bootstrap'))");
    await client.query(`SET LOCAL ROLE ${quoteIdent(owner)}`);
    await client.query(RETIRED_PLACEMENTS_SQL);
    await client.query(MOVE_STATE_SQL);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export async function readMove(client: Queryable, slug: string): Promise<MoveRecord | undefined> {
  const { rows } = await client.query<Row>(
    `SELECT tenant_id, slug, phase, source, target, checkpoints, grace_ms, purge_after
       FROM ${platform}.tenant_moves WHERE slug = $1`,
    [slug],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    tenantId: row.tenant_id,
    slug: row.slug,
    phase: row.phase,
    source: row.source,
    target: row.target,
    checkpoints: row.checkpoints,
    graceMs: Number(row.grace_ms),
    purgeAfter: row.purge_after,
  };
}

export async function insertMove(
  client: Queryable,
  move: Pick<MoveRecord, "tenantId" | "slug" | "source" | "target" | "graceMs">,
): Promise<void> {
  await client.query(
    `INSERT INTO ${platform}.tenant_moves (tenant_id, slug, phase, source, target, grace_ms)
     VALUES ($1, $2, 'copying', $3, $4, $5)`,
    [
      move.tenantId,
      move.slug,
      JSON.stringify(move.source),
      JSON.stringify(move.target),
      move.graceMs,
    ],
  );
}

export async function setPhase(
  client: Queryable,
  tenantId: string,
  phase: MovePhase,
): Promise<void> {
  await client.query(
    `UPDATE ${platform}.tenant_moves SET phase = $2, updated_at = now(),
            purge_after = CASE WHEN $2 = 'switched' THEN now() + grace_ms * interval '1 ms' END
      WHERE tenant_id = $1`,
    [tenantId, phase],
  );
}

export async function deleteMove(client: Queryable, tenantId: string): Promise<void> {
  await client.query(`DELETE FROM ${platform}.tenant_move_changes WHERE tenant_id = $1`, [
    tenantId,
  ]);
  await client.query(`DELETE FROM ${platform}.tenant_moves WHERE tenant_id = $1`, [tenantId]);
}

/**
 * The change table in a database other than the control one (the source of a move out of a
 * dedicated database), as the owner role; the caller is a superuser.
 */
export async function ensureChangeTable(client: Queryable, owner: string): Promise<void> {
  const { rows } = await client.query<{ ready: boolean }>(
    `SELECT to_regclass('${PLATFORM_SCHEMA}.tenant_move_changes') IS NOT NULL AS ready`,
  );
  if (rows[0]?.ready) return;
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL ROLE ${quoteIdent(owner)}`);
    await client.query(MOVE_CHANGES_SQL);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Asks the move of `slug` to stop before its switch: `requested` (the mover rolls back at
 * its next batch, catch-up round or at the switch, whichever comes first — the switch
 * checks under the row lock it takes, so an abort is either seen or answered `switched`),
 * `switched` (too late: move the tenant back instead), `none` (no move recorded).
 */
export async function requestAbort(
  client: Queryable,
  slug: string,
): Promise<"requested" | "switched" | "none"> {
  const asked = await client.query(
    `UPDATE ${platform}.tenant_moves SET abort_requested = true, updated_at = now()
      WHERE slug = $1 AND phase <> 'switched'`,
    [slug],
  );
  if (asked.rowCount === 1) return "requested";
  // A statement of its own: a snapshot taken after a switch the update waited for.
  const { rows } = await client.query<{ phase: MovePhase }>(
    `SELECT phase FROM ${platform}.tenant_moves WHERE slug = $1`,
    [slug],
  );
  const phase = rows[0]?.phase;
  if (!phase) return "none";
  return phase === "switched" ? "switched" : "requested";
}

/**
 * Throws TenantMoveError `aborted` when an abort of the move was asked for. `lock`: take the
 * row lock (inside the switch's transaction) so that no abort can slip in after the check.
 */
export async function assertNotAborted(
  client: Queryable,
  tenantId: string,
  slug: string,
  lock = false,
): Promise<void> {
  const { rows } = await client.query<{ aborted: boolean }>(
    `SELECT abort_requested AS aborted FROM ${platform}.tenant_moves WHERE tenant_id = $1${lock ? " FOR UPDATE" : ""}`,
    [tenantId],
  );
  if (rows[0]?.aborted) {
    throw new TenantMoveError(`the move of tenant ${slug} was aborted on request`, "aborted");
  }
}
