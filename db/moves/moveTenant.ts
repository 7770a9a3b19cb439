/**
 * `moveTenant`: moves a tenant's data between its placements — the shared schema (pool), a
 * schema of its own (schema), a database of its own on the same server (dedicated) — while
 * the tenant keeps working.
 *
 * prepare → provision target → capture (triggers into a change table of the source's
 * database) → copy (batches in key order, resumable; across databases through the mover's
 * two sessions, see copyAcross.ts) → catch up (apply captured keys) → fence (the tenant's
 * writes fail fast with TN001; reads and other tenants go on) → final apply → verify (counts
 * + checksums) → sequences → switch (registry row, routing version + 1, old placement
 * retired, source read-only; see moveSwitch.ts) → unfence → grace → purge with proof.
 *
 * A mover killed at any step leaves either the old routing (re-run resumes from the last
 * committed batch; `abortMove` rolls back) or the new one (re-run finishes the purge).
 * A verification failure aborts the move.
 */
import pg from "pg";
import { driverContext, routingFor, type DriverContext } from "../drivers/driverContext.ts";
import type { DriverOptions, TenantRouting } from "../drivers/types.ts";
import type { PurgeReport } from "../purge.ts";
import { findTenant, type DatabaseMode, type RegistryRow } from "../registry.ts";
import { withClient } from "../transaction.ts";
import { applyCapturedAcross, copyBatchAcross } from "./copyAcross.ts";
import { DEFAULT_COPY_PACE, MAX_COPY_PACE } from "./copyPace.ts";
import { applyCapturedChanges, copyBatch, type CopyCheckpoint } from "./copyRows.ts";
import { dropMoveTriggers, installCaptureTriggers } from "./captureTriggers.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { placementOf, provisionTarget, purgePlacement } from "./movePlacements.ts";
import { withMoverConnections, type MoverConnections } from "./moverConnections.ts";
import {
  assertNotAborted,
  deleteMove,
  ensureChangeTable,
  ensureMoveObjects,
  insertMove,
  readMove,
  requestAbort,
  setPhase,
  type MoveRecord,
  type Placement,
} from "./moveState.ts";
import { fenceAndSwitch, rollBackMove, type MoveSides } from "./moveSwitch.ts";
import { planMoveTables, type MoveTable } from "./moveTables.ts";
import type { SequenceSet, VerifiedTable } from "./verifyCopy.ts";

export type MoveStep =
  | "prepare"
  | "provision"
  | "capture"
  | "copy"
  | "catch-up"
  | "fence"
  | "verify"
  | "switch"
  | "grace"
  | "purge"
  | "done";

