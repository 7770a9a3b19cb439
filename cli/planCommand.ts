/** `tenancy plan`: the resolved isolation of every tenant, as a table or stable JSON. */
import { parseArgs } from "node:util";
import {
  formatDiagnostic,
  LAYERS,
  loadCatalog,
  resolveCatalog,
  type ResolvedTenant,
} from "../catalog/index.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import { table, UsageError, type CliIo } from "./io.ts";

export const TARGETS = ["aws", "local"] as const;
export type Target = (typeof TARGETS)[number];

export async function planCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      tenant: { type: "string", multiple: true },
      target: { type: "string", default: "aws" },
      json: { type: "boolean", default: false },
    },
  });
  if (!(TARGETS as readonly string[]).includes(values.target)) {
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
  if (values.json) {
    io.stdout(JSON.stringify(planJson(tenants, values.target as Target), null, 2) + "\n");
  } else {
    io.stdout(planTable(tenants));
  }
  return 0;
}

/** Stable JSON: keys in a fixed order, tenants by slug. Scripts may rely on this shape. */
export function planJson(tenants: readonly ResolvedTenant[], target: Target) {
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
    })),
  };
}

export function planTable(tenants: readonly ResolvedTenant[]): string {
  const rows = tenants.map((t) => [
    t.slug,
    t.tier,
    ...LAYERS.map(
      (layer) =>
        `${t.layers[layer]}${t.overridden.includes(layer) ? "*" : ""} (${t.isolation[layer]})`,
    ),
    t.region,
    t.lifecycle,
  ]);
  const header = ["TENANT", "TIER", ...LAYERS.map((l) => l.toUpperCase()), "REGION", "STATE"];
  const note = tenants.some((t) => t.overridden.length) ? "* overridden for this tenant\n" : "";
  return table(header, rows) + note;
}
