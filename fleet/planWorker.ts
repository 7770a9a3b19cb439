/**
 * Plans a whole catalog with resource inputs, in the checkout it is given, and writes the
 * result as JSON. `tenancy diff` runs it in a child process once per side, so the base is
 * planned by the base's own code and the head by the head's:
 *
 *   node --import tsx fleet/planWorker.ts --root <checkout> --catalog tenants --target aws --out f.json
 *
 * `--local-cluster` plans the `local` target as deployed with a Kubernetes cluster (its compute
 * layer: namespace, quotas, ...), whether or not one runs here. `--tenants f.json` plans the
 * resolved specs in that file instead of a catalog (`tenancy up`'s desired-state hashes).
 * Everything it loads comes from `--root`; only this file may come from the head.
 */
import { readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  markersFor,
  maskable,
  NAME_TOKEN,
  replaceInValue,
  SLUG_TOKEN,
  tokenPairs,
} from "./shapeMarkers.ts";

export const PLAN_PROTOCOL = 1;

export interface PlannedInputsResource {
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  readonly parentType: string | null;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly secretInputs: readonly string[];
}

export interface PlannedShape {
  /** True when strings are literal (planned for one tenant); false when they hold tokens. */
  readonly literal: boolean;
  readonly resources?: readonly PlannedInputsResource[];
  /** The program threw: its message. */
  readonly error?: string;
}

export interface PlannedTenant {
  readonly slug: string;
  readonly name: string;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly shape: string;
}

export type PlanWorkerResult =
  | {
      readonly protocol: number;
      readonly ok: true;
      readonly target: string;
      readonly tenants: readonly PlannedTenant[];
      readonly shapes: Readonly<Record<string, PlannedShape>>;
      readonly runs: number;
    }
  | { readonly protocol: number; readonly ok: false; readonly diagnostics: readonly string[] };

type Spec = Record<string, unknown> & { slug: string; name: string; region: string };
interface RunResult {
  resources: readonly {
    type: string;
    name: string;
    parent: string | null;
    parentType: string | null;
    inputs: Readonly<Record<string, unknown>>;
    secretInputs: readonly string[];
  }[];
}
type RunTenant = (
  tenant: Spec,
  target: string,
  options?: { localKubeconfig?: string },
) => Promise<RunResult>;

/** The kubeconfig the local target is planned with when it has a cluster (never connected to). */
export const PLANNED_LOCAL_KUBECONFIG =
  "apiVersion: v1\nkind: Config\nclusters: []\n# planned: no cluster is contacted\n";

export interface PlanCheckoutOptions {
  readonly exact?: boolean;
  /** Plan the local target with a Kubernetes cluster. @default false */
  readonly localCluster?: boolean;
  /** Resolved specs to plan instead of the catalog. */
  readonly tenants?: readonly Spec[];
}

/** Plans every tenant of the catalog in `root` (or `options.tenants`). */
export async function planCheckout(
  root: string,
  catalogDir: string,
  target: string,
  options: PlanCheckoutOptions = {},
): Promise<PlanWorkerResult> {
  const planning = (await import(
    pathToFileURL(join(root, "stacks/planning/planTenant.ts")).href
  )) as {
    runTenantUnderMocks: RunTenant;
  };
  const run: RunTenant =
    options.localCluster && target === "local"
      ? (tenant, t) =>
          planning.runTenantUnderMocks(tenant, t, { localKubeconfig: PLANNED_LOCAL_KUBECONFIG })
      : (tenant, t) => planning.runTenantUnderMocks(tenant, t);
  if (options.tenants) return planTenants(options.tenants, target, run, options.exact);
  const catalog = (await import(pathToFileURL(join(root, "catalog/index.ts")).href)) as {
    loadCatalog(dir: string): Promise<{ ok: boolean; catalog?: unknown; diagnostics?: unknown[] }>;
    resolveCatalog(catalog: unknown): Spec[];
    formatDiagnostic(d: unknown): string;
  };
  const loaded = await catalog.loadCatalog(
    isAbsolute(catalogDir) ? catalogDir : join(root, catalogDir),
  );
  if (!loaded.ok) {
    return {
      protocol: PLAN_PROTOCOL,
      ok: false,
      diagnostics: (loaded.diagnostics ?? []).map((d) => catalog.formatDiagnostic(d)),
    };
  }
  const tenants = catalog.resolveCatalog(loaded.catalog);
  return planTenants(tenants, target, run, options.exact);
}