/** One progress report; `detail` carries step-specific figures. */
export interface MoveProgress {
  readonly step: MoveStep;
  readonly slug: string;
  readonly message: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface MoveOptions extends DriverOptions {
  readonly slug: string;
  /** Target database mode. */
  readonly to: DatabaseMode;
  /** Milliseconds the old placement stays (read-only) before its purge; 0 purges at once. @default 24 h */
  readonly graceMs?: number;
  /** Rows per copy batch. @default 5000 */
  readonly batchSize?: number;
  /**
   * Pacing of the bulk copy: after each batch the mover waits this many times the batch's own
   * duration (1 = copy half of the time). On a server the copy saturates, other tenants'
   * transactions queue behind it; pacing trades move time for their latency. The fenced
   * steps are never paced. @default {@link DEFAULT_COPY_PACE}
   */
  readonly copyPace?: number;
  /** Longest wait for the tenant's in-flight writes when fencing. @default 5000 */
  readonly fenceTimeoutMs?: number;
  /** Password for the new tenant role (moves to schema); generated when omitted. */
  readonly password?: string;
  /**
   * The target placement was provisioned by the caller (a tenant stack, see
   * {@link prepareMove}): it is not provisioned again, so its role keeps its password.
   */
  readonly targetProvisioned?: boolean;
  /** Called (and awaited) at each step. */
  readonly onProgress?: (progress: MoveProgress) => void | Promise<void>;
}

export interface MoveResult {
  readonly slug: string;
  readonly tenantId: string;
  readonly from: DatabaseMode;
  readonly to: DatabaseMode;
  /** The new routing record (version incremented). */
  readonly routing: TenantRouting;
  /** Password of the new tenant role (moves to schema), returned once. */
  readonly password?: string;
  readonly tables: readonly VerifiedTable[];
  readonly sequences: readonly SequenceSet[];
  /** Milliseconds the tenant's writes were fenced. */
  readonly fencedMs: number;
  /** The purge of the old placement, when the grace period was 0. */
  readonly purge?: PurgeReport;
  /** When the old placement may be purged (`purgeMovedTenant`), when it was kept. */
  readonly purgeAfter?: Date;
}

export const DEFAULT_GRACE_MS = 24 * 3_600_000;

export { DEFAULT_COPY_PACE };

interface Started {
  readonly row: RegistryRow;
  readonly existing: MoveRecord | undefined;
  readonly source: Placement;
  readonly target: Placement;
  /** The session on the source's database. */
  readonly sourceClient: pg.Client;
  readonly sourceTables: MoveTable[];
  /** Plans the copy into `targetSchema`, read through `targetClient`. */
  readonly plan: (targetClient: pg.Client, targetSchema: string) => Promise<MoveTable[]>;
}

/**
 * The checks every start (or resume) of a move makes, before anything is created: the tenant
 * exists, no other move, not already there, and every source table can be moved.
 */
async function startOrResume(
  connections: MoverConnections,
  options: Pick<MoveOptions, "slug" | "to"> & DriverOptions,
): Promise<Started> {
  const client = connections.control;
  const context = driverContext(options);
  await ensureMoveObjects(client, context.roles.owner);
  const row = await findTenant(client, options.slug);
  if (!row) throw new TenantMoveError(`tenant ${options.slug} is not registered`, "not-found");
  const existing = await readMove(client, options.slug);
  const target = placementOf(context, options.slug, options.to);
  if (existing?.phase === "switched") {
    throw new TenantMoveError(
      `tenant ${options.slug} was moved to ${existing.target.mode}; its old placement is in its grace period until ${existing.purgeAfter?.toISOString() ?? "?"} (purge it first)`,
      "previous-move-in-grace",
    );
  }
  if (existing && existing.target.mode !== options.to) {
    throw new TenantMoveError(
      `a move of tenant ${options.slug} to ${existing.target.mode} is in progress; abort it first`,
      "move-in-progress",
    );
  }
  if (!existing && row.mode === options.to) {
    throw new TenantMoveError(
      `tenant ${options.slug} is already in database mode ${row.mode}: nothing to move`,
      "same-placement",
    );
  }
  const source = existing?.source ?? placementOf(context, options.slug, row.mode);
  const sourceClient = await connections.on(source.database);
  const plan = (targetClient: pg.Client, targetSchema: string) =>
    planMoveTables(
      sourceClient,
      targetClient,
      options.slug,
      source.schema,
      targetSchema,
      source.mode !== "pool",
    );
  // Everything refused about the source is refused here, before the target exists.
  const sourceTables = await plan(sourceClient, source.schema);
  return { row, existing, source, target, sourceClient, sourceTables, plan };
}

function moverConnections<T>(
  options: DriverOptions & { readonly slug: string },
  fn: (connections: MoverConnections, context: DriverContext) => Promise<T>,
): Promise<T> {
  const context = driverContext(options);
  return withMoverConnections(options.adminUrl, context.controlDatabase, options.slug, (c) =>
    fn(c, context),
  );
}

/**
 * Records a move without copying anything, so that the target can be provisioned by someone
 * else first (the tenant's stack: its database resource provisions a recorded move's target,
 * see `provisionMoveTarget`). Refuses what {@link moveTenant} refuses; idempotent.
 */
export async function prepareMove(
  options: DriverOptions & Pick<MoveOptions, "slug" | "to" | "graceMs">,
): Promise<{ resumed: boolean; tables: string[] }> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  return moverConnections(options, async (connections) => {
    const { row, existing, source, target, sourceTables } = await startOrResume(
      connections,
      options,
    );
    if (!existing) {
      await insertMove(connections.control, {
        tenantId: row.id,
        slug: row.slug,
        source,
        target,
        graceMs,
      });
    }
    return {
      resumed: existing !== undefined,
      tables: sourceTables.map((t) => t.source.display),
    };
  });
}

/** Where a tenant is (registry mode) and its move, if one is recorded. */
export async function moveStatus(
  options: DriverOptions & { readonly slug: string },
): Promise<{ mode: DatabaseMode | undefined; move: MoveRecord | undefined }> {
  return withMoveObjects(options, async (client) => {
    const row = await findTenant(client, options.slug);
    return { mode: row?.mode, move: await readMove(client, options.slug) };
  });
}

/**
 * Runs `fn` on a connection of its own to the control database (closed after it), with the
 * move objects in place (`ensureMoveObjects`).
 */
function withMoveObjects<T>(
  options: DriverOptions,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const context = driverContext(options);
  return withClient(pg, options.adminUrl, async (client) => {
    await ensureMoveObjects(client, context.roles.owner);
    return fn(client);
  });
}

