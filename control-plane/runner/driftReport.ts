/**
 * Drift: what differs between a stack's recorded state and reality, collected from the engine
 * events of a refresh. Each refreshed resource's recorded outputs (`old`) are compared with
 * what its provider read (`new`), property by property; a resource its provider no longer
 * finds is `deleted`. Observed status that no configuration sets (Kubernetes `status` and
 * object bookkeeping such as `metadata.resourceVersion`) is not drift and is left out, nor is
 * the Kubernetes provider's own copy of the object's inputs (`__inputs`, which repeats the
 * same change).
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation/index.js";

export interface PropertyDrift {
  /** Dotted path of the property (`quotas.dbConnections`, `spec.hard["limits.cpu"]`). */
  readonly path: string;
  /** The value recorded in the stack's state (absent: the state has no such property). */
  readonly state?: unknown;
  /** The value found (absent: reality has no such property). */
  readonly live?: unknown;
}

export interface ResourceDrift {
  readonly urn: string;
  readonly type: string;
  /** The resource's name (last URN segment). */
  readonly name: string;
  /** `changed`: properties differ; `deleted`: the resource is gone. */
  readonly drift: "changed" | "deleted";
  readonly properties: PropertyDrift[];
}

export interface DriftReport {
  readonly stack: string;
  readonly checkedAt: string;
  /** How many resources the refresh read. */
  readonly resources: number;
  /** The resources that drifted, by URN; empty when state and reality agree. */
  readonly drifted: ResourceDrift[];
}

/** Properties that reflect observation, not configuration, per provider type prefix. */
const OBSERVED: readonly { readonly types: RegExp; readonly paths: RegExp }[] = [
  {
    types: /^kubernetes:/,
    paths:
      /^(status(\.|$)|__inputs(\.|\[|$)|metadata\.(resourceVersion|managedFields|generation|uid|creationTimestamp)(\.|\[|$))/,
  },
  // A dynamic provider's serialized code: the same source can serialize differently.
  { types: /^pulumi-nodejs:dynamic/, paths: /^__provider$/ },
];

function observed(type: string, path: string): boolean {
  return OBSERVED.some((rule) => rule.types.test(type) && rule.paths.test(path));
}

/**
 * Collects a refresh's per-resource differences from its engine events: the engine announces
 * each resource it reads (`resourcePreEvent`, op `refresh`) and then reports the recorded
 * (`old`) and read (`new`) states (`resOutputsEvent`). Providers, components and the stack
 * itself are read too but are not infrastructure: only custom resources are counted.
 */
export function driftCollector(stack: string) {
  const byUrn = new Map<string, ResourceDrift>();
  const refreshed = new Set<string>();
  const counted = new Set<string>();
  return {
    onEvent(event: EngineEvent): void {
      const announced = event.resourcePreEvent?.metadata;
      if (announced?.op === "refresh") {
        refreshed.add(announced.urn);
        if (announced.old?.custom && !announced.type.startsWith("pulumi:providers:"))
          counted.add(announced.urn);
        return;
      }
      const step: StepEventMetadata | undefined = event.resOutputsEvent?.metadata;
      if (!step || !refreshed.has(step.urn) || !counted.has(step.urn)) return;
      const name = step.urn.split("::").at(-1) ?? step.urn;
      if (!step.new || step.op === "delete") {
        byUrn.set(step.urn, {
          urn: step.urn,
          type: step.type,
          name,
          drift: "deleted",
          properties: [],
        });
        return;
      }
      const changed = differences(step.old?.outputs ?? {}, step.new.outputs ?? {}).filter(
        (p) => !observed(step.type, p.path),
      );
      const persisting = undeclared(step.type, step.new.inputs, step.new.outputs).filter(
        (p) => !changed.some((c) => c.path === p.path),
      );
      const properties =
        persisting.length === 0
          ? changed
          : [...changed, ...persisting].sort((a, b) => a.path.localeCompare(b.path));
      if (properties.length > 0) {
        byUrn.set(step.urn, { urn: step.urn, type: step.type, name, drift: "changed", properties });
      }
    },
    report(): DriftReport {
      return {
        stack,
        checkedAt: new Date().toISOString(),
        resources: counted.size,
        drifted: [...byUrn.values()].sort((a, b) => a.urn.localeCompare(b.urn)),
      };
    },
  };
}

/**
 * A refresh writes what it read into the state, so drift found once would look clean on the
 * next refresh. Resources whose state keeps the declared inputs beside the outputs (dynamic
 * providers: their read returns outputs only) are also compared with their declaration: a
 * declared property that reality still does not have (a dropped role's quotas, read as null)
 * is reported on every refresh until an update repairs it, `state` being the declared value.
 */
function undeclared(
  type: string,
  inputs: Record<string, unknown> | undefined,
  outputs: Record<string, unknown> | undefined,
): PropertyDrift[] {
  if (!DECLARED_INPUTS.test(type) || !inputs || !outputs) return [];
  const declared = Object.fromEntries(
    Object.entries(inputs).filter(([key]) => key !== "__provider" && key in outputs),
  );
  const found = Object.fromEntries(Object.keys(declared).map((key) => [key, outputs[key]]));
  return differences(declared, found).filter((p) => !observed(type, p.path));
}

/** Types whose refreshed state keeps the declared inputs (see {@link undeclared}). */
const DECLARED_INPUTS = /^pulumi-nodejs:dynamic/;

/** Leaf-level differences between two JSON values, by path. */
export function differences(state: unknown, live: unknown, path = ""): PropertyDrift[] {
  if (isRecord(state) && isRecord(live)) {
    const keys = [...new Set([...Object.keys(state), ...Object.keys(live)])].sort();
    return keys.flatMap((key) => {
      const next = path
        ? /^[A-Za-z_$][\w$]*$/.test(key)
          ? `${path}.${key}`
          : `${path}[${JSON.stringify(key)}]`
        : key;
      if (!(key in live)) return [{ path: next, state: state[key] }];
      if (!(key in state)) return [{ path: next, live: live[key] }];
      return differences(state[key], live[key], next);
    });
  }
  if (Array.isArray(state) && Array.isArray(live) && state.length === live.length) {
    return state.flatMap((item, index) => differences(item, live[index], `${path}[${index}]`));
  }
  return JSON.stringify(state) === JSON.stringify(live) ? [] : [{ path, state, live }];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
