/**
 * One tenant's resources at the base against the head: which are created, updated, replaced
 * (or may be) and deleted, with the changed properties.
 */
import type { PlannedInputsResource } from "./planWorker.ts";
import { diffInputs, maskSecrets, type PropertyChange } from "./propertyDiff.ts";
import { changeKindOf, strongest, type ChangeKind, STATEFUL_TYPES } from "./replaceRules.ts";

export type ResourceOp = "create" | "delete" | ChangeKind;

export interface ResourceChange {
  readonly op: ResourceOp;
  readonly type: string;
  readonly name: string;
  /** Changed properties; for create/delete every input. */
  readonly changes: readonly (PropertyChange & { readonly replaces?: ChangeKind })[];
}

const key = (r: PlannedInputsResource) => `${r.type}::${r.name}`;

/** Resources that changed, sorted by name then type. */
export function diffResources(
  base: readonly PlannedInputsResource[],
  head: readonly PlannedInputsResource[],
): ResourceChange[] {
  const olds = new Map(base.map((r) => [key(r), r]));
  const news = new Map(head.map((r) => [key(r), r]));
  const out: ResourceChange[] = [];
  for (const [k, h] of news) {
    const b = olds.get(k);
    if (!b) {
      out.push({ op: "create", type: h.type, name: h.name, changes: asProperties(h) });
      continue;
    }
    const secrets = new Set([...b.secretInputs, ...h.secretInputs]);
    const changes: (PropertyChange & { replaces?: ChangeKind })[] = diffInputs(
      b.inputs,
      h.inputs,
      secrets,
    ).map((c) => ({ ...c, replaces: changeKindOf(h.type, c.path) }));
    // A new parent is a new URN: the engine deletes and creates it.
    if (b.parent !== h.parent || b.parentType !== h.parentType) {
      changes.unshift({
        path: "(parent)",
        old: b.parent ?? "(stack)",
        new: h.parent ?? "(stack)",
        replaces: "replace",
      });
    }
    if (changes.length) {
      out.push({
        op: strongest(changes.map((c) => c.replaces ?? "update")),
        type: h.type,
        name: h.name,
        changes,
      });
    }
  }
  for (const [k, b] of olds) {
    if (!news.has(k))
      out.push({ op: "delete", type: b.type, name: b.name, changes: asProperties(b, true) });
  }
  return out.sort((x, y) =>
    x.name < y.name ? -1 : x.name > y.name ? 1 : x.type < y.type ? -1 : x.type > y.type ? 1 : 0,
  );
}

function asProperties(r: PlannedInputsResource, old = false): PropertyChange[] {
  return Object.entries(maskSecrets(r.inputs, r.secretInputs))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, value]) => (old ? { path, old: value } : { path, new: value }));
}

/** Whether a change loses a stateful resource (replace, may-replace or delete). */
export function isDestructive(change: ResourceChange): boolean {
  return STATEFUL_TYPES.has(change.type) && change.op !== "create" && change.op !== "update";
}