/** Plans resolved tenants with `run`, sharing a run between tenants of one verified shape. */
export async function planTenants(
  tenants: readonly Spec[],
  target: string,
  run: RunTenant,
  exact = false,
): Promise<PlanWorkerResult & { ok: true }> {
  const shapes: Record<string, PlannedShape> = {};
  const out: PlannedTenant[] = [];
  let runs = 0;
  const attempt = async (spec: Spec): Promise<RunResult | { error: string }> => {
    runs++;
    try {
      return await run(spec, target);
    } catch (error) {
      return { error: firstLine(error) };
    }
  };
  const planExact = async (spec: Spec): Promise<string> => {
    const id = `tenant:${spec.slug}`;
    const result = await attempt(spec);
    shapes[id] =
      "error" in result
        ? { literal: true, error: result.error }
        : { literal: true, resources: result.resources.map(slim) };
    return id;
  };
  for (const spec of tenants) {
    let shapeId: string;
    if (exact || !maskable(spec.slug, spec.name)) {
      shapeId = await planExact(spec);
    } else {
      const masked = maskSpec(spec);
      const key = JSON.stringify([target, formOf(spec.slug), spec.name.length, masked]);
      if (!(key in shapes)) shapes[key] = await planShape(masked, spec, attempt);
      shapeId = shapes[key]?.resources ? key : await planExact(spec);
    }
    out.push({ slug: spec.slug, name: spec.name, spec, shape: shapeId });
  }
  // Shapes that failed verification carry no resources and no tenant: drop them.
  for (const [id, shape] of Object.entries(shapes)) {
    if (!shape.literal && !shape.resources) delete shapes[id];
  }
  return { protocol: PLAN_PROTOCOL, ok: true, target, tenants: out, shapes, runs };
}

async function planShape(
  masked: unknown,
  spec: Spec,
  attempt: (spec: Spec) => Promise<RunResult | { error: string }>,
): Promise<PlannedShape> {
  const results: unknown[] = [];
  for (const markers of markersFor(spec.slug, spec.name)) {
    const asMarker = replaceInValue(masked, [
      [SLUG_TOKEN, markers.slug],
      [NAME_TOKEN, markers.name],
    ]) as Spec;
    const result = await attempt(asMarker);
    if ("error" in result) return { literal: false };
    results.push(replaceInValue(result.resources.map(slim), tokenPairs(markers)));
  }
  const [a, b] = results;
  if (JSON.stringify(a) !== JSON.stringify(b)) return { literal: false };
  return { literal: false, resources: (a ?? []) as PlannedInputsResource[] };
}

/** The spec with every string equal to the slug or the name replaced by its token. */
function maskSpec(spec: Spec): unknown {
  const mask = (value: unknown): unknown => {
    if (value === spec.slug) return SLUG_TOKEN;
    if (value === spec.name) return NAME_TOKEN;
    if (Array.isArray(value)) return value.map(mask);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v)]));
    }
    return value;
  };
  return mask(spec);
}

function formOf(slug: string): string {
  return slug.replace(/[^-]/g, "a");
}

function slim(r: RunResult["resources"][number]): PlannedInputsResource {
  return {
    type: r.type,
    name: r.name,
    parent: r.parent,
    parentType: r.parentType,
    inputs: r.inputs,
    secretInputs: r.secretInputs,
  };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").find((line) => line.trim()) ?? "program failed";
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: "string" },
      catalog: { type: "string", default: "tenants" },
      target: { type: "string", default: "aws" },
      out: { type: "string" },
      exact: { type: "boolean", default: false },
      "local-cluster": { type: "boolean", default: false },
      tenants: { type: "string" },
    },
  });
  if (!values.root || !values.out) throw new Error("planWorker: --root and --out are required");
  const result = await planCheckout(values.root, values.catalog, values.target, {
    exact: values.exact,
    localCluster: values["local-cluster"],
    ...(values.tenants
      ? { tenants: JSON.parse(await readFile(values.tenants, "utf8")) as Spec[] }
      : {}),
  });
  await writeFile(values.out, JSON.stringify(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
