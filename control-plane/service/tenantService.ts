/**
 * Tenant lifecycle: signup, change, offboarding. Each writes the tenant row, an operation and
 * its job in ONE transaction, so a tenant never exists without the work that provisions it
 * (and the reverse). Long work runs in workers; a fully pooled signup runs inline.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import type PgBoss from "pg-boss";
import {
  resolveTenant,
  tenantFileSchema,
  tenantViolations,
  type ResolvedTenant,
  type TenantFile,
  type TiersFile,
} from "../../catalog/index.ts";
import { MODES, type DatabaseMode } from "../../contract/index.ts";
import { OFFBOARDING_REASON, type Executor } from "../jobs/executor.ts";
import type { Provisioner } from "../jobs/provisioner.ts";
import { enqueueOperation } from "../jobs/queue.ts";
import {
  isFinished,
  type OperationKind,
  type OperationRecord,
  type TenantRecord,
} from "../store/records.ts";
import {
  cancelQueuedChanges,
  claimIdempotencyKey,
  completeIdempotencyKey,
  getOperation,
  getTenant,
  insertOperation,
  insertTenant,
  openOperations,
  tenantOperations,
  updateTenant,
  type Queryable,
} from "../store/store.ts";
import type { DriverOptions } from "../../db/drivers/types.ts";
import { DomainError, type FieldError } from "./domainErrors.ts";
import { abortMoveOperation } from "./moveAbort.ts";
import { graceOf, plannedMove, sameMove, type MoveInput } from "./movePlan.ts";
import { inTransaction } from "./transaction.ts";
import { stableJson } from "../../fleet/stableJson.ts";

export interface TenantServiceDeps {
  readonly pool: pg.Pool;
  readonly boss: PgBoss;
  readonly tiers: () => TiersFile;
  readonly provisioner: Pick<Provisioner, "isInline">;
  readonly executor: Pick<Executor, "execute">;
  /** Delay of the safety-net job of an inline operation. @default FALLBACK_DELAY_SECONDS */
  readonly fallbackDelaySeconds?: number;
  /** The tenant database (superuser URL, prefixes): aborting a move marks its record there. */
  readonly database?: DriverOptions;
}

export interface Accepted {
  readonly tenant: TenantRecord;
  readonly operation: OperationRecord;
}

/** Validates a tenant spec with the catalog's own schema and rules. */
export function validateSpec(
  input: unknown,
  tiers: TiersFile,
): { spec: TenantFile; resolved: ResolvedTenant } {
  const parsed = tenantFileSchema.safeParse(input);
  if (!parsed.success) {
    const errors: FieldError[] = parsed.error.issues.map((issue) => ({
      path: issue.path.join("."),
      message:
        issue.code === "unrecognized_keys"
          ? `unknown field(s): ${issue.keys.join(", ")}`
          : issue.message,
    }));
    throw new DomainError("invalid", "invalid-tenant", "the tenant is not valid", errors);
  }
  const violations = tenantViolations(parsed.data, tiers);
  if (violations.length) {
    throw new DomainError(
      "invalid",
      "invalid-tenant",
      "the tenant breaks a catalog rule",
      violations.map((v) => ({ path: v.path.join("."), message: v.message })),
    );
  }
  return { spec: parsed.data, resolved: resolveTenant(parsed.data, tiers) };
}

