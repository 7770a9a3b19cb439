/**
 * The end of a move before the grace period: the write fence, the final apply, verify,
 * sequences and the routing switch; and the undo of a move that has not switched.
 *
 * The switch is the registry's transaction (mode, names, routing version + 1, phase
 * `switched`). The source is retired with it — read-only guards, and a `retired_placements`
 * record that makes the old routing answer TN002 — in the same transaction when the source
 * lives in the control database. A dedicated source is retired in its own database first,
 * then the registry switches: a mover killed between the two leaves the tenant on its source
 * with writes refused (TN002) until the move is resumed or aborted — never writable on both
 * sides, never switched with its source still writable.
 */
import type pg from "pg";
import { PLATFORM_SCHEMA, quoteIdent } from "../identifiers.ts";
import { findTenant, type RegistryRow } from "../registry.ts";
import { errorMessage, type Queryable } from "../transaction.ts";
import { dropMoveTriggers, fenceLockKeySql, makeSourceReadOnly } from "./captureTriggers.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { purgePlacement } from "./movePlacements.ts";
import type { DriverContext } from "../drivers/driverContext.ts";
import type { MoverConnections } from "./moverConnections.ts";
import { assertNotAborted, deleteMove, readMove, setPhase, type Placement } from "./moveState.ts";
import type { MoveTable } from "./moveTables.ts";
import { capturedKeys, verifyBeforeFence, verifyUnderFence } from "./splitVerify.ts";
import { advanceSequences, type SequenceSet, type VerifiedTable } from "./verifyCopy.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

/** The sessions of one move: the control database, and those of its source and target. */
export interface MoveSides {
  readonly control: pg.Client;
  readonly source: pg.Client;
  readonly target: pg.Client;
}

export interface Switched {
  readonly registry: RegistryRow;
  readonly tables: VerifiedTable[];
  readonly sequences: SequenceSet[];
  readonly fencedMs: number;
}

export interface FenceSettings {
  readonly slug: string;
  readonly owner: string;
  readonly fenceTimeoutMs: number;
  /** Applies the captured changes committed so far; returns how many. */
  readonly apply: () => Promise<number>;
  /** Undoes the move (a verification failure). */
  readonly rollBack: () => Promise<void>;
  readonly report: (
    step: "catch-up" | "fence" | "verify" | "switch",
    message: string,
    detail?: Record<string, unknown>,
  ) => Promise<void>;
}

/**
 * Full verification before the fence, then fence (the fence lock of the source's database),
 * final apply, recheck of what changed since (splitVerify.ts), sequences, switch; the fence
 * is released whatever happens. A verification failure rolls the move back.
 */
export async function fenceAndSwitch(
  sides: MoveSides,
  row: RegistryRow,
  source: Placement,
  target: Placement,
  tables: readonly MoveTable[],
  settings: FenceSettings,
): Promise<Switched> {
  const rollingBack = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof TenantMoveError && error.reason === "verify-failed") {
        await settings.rollBack();
      }
      throw error;
    }
  };
  const pre = await rollingBack(() => verifyBeforeFence(sides, settings.slug, row.id, tables));
  await settings.report("catch-up", `${pre.tables.length} tables verified before the fence`, {
    preVerified: true,
    tables: pre.tables.map((t) => ({ table: t.table, rows: t.target.rows })),
  });
  const fence = sides.source;
  await fence.query(`SET lock_timeout = ${Math.trunc(settings.fenceTimeoutMs)}`);
  try {
    await fence.query(`SELECT pg_catalog.pg_advisory_lock(${fenceLockKeySql(row.id)})`);
  } catch (error) {
    throw new TenantMoveError(
      `move of tenant ${settings.slug}: could not fence its writes: ${errorMessage(error)} (a long transaction of the tenant holds them; the move resumes when re-run)`,
      "fence-timeout",
    );
  } finally {
    await fence.query("SET lock_timeout = 0");
  }
  const fencedAt = Date.now();
  try {
    await settings.report("fence", `writes of ${settings.slug} fenced`);
    const captured = await capturedKeys(sides.source, row.id, tables);
    const applied = await settings.apply();
    const { tables: verified, rechecked } = await rollingBack(() =>
      verifyUnderFence(sides, settings.slug, row.id, tables, pre, captured),
    );
    await settings.report("verify", `${verified.length} tables verified`, {
      applied,
      rechecked,
      tables: verified.map((t) => ({ table: t.table, rows: t.target.rows })),
    });
    const sequences = await advanceSequences(sides.target, tables);
    const registry = await switchRouting(sides, row, source, target, settings.owner, tables);
    const fencedMs = Date.now() - fencedAt;
    await settings.report(
      "switch",
      `routing switched to ${target.mode} (version ${registry.routingVersion})`,
      { version: registry.routingVersion, fencedMs },
    );
    return { registry, tables: verified, sequences, fencedMs };
  } finally {
    await fence
      .query(`SELECT pg_catalog.pg_advisory_unlock(${fenceLockKeySql(row.id)})`)
      .catch(() => undefined);
  }
}

