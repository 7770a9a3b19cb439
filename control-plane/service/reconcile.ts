/**
 * Catalog and service agree: `reconcile` brings every catalog tenant to its declared state
 * through the same operations the API uses (signup, update, move, offboard), and `exportTenants`
 * writes API-created tenants as catalog files so they can join the catalog in git.
 *
 * A tenant is updated when its file or its resolved spec (tiers.yaml) changed, when it failed,
 * and — given a {@link DesiredStateCheck} — when its stack is not at its desired state (the
 * hash `tenancy up` uses: a component change that alters its resources, the provider code, the
 * engine). Such an update is the same `update` operation a spec change starts, queued behind
 * the tenant's other operations; the runner records the new hash when it succeeds.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  needsStack,
  resolveTenant,
  type Catalog,
  type ResolvedTenant,
  type TenantFile,
} from "../../catalog/index.ts";
import type { TenantRecord } from "../store/records.ts";
import type { Queryable } from "../store/store.ts";
import { listTenants } from "../store/store.ts";
import { DomainError } from "./domainErrors.ts";
import { stableJson } from "../../fleet/stableJson.ts";
import type { TenantService } from "./tenantService.ts";

export type ReconcileAction = "signup" | "update" | "move" | "offboard" | "unchanged" | "refused";

export interface ReconcileStep {
  readonly slug: string;
  readonly action: ReconcileAction;
  readonly operationId?: string;
  readonly detail?: string;
}

/** Whether tenant stacks are deployed at their desired state (fleet/serviceDesiredState.ts). */
export interface DesiredStateCheck {
  /**
   * Of `tenants`, those whose stack is not at its desired state, each with the reason; or
   * why nothing can be compared now (no engine yet, a backend without records).
   */
  outdated(
    tenants: readonly ResolvedTenant[],
  ): Promise<{ readonly outdated: ReadonlyMap<string, string> } | { readonly unavailable: string }>;
}

export interface ReconcileOptions {
  /** Without one, stacks are compared by their specs only. */
  readonly desiredState?: DesiredStateCheck;
}

