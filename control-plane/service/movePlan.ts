/**
 * Which changes move a tenant's data, and what a `move` operation carries. A change of the
 * database placement is a move, between any two of pool, schema and dedicated (one server,
 * see db/moves/); a storage change without one is refused with a reason saying so.
 */
import type { TenantFile } from "../../catalog/index.ts";
import type { DatabaseMode, ResolvedTenant, StorageMode } from "../../contract/index.ts";
import { parseDuration } from "../../db/moves/moveCommand.ts";
import { TenantMoveError } from "../../db/moves/moveErrors.ts";
import { DomainError } from "./domainErrors.ts";

/** Grace period of a move's old placement when the request names none: 24 h. */
export const DEFAULT_MOVE_GRACE_MS = 24 * 3_600_000;

/** The input of a `move` operation: the whole change, applied at the switch. */
export interface MoveInput {
  readonly from: { readonly tier: string; readonly database: DatabaseMode };
  readonly to: { readonly tier: string; readonly database: DatabaseMode };
  /** Storage mode change made with the move (nothing to copy on the local target). */
  readonly storage?: { readonly from: StorageMode; readonly to: StorageMode };
  readonly spec: TenantFile;
  readonly resolved: ResolvedTenant;
  /** How long the old placement stays read-only before its purge; 0 purges at once. */
  readonly graceMs: number;
}

/**
 * The move a change makes, or undefined when it moves no data.
 * @throws DomainError `data-move-unsupported` for a storage change without a database move.
 */
export function plannedMove(
  before: ResolvedTenant,
  after: ResolvedTenant,
): Pick<MoveInput, "from" | "to" | "storage"> | undefined {
  const from = before.layers.database;
  const to = after.layers.database;
  const storage =
    before.layers.storage === after.layers.storage
      ? undefined
      : { from: before.layers.storage, to: after.layers.storage };
  if (from === to) {
    if (!storage) return undefined;
    throw new DomainError(
      "unsupported",
      "data-move-unsupported",
      `moving storage from "${storage.from}" to "${storage.to}" without a database move copies no objects, ` +
        "which this version does not do; the tenant is unchanged",
    );
  }
  return {
    from: { tier: before.tier, database: from },
    to: { tier: after.tier, database: to },
    ...(storage ? { storage } : {}),
  };
}

/** `24h`, `30m`, `0`… → milliseconds; a DomainError (422) naming the field otherwise. */
export function graceOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MOVE_GRACE_MS;
  try {
    return parseDuration(text);
  } catch (error) {
    if (!(error instanceof TenantMoveError)) throw error;
    throw new DomainError("invalid", "invalid-grace", "the grace period is not valid", [
      {
        path: "moveGrace",
        message: `must look like 24h, 30m, 90s or 0, got ${JSON.stringify(text)}`,
      },
    ]);
  }
}

/** The same target (tier and database mode) as an open move: asking again is not a new move. */
export function sameMove(input: unknown, target: ResolvedTenant): boolean {
  const to = (input as Partial<MoveInput> | null)?.to;
  return to?.tier === target.tier && to.database === target.layers.database;
}
