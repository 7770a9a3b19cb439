/**
 * Runs operations. One operation at a time per tenant — across every worker process — held
 * by a PostgreSQL advisory lock on a dedicated connection for the whole run (a crashed
 * process's lock dies with its connection); a tenant's operations run oldest first. The
 * same executor serves the request path (pooled signups) and the job workers.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import type pg from "pg";
import { StackOperationError } from "../runner/errors.ts";
import { isDatabaseUnavailable } from "../store/connections.ts";
import { isFinished, type OperationRecord } from "../store/records.ts";
import { canTransition, TenantTransitionRefused } from "../store/transitions.ts";
import {
  appendEvent,
  getOperation,
  getTenant,
  hasEvent,
  openOperations,
  saveDeletionReport,
  setOperationState,
  updateTenant,
  type Queryable,
} from "../store/store.ts";
import { describeFailure, failureWatcher } from "./failure.ts";
import { ABORT_REQUESTED, MoveAborted, MoveRolledBack, type Mover } from "./moveOperation.ts";
import type { Provisioner } from "./provisioner.ts";
import type { MoveInput } from "../service/movePlan.ts";
import { TenantLockLost, tryTenantLock, type TenantLock } from "./tenantLock.ts";

export type ExecuteOutcome =
  | "succeeded"
  | "failed"
  | "already-finished"
  /** The tenant is being offboarded: this change will never run. */
  | "cancelled"
  /** Another operation of the tenant runs or comes first: try again shortly. */
  | "deferred"
  /** The operation needs the Pulumi engine, which is being built: try again shortly. */
  | "waiting";

/** Event (and operation state) of an operation waiting for the engine build. */
export const WAITING_FOR_ENGINE = "waiting-for-engine";

export interface OperationListener {
  finished?(operation: OperationRecord, outcome: "succeeded" | "failed", seconds: number): void;
}

export interface ExecutorDeps {
  readonly pool: pg.Pool;
  readonly provisioner: Provisioner;
  readonly listener?: OperationListener;
  /** Runs `move` operations (tenant data between placements). */
  readonly mover?: Pick<Mover, "run">;
  /** Attempts before a retryable engine error fails the operation. @default 5 */
  readonly maxAttempts?: number;
}

/** Thrown for a retryable failure: the job queue retries it with backoff. */
export class RetryLater extends Error {}

