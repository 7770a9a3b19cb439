/**
 * The fleet diff: every tenant's resources at the base against the head, tenants with
 * identical normalised diffs grouped, dangerous changes called out. Pure: it works on two
 * plans (see ./planWorker.ts) and knows nothing about git or files.
 */
import {
  materialize,
  NAME_TOKEN,
  replaceInValue,
  SLUG_TOKEN,
  SNAKE_TOKEN,
} from "./shapeMarkers.ts";
import type { PlannedInputsResource, PlannedShape, PlannedTenant } from "./planWorker.ts";
import { diffResources, isDestructive, type ResourceChange } from "./resourceDiff.ts";
import { headViolations } from "./policyCheck.ts";

export interface PlanSide {
  readonly tenants: readonly PlannedTenant[];
  readonly shapes: Readonly<Record<string, PlannedShape>>;
}

export type TenantStatus = "added" | "removed" | "changed" | "error";

export interface TenantDiff {
  readonly slug: string;
  readonly status: TenantStatus;
  readonly tier: { readonly base: string | null; readonly head: string | null };
  readonly resources: readonly ResourceChange[];
  /** Why this tenant's change needs a second look (destructive changes, isolation, offboarding). */
  readonly dangers: readonly string[];
  /** Policy-pack violations of the head's resources. */
  readonly violations: readonly string[];
  /** The program threw (prefixed with the side); resources are then not diffed. */
  readonly error?: string;
  /** Index into {@link FleetDiff.groups}; -1 for errors. */
  readonly group: number;
  /** The tenant's data moves to another database mode (a tier move); absent otherwise. */
  readonly move?: DatabaseMove;
}

export interface DatabaseMove {
  readonly from: string;
  readonly to: string;
}

export interface DiffGroup {
  readonly tenants: readonly string[];
  readonly dangerous: boolean;
  /** With {@link SLUG_TOKEN} / {@link NAME_TOKEN} where each tenant has its own slug or name. */
  readonly resources: readonly ResourceChange[];
  readonly dangers: readonly string[];
  readonly violations: readonly string[];
}

export interface FleetDiff {
  readonly totalTenants: number;
  /** Affected tenants (changed, added, removed, errors), by slug. */
  readonly tenants: readonly TenantDiff[];
  /** Dangerous groups first, then larger groups first. */
  readonly groups: readonly DiffGroup[];
}

interface Normalised {
  resources: ResourceChange[];
  dangers: string[];
  violations: string[];
}