/** Runs (or resumes) a move; see the module comment. */
export async function moveTenant(options: MoveOptions): Promise<MoveResult> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isInteger(graceMs) || graceMs < 0) {
    throw new TenantMoveError(`invalid grace period ${graceMs} ms`, "invalid-grace");
  }
  const copyPace = options.copyPace ?? DEFAULT_COPY_PACE;
  if (!Number.isFinite(copyPace) || copyPace < 0 || copyPace > MAX_COPY_PACE) {
    throw new TenantMoveError(
      `invalid copy pace ${copyPace}: a number from 0 (no pause) to ${MAX_COPY_PACE}`,
      "invalid-copy-pace",
    );
  }
  const report = async (step: MoveStep, message: string, detail?: Record<string, unknown>) =>
    options.onProgress?.({ step, slug: options.slug, message, ...(detail ? { detail } : {}) });
  return moverConnections(options, async (connections, context) => {
    try {
      return await runMove(connections, context);
    } catch (error) {
      // Aborted on request (requestMoveAbort): undone here, the tenant stays on its source.
      if (error instanceof TenantMoveError && error.reason === "aborted") {
        const row = await findTenant(connections.control, options.slug);
        if (row) await rollBackMove(connections, context, options.slug, row.id);
      }
      throw error;
    }
  });

  async function runMove(
    connections: MoverConnections,
    context: DriverContext,
  ): Promise<MoveResult> {
    const client = connections.control;
    const { row, existing, source, target, sourceClient, sourceTables, plan } = await startOrResume(
      connections,
      options,
    );
    await report("prepare", `moving ${options.slug} from ${source.mode} to ${target.mode}`, {
      resumed: existing !== undefined,
      tables: sourceTables.map((t) => t.source.display),
    });

    const { password } = options.targetProvisioned
      ? { password: undefined }
      : await provisionTarget(client, context, target, quotasOf(row), options.password);
    const sides: MoveSides = {
      control: client,
      source: sourceClient,
      target: await connections.on(target.database),
    };
    const across = sides.source !== sides.target;
    const tables = await plan(sides.target, target.schema);
    await report(
      "provision",
      `target ${target.mode} (${across ? `${target.database}.` : ""}${target.schema}) ready`,
    );
    if (!existing) {
      await insertMove(client, { tenantId: row.id, slug: row.slug, source, target, graceMs });
    }
    if (sides.source !== client) await ensureChangeTable(sides.source, context.roles.owner);
    await installCaptureTriggers(sides.source, context.roles.owner, row.id, tables);
    await report(
      "capture",
      `capturing the tenant's writes on ${tables.length} tables; copy pace ${copyPace}`,
      { copyPace },
    );

    const checkpoints = existing?.checkpoints ?? {};
    const batchSize = options.batchSize ?? 5000;
    const copyStarted = Date.now();
    let copied = 0;
    for (const table of tables) {
      let checkpoint: CopyCheckpoint = checkpoints[String(table.source.oid)] ?? {
        last: null,
        rows: 0,
        done: false,
      };
      while (!checkpoint.done) {
        await assertNotAborted(client, row.id, options.slug);
        const before = checkpoint.rows;
        const batchStarted = Date.now();
        checkpoint = across
          ? await copyBatchAcross(sides, row.id, table, checkpoint, batchSize)
          : await copyBatch(client, row.id, table, checkpoint, batchSize);
        copied += checkpoint.rows - before;
        if (copyPace > 0 && !checkpoint.done) {
          const pause = (Date.now() - batchStarted) * copyPace;
          await new Promise((resolve) => setTimeout(resolve, pause));
        }
        await report("copy", `${table.source.display}: ${checkpoint.rows} rows`, {
          table: table.source.display,
          rows: checkpoint.rows,
          done: checkpoint.done,
          copyPace,
        });
      }
    }
    const copyMs = Date.now() - copyStarted;
    // The planner's statistics still describe the target before the copy (a pooled table
    // without this tenant, a new table with no rows): the catch-up's key joins then loop over
    // every copied row once per captured key (minutes at 1M rows), and the tenant's first
    // queries after the switch would be planned as badly.
    for (const table of tables) await sides.target.query(`ANALYZE ${table.target.quoted}`);
    await setPhase(client, row.id, "catching-up");
    const apply = () =>
      across
        ? applyCapturedAcross(sides, row.id, tables)
        : applyCapturedChanges(client, row.id, tables);
    for (let round = 1; round <= 20; round += 1) {
      await assertNotAborted(client, row.id, options.slug);
      const applied = await apply();
      await report("catch-up", `round ${round}: ${applied} captured changes applied`, {
        round,
        applied,
        copiedRows: copied,
        copyMs,
      });
      if (applied < 200) break;
    }

    const fenced = await fenceAndSwitch(sides, row, source, target, tables, {
      slug: options.slug,
      owner: context.roles.owner,
      fenceTimeoutMs: options.fenceTimeoutMs ?? 5000,
      apply,
      rollBack: () => rollBackMove(connections, context, options.slug, row.id),
      report,
    });
    const routing = routingFor(context, fenced.registry);
    let purge: PurgeReport | undefined;
    let purgeAfter: Date | undefined;
    if (graceMs === 0) {
      purge = await purgeOldPlacement(connections, context, options.slug, row.id, source, target);
      await report("purge", `old placement ${describe(source)} purged and verified`, {
        verified: purge.verified,
        verifiedBy: purge.verifiedBy,
      });
    } else {
      purgeAfter = new Date(Date.now() + graceMs);
      await report("grace", `old placement read-only until ${purgeAfter.toISOString()}`, {
        purgeAfter: purgeAfter.toISOString(),
      });
    }
    await report("done", `tenant ${options.slug} now in ${target.mode}`, {
      version: routing.version,
    });
    return {
      slug: row.slug,
      tenantId: row.id,
      from: source.mode,
      to: target.mode,
      routing,
      ...(password === undefined ? {} : { password }),
      tables: fenced.tables,
      sequences: fenced.sequences,
      fencedMs: fenced.fencedMs,
      ...(purge ? { purge } : {}),
      ...(purgeAfter ? { purgeAfter } : {}),
    };
  }
}