export function createTenantService(deps: TenantServiceDeps) {
  const { pool, boss } = deps;

  async function createOperation(
    tx: Queryable,
    tenant: TenantRecord,
    kind: OperationKind,
    input: unknown = {},
  ): Promise<OperationRecord> {
    const operation = await insertOperation(tx, {
      tenantSlug: tenant.slug,
      kind,
      tier: tenant.tier,
      input,
    });
    // Inline operations (fully pooled tenants) still get a job: a delayed, low-priority
    // safety net should the process die before running them.
    await enqueueOperation(boss, tx, operation.id, {
      fallback: kind !== "move" && deps.provisioner.isInline(tenant.resolved),
      ...(deps.fallbackDelaySeconds !== undefined
        ? { fallbackDelaySeconds: deps.fallbackDelaySeconds }
        : {}),
    });
    return operation;
  }

  /** Runs a pooled signup in the request path; the queued job is the fallback on failure. */
  async function runInline(accepted: Accepted): Promise<Accepted> {
    if (accepted.operation.kind === "move") return accepted; // long work: always a worker's
    if (!deps.provisioner.isInline(accepted.tenant.resolved)) return accepted;
    await deps.executor.execute(accepted.operation.id).catch(() => undefined);
    return {
      tenant: (await getTenant(pool, accepted.tenant.slug)) ?? accepted.tenant,
      operation: (await getOperation(pool, accepted.operation.id)) ?? accepted.operation,
    };
  }

  /** The tenant after `patch`, validated; refuses changes this version cannot make. */
  function plannedChange(tenant: TenantRecord, patch: TenantPatch) {
    if (patch.declared) return validateSpec({ ...patch.declared }, deps.tiers());
    const next: Record<string, unknown> = { ...tenant.spec };
    if (patch.name !== undefined) next.name = patch.name;
    if (patch.tier !== undefined) next.tier = patch.tier;
    if (patch.overrides !== undefined) next.overrides = patch.overrides;
    if (patch.lifecycle !== undefined) next.lifecycle = patch.lifecycle;
    if (patch.quotas !== undefined) next.quotas = { ...tenant.spec.quotas, ...patch.quotas };
    const { spec, resolved } = validateSpec(next, deps.tiers());
    return { spec, resolved };
  }

  const service = {
    /** What `change` would do, without doing it: the tenant's resolved spec before and after. */
    async previewChange(
      slug: string,
      patch: TenantPatch,
    ): Promise<{ before: ResolvedTenant; after: ResolvedTenant }> {
      const tenant = await liveTenant(pool, slug);
      return { before: tenant.resolved, after: plannedChange(tenant, patch).resolved };
    },

    /**
     * Runs a failed operation again, as a new operation (`input.retryOf`). Only the tenant's
     * latest operation may be retried; asking again while that retry is open returns it (a
     * double click makes one operation). The state machine decides the rest: an offboarded
     * tenant is never revived, an offboarding one only retries its offboarding.
     */
    /** Asks a move operation to stop before its switch (see moveAbort.ts). */
    abortMove(operationId: string): Promise<Accepted> {
      return abortMoveOperation(pool, deps.database, operationId);
    },

    async retry(operationId: string): Promise<Accepted & { replayed: boolean }> {
      const outcome = await inTransaction(pool, async (tx) => {
        const failed = await getOperation(tx, operationId);
        if (!failed)
          throw new DomainError("not-found", "operation-not-found", "operation not found");
        const tenant = await getTenant(tx, failed.tenantSlug, { forUpdate: true });
        if (!tenant) throw new DomainError("not-found", "tenant-not-found", "tenant not found");
        const [latest] = await tenantOperations(tx, tenant.slug, 1);
        const retryOf = (latest?.input as { retryOf?: string } | null)?.retryOf;
        if (latest && latest.id !== failed.id) {
          if (retryOf === failed.id && !isFinished(latest.state)) {
            return { tenant, operation: latest, replayed: true };
          }
          throw new DomainError(
            "conflict",
            "operation-superseded",
            `operation ${failed.id} is not the latest of tenant "${tenant.slug}" (${latest.id} is); retry that one`,
          );
        }
        if (failed.state !== "failed") {
          throw new DomainError(
            "conflict",
            "operation-not-failed",
            `operation ${failed.id} is ${failed.state}; only a failed operation can be retried`,
          );
        }
        if (tenant.state === "deleted") {
          throw new DomainError(
            "conflict",
            "tenant-deleted",
            `tenant "${tenant.slug}" was offboarded`,
          );
        }
        if (tenant.state === "offboarding" && failed.kind !== "offboard") {
          throw new DomainError(
            "conflict",
            OFFBOARDING_REASON,
            `tenant "${tenant.slug}" is being offboarded; only its offboarding can be retried`,
          );
        }
        if (tenant.state === "failed" && failed.kind !== "refresh") {
          await updateTenant(tx, tenant.slug, {
            state: failed.kind === "move" ? "moving" : "updating",
          });
        }
        const current = (await getTenant(tx, tenant.slug))!;
        const operation = await createOperation(tx, current, failed.kind, {
          ...(failed.input as object),
          retryOf: failed.id,
        });
        return { tenant: current, operation, replayed: false };
      });
      if (outcome.replayed) return outcome;
      return { ...(await runInline(outcome)), replayed: false };
    },

    /**
     * Signs a tenant up. With an idempotency key, a retry with the same body gets the same
     * answer (and creates nothing); the same key with another body is a conflict.
     */
    async signup(
      input: unknown,
      idempotencyKey?: string,
      source: "api" | "catalog" = "api",
    ): Promise<Accepted & { replayed: boolean }> {
      const { spec, resolved } = validateSpec(input, deps.tiers());
      if (spec.lifecycle === "offboarding") {
        throw new DomainError("invalid", "invalid-tenant", "the tenant is not valid", [
          {
            path: "lifecycle",
            message:
              'a new tenant starts "active" or "suspended"; offboard an existing one with DELETE',
          },
        ]);
      }
      const requestHash = createHash("sha256").update(stableJson(input)).digest("hex");
      const outcome = await inTransaction(pool, async (tx) => {
        if (idempotencyKey) {
          const claim = await claimIdempotencyKey(tx, idempotencyKey, requestHash);
          if (!claim.claimed) {
            if (claim.requestHash !== requestHash) {
              throw new DomainError(
                "conflict",
                "idempotency-key-reused",
                "this Idempotency-Key was used with a different request body",
              );
            }
            return { replay: claim.response as { slug: string; operationId: string } };
          }
        }
        const tenant = await insertTenant(tx, { spec, resolved, source, state: "provisioning" });
        if (!tenant) throw await tenantExists(tx, spec.slug);
        const operation = await createOperation(tx, tenant, "signup");
        if (idempotencyKey) {
          await completeIdempotencyKey(tx, idempotencyKey, 202, {
            slug: tenant.slug,
            operationId: operation.id,
          });
        }
        return { accepted: { tenant, operation } };
      });
      if (outcome.replay) {
        const { slug, operationId } = outcome.replay;
        const tenant = await getTenant(pool, slug);
        const operation = await getOperation(pool, operationId);
        if (!tenant || !operation)
          throw new DomainError("not-found", "tenant-not-found", "tenant not found");
        return { tenant, operation, replayed: true };
      }
      return { ...(await runInline(outcome.accepted)), replayed: false };
    },

    /**
     * Quota, lifecycle and tier changes. A change of the database placement is a `move`
     * operation (db/moves/): the tenant keeps its spec until the move switches, and is
     * `moving` meanwhile; other changes wait with 409 `tenant-moving`.
     */
    async change(slug: string, patch: TenantPatch): Promise<Accepted> {
      const accepted = await inTransaction(pool, async (tx) => {
        const tenant = await changeableTenant(tx, slug);
        const { spec, resolved } = plannedChange(tenant, patch);
        const open = await openOperations(tx, slug);
        const moving = open.find((op) => op.kind === "move");
        if (moving) {
          // Asking again for the same move is the same move (a double click, a re-run reconcile).
          if (sameMove(moving.input, resolved)) return { tenant, operation: moving };
          throw new DomainError(
            "conflict",
            MOVING_REASON,
            `tenant "${slug}" is moving to tier ${String((moving.input as MoveInput).to.tier)} (operation ${moving.id}); change it when the move is done`,
          );
        }
        const move = plannedMove(tenant.resolved, resolved);
        if (move) {
          if (tenant.state === "suspended" || resolved.lifecycle === "suspended") {
            throw new DomainError(
              "conflict",
              "tenant-suspended",
              `tenant "${slug}" is suspended: resume it before moving its data`,
            );
          }
          const input: MoveInput = { ...move, spec, resolved, graceMs: graceOf(patch.moveGrace) };
          // Moving at once when nothing else is open; otherwise when the move starts running.
          if (open.length === 0) await updateTenant(tx, slug, { state: "moving" });
          const current = (await getTenant(tx, slug))!;
          return { tenant: current, operation: await createOperation(tx, current, "move", input) };
        }
        if (patch.moveGrace !== undefined) {
          throw new DomainError("invalid", "invalid-grace", "the grace period is not valid", [
            { path: "moveGrace", message: "only a change that moves data has a grace period" },
          ]);
        }
        await updateTenant(tx, slug, {
          spec,
          resolved,
          state: tenant.state === "active" ? "updating" : tenant.state,
        });
        const updated = (await getTenant(tx, slug))!;
        const operation = await createOperation(tx, updated, "update", { patch });
        return { tenant: updated, operation };
      });
      return runInline(accepted);
    },

    /**
     * Queues a refresh of the tenant's stack: its state takes what the providers read, and the
     * operation's result is the drift report. Asked again while one is open, returns that one.
     * A fully pooled tenant has no stack to refresh.
     */
    async refresh(slug: string): Promise<Accepted & { replayed: boolean }> {
      return inTransaction(pool, async (tx) => {
        const tenant = await changeableTenant(tx, slug);
        if (deps.provisioner.isInline(tenant.resolved)) {
          throw new DomainError(
            "conflict",
            "nothing-to-refresh",
            `tenant "${slug}" is fully pooled: it is a registration in the shared database, with no stack to refresh`,
          );
        }
        const open = (await openOperations(tx, slug)).find((op) => op.kind === "refresh");
        if (open) return { tenant, operation: open, replayed: true };
        return { tenant, operation: await createOperation(tx, tenant, "refresh"), replayed: false };
      });
    },

    /**
     * Moves a tenant's data to tier `to`, or to database mode `to` (an override of its tier):
     * the same `move` operation as a PATCH. A target the tenant is in already moves nothing
     * and says so (`operation` undefined).
     */
    async move(
      slug: string,
      to: string,
      grace?: string,
    ): Promise<Accepted | { tenant: TenantRecord; operation?: undefined; message: string }> {
      const tenant = await liveTenant(pool, slug);
      const tiers = deps.tiers();
      const modes: readonly string[] = MODES.database;
      let patch: TenantPatch;
      if (to in tiers.tiers) patch = { tier: to };
      else if (modes.includes(to)) {
        patch = {
          overrides: { ...tenant.spec.overrides, database: to as DatabaseMode },
        };
      } else {
        throw new DomainError("invalid", "invalid-move-target", "the move target is not valid", [
          {
            path: "to",
            message: `"${to}" is neither a tier (${Object.keys(tiers.tiers).join(", ")}) nor a database mode (${modes.join(", ")})`,
          },
        ]);
      }
      const { resolved } = plannedChange(tenant, patch);
      const open = (await openOperations(pool, slug)).find((op) => op.kind === "move");
      if (!open && !plannedMove(tenant.resolved, resolved)) {
        return {
          tenant,
          message: `tenant "${slug}" is already in database mode ${tenant.resolved.layers.database} (tier ${tenant.tier}): nothing to move`,
        };
      }
      return service.change(slug, {
        ...patch,
        ...(grace === undefined ? {} : { moveGrace: grace }),
      });
    },

    /** Offboards: destroy dedicated infrastructure, purge pooled data, keep the proof. */
    async offboard(slug: string): Promise<Accepted> {
      const accepted = await inTransaction(pool, async (tx) => {
        const tenant = await liveTenant(tx, slug, { forUpdate: true });
        const open = await openOperations(tx, slug);
        const pending = open.find((op) => op.kind === "offboard");
        if (pending) return { tenant, operation: pending };
        const moving = open.find((op) => op.kind === "move");
        if (moving || tenant.state === "moving") {
          throw new DomainError(
            "conflict",
            MOVING_REASON,
            `tenant "${slug}" is moving its data${moving ? ` (operation ${moving.id})` : ""}; offboard it when the move is done`,
          );
        }
        // From here on only the offboarding (and its retries) may run for this tenant.
        await cancelQueuedChanges(tx, slug, OFFBOARDING_REASON);
        await updateTenant(tx, slug, { state: "offboarding" });
        const updated = (await getTenant(tx, slug))!;
        return { tenant: updated, operation: await createOperation(tx, updated, "offboard") };
      });
      return runInline(accepted);
    },
  };
  return service;
}

