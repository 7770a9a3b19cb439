/**
 * `moveTenant`: moves a tenant's data between placements of the same database (pool ↔
 * schema) while the tenant keeps working.
 *
 * prepare → provision target → capture (triggers) → copy (batches in key order, resumable)
 * → catch up (apply captured keys) → fence (the tenant's writes fail fast with TN001;
 * reads and other tenants go on) → final apply → verify (counts + checksums) → sequences →
 * switch (registry row, routing version + 1, old placement retired, source read-only: one
 * transaction) → unfence → grace → purge with proof.
 *
 * A mover killed at any step leaves either the old routing (re-run resumes from the last
 * committed batch; `abortMove` rolls back) or the new one (re-run finishes the purge):
 * the switch is one transaction. A verification failure aborts the move.
 */
import pg from "pg";
import { driverContext, routingFor } from "../drivers/driverContext.ts";
import type { DriverOptions, TenantRouting } from "../drivers/types.ts";
import { PLATFORM_SCHEMA, quoteIdent } from "../identifiers.ts";
import type { PurgeReport } from "../purge.ts";
import { findTenant, type DatabaseMode, type RegistryRow } from "../registry.ts";
import { errorMessage, redactUrl, type Queryable } from "../transaction.ts";
import { applyCapturedChanges, copyBatch, type CopyCheckpoint } from "./copyRows.ts";
import {
  dropMoveTriggers,
  fenceLockKeySql,
  installCaptureTriggers,
  makeSourceReadOnly,
} from "./captureTriggers.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { placementOf, provisionTarget, purgePlacement } from "./movePlacements.ts";
import {
  deleteMove,
  ensureMoveObjects,
  insertMove,
  readMove,
  setPhase,
  type MoveRecord,
  type Placement,
} from "./moveState.ts";
import { planMoveTables, type MoveTable } from "./moveTables.ts";
import {
  advanceSequences,
  verifyCopy,
  type SequenceSet,
  type VerifiedTable,
} from "./verifyCopy.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

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

interface Started {
  readonly row: RegistryRow;
  readonly existing: MoveRecord | undefined;
  readonly source: Placement;
  readonly target: Placement;
  readonly sourceTables: MoveTable[];
  readonly plan: (targetSchema: string) => Promise<MoveTable[]>;
}

/**
 * The checks every start (or resume) of a move makes, before anything is created: the tenant
 * exists, no other move, not already there, and every source table can be moved.
 */