/** Diffs two plans of the same target. */
export function diffFleet(base: PlanSide, head: PlanSide): FleetDiff {
  const bases = new Map(base.tenants.map((t) => [t.slug, t]));
  const heads = new Map(head.tenants.map((t) => [t.slug, t]));
  const slugs = [...new Set([...bases.keys(), ...heads.keys()])].sort();
  const pairCache = new Map<string, ResourceChange[]>();
  const violationCache = new Map<string, string[]>();
  const groupsByKey = new Map<string, { norm: Normalised; tenants: string[] }>();
  const pending: {
    slug: string;
    status: TenantStatus;
    tier: TenantDiff["tier"];
    norm: Normalised;
    own: TenantSideInfo;
    key: string;
    move: DatabaseMove | undefined;
  }[] = [];
  const errors: TenantDiff[] = [];

  for (const slug of slugs) {
    const b = bases.get(slug);
    const h = heads.get(slug);
    const tier = { base: tierOf(b), head: tierOf(h) };
    const bShape = b ? base.shapes[b.shape] : undefined;
    const hShape = h ? head.shapes[h.shape] : undefined;
    const error = bShape?.error
      ? `base: ${bShape.error}`
      : hShape?.error
        ? `head: ${hShape.error}`
        : undefined;
    if (error) {
      errors.push({
        slug,
        status: "error",
        tier,
        resources: [],
        dangers: [],
        violations: [],
        error,
        group: -1,
      });
      continue;
    }
    const name = (h ?? b)?.name ?? slug;
    const own = { slug, name };
    let resources: ResourceChange[];
    const pairable =
      b && h && bShape && hShape && !bShape.literal && !hShape.literal && b.name === h.name;
    if (pairable) {
      const pairKey = `${b.shape}\u0000${h.shape}`;
      let cached = pairCache.get(pairKey);
      if (!cached) {
        cached = diffResources(bShape.resources ?? [], hShape.resources ?? []);
        pairCache.set(pairKey, cached);
      }
      resources = cached;
    } else {
      const olds = b && bShape ? resourcesOf(bShape, b) : [];
      const news = h && hShape ? resourcesOf(hShape, h) : [];
      resources = tokenise(diffResources(olds, news), own);
    }
    const dangers = [
      ...specDangers(b?.spec, h?.spec),
      ...resources.filter(isDestructive).map((r) => `${r.op} ${r.type} ${r.name}`),
    ];
    if (!resources.length && !dangers.length) continue;
    let violations: string[] = [];
    if (h && hShape) {
      const cacheKey = hShape.literal ? `literal:${h.slug}` : h.shape;
      let cached = violationCache.get(cacheKey);
      if (!cached) {
        cached = tokenise(headViolations(resourcesOf(hShape, h), h.slug), own);
        violationCache.set(cacheKey, cached);
      }
      violations = cached;
    }
    const norm: Normalised = { resources, dangers, violations };
    const key = JSON.stringify(norm);
    const status: TenantStatus = !b ? "added" : !h ? "removed" : "changed";
    const move = databaseMove(b?.spec, h?.spec);
    pending.push({ slug, status, tier, norm, own, key, move });
    const group = groupsByKey.get(key);
    if (group) group.tenants.push(slug);
    else groupsByKey.set(key, { norm, tenants: [slug] });
  }

  const ordered = [...groupsByKey.entries()]
    .map(([key, g]) => ({
      key,
      ...g,
      dangerous: g.norm.dangers.length + g.norm.violations.length > 0,
    }))
    .sort(
      (x, y) =>
        Number(y.dangerous) - Number(x.dangerous) ||
        y.tenants.length - x.tenants.length ||
        ((x.tenants[0] ?? "") < (y.tenants[0] ?? "") ? -1 : 1),
    );
  const indexOf = new Map(ordered.map((g, i) => [g.key, i]));
  const groups: DiffGroup[] = ordered.map((g) => ({
    tenants: g.tenants,
    dangerous: g.dangerous,
    resources: g.norm.resources,
    dangers: g.norm.dangers,
    violations: g.norm.violations,
  }));
  const tenants: TenantDiff[] = [
    ...errors,
    ...pending.map((p) => ({
      slug: p.slug,
      status: p.status,
      tier: p.tier,
      ...materialize(p.norm, p.own.slug, p.own.name),
      group: indexOf.get(p.key) ?? -1,
      ...(p.move ? { move: p.move } : {}),
    })),
  ].sort((x, y) => (x.slug < y.slug ? -1 : 1));
  return { totalTenants: slugs.length, tenants, groups };
}

interface TenantSideInfo {
  readonly slug: string;
  readonly name: string;
}

function tierOf(t: PlannedTenant | undefined): string | null {
  return t ? String(t.spec["tier"]) : null;
}

function resourcesOf(shape: PlannedShape, t: PlannedTenant): readonly PlannedInputsResource[] {
  const resources = shape.resources ?? [];
  return shape.literal ? resources : materialize(resources, t.slug, t.name);
}

function tokenise<T>(value: T, own: TenantSideInfo): T {
  return replaceInValue(value, [
    [own.slug, SLUG_TOKEN],
    [own.slug.replaceAll("-", "_"), SNAKE_TOKEN],
    [own.name, NAME_TOKEN],
  ]) as T;
}

/** The database mode change of a tenant on both sides (its data would be moved). */
export function databaseMove(
  base: Readonly<Record<string, unknown>> | undefined,
  head: Readonly<Record<string, unknown>> | undefined,
): DatabaseMove | undefined {
  if (!base || !head) return undefined;
  const from = (base["layers"] as Record<string, unknown> | undefined)?.["database"];
  const to = (head["layers"] as Record<string, unknown> | undefined)?.["database"];
  return from !== to ? { from: String(from), to: String(to) } : undefined;
}

const MODE_KEYS = ["database", "storage", "compute", "identity"] as const;

/** Spec changes that need a second look whatever the resources say. */
export function specDangers(
  base: Readonly<Record<string, unknown>> | undefined,
  head: Readonly<Record<string, unknown>> | undefined,
): string[] {
  if (base && !head) return ["tenant removed from the catalog"];
  if (!base || !head) return [];
  const out: string[] = [];
  const bl = (base["layers"] ?? {}) as Record<string, unknown>;
  const hl = (head["layers"] ?? {}) as Record<string, unknown>;
  for (const layer of MODE_KEYS) {
    if (bl[layer] !== hl[layer]) {
      out.push(`isolation: ${layer} ${String(bl[layer])} → ${String(hl[layer])}`);
    }
  }
  if (base["encryption"] !== head["encryption"]) {
    out.push(`isolation: encryption ${String(base["encryption"])} → ${String(head["encryption"])}`);
  }
  if (base["lifecycle"] !== head["lifecycle"] && head["lifecycle"] === "offboarding") {
    out.push(`lifecycle: ${String(base["lifecycle"])} → offboarding`);
  }
  return out;
}
