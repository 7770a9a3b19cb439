/**
 * `tenancy plan`: the resolved isolation of every tenant and the resources its stack would
 * declare (computed offline by running the tenant program under Pulumi's mock runtime), as a
 * table or stable JSON.
 */
import { parseArgs } from "node:util";
import {
  formatDiagnostic,
  LAYERS,
  loadCatalog,
  resolveCatalog,
  type ResolvedTenant,
} from "../catalog/index.ts";
import { isTarget, stackNameOf, TARGETS, type Target } from "../contract/index.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import { table, UsageError, type CliIo } from "./io.ts";

export async function planCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      tenant: { type: "string", multiple: true },
      target: { type: "string", default: "aws" },
      json: { type: "boolean", default: false },
      exact: { type: "boolean", default: false },
    },
  });
  if (!isTarget(values.target)) {
    throw new UsageError(`--target must be one of ${TARGETS.join(", ")}`);
  }
  const loaded = await loadCatalog(values.catalog);
  if (!loaded.ok) {
    for (const diagnostic of loaded.diagnostics) io.stderr(formatDiagnostic(diagnostic) + "\n");
    io.stderr(`catalog ${values.catalog} is invalid; run \`tenancy catalog validate\`\n`);
    return 1;
  }
  let tenants = resolveCatalog(loaded.catalog);
  if (values.tenant?.length) {
    const known = new Set(tenants.map((t) => t.slug));
    const unknown = values.tenant.filter((slug) => !known.has(slug));
    if (unknown.length) {
      io.stderr(`unknown tenant${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}\n`);
      return 1;
    }
    const wanted = new Set(values.tenant);
    tenants = tenants.filter((t) => wanted.has(t.slug));
  }
  const target = values.target;
  // Loaded on demand: the Pulumi SDKs take a moment to load and `catalog` commands never need them.
  const { planCatalogResources } = await import("../stacks/planning/planCatalog.ts");
  const resources = await planCatalogResources(tenants, target, {
    strategy: values.exact ? "exact" : "per-shape",
  });
  if (values.json) {
    io.stdout(JSON.stringify(planJson(tenants, target, resources), null, 2) + "\n");
  } else {
    io.stdout(planTable(tenants, resources));
    // Naming tenants asks for detail: list what each of their stacks declares.
    if (values.tenant?.length) {
      for (const t of tenants)
        io.stdout(resourceListing(t.slug, target, resources.get(t.slug) ?? []));
    }
  }
  return 0;
}

/** One resource a tenant's stack declares. */
export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource; null directly under the stack. */
  readonly parent: string | null;
}

/** Stable JSON: keys in a fixed order, tenants by slug. Scripts may rely on this shape. */
export function planJson(
  tenants: readonly ResolvedTenant[],
  target: Target,
  resources: ReadonlyMap<string, readonly PlannedResource[]> = new Map(),
) {
  return {
    target,
    tenants: tenants.map((t) => ({
      slug: t.slug,
      name: t.name,
      tier: t.tier,
      lifecycle: t.lifecycle,
      region: t.region,
      dataResidency: t.dataResidency ?? null,
      encryption: t.encryption,
      layers: Object.fromEntries(
        LAYERS.map((layer) => [
          layer,
          {
            mode: t.layers[layer],
            isolation: t.isolation[layer],
            overridden: t.overridden.includes(layer),
          },
        ]),
      ),
      quotas: t.quotas,
      tags: t.tags,
      // Sorted by name, then type; each entry has exactly these keys, in this order.
      resources: (resources.get(t.slug) ?? []).map(({ type, name, parent }) => ({
        type,
        name,
        parent,
      })),
    })),
  };
}

export function planTable(
  tenants: readonly ResolvedTenant[],
  resources?: ReadonlyMap<string, readonly PlannedResource[]>,
): string {
  const rows = tenants.map((t) => [
    t.slug,
    t.tier,
    ...LAYERS.map(
      (layer) =>
        `${t.layers[layer]}${t.overridden.includes(layer) ? "*" : ""} (${t.isolation[layer]})`,
    ),
    t.region,
    t.lifecycle,
    ...(resources ? [String(resources.get(t.slug)?.length ?? 0)] : []),
  ]);
  const header = [
    "TENANT",
    "TIER",
    ...LAYERS.map((l) => l.toUpperCase()),
    "REGION",
    "STATE",
    ...(resources ? ["RESOURCES"] : []),
  ];
  const note = tenants.some((t) => t.overridden.length) ? "* overridden for this tenant\n" : "";
  return table(header, rows) + note;
}

/** The resources of one tenant's stack, as an indented tree under their parents. */
export function resourceListing(
  slug: string,
  target: Target,
  resources: readonly PlannedResource[],
): string {
  const children = new Map<string | null, PlannedResource[]>();
  for (const r of resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const lines: string[] = [
    `\nstack ${stackNameOf(slug)} (${target}): ${resources.length} resources`,
  ];
  const walk = (parent: string | null, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      lines.push(`${"  ".repeat(depth + 1)}${r.name}  ${r.type}`);
      if (r.name !== parent) walk(r.name, depth + 1);
    }
  };
  walk(null, 0);
  return lines.join("\n") + "\n";
}
