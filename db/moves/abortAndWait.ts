/**
 * Aborting a move from outside its mover (`tenancy db move --abort`): the abort is asked for
 * on the move's record, as `POST /v1/operations/:id/abort` does (`requestMoveAbort`), so a
 * mover running in another process rolls the move back at its next batch, catch-up round or
 * at the switch. Then this waits until no mover holds the tenant's move lock and finishes
 * what is left itself (`abortMove`: a mover killed earlier left the move recorded, or it
 * died while rolling back). A mover that is still starting (it holds the lock but has not
 * recorded the move yet) is asked again until the record appears.
 */
import type { DriverOptions } from "../drivers/types.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { abortMove, requestMoveAbort } from "./moveTenant.ts";

export interface AbortWaitSettings {
  /** Longest wait for a running mover to roll back. @default 600000 (10 min) */
  readonly timeoutMs?: number;
  /** Interval between two looks at the move lock. @default 250 */
  readonly pollMs?: number;
  /** Called once when a running mover holds the move (the wait begins). */
  readonly onWaiting?: () => void;
}

/**
 * `aborted`: the move was rolled back (by its running mover or here), the tenant is on its
 * source; `none`: no move of the tenant was recorded. Throws TenantMoveError
 * `already-switched` after the switch, `abort-timeout` when the mover did not let go in time
 * (the abort stays requested: the mover still honours it).
 */
export async function abortMoveAndWait(
  options: DriverOptions & { readonly slug: string },
  settings: AbortWaitSettings = {},
): Promise<"aborted" | "none"> {
  const timeoutMs = settings.timeoutMs ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  let requested = false;
  let waiting = false;
  for (;;) {
    const answer = await requestMoveAbort(options);
    if (answer === "switched") {
      throw new TenantMoveError(
        `the move of tenant ${options.slug} has switched already; move it back instead`,
        "already-switched",
      );
    }
    requested ||= answer === "requested";
    try {
      const { aborted } = await abortMove(options);
      return aborted || requested ? "aborted" : "none";
    } catch (error) {
      if (!(error instanceof TenantMoveError && error.reason === "move-running")) throw error;
    }
    if (!waiting) {
      waiting = true;
      settings.onWaiting?.();
    }
    if (Date.now() > deadline) {
      throw new TenantMoveError(
        `the mover of tenant ${options.slug} did not roll back within ${Math.round(timeoutMs / 1000)} s; the abort stays requested and is honoured at its next batch or at the switch`,
        "abort-timeout",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, settings.pollMs ?? 250));
  }
}
