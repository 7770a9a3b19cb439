/**
 * The tenant state machine, in one place. The store refuses any write that is not in this
 * table, whoever asks (an API request, an operation finishing late, reconcile): once a tenant
 * is `offboarding`, only its offboarding can move it on (to `deleted`), and `deleted` is final.
 */
import { TENANT_STATES, type TenantState } from "./records.ts";

export const TENANT_TRANSITIONS: Readonly<Record<TenantState, readonly TenantState[]>> = {
  provisioning: ["provisioning", "active", "suspended", "failed", "offboarding"],
  active: ["active", "updating", "moving", "suspended", "offboarding"],
  updating: ["updating", "moving", "active", "suspended", "failed", "offboarding"],
  suspended: ["suspended", "updating", "active", "offboarding"],
  // A move ends on its target (active), back on its source (active, with the reason), or
  // failed after its switch; nothing else happens to the tenant meanwhile (the service
  // refuses changes and offboarding with `tenant-moving`).
  moving: ["moving", "active", "failed"],
  failed: ["failed", "updating", "moving", "active", "suspended", "offboarding"],
  // A failed offboarding stays offboarding (with its error) and is retried, never undone.
  offboarding: ["offboarding", "deleted"],
  deleted: [],
};

/** States in which a tenant's spec may still change (not while it is going away). */
const SPEC_MUTABLE: readonly TenantState[] = TENANT_STATES.filter(
  (s) => s !== "offboarding" && s !== "deleted",
);

export function canTransition(from: TenantState, to: TenantState): boolean {
  return TENANT_TRANSITIONS[from].includes(to);
}

/**
 * The states a tenant may be in for a write: to `to` when the state changes, otherwise to
 * itself; a write that changes the spec also needs a state in which the spec may change.
 */
export function allowedFromStates(
  to: TenantState | undefined,
  changesSpec: boolean,
): TenantState[] {
  return TENANT_STATES.filter(
    (from) => canTransition(from, to ?? from) && (!changesSpec || SPEC_MUTABLE.includes(from)),
  );
}

/** A write the state machine does not allow. */
export class TenantTransitionRefused extends Error {
  constructor(
    readonly slug: string,
    readonly from: TenantState,
    readonly to: TenantState | undefined,
  ) {
    super(
      to === undefined || to === from
        ? `tenant ${slug} is ${from}: it can no longer be changed`
        : `tenant ${slug} cannot go from ${from} to ${to}`,
    );
    this.name = "TenantTransitionRefused";
  }

  /** True when the refusal is because the tenant is being (or has been) offboarded. */
  get offboarding(): boolean {
    return this.from === "offboarding" || this.from === "deleted";
  }
}