async function startOrResume(
  client: pg.Client,
  options: Pick<MoveOptions, "slug" | "to"> & DriverOptions,
): Promise<Started> {
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
  const plan = (targetSchema: string) =>
    planMoveTables(client, options.slug, source.schema, targetSchema, source.mode !== "pool");
  // Everything refused about the source is refused here, before the target exists.
  const sourceTables = await plan(source.schema);
  return { row, existing, source, target, sourceTables, plan };
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
  return withMoverClient(options.adminUrl, options.slug, async (client) => {
    const { row, existing, source, target, sourceTables } = await startOrResume(client, options);
    if (!existing) {
      await insertMove(client, { tenantId: row.id, slug: row.slug, source, target, graceMs });
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
  const context = driverContext(options);
  const client = new pg.Client({ connectionString: options.adminUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await ensureMoveObjects(client, context.roles.owner);
    const row = await findTenant(client, options.slug);
    return { mode: row?.mode, move: await readMove(client, options.slug) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs (or resumes) a move; see the module comment. */
export async function moveTenant(options: MoveOptions): Promise<MoveResult> {
  const context = driverContext(options);
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isInteger(graceMs) || graceMs < 0) {
    throw new TenantMoveError(`invalid grace period ${graceMs} ms`, "invalid-grace");
  }
  const report = async (step: MoveStep, message: string, detail?: Record<string, unknown>) =>
    options.onProgress?.({ step, slug: options.slug, message, ...(detail ? { detail } : {}) });
  return withMoverClient(options.adminUrl, options.slug, async (client) => {
    const { row, existing, source, target, sourceTables, plan } = await startOrResume(
      client,
      options,
    );
    await report("prepare", `moving ${options.slug} from ${source.mode} to ${target.mode}`, {
      resumed: existing !== undefined,
      tables: sourceTables.map((t) => t.source.display),
    });

    const { password } = options.targetProvisioned
      ? { password: undefined }
      : await provisionTarget(client, context, target, quotasOf(row), options.password);
    const tables = await plan(target.schema);
    await report("provision", `target ${target.mode} (${target.schema}) ready`);
    if (!existing) {
      await insertMove(client, { tenantId: row.id, slug: row.slug, source, target, graceMs });
    }
    await installCaptureTriggers(client, context.roles.owner, row.id, tables);
    await report("capture", `capturing the tenant's writes on ${tables.length} tables`);

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
        const before = checkpoint.rows;
        checkpoint = await copyBatch(client, row.id, table, checkpoint, batchSize);
        copied += checkpoint.rows - before;
        await report("copy", `${table.source.display}: ${checkpoint.rows} rows`, {
          table: table.source.display,
          rows: checkpoint.rows,
          done: checkpoint.done,
        });
      }
    }
    const copyMs = Date.now() - copyStarted;
    await setPhase(client, row.id, "catching-up");
    for (let round = 1; round <= 20; round += 1) {
      const applied = await applyCapturedChanges(client, row.id, tables);
      await report("catch-up", `round ${round}: ${applied} captured changes applied`, {
        round,
        applied,
        copiedRows: copied,
        copyMs,
      });
      if (applied < 200) break;
    }

    const fenced = await fenceAndSwitch(client, row, source, target, tables, options, report);
    const routing = routingFor(context, fenced.registry);
    let purge: PurgeReport | undefined;
    let purgeAfter: Date | undefined;
    if (graceMs === 0) {
      purge = await purgeOldPlacement(client, options, row.id);
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

    async function purgeOldPlacement(
      c: Queryable,
      o: MoveOptions,
      tenantId: string,
    ): Promise<PurgeReport> {
      const result = await purgePlacement(context, o.slug, tenantId, source);
      await dropMoveTriggers(c, tenantId);
      await deleteMove(c, tenantId);
      await report("purge", `old placement ${source.mode} (${source.schema}) purged and verified`, {
        verified: result.verified,
        verifiedBy: result.verifiedBy,
      });
      return result;
    }
  });
}

interface Switched {
  readonly registry: RegistryRow;
  readonly tables: VerifiedTable[];
  readonly sequences: SequenceSet[];
  readonly fencedMs: number;
}

/** Fence, final apply, verify, sequences, switch; the fence is released whatever happens. */
async function fenceAndSwitch(
  client: pg.Client,
  row: RegistryRow,
  source: Placement,
  target: Placement,
  tables: readonly MoveTable[],
  options: MoveOptions,
  report: (step: MoveStep, message: string, detail?: Record<string, unknown>) => Promise<void>,
): Promise<Switched> {
  const owner = driverContext(options).roles.owner;
  await client.query(`SET lock_timeout = ${Math.trunc(options.fenceTimeoutMs ?? 5000)}`);
  try {
    await client.query(`SELECT pg_catalog.pg_advisory_lock(${fenceLockKeySql(row.id)})`);
  } catch (error) {
    throw new TenantMoveError(
      `move of tenant ${options.slug}: could not fence its writes: ${errorMessage(error)} (a long transaction of the tenant holds them; the move resumes when re-run)`,
      "fence-timeout",
    );
  } finally {
    await client.query("SET lock_timeout = 0");
  }
  const fencedAt = Date.now();
  try {
    await report("fence", `writes of ${options.slug} fenced`);
    const applied = await applyCapturedChanges(client, row.id, tables);
    let verified: VerifiedTable[];
    try {
      verified = await verifyCopy(client, options.slug, row.id, tables);
    } catch (error) {
      if (error instanceof TenantMoveError && error.reason === "verify-failed") {
        await rollBackMove(client, options, row.id);
      }
      throw error;
    }
    await report("verify", `${verified.length} tables verified`, {
      applied,
      tables: verified.map((t) => ({ table: t.table, rows: t.target.rows })),
    });
    const sequences = await advanceSequences(client, tables);
    const registry = await switchRouting(client, row, source, target, owner, tables);
    const fencedMs = Date.now() - fencedAt;
    await report(
      "switch",
      `routing switched to ${target.mode} (version ${registry.routingVersion})`,
      {
        version: registry.routingVersion,
        fencedMs,
      },
    );
    return { registry, tables: verified, sequences, fencedMs };
  } finally {
    await client
      .query(`SELECT pg_catalog.pg_advisory_unlock(${fenceLockKeySql(row.id)})`)
      .catch(() => undefined);
  }
}

/** The switch: one transaction. */
async function switchRouting(
  client: Queryable,
  row: RegistryRow,
  source: Placement,
  target: Placement,
  owner: string,
  tables: readonly MoveTable[],
): Promise<RegistryRow> {
  await client.query("BEGIN");
  try {
    await client.query(
      `UPDATE ${platform}.tenants
          SET mode = $2, schema_name = $3, role_name = $4, database_name = $5,
              routing_version = routing_version + 1, updated_at = now()
        WHERE id = $1`,
      [row.id, target.mode, target.schema, target.role, target.database],
    );
    const updated = await findTenant(client, row.slug);
    if (!updated) throw new Error(`tenant ${row.slug} vanished from the registry during its move`);
    await client.query(
      `INSERT INTO ${platform}.retired_placements (tenant_id, schema_name, routing_version)
       VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, schema_name) DO UPDATE SET routing_version = EXCLUDED.routing_version,
              retired_at = now()`,
      [row.id, source.schema, updated.routingVersion],
    );
    await client.query(
      `DELETE FROM ${platform}.retired_placements WHERE tenant_id = $1 AND schema_name = $2`,
      [row.id, target.schema],
    );
    await makeSourceReadOnly(client, owner, row.id, tables);
    await setPhase(client, row.id, "switched");
    await client.query(`DELETE FROM ${platform}.tenant_move_changes WHERE tenant_id = $1`, [
      row.id,
    ]);
    await client.query("COMMIT");
    return updated;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Undoes an unswitched move: triggers, captured changes, target placement, move row. */
async function rollBackMove(
  client: Queryable,
  options: DriverOptions & { slug: string },
  tenantId: string,
): Promise<void> {
  const move = await readMove(client, options.slug);
  await dropMoveTriggers(client, tenantId);
  if (move) await purgePlacement(driverContext(options), options.slug, tenantId, move.target);
  await deleteMove(client, tenantId);
}

/**
 * Aborts a move that has not switched: the tenant stays on its source, the target is
 * removed (with the purge proof). Refused after the switch.
 */
export async function abortMove(
  options: DriverOptions & { readonly slug: string },
): Promise<{ aborted: boolean }> {
  const context = driverContext(options);
  return withMoverClient(options.adminUrl, options.slug, async (client) => {
    await ensureMoveObjects(client, context.roles.owner);
    const move = await readMove(client, options.slug);
    if (!move) return { aborted: false };
    if (move.phase === "switched") {
      throw new TenantMoveError(
        `the move of tenant ${options.slug} has switched already; move it back instead`,
        "already-switched",
      );
    }
    await rollBackMove(client, options, move.tenantId);
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
  const context = driverContext(options);
  return withMoverClient(options.adminUrl, options.slug, async (client) => {
    await ensureMoveObjects(client, context.roles.owner);
    const move: MoveRecord | undefined = await readMove(client, options.slug);
    if (move?.phase !== "switched") return undefined;
    if (!options.force && move.purgeAfter && move.purgeAfter.getTime() > Date.now()) {
      return undefined;
    }
    const report = await purgePlacement(context, options.slug, move.tenantId, move.source);
    await dropMoveTriggers(client, move.tenantId);
    await deleteMove(client, move.tenantId);
    return report;
  });
}

function quotasOf(row: RegistryRow): { dbConnections: number; statementTimeoutMs: number } {
  return { dbConnections: row.dbConnections, statementTimeoutMs: row.statementTimeoutMs };
}

/**
 * The mover's connection: superuser, `session_replication_role = replica` (no foreign-key
 * or user triggers on the target while it converges), a dead-client check every second,
 * application_name
 * `tenancy-move:<slug>`, and the per-tenant move lock (one mover per tenant).
 */
async function withMoverClient<T>(
  adminUrl: string,
  slug: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    connectionString: adminUrl,
    application_name: `tenancy-move:${slug}`,
  });
  client.on("error", () => undefined);
  await client.connect().catch((error: unknown) => {
    throw new Error(`cannot connect to ${redactUrl(adminUrl)}: ${errorMessage(error)}`);
  });
  try {
    await client.query("SET session_replication_role = replica");
    // A mover killed while its session waits (e.g. for a lock inside the write fence) is
    // noticed within a second, so its fence dies with it instead of outliving it (PG 14+).
    await client.query(
      "SELECT set_config('client_connection_check_interval', '1000', false) WHERE current_setting('server_version_num')::int >= 140000",
    );
    const { rows } = await client.query<{ locked: boolean }>(
      "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('tenancy.move'), pg_catalog.hashtext($1)) AS locked",
      [slug],
    );
    if (!rows[0]?.locked) {
      throw new TenantMoveError(`a move of tenant ${slug} is already running`, "move-running");
    }
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
