/**
 * The `move` operation: a tenant's data moves to the placement of its new tier (or database
 * override) while the tenant keeps working. Steps, each an event `move` on the operation's
 * stream: prepare (refusals before anything is created) → provision the target through the
 * tenant's stack (a pooled target exists already) → copy / catch-up / fence / verify /
 * switch (db/moves/) → the spec is the new one → converge (a stack the target no longer
 * needs is destroyed) → grace (the old placement read-only) → purge with proof (at once for
 * a grace of 0, else a job at the end of the grace period, see movePurges.ts).
 *
 * Abort (POST /v1/operations/:id/abort): the move's record is marked; the mover rolls back at
 * its next batch, catch-up round or at the switch, and the operation ends `cancelled`.
 *
 * Faults: a failure before the switch rolls back (target removed, stack back to the
 * source's, tenant active on its source with the reason: {@link MoveRolledBack}); a worker
 * killed before the switch leaves the recorded move, which the resumed operation continues
 * from its last committed batch; killed after it, the resumed operation finds the tenant
 * switched and finishes. The write fence is a session lock of the mover's connection: it dies
 * with the worker.
 */
import type { ResolvedTenant, RoutingRecord } from "../../contract/index.ts";
import type { DriverOptions } from "../../db/drivers/types.ts";
import { TenantMoveError } from "../../db/moves/moveErrors.ts";
import {
  abortMove,
  moveStatus,
  moveTenant,
  prepareMove,
  type MoveProgress,
} from "../../db/moves/moveTenant.ts";
import { StackOperationError } from "../runner/errors.ts";
import type { StackRunner } from "../runner/lazyRunner.ts";
import type { RunObserver } from "../runner/tenantStacks.ts";
import type { MoveInput } from "../service/movePlan.ts";
import { isDatabaseUnavailable } from "../store/connections.ts";
import type { OperationRecord, TenantRecord } from "../store/records.ts";
import type { Provisioner } from "./provisioner.ts";
import { TenantLockLost } from "./tenantLock.ts";

/** A move that failed before its switch and was undone: the tenant is on its source. */
export class MoveRolledBack extends Error {
  override readonly name: string = "MoveRolledBack";
}

/** A move aborted on request (POST /v1/operations/:id/abort) and undone before its switch. */
export class MoveAborted extends MoveRolledBack {
  override readonly name = "MoveAborted";
}

/** Event type recording an abort request on a move operation's stream. */
export const ABORT_REQUESTED = "abort-requested";

export interface MoverDeps {
  /** The shared tenant database (superuser URL, name prefixes, tenant migrations). */
  readonly database: DriverOptions;
  readonly provisioner: Pick<Provisioner, "isInline" | "apply">;
  readonly runner?: Pick<StackRunner, "up" | "destroy">;
  /** Rows per copy batch. @default 5000 */
  readonly batchSize?: number;
  /** Pause after each copy batch, as a multiple of its duration. @default DEFAULT_COPY_PACE */
  readonly copyPace?: number;
  /** Schedules the purge of the old placement at the end of its grace period. */
  readonly schedulePurge: (slug: string, operationId: string, at: Date) => Promise<void>;
}

export interface MoveRun {
  /** Appends an event to the operation's stream (in order). */
  readonly event: (type: string, data: unknown) => void;
  readonly observer: RunObserver;
  /** Called once the routing switched: the store takes the new spec. */
  readonly onSwitched: (input: MoveInput) => Promise<void>;
  /** Whether an abort of this operation was asked for (its stream has {@link ABORT_REQUESTED}). */
  readonly abortRequested: () => Promise<boolean>;
}

export interface MoveOutcome {
  readonly routing: RoutingRecord;
  readonly result: Record<string, unknown>;
}