/**
 * Asks a running (or interrupted) move to stop before its switch; the mover rolls it back.
 * See `requestAbort` in moveState.ts for the answers.
 */
export async function requestMoveAbort(
  options: DriverOptions & { readonly slug: string },
): Promise<"requested" | "switched" | "none"> {
  return withMoveObjects(options, (client) => requestAbort(client, options.slug));
}

function describe(placement: Placement): string {
  return placement.mode === "dedicated"
    ? `${placement.mode} (database ${placement.database})`
    : `${placement.mode} (${placement.schema})`;
}

/**
 * Purges a switched move's source with the purge proof, then its guard triggers (gone with
 * the database for a dedicated source) and the move's record.
 */
async function purgeOldPlacement(
  connections: MoverConnections,
  context: DriverContext,
  slug: string,
  tenantId: string,
  source: Placement,
  target: Placement,
): Promise<PurgeReport> {
  const report = await purgePlacement(context, slug, tenantId, source, target);
  if (source.database === context.controlDatabase) {
    await dropMoveTriggers(connections.control, tenantId);
  }
  await deleteMove(connections.control, tenantId);
  return report;
}

/**
 * Aborts a move that has not switched: the tenant stays on its source, the target is
 * removed (with the purge proof). Refused after the switch.
 */
export async function abortMove(
  options: DriverOptions & { readonly slug: string },
): Promise<{ aborted: boolean }> {
  return moverConnections(options, async (connections, context) => {
    await ensureMoveObjects(connections.control, context.roles.owner);
    const move = await readMove(connections.control, options.slug);
    if (!move) return { aborted: false };
    if (move.phase === "switched") {
      throw new TenantMoveError(
        `the move of tenant ${options.slug} has switched already; move it back instead`,
        "already-switched",
      );
    }
    await rollBackMove(connections, context, options.slug, move.tenantId);
    return { aborted: true };
  });
}

/**
 * Purges the old placement of a switched move once its grace period is over (or at once
 * with `force`). Returns undefined when there is nothing to purge yet.
 */
export async function purgeMovedTenant(
  options: DriverOptions & { readonly slug: string; readonly force?: boolean },
): Promise<PurgeReport | undefined> {
  return moverConnections(options, async (connections, context) => {
    await ensureMoveObjects(connections.control, context.roles.owner);
    const move: MoveRecord | undefined = await readMove(connections.control, options.slug);
    if (move?.phase !== "switched") return undefined;
    if (!options.force && move.purgeAfter && move.purgeAfter.getTime() > Date.now()) {
      return undefined;
    }
    return purgeOldPlacement(
      connections,
      context,
      options.slug,
      move.tenantId,
      move.source,
      move.target,
    );
  });
}

function quotasOf(row: RegistryRow): { dbConnections: number; statementTimeoutMs: number } {
  return { dbConnections: row.dbConnections, statementTimeoutMs: row.statementTimeoutMs };
}