export function createExecutor(deps: ExecutorDeps) {
  const { pool, provisioner, listener } = deps;
  const maxAttempts = deps.maxAttempts ?? 5;

  /** Tenants whose run is in flight in this process (also after its lock was lost). */
  const inFlight = new Set<string>();

  async function execute(operationId: string): Promise<ExecuteOutcome> {
    const operation = await getOperation(pool, operationId);
    if (!operation || isFinished(operation.state)) return "already-finished";
    if (inFlight.has(operation.tenantSlug)) return "deferred";
    const open = await openOperations(pool, operation.tenantSlug);
    if (open[0]?.id !== operation.id) return "deferred";

    const lock = await tryTenantLock(pool, operation.tenantSlug);
    if (!lock) return "deferred";
    inFlight.add(operation.tenantSlug);
    try {
      // Re-read under the lock: another worker may have finished it meanwhile.
      const current = await getOperation(lock.client, operationId);
      if (!current || isFinished(current.state)) return "already-finished";
      // The run uses the lock's connection only: a run never waits for a second connection
      // while holding one, so many concurrent runs cannot exhaust the pool into a deadlock.
      return await run(current, lock);
    } finally {
      inFlight.delete(operation.tenantSlug);
      await lock.release();
    }
  }

  async function run(
    operation: OperationRecord,
    lock: TenantLock,
  ): Promise<"succeeded" | "failed" | "cancelled" | "waiting"> {
    const db = lock.client;
    const started = Date.now();
    const tenant = await getTenant(db, operation.tenantSlug);
    if (!tenant)
      throw new Error(`operation ${operation.id}: tenant ${operation.tenantSlug} is missing`);
    if (operation.kind !== "offboard" && !canTransition(tenant.state, "active")) {
      // Offboarding was requested after this change was queued: it never runs.
      await cancel(db, operation.id);
      return "cancelled";
    }
    const resolved = tenant.resolved;
    const move = operation.kind === "move" ? (operation.input as MoveInput) : undefined;
    // A move needs the engine when its source or its target has a stack.
    const availability = [resolved, ...(move ? [move.resolved] : [])].map((r) =>
      provisioner.engineAvailability(r),
    );
    if (availability.includes("building")) {
      // Waiting uses no attempt: the operation runs when the engine is there.
      if (operation.state === "queued") {
        await atomically(db, async () => {
          await setOperationState(db, operation.id, WAITING_FOR_ENGINE);
          await appendEvent(db, operation.id, WAITING_FOR_ENGINE, {
            reason: "the Pulumi engine is being built; this operation runs when it is ready",
          });
        });
      }
      return "waiting";
    }
    const resumed = operation.state === "running";
    await atomically(db, async () => {
      await setOperationState(db, operation.id, "running");
      await appendEvent(db, operation.id, "started", { attempt: operation.attempts + 1, resumed });
    });
    // Engine callbacks arrive while the run is awaited: their events are written one after
    // the other on the run's connection (never two queries at once), in arrival order, and
    // flushed before the final transition.
    let pending: Promise<void> = Promise.resolve();
    const record = (type: string, data: unknown) => {
      if (lock.lost) return; // the tenant is no longer ours: write nothing more for it
      pending = pending
        .then(() => appendEvent(db, operation.id, type, data))
        .catch(() => undefined);
    };
    const failure = failureWatcher();
    const observer = {
      // Losing the lock cancels the engine step (SIGINT, then SIGKILL after the runner's grace):
      // a worker that no longer holds the tenant stops touching its stack.
      signal: lock.signal,
      onOutput: (line: string) => record("log", { line }),
      onEvent: (event: EngineEvent) => {
        failure.onEvent(event);
        const step = event.resourcePreEvent?.metadata;
        if (step && step.op !== "same") {
          record("progress", { op: step.op, type: step.type, name: step.urn.split("::").at(-1) });
        }
      },
    };
    try {
      if (resumed) {
        await lock.fence(provisioner.recover(resolved));
        if (move) await lock.fence(provisioner.recover(move.resolved));
      }
      if (move) {
        if (!deps.mover) throw new Error("this control plane cannot move tenant data (no mover)");
        if (tenant.state !== "moving") await updateTenant(db, tenant.slug, { state: "moving" });
        const outcome = await lock.fence(
          deps.mover.run(operation, tenant, {
            event: record,
            observer,
            onSwitched: async (input) => {
              await pending;
              lock.assertHeld();
              await updateTenant(db, tenant.slug, { spec: input.spec, resolved: input.resolved });
            },
            abortRequested: () => hasEvent(db, operation.id, ABORT_REQUESTED),
          }),
        );
        await pending;
        lock.assertHeld();
        await atomically(db, async () => {
          await updateTenant(db, tenant.slug, {
            state: "active",
            routing: outcome.routing,
            lastError: null,
          });
          await finish(db, operation.id, { routing: outcome.routing, move: outcome.result });
        });
      } else if (operation.kind === "offboard") {
        const { report } = await lock.fence(provisioner.remove(resolved, observer));
        await pending;
        lock.assertHeld();
        await atomically(db, async () => {
          await saveDeletionReport(db, operation.id, tenant.slug, report);
          await updateTenant(db, tenant.slug, { state: "deleted", routing: null, lastError: null });
          await finish(db, operation.id, { report });
        });
      } else if (operation.kind === "refresh") {
        // A refresh changes what the stack's state records, never the tenant's spec or state.
        const { drift } = await lock.fence(provisioner.refresh(resolved, observer));
        await pending;
        lock.assertHeld();
        await atomically(db, () => finish(db, operation.id, { drift }));
      } else {
        const { routing } = await lock.fence(provisioner.apply(resolved, observer));
        await pending;
        lock.assertHeld();
        const state = resolved.lifecycle === "suspended" ? "suspended" : "active";
        try {
          await atomically(db, async () => {
            await updateTenant(db, tenant.slug, { state, routing, lastError: null });
            await finish(db, operation.id, { routing });
          });
        } catch (error) {
          // Offboarding was requested while this change ran: the offboarding comes next and
          // undoes it; the tenant never goes back to active.
          if (!(error instanceof TenantTransitionRefused && error.offboarding)) throw error;
          await cancel(db, operation.id);
          return "cancelled";
        }
      }
      listener?.finished?.(
        { ...operation, state: "succeeded" },
        "succeeded",
        (Date.now() - started) / 1000,
      );
      return "succeeded";
    } catch (error) {
      await pending;
      // Lock gone: leave the operation as it stands (running); the sweep resumes it.
      // A database that went away mid-run counts the same: nothing half-written, resumed later.
      if (lock.lost || error instanceof TenantLockLost || isDatabaseUnavailable(error))
        throw new TenantLockLost(tenant.slug);
      if (error instanceof StackOperationError && error.kind === "cancelled") {
        // The engine step was stopped from outside, not by the change: queued again, no failure,
        // after clearing what the stopped engine left (its stack lock, in-flight operations).
        await provisioner.recover(resolved).catch(() => undefined);
        await atomically(db, async () => {
          await setOperationState(db, operation.id, "queued", { error: error.reason });
          await appendEvent(db, operation.id, "requeued", { reason: error.reason });
        });
        throw new RetryLater(error.reason);
      }
      if (error instanceof MoveAborted) {
        // Aborted on request and undone: the tenant is active on its source, no error.
        await atomically(db, async () => {
          await setOperationState(db, operation.id, "cancelled", { error: error.message });
          await updateTenant(db, tenant.slug, { state: "active", lastError: null });
          await appendEvent(db, operation.id, "cancelled", {
            reason: error.message,
            rolledBack: true,
          });
        });
        return "cancelled";
      }
      if (error instanceof MoveRolledBack) {
        // The tenant is back (or still) on its source, active, with the reason.
        await atomically(db, async () => {
          await setOperationState(db, operation.id, "failed", { error: error.message });
          await updateTenant(db, tenant.slug, { state: "active", lastError: error.message });
          await appendEvent(db, operation.id, "failed", {
            reason: error.message,
            rolledBack: true,
          });
        });
        listener?.finished?.(
          { ...operation, state: "failed" },
          "failed",
          (Date.now() - started) / 1000,
        );
        return "failed";
      }
      const failed = failure.first;
      const reason = failed
        ? describeFailure(failed)
        : error instanceof StackOperationError
          ? error.reason
          : errorMessage(error);
      const retryable = error instanceof StackOperationError && error.retryable;
      if (retryable && operation.attempts + 1 < maxAttempts) {
        await atomically(db, async () => {
          await setOperationState(db, operation.id, "queued", { error: reason });
          await appendEvent(db, operation.id, "retrying", {
            reason,
            attempt: operation.attempts + 1,
          });
        });
        throw new RetryLater(reason);
      }
      await atomically(db, async () => {
        await setOperationState(db, operation.id, "failed", {
          error: reason,
          ...(failed ? { result: { failure: failed } } : {}),
        });
        // A failed offboarding leaves the tenant offboarding (retried by DELETE), never failed;
        // a failed refresh changed nothing, so the tenant stays as it was.
        const current = await getTenant(db, tenant.slug, { forUpdate: true });
        const next = operation.kind === "offboard" ? "offboarding" : "failed";
        if (operation.kind !== "refresh" && current && canTransition(current.state, next)) {
          await updateTenant(db, tenant.slug, { state: next, lastError: reason });
        }
        await appendEvent(db, operation.id, "failed", {
          reason,
          ...(failed ? { failure: failed } : {}),
        });
      });
      listener?.finished?.(
        { ...operation, state: "failed" },
        "failed",
        (Date.now() - started) / 1000,
      );
      return "failed";
    }
  }

  /**
   * Operations left `running` by a process that died: nobody holds their tenant's lock.
   * Returns their ids so the caller can enqueue them again.
   */
  async function orphans(): Promise<string[]> {
    const { rows } = await pool.query<{ id: string; slug: string }>(
      "SELECT id, tenant_slug AS slug FROM control_plane.operations WHERE state = 'running'",
    );
    const found: string[] = [];
    for (const row of rows) {
      if (inFlight.has(row.slug)) continue; // still being worked on (or fenced) here
      const lock = await tryTenantLock(pool, row.slug);
      if (!lock) continue;
      await lock.release();
      found.push(row.id);
    }
    return found;
  }

  return { execute, orphans };
}

export type Executor = ReturnType<typeof createExecutor>;

/** Reason of the changes cancelled because their tenant is being offboarded. */
export const OFFBOARDING_REASON = "tenant-offboarding";

async function cancel(db: Queryable, operationId: string): Promise<void> {
  await atomically(db, async () => {
    await setOperationState(db, operationId, "cancelled", { error: OFFBOARDING_REASON });
    await appendEvent(db, operationId, "cancelled", { reason: OFFBOARDING_REASON });
  });
}

async function finish(db: Queryable, operationId: string, result: unknown): Promise<void> {
  await setOperationState(db, operationId, "succeeded", { result });
  await appendEvent(db, operationId, "succeeded", result);
}

/** One commit (one WAL flush) for a state transition and its event. */
async function atomically(db: Queryable, work: () => Promise<void>): Promise<void> {
  await db.query("BEGIN");
  try {
    await work();
    await db.query("COMMIT");
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