export function createMover(deps: MoverDeps) {
  const needsStack = (tenant: ResolvedTenant) => !deps.provisioner.isInline(tenant);
  const runner = () => {
    if (!deps.runner) {
      throw new Error("no Pulumi engine available for bridge/silo tenants (see scripts/pulumi)");
    }
    return deps.runner;
  };

  async function run(
    operation: OperationRecord,
    tenant: TenantRecord,
    { event, observer, onSwitched, abortRequested }: MoveRun,
  ): Promise<MoveOutcome> {
    const input = operation.input as MoveInput;
    const slug = tenant.slug;
    const base = { ...deps.database, slug };
    const step = (
      name: MoveProgress["step"] | "converge" | "rolled-back",
      message: string,
      detail?: object,
    ) => event("move", { step: name, message, ...(detail ? { detail } : {}) });
    const status = await moveStatus(base);
    const switched =
      status.mode === input.to.database &&
      (status.move === undefined || status.move.phase === "switched");
    let routing: RoutingRecord | undefined;
    let fencedMs: number | undefined;
    if (!switched) {
      // Refusals (same placement, a table without tenant_id, a move in grace…) come before
      // anything is created: nothing to undo.
      const prepared = await prepareMove({
        ...base,
        to: input.to.database,
        graceMs: input.graceMs,
      }).catch((error: unknown) => {
        if (error instanceof TenantMoveError) throw new MoveRolledBack(error.message);
        throw error;
      });
      step("prepare", `moving ${slug} from ${input.from.database} to ${input.to.database}`, {
        from: input.from,
        to: input.to,
        resumed: prepared.resumed,
        tables: prepared.tables,
      });
      let stackTouched = false;
      try {
        // An abort asked for before the move was recorded; later ones reach the mover through
        // the record (the API marks it again after writing its event).
        if (await abortRequested()) {
          throw new TenantMoveError(`the move of tenant ${slug} was aborted on request`, "aborted");
        }
        if (input.storage) {
          step(
            "prepare",
            `storage ${input.storage.from} → ${input.storage.to}: not provisioned on the local target, no objects to copy`,
          );
        }
        if (needsStack(input.resolved)) {
          step(
            "provision",
            `provisioning the ${input.to.tier} placement through the tenant's stack`,
          );
          stackTouched = true;
          routing = (await runner().up(input.resolved, observer)).routing;
        } else {
          step("provision", "target pool: the shared schema exists");
        }
        const moved = await moveTenant({
          ...base,
          to: input.to.database,
          graceMs: input.graceMs,
          targetProvisioned: needsStack(input.resolved),
          ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
          ...(deps.copyPace === undefined ? {} : { copyPace: deps.copyPace }),
          // The operation reported "prepare" itself (above, with from/to and resumed): the
          // mover's own prepare line would repeat it on the stream (and in `tenancy move`).
          onProgress: (p) => (p.step === "prepare" ? undefined : step(p.step, p.message, p.detail)),
        });
        fencedMs = moved.fencedMs;
      } catch (error) {
        // Lost lock (its engine step cancelled) or database: nothing to undo, resumed later.
        if (
          error instanceof TenantLockLost ||
          isDatabaseUnavailable(error) ||
          (error instanceof StackOperationError && error.kind === "cancelled")
        ) {
          throw error;
        }
        let reason = error instanceof Error ? error.message : String(error);
        const aborted = error instanceof TenantMoveError && error.reason === "aborted";
        await rollBack(tenant, stackTouched, observer).catch((undo: unknown) => {
          reason += `; undoing it failed: ${undo instanceof Error ? undo.message : String(undo)} (retry the operation)`;
        });
        step("rolled-back", `move undone, ${slug} stays on ${input.from.database}: ${reason}`);
        throw aborted ? new MoveAborted(reason) : new MoveRolledBack(reason);
      }
    } else {
      step("switch", `tenant already switched to ${input.to.database}; finishing`, {
        resumed: true,
      });
    }
    await onSwitched(input);
    if (!needsStack(input.resolved) && needsStack(tenant.resolved)) {
      step(
        "converge",
        "removing the stack the pooled placement no longer needs (the moved data is kept)",
      );
      await runner().destroy(slug, observer);
    }
    routing ??= (await deps.provisioner.apply(input.resolved, observer)).routing;
    const after = await moveStatus(base);
    if (after.move?.phase === "switched" && after.move.purgeAfter) {
      await deps.schedulePurge(slug, operation.id, after.move.purgeAfter);
      step(
        "grace",
        `old placement read-only until ${after.move.purgeAfter.toISOString()}, then purged`,
        {
          purgeAfter: after.move.purgeAfter.toISOString(),
        },
      );
    }
    return {
      routing,
      result: {
        from: input.from,
        to: input.to,
        ...(fencedMs === undefined ? {} : { fencedMs }),
        ...(after.move?.purgeAfter ? { purgeAfter: after.move.purgeAfter.toISOString() } : {}),
      },
    };

    /** Undoes an unswitched move: target removed, the stack back to the source's spec. */
    async function rollBack(
      current: TenantRecord,
      stackTouched: boolean,
      runObserver: RunObserver,
    ): Promise<void> {
      await abortMove(base).catch((error: unknown) => {
        if (!(error instanceof TenantMoveError && error.reason === "already-switched")) throw error;
      });
      if (!stackTouched) return;
      if (needsStack(current.resolved)) await runner().up(current.resolved, runObserver);
      else await runner().destroy(slug, runObserver);
    }
  }

  return { run };
}

export type Mover = ReturnType<typeof createMover>;
