/**
 * Real engine previews of many tenants, reported like `tenancy diff`: tenants whose previews
 * are identical once their own slug and name are masked form one group, failed previews and
 * dangerous changes (replace or delete of a stateful resource) come first, and the markdown
 * stays under {@link MARKDOWN_LIMIT} characters whatever the number of tenants.
 */
import type { ResourceChange, TenantPreview } from "../control-plane/runner/previewSummary.ts";
import { MARKDOWN_LIMIT } from "./diffReport.ts";
import { STATEFUL_TYPES } from "./replaceRules.ts";
import { NAME_TOKEN, replaceInValue, SLUG_TOKEN, SNAKE_TOKEN } from "./shapeMarkers.ts";

/** Marks the comment `tenancy preview --markdown` owns on a pull request. */
export const PREVIEW_COMMENT_MARKER = "<!-- tenancy-preview -->";

export interface PreviewGroup {
  readonly tenants: readonly string[];
  /** Replace or delete of a stateful resource. */
  readonly dangerous: boolean;
  /** With `{slug}` / `{slug_}` / `{name}` where each tenant has its own. */
  readonly changes: readonly ResourceChange[];
}

export interface PreviewReport {
  /** Every previewed tenant, as the engine reported it. */
  readonly previews: readonly TenantPreview[];
  /** Tenants with changes, grouped; dangerous groups first, then larger groups. */
  readonly groups: readonly PreviewGroup[];
  /** Previewed tenants whose preview failed. */
  readonly failed: readonly { readonly slug: string; readonly error: string }[];
  /** Previewed tenants with nothing to change. */
  readonly unchanged: readonly string[];
}

export interface PreviewScope {
  /** `--changed`: the base the affected set was computed against. */
  readonly base?: { readonly ref: string; readonly commit: string };
  /** Tenants in the catalog. */
  readonly catalogTenants: number;
  /** Affected tenants that have no stack at the head (removed, fully pooled, offboarding). */
  readonly withoutStack: readonly string[];
}

export function isDangerousChange(change: ResourceChange): boolean {
  return (change.kind === "replace" || change.kind === "delete") && STATEFUL_TYPES.has(change.type);
}

/** Groups previews; `names` gives each tenant's display name (masked like the slug). */
export function groupPreviews(
  previews: readonly TenantPreview[],
  names: ReadonlyMap<string, string>,
): PreviewReport {
  const byKey = new Map<string, { changes: ResourceChange[]; tenants: string[] }>();
  const failed: { slug: string; error: string }[] = [];
  const unchanged: string[] = [];
  for (const preview of previews) {
    if (preview.error !== undefined) {
      failed.push({ slug: preview.tenant, error: preview.error });
      continue;
    }
    if (preview.changes.length === 0) {
      unchanged.push(preview.tenant);
      continue;
    }
    const changes = replaceInValue(preview.changes, [
      [preview.tenant, SLUG_TOKEN],
      [preview.tenant.replaceAll("-", "_"), SNAKE_TOKEN],
      ...(names.has(preview.tenant) ? [[names.get(preview.tenant)!, NAME_TOKEN] as const] : []),
    ]) as ResourceChange[];
    const key = JSON.stringify(changes);
    const group = byKey.get(key);
    if (group) group.tenants.push(preview.tenant);
    else byKey.set(key, { changes, tenants: [preview.tenant] });
  }
  const groups = [...byKey.values()]
    .map((g) => ({
      tenants: g.tenants.sort(),
      dangerous: g.changes.some(isDangerousChange),
      changes: readable(g.changes),
    }))
    .sort(
      (x, y) =>
        Number(y.dangerous) - Number(x.dangerous) ||
        y.tenants.length - x.tenants.length ||
        ((x.tenants[0] ?? "") < (y.tenants[0] ?? "") ? -1 : 1),
    );
  failed.sort((a, b) => (a.slug < b.slug ? -1 : 1));
  return { previews, groups, failed, unchanged: unchanged.sort() };
}

function readable<T>(value: T): T {
  return replaceInValue(value, [
    [SLUG_TOKEN, "{slug}"],
    [SNAKE_TOKEN, "{slug_}"],
    [NAME_TOKEN, "{name}"],
  ]) as T;
}

const SYMBOL: Record<ResourceChange["kind"], string> = {
  create: "+ create",
  update: "~ update",
  replace: "+- replace",
  delete: "- delete",
};

