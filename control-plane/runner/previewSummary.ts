/**
 * Per-tenant preview summaries: what a change does to each tenant — creates, updates (with
 * the changed properties), replaces, deletes — from the engine's step events, as JSON and as
 * Markdown fit for a pull-request comment.
 */
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation/index.js";

export type ChangeKind = "create" | "update" | "replace" | "delete";

export interface ResourceChange {
  readonly kind: ChangeKind;
  readonly type: string;
  readonly name: string;
  /** Changed input properties (top-level paths such as `quotas.dbConnections`). */
  readonly properties: readonly string[];
}

export interface TenantPreview {
  readonly tenant: string;
  readonly stack: string;
  readonly changes: readonly ResourceChange[];
  readonly counts: Readonly<Record<ChangeKind, number>> & { readonly same: number };
  /** Set when the preview itself failed. */
  readonly error?: string;
}

const KIND_OF: Partial<Record<OpType, ChangeKind>> = {
  create: "create",
  update: "update",
  replace: "replace",
  "create-replacement": "replace",
  delete: "delete",
};

/** Collects step events into changes. Feed it every event of one preview. */
export class PreviewCollector {
  private readonly changes = new Map<string, ResourceChange>();
  private same = 0;

  readonly onEvent = (event: EngineEvent): void => {
    const step = event.resourcePreEvent?.metadata;
    if (!step || step.type === "pulumi:pulumi:Stack" || step.type.startsWith("pulumi:providers:")) {
      return;
    }
    const kind = KIND_OF[step.op];
    if (!kind) {
      if (step.op === "same") this.same++;
      return;
    }
    // Providers that report no property diff (dynamic providers cannot) still show which
    // inputs changed: compare the old and new inputs of the step.
    const reported = Object.keys(step.detailedDiff ?? {}).length
      ? Object.keys(step.detailedDiff ?? {})
      : (step.diffs ?? []);
    const properties =
      reported.length > 0 || (kind !== "update" && kind !== "replace")
        ? reported
        : changedPaths(step.old?.inputs ?? {}, step.new?.inputs ?? {});
    this.changes.set(step.urn, {
      kind,
      type: step.type,
      name: step.urn.split("::").at(-1) ?? step.urn,
      properties: [...new Set(properties)].sort(),
    });
  };

  summary(tenant: string, stack: string): TenantPreview {
    const changes = [...this.changes.values()].sort(
      (a, b) =>
        a.kind.localeCompare(b.kind) ||
        a.type.localeCompare(b.type) ||
        a.name.localeCompare(b.name),
    );
    const count = (kind: ChangeKind) => changes.filter((c) => c.kind === kind).length;
    return {
      tenant,
      stack,
      changes,
      counts: {
        create: count("create"),
        update: count("update"),
        replace: count("replace"),
        delete: count("delete"),
        same: this.same,
      },
    };
  }
}

/** Dotted paths of leaves that differ between two input objects (secrets compare as opaque). */
export function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after) && !isSecret(before) && !isSecret(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
      (k) => !k.startsWith("__"),
    );
    return keys.flatMap((key) =>
      changedPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key),
    );
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix || "(value)"];
}

function isSecret(value: Record<string, unknown>): boolean {
  return value["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270";
}

const SYMBOL: Record<ChangeKind, string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** Markdown for a pull-request comment: one section per tenant that changes. */
export function previewMarkdown(previews: readonly TenantPreview[]): string {
  const changed = previews.filter((p) => p.changes.length > 0 || p.error);
  const lines = [
    "### Tenant changes",
    "",
    "| tenant | create | update | replace | delete | unchanged |",
    "|---|---:|---:|---:|---:|---:|",
    ...previews.map(
      (p) =>
        `| \`${p.tenant}\` | ${p.counts.create} | ${p.counts.update} | ${p.counts.replace} | ${p.counts.delete} | ${p.counts.same} |` +
        (p.error ? " ⚠️ preview failed" : ""),
    ),
    "",
  ];
  if (changed.length === 0) lines.push("No tenant changes.", "");
  for (const preview of changed) {
    lines.push(`<details><summary><code>${preview.tenant}</code> (${preview.stack})</summary>`, "");
    if (preview.error) lines.push(`Preview failed: ${preview.error}`, "");
    for (const change of preview.changes) {
      const props = change.properties.length
        ? ` — ${change.properties.map((p) => `\`${p}\``).join(", ")}`
        : "";
      lines.push(
        `- \`${SYMBOL[change.kind]}\` **${change.kind}** \`${change.type}\` \`${change.name}\`${props}`,
      );
    }
    lines.push("", "</details>", "");
  }
  return lines.join("\n");
}