export type TenantService = ReturnType<typeof createTenantService>;

/**
 * The refusal of a signup whose slug is taken. A deleted (offboarded) tenant keeps its slug
 * for good — its deletion report is kept under it — so it is never signed up again.
 */
async function tenantExists(db: Queryable, slug: string): Promise<DomainError> {
  const existing = await getTenant(db, slug);
  return new DomainError(
    "conflict",
    "tenant-exists",
    existing?.state === "deleted"
      ? `tenant "${slug}" was offboarded and is deleted; a deleted tenant is never signed up ` +
          "again (its deletion report is kept under its slug): choose another slug"
      : `tenant "${slug}" already exists`,
  );
}

/** The tenant unless it does not exist or was deleted (404 `tenant-not-found`). */
async function liveTenant(
  db: Queryable,
  slug: string,
  options: { forUpdate?: boolean } = {},
): Promise<TenantRecord> {
  const tenant = await getTenant(db, slug, options);
  if (!tenant || tenant.state === "deleted") {
    throw new DomainError("not-found", "tenant-not-found", `tenant "${slug}" not found`);
  }
  return tenant;
}

/** The tenant, locked, when it may still change: not deleted and not being offboarded. */
async function changeableTenant(tx: Queryable, slug: string): Promise<TenantRecord> {
  const tenant = await liveTenant(tx, slug, { forUpdate: true });
  if (tenant.state === "offboarding") {
    throw new DomainError("conflict", OFFBOARDING_REASON, `tenant "${slug}" is being offboarded`);
  }
  return tenant;
}

export interface TenantPatch {
  readonly name?: string;
  readonly tier?: string;
  readonly overrides?: TenantFile["overrides"];
  readonly lifecycle?: TenantFile["lifecycle"];
  readonly quotas?: TenantFile["quotas"];
  /**
   * The whole spec as a catalog file declares it (reconcile): it replaces the stored spec, so
   * fields the API cannot patch (tags, region, cost center...) and removed quotas take effect.
   */
  readonly declared?: TenantFile;
  /** Grace period of the old placement when the change moves data (`24h`, `0`). @default 24h */
  readonly moveGrace?: string;
}

/** Reason of the changes refused while a tenant's data moves. */
export const MOVING_REASON = "tenant-moving";