/** Retires the source in its database (inside the caller's transaction). */
async function retireSource(
  client: Queryable,
  tenantId: string,
  source: Placement,
  version: number,
  owner: string,
  tables: readonly MoveTable[],
): Promise<void> {
  await client.query(
    `INSERT INTO ${platform}.retired_placements (tenant_id, schema_name, routing_version)
     VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, schema_name) DO UPDATE SET routing_version = EXCLUDED.routing_version,
            retired_at = now()`,
    [tenantId, source.schema, version],
  );
  await makeSourceReadOnly(client, owner, tenantId, tables);
  await client.query(`DELETE FROM ${platform}.tenant_move_changes WHERE tenant_id = $1`, [
    tenantId,
  ]);
}

async function inTransaction(client: Queryable, work: () => Promise<void>): Promise<void> {
  await client.query("BEGIN");
  try {
    await work();
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

const FORGET_RETIREMENT = `DELETE FROM ${platform}.retired_placements WHERE tenant_id = $1 AND schema_name = $2`;

/** The switch (see the module comment). */
async function switchRouting(
  sides: MoveSides,
  row: RegistryRow,
  source: Placement,
  target: Placement,
  owner: string,
  tables: readonly MoveTable[],
): Promise<RegistryRow> {
  const version = row.routingVersion + 1;
  const sourceElsewhere = sides.source !== sides.control;
  const targetElsewhere = sides.target !== sides.control;
  // Nobody routes to the target before the switch: an old retirement of it can go first.
  if (targetElsewhere) await sides.target.query(FORGET_RETIREMENT, [row.id, target.schema]);
  if (sourceElsewhere) {
    await inTransaction(sides.source, () =>
      retireSource(sides.source, row.id, source, version, owner, tables),
    );
  }
  let updated: RegistryRow | undefined;
  await inTransaction(sides.control, async () => {
    // Under the move row's lock: an abort asked for until now is seen, later ones are refused.
    await assertNotAborted(sides.control, row.id, row.slug, true);
    const result = await sides.control.query(
      `UPDATE ${platform}.tenants
          SET mode = $2, schema_name = $3, role_name = $4, database_name = $5,
              routing_version = routing_version + 1, updated_at = now()
        WHERE id = $1 AND routing_version = $6`,
      [row.id, target.mode, target.schema, target.role, target.database, row.routingVersion],
    );
    if (result.rowCount !== 1) {
      throw new Error(
        `tenant ${row.slug}: its routing record changed during the move (version ${row.routingVersion} expected)`,
      );
    }
    updated = await findTenant(sides.control, row.slug);
    if (!updated) throw new Error(`tenant ${row.slug} vanished from the registry during its move`);
    if (!sourceElsewhere) {
      await retireSource(sides.control, row.id, source, updated.routingVersion, owner, tables);
    }
    if (!targetElsewhere) await sides.control.query(FORGET_RETIREMENT, [row.id, target.schema]);
    await setPhase(sides.control, row.id, "switched");
  });
  return updated!;
}

/**
 * Undoes an unswitched move: triggers, captured changes, a retirement of the source not
 * followed by the switch, the target placement (purged with proof), the move's record.
 */
export async function rollBackMove(
  connections: MoverConnections,
  context: DriverContext,
  slug: string,
  tenantId: string,
): Promise<void> {
  const { control } = connections;
  const move = await readMove(control, slug);
  if (!move) {
    await dropMoveTriggers(control, tenantId);
    return;
  }
  const source = await connections.on(move.source.database);
  await dropMoveTriggers(source, tenantId);
  const row = await findTenant(control, slug);
  await source.query(
    `DELETE FROM ${platform}.retired_placements
      WHERE tenant_id = $1 AND schema_name = $2 AND routing_version > $3`,
    [tenantId, move.source.schema, row?.routingVersion ?? 0],
  );
  if (source !== control) {
    await source.query(`DELETE FROM ${platform}.tenant_move_changes WHERE tenant_id = $1`, [
      tenantId,
    ]);
  }
  await purgePlacement(context, slug, tenantId, move.target, move.source);
  await deleteMove(control, tenantId);
}