function code(text: string): string {
  return `\`${text.replaceAll("`", "'")}\``;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

function tenantList(slugs: readonly string[], shown = 15): string {
  const head = slugs.slice(0, shown).map(code).join(", ");
  return slugs.length > shown ? `${head} and ${plural(slugs.length - shown, "more tenant")}` : head;
}

function counts(changes: readonly ResourceChange[]): string {
  const kinds = (["create", "update", "replace", "delete"] as const)
    .map((kind) => [kind, changes.filter((c) => c.kind === kind).length] as const)
    .filter(([, n]) => n > 0);
  return kinds.map(([kind, n]) => `${n} to ${kind}`).join(", ");
}

function groupBlock(group: PreviewGroup, index: number): string {
  const body = group.changes.slice(0, 60).map((c) => {
    const props = c.properties.length ? `: ${c.properties.slice(0, 8).join(", ")}` : "";
    const more = c.properties.length > 8 ? ` (+${c.properties.length - 8} more)` : "";
    const mark = isDangerousChange(c) ? "  (stateful)" : "";
    return `${SYMBOL[c.kind]} ${c.type} ${c.name}${props}${more}${mark}`;
  });
  if (group.changes.length > 60) body.push(`… ${group.changes.length - 60} more (see the JSON)`);
  return [
    `### ${group.dangerous ? "⚠️ " : ""}Group ${index + 1} · ${plural(group.tenants.length, "tenant")} · ${counts(group.changes)}`,
    "",
    `Tenants: ${tenantList(group.tenants)}`,
    "",
    "<details><summary>changes</summary>",
    "",
    "```diff",
    ...body,
    "```",
    "</details>",
    "",
    "",
  ].join("\n");
}

/** Markdown: summary, failed previews, dangerous changes by tenant, then groups; ≤ `limit`. */
export function previewGroupsMarkdown(
  report: PreviewReport,
  scope: PreviewScope,
  limit = MARKDOWN_LIMIT,
): string {
  const changed = report.groups.reduce((n, g) => n + g.tenants.length, 0);
  const head = [
    PREVIEW_COMMENT_MARKER,
    "## tenancy preview · local target (real engine)",
    "",
    scope.base
      ? `Tenants affected since ${code(scope.base.ref)} (${scope.base.commit.slice(0, 12)}): ${plural(report.previews.length + scope.withoutStack.length, "tenant")} of ${scope.catalogTenants.toLocaleString("en-US")}; ${plural(report.previews.length, "stack")} previewed.`
      : `${plural(report.previews.length, "stack")} previewed.`,
    "",
    `**${plural(changed, "tenant")} with changes** · ${plural(report.groups.length, "group")} · ${plural(report.unchanged.length, "tenant")} unchanged${report.failed.length ? ` · ${plural(report.failed.length, "preview")} failed` : ""}`,
    "",
    "",
  ].join("\n");
  const chunks: string[] = [];
  if (report.failed.length) {
    chunks.push("### ❌ Previews that failed\n\n");
    for (const f of report.failed) {
      const error = f.error.length > 400 ? `${f.error.slice(0, 399)}…` : f.error;
      chunks.push(`- ${code(f.slug)}: ${error.replaceAll("\n", " ")}\n`);
    }
    chunks.push("\n");
  }
  const dangerous = report.previews.filter((p) => p.changes.some(isDangerousChange));
  if (dangerous.length) {
    chunks.push("### ⚠️ Dangerous changes\n\n");
    for (const p of dangerous) {
      const items = p.changes.filter(isDangerousChange).map((c) => `${c.kind} ${c.type} ${c.name}`);
      chunks.push(
        `- ${code(p.tenant)}: ${items.slice(0, 4).join("; ")}${items.length > 4 ? `; +${items.length - 4} more` : ""}\n`,
      );
    }
    chunks.push("\n");
  }
  if (scope.withoutStack.length) {
    chunks.push(
      `Affected without a stack at the head (removed, fully pooled or offboarding; not previewed): ${tenantList(scope.withoutStack)}\n\n`,
    );
  }
  report.groups.forEach((group, i) => chunks.push(groupBlock(group, i)));
  const footer = (omitted: number) =>
    `\n---\n_${plural(omitted, "more section")} not shown to stay under ${limit.toLocaleString("en-US")} characters: run \`tenancy preview${scope.base ? ` --changed --base ${scope.base.ref}` : ""}\` (JSON) for every tenant._\n`;
  let out = head;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] ?? "";
    if (out.length + chunk.length + footer(chunks.length - i).length > limit)
      return out + footer(chunks.length - i);
    out += chunk;
  }
  return out;
}

/** Complete JSON for scripts. */
export function previewGroupsJson(report: PreviewReport, scope: PreviewScope) {
  return {
    target: "local",
    ...(scope.base ? { base: scope.base } : {}),
    summary: {
      catalogTenants: scope.catalogTenants,
      previewed: report.previews.length,
      changed: report.groups.reduce((n, g) => n + g.tenants.length, 0),
      unchanged: report.unchanged.length,
      failed: report.failed.length,
      groups: report.groups.length,
    },
    withoutStack: scope.withoutStack,
    groups: report.groups.map((g, i) => ({ id: i + 1, ...g })),
    failed: report.failed,
    tenants: report.previews,
  };
}
