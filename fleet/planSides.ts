/**
 * Plans the base and the head of a fleet diff, each side as soon as its code is on disk: the
 * head is the working tree (or a `--head` commit, checked out unless the working tree is that
 * commit exactly), the base a temporary checkout. The head's planner starts while the base is
 * still being checked out. Checkouts are removed before this returns.
 */
import { checkoutCommit, isCleanCheckoutOf, type Checkout } from "./gitCheckout.ts";
import { planSide } from "./planSide.ts";
import type { PlanWorkerResult } from "./planWorker.ts";

export interface PlanSidesOptions {
  readonly root: string;
  readonly baseCommit: string;
  /** null: the working tree as it is (uncommitted changes included). */
  readonly headCommit: string | null;
  /** Relative to the repository root. */
  readonly catalogDir: string;
  readonly target: string;
  readonly exact?: boolean;
  /** Plan the local target with a Kubernetes cluster (see ./planWorker.ts). */
  readonly localCluster?: boolean;
}

export interface PlannedSide {
  /** Where the side was planned (for stripping paths from its diagnostics). */
  readonly dir: string;
  readonly plan: PlanWorkerResult;
}

export async function planBothSides(
  options: PlanSidesOptions,
): Promise<{ base: PlannedSide; head: PlannedSide }> {
  const checkouts: Checkout[] = [];
  const planAt = async (commit: string | null): Promise<PlannedSide> => {
    let dir = options.root;
    if (commit !== null && !(await isCleanCheckoutOf(options.root, commit))) {
      const checkout = await checkoutCommit(options.root, commit);
      checkouts.push(checkout);
      dir = checkout.dir;
    }
    const plan = await planSide({
      root: dir,
      catalogDir: options.catalogDir,
      target: options.target,
      exact: options.exact,
      localCluster: options.localCluster,
    });
    return { dir, plan };
  };
  try {
    // Settle both before removing anything: a side still planning must keep its checkout.
    const [head, base] = await Promise.allSettled([
      planAt(options.headCommit),
      planAt(options.baseCommit),
    ]);
    if (base.status === "rejected") throw base.reason;
    if (head.status === "rejected") throw head.reason;
    return { base: base.value, head: head.value };
  } finally {
    for (const checkout of checkouts) await checkout.remove();
  }
}