/** Plans and starts the operations that bring the store to the catalog. */
export async function reconcile(
  db: Queryable,
  service: Pick<TenantService, "signup" | "change" | "offboard">,
  catalog: Catalog,
  onStep: (step: ReconcileStep) => void = () => undefined,
  options: ReconcileOptions = {},
): Promise<ReconcileStep[]> {
  const existing = new Map(
    (await listTenants(db, { includeDeleted: true })).map((t) => [t.slug, t]),
  );
  const steps: ReconcileStep[] = [];
  /** Stack tenants at rest whose spec did not change: compared by desired state below. */
  const atRest: { spec: TenantFile; resolved: ResolvedTenant }[] = [];
  for (const { spec, file } of catalog.tenants) {
    const current = existing.get(spec.slug);
    let step: ReconcileStep;
    try {
      if (spec.lifecycle === "offboarding") {
        step =
          !current || current.state === "deleted"
            ? { slug: spec.slug, action: "unchanged" }
            : {
                slug: spec.slug,
                action: "offboard",
                operationId: (await service.offboard(spec.slug)).operation.id,
              };
      } else if (current?.state === "deleted") {
        // Never revived: the catalog still lists a tenant that was offboarded.
        step = {
          slug: spec.slug,
          action: "refused",
          detail:
            `tenant "${spec.slug}" was offboarded and is deleted; reconcile never signs a ` +
            `deleted tenant up again: remove ${file} or declare it lifecycle: offboarding`,
        };
      } else if (!current) {
        const { operation } = await service.signup(spec, undefined, "catalog");
        step = { slug: spec.slug, action: "signup", operationId: operation.id };
      } else if (
        declaredJson(current.spec) !== declaredJson(spec) ||
        // The same file under another tiers.yaml (a tier's quota, layers): what counts is
        // the resolved spec the stack is deployed from, not the file.
        plainJson(current.resolved) !== plainJson(resolveTenant(spec, catalog.tiers)) ||
        current.state === "failed"
      ) {
        const { operation } = await service.change(spec.slug, { declared: spec });
        // A tier (or database override) change across placements is a move of the data.
        step = {
          slug: spec.slug,
          action: operation.kind === "move" ? "move" : "update",
          operationId: operation.id,
        };
      } else if (
        options.desiredState &&
        needsStack(current.resolved) &&
        (current.state === "active" || current.state === "suspended")
      ) {
        atRest.push({ spec, resolved: current.resolved });
        continue;
      } else {
        step = { slug: spec.slug, action: "unchanged" };
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      step = { slug: spec.slug, action: "refused", detail: error.message };
    }
    steps.push(step);
    onStep(step);
  }
  if (options.desiredState && atRest.length > 0) {
    for (const step of await desiredStateSteps(service, options.desiredState, atRest)) {
      steps.push(step);
      onStep(step);
    }
  }
  return steps;
}

/**
 * Updates the stacks of `atRest` that are not at their desired state, through the same `update`
 * operation a spec change starts (the spec stays as it is); the others are unchanged.
 */
async function desiredStateSteps(
  service: Pick<TenantService, "change">,
  check: DesiredStateCheck,
  atRest: readonly { spec: TenantFile; resolved: ResolvedTenant }[],
): Promise<ReconcileStep[]> {
  let compared: Awaited<ReturnType<DesiredStateCheck["outdated"]>>;
  try {
    compared = await check.outdated(atRest.map((t) => t.resolved));
  } catch (error) {
    compared = { unavailable: error instanceof Error ? error.message : String(error) };
  }
  const steps: ReconcileStep[] = [];
  for (const { spec } of atRest) {
    if ("unavailable" in compared) {
      steps.push({
        slug: spec.slug,
        action: "unchanged",
        detail: `desired state not compared: ${compared.unavailable}`,
      });
      continue;
    }
    const reason = compared.outdated.get(spec.slug);
    if (reason === undefined) {
      steps.push({ slug: spec.slug, action: "unchanged" });
      continue;
    }
    try {
      const { operation } = await service.change(spec.slug, { declared: spec });
      steps.push({
        slug: spec.slug,
        action: operation.kind === "move" ? "move" : "update",
        operationId: operation.id,
        detail: reason,
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      steps.push({ slug: spec.slug, action: "refused", detail: error.message });
    }
  }
  return steps;
}

/**
 * One line per distinct reason a stack was updated for its desired state, or could not be
 * compared, with how many tenants it applies to (5,000 tenants make a few lines, not 5,000).
 */
export function reconcileNotes(steps: readonly ReconcileStep[]): string[] {
  const counts = new Map<string, string[]>();
  for (const step of steps) {
    if (!step.detail || step.action === "refused" || step.action === "signup") continue;
    const key = `${step.action === "unchanged" ? "unchanged" : "updated"}: ${step.detail}`;
    counts.set(key, [...(counts.get(key) ?? []), step.slug]);
  }
  return [...counts].map(([key, slugs]) => {
    const named = slugs.slice(0, 3).join(", ") + (slugs.length > 3 ? ", ..." : "");
    return `${slugs.length} tenant${slugs.length === 1 ? "" : "s"} (${named}) ${key}`;
  });
}

/**
 * A spec as compared with its catalog file: the editor hint `$schema` is not part of it, and
 * a field set to undefined is a field left out.
 */
function declaredJson(spec: TenantRecord["spec"]): string {
  const { $schema: _hint, ...declared } = spec;
  return plainJson(declared);
}

/** JSON with sorted keys where a field set to undefined is a field left out (as in jsonb). */
function plainJson(value: TenantRecord["spec"] | ResolvedTenant): string {
  return stableJson(JSON.parse(JSON.stringify(value)));
}

/** Writes every API-created tenant as `<dir>/<slug>.yaml`; returns the files written. */
export async function exportTenants(db: Queryable, dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const tenant of await listTenants(db)) {
    if (tenant.source !== "api") continue;
    const file = join(dir, `${tenant.slug}.yaml`);
    const body = stringify(
      { ...tenant.spec, $schema: undefined, lifecycle: exportedLifecycle(tenant) },
      { sortMapEntries: false },
    );
    await writeFile(
      file,
      `# yaml-language-server: $schema=../schemas/tenant.schema.json\n${body}`,
      { flag: "wx" },
    );
    written.push(file);
  }
  return written;
}

/**
 * The lifecycle written for a tenant: the one it is in. `offboarding` only for a tenant being
 * offboarded (a file saying so would make the next reconcile delete it); otherwise its
 * requested lifecycle, active or suspended.
 */
export function exportedLifecycle(tenant: Pick<TenantRecord, "state" | "spec">) {
  if (tenant.state === "offboarding") return "offboarding";
  return tenant.spec.lifecycle === "suspended" ? "suspended" : "active";
}
