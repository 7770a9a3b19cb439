/** The tenants a change affects, by meaning: `tenancy diff`'s affected set, for `up --changed`. */
import { diffFleet } from "./fleetDiff.ts";
import { checkoutCommit, resolveCommit } from "./gitCheckout.ts";
import { planSide } from "./planSide.ts";

export interface AffectedResult {
  readonly ok: boolean;
  readonly slugs: ReadonlySet<string>;
  /** Tenants whose program threw at the base or head: `slug: message`. */
  readonly errors: readonly string[];
  readonly diagnostics: readonly string[];
}

export async function affectedTenants(
  root: string,
  baseRef: string,
  catalogDir: string,
  target: string,
): Promise<AffectedResult> {
  const commit = await resolveCommit(root, baseRef);
  const base = await checkoutCommit(root, commit);
  try {
    const [basePlan, headPlan] = await Promise.all([
      planSide({ root: base.dir, catalogDir, target }),
      planSide({ root, catalogDir, target }),
    ]);
    if (!headPlan.ok)
      return { ok: false, slugs: new Set(), errors: [], diagnostics: headPlan.diagnostics };
    if (!basePlan.ok) {
      return {
        ok: false,
        slugs: new Set(),
        errors: [],
        diagnostics: basePlan.diagnostics.map(
          (d) => `base ${baseRef}: ${d.replaceAll(`${base.dir}/`, "")}`,
        ),
      };
    }
    const diff = diffFleet(basePlan, headPlan);
    return {
      ok: true,
      slugs: new Set(diff.tenants.filter((t) => t.status !== "error").map((t) => t.slug)),
      errors: diff.tenants
        .filter((t) => t.status === "error")
        .map((t) => `${t.slug}: ${t.error ?? "failed"}`),
      diagnostics: [],
    };
  } finally {
    await base.remove();
  }
}
