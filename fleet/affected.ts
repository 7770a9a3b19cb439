/** The tenants a change affects, by meaning: `tenancy diff`'s affected set, for `up --changed`. */
import { diffFleet } from "./fleetDiff.ts";
import { resolveCommit } from "./gitCheckout.ts";
import { planBothSides } from "./planSides.ts";

export interface AffectedResult {
  readonly ok: boolean;
  readonly slugs: ReadonlySet<string>;
  /** Tenants whose program threw at the base or head: `slug: message`. */
  readonly errors: readonly string[];
  readonly diagnostics: readonly string[];
}

/**
 * Affected tenants between `baseRef` and the working tree of `root`. The local target is
 * planned as deployed with a Kubernetes cluster, whether or not one runs here: a namespace or
 * quota change affects its tenants even on a machine without a cluster.
 */
export async function affectedTenants(
  root: string,
  baseRef: string,
  catalogDir: string,
  target: string,
): Promise<AffectedResult> {
  const baseCommit = await resolveCommit(root, baseRef);
  const { base, head } = await planBothSides({
    root,
    baseCommit,
    headCommit: null,
    catalogDir,
    target,
    localCluster: target === "local",
  });
  if (!head.plan.ok)
    return { ok: false, slugs: new Set(), errors: [], diagnostics: head.plan.diagnostics };
  if (!base.plan.ok) {
    return {
      ok: false,
      slugs: new Set(),
      errors: [],
      diagnostics: base.plan.diagnostics.map(
        (d) => `base ${baseRef}: ${d.replaceAll(`${base.dir}/`, "")}`,
      ),
    };
  }
  const diff = diffFleet(base.plan, head.plan);
  return {
    ok: true,
    slugs: new Set(diff.tenants.filter((t) => t.status !== "error").map((t) => t.slug)),
    errors: diff.tenants
      .filter((t) => t.status === "error")
      .map((t) => `${t.slug}: ${t.error ?? "failed"}`),
    diagnostics: [],
  };
}
