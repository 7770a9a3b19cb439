/**
 * The fleet diff as markdown for a pull request (at most {@link MARKDOWN_LIMIT} characters
 * whatever the fleet size) and as complete, stable JSON for scripts.
 */
import type { DiffGroup, FleetDiff, TenantDiff } from "./fleetDiff.ts";
import type { ResourceChange } from "./resourceDiff.ts";
import { OFFLINE_ROWS, type MoveRows } from "./moveRowCount.ts";
import { NAME_TOKEN, replaceInValue, SLUG_TOKEN, SNAKE_TOKEN } from "./shapeMarkers.ts";

/** GitHub refuses comments over 65,536 characters; keep a margin. */
export const MARKDOWN_LIMIT = 60_000;
/** Marks the comment `tenancy diff` owns on a pull request. */
export const COMMENT_MARKER = "<!-- tenancy-diff -->";

export interface DiffSides {
  readonly base: { readonly ref: string; readonly commit: string };
  readonly head: { readonly ref: string | null; readonly commit: string | null };
  readonly target: string;
}

const READABLE: [string, string][] = [
  [SLUG_TOKEN, "{slug}"],
  [SNAKE_TOKEN, "{slug_}"],
  [NAME_TOKEN, "{name}"],
];

function readable<T>(value: T): T {
  return replaceInValue(value, READABLE) as T;
}

const OPS: Record<ResourceChange["op"], string> = {
  create: "+ create",
  delete: "- delete",
  update: "~ update",
  replace: "+- replace",
  "may-replace": "~? may replace",
};

function short(value: unknown, max = 80): string {
  const text = value === undefined ? "∅" : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function code(text: string): string {
  return `\`${text.replaceAll("`", "'")}\``;
}

function shortType(type: string): string {
  return type.split(":").at(-1) ?? type;
}

/** "`ResourceQuota` `spec.hard.cpu` "2" → "4"" — the one-line gist of a group. */
export function groupHeadline(group: DiffGroup): string {
  const parts: string[] = [];
  for (const r of readable(group.resources)) {
    if (r.op === "create" || r.op === "delete") {
      parts.push(`${r.op} ${code(shortType(r.type))} ${code(r.name)}`);
      continue;
    }
    for (const c of r.changes.slice(0, 2)) {
      parts.push(
        `${code(shortType(r.type))} ${code(c.path)} ${short(c.old, 30)} → ${short(c.new, 30)}`,
      );
    }
    if (r.changes.length > 2)
      parts.push(`${code(shortType(r.type))} +${r.changes.length - 2} more`);
  }
  const text =
    parts.slice(0, 3).join("; ") + (parts.length > 3 ? `; +${parts.length - 3} more` : "");
  return text || readable(group.dangers).join("; ");
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

function tenantList(slugs: readonly string[], shown = 15): string {
  const head = slugs.slice(0, shown).map(code).join(", ");
  return slugs.length > shown ? `${head} and ${plural(slugs.length - shown, "more tenant")}` : head;
}

function groupBlock(group: DiffGroup, index: number): string {
  const lines = [
    `### ${group.dangerous ? "⚠️ " : ""}Group ${index + 1} · ${plural(group.tenants.length, "tenant")} · ${groupHeadline(group)}`,
    "",
    `Tenants: ${tenantList(group.tenants)}`,
    "",
  ];
  const body: string[] = [];
  for (const danger of readable(group.dangers)) body.push(`! ${danger}`);
  for (const v of readable(group.violations)) body.push(`! policy ${v}`);
  for (const r of readable(group.resources)) {
    body.push(`${OPS[r.op]} ${r.type} ${r.name}`);
    for (const c of r.changes.slice(0, 12)) {
      const mark =
        c.replaces === "replace"
          ? "  (forces replacement)"
          : c.replaces === "may-replace"
            ? "  (may force replacement)"
            : "";
      body.push(`    ${c.path}: ${short(c.old)} → ${short(c.new)}${mark}`);
    }
    if (r.changes.length > 12) body.push(`    … ${r.changes.length - 12} more properties`);
  }
  const shownBody = body.slice(0, 60);
  if (body.length > 60) shownBody.push(`… ${body.length - 60} more lines (see --json)`);
  lines.push(
    "<details><summary>changes</summary>",
    "",
    "```diff",
    ...shownBody,
    "```",
    "</details>",
    "",
  );
  return lines.join("\n") + "\n";
}

/** Markdown of the diff: summary, errors, dangerous changes by tenant, then groups. */
export function diffMarkdown(
  diff: FleetDiff,
  sides: DiffSides,
  limit = MARKDOWN_LIMIT,
  moveRows: ReadonlyMap<string, MoveRows> = new Map(),
): string {
  const affected = diff.tenants.filter((t) => t.status !== "error");
  const errors = diff.tenants.filter((t) => t.status === "error");
  const dangerous = affected.filter((t) => t.dangers.length || t.violations.length);
  const headName = sides.head.ref ?? "working tree";
  const head =
    [
      COMMENT_MARKER,
      `## tenancy diff · ${sides.target} target`,
      "",
      `${code(sides.base.ref)} (${sides.base.commit.slice(0, 12)}) → ${code(headName)}${sides.head.commit ? ` (${sides.head.commit.slice(0, 12)})` : ""}`,
      "",
      affected.length || errors.length
        ? `**${plural(affected.length, "tenant")} affected** of ${diff.totalTenants.toLocaleString("en-US")} · ${plural(diff.groups.length, "group")} · ${plural(dangerous.length, "dangerous change")}${errors.length ? ` · ${plural(errors.length, "tenant")} failed to plan` : ""}`
        : `**No tenant is affected** (${plural(diff.totalTenants, "tenant")} compared).`,
      "",
    ].join("\n") + "\n";
  const chunks: string[] = [];
  if (errors.length) {
    chunks.push("### ❌ Tenants whose program failed\n\n");
    for (const t of errors) chunks.push(`- ${code(t.slug)}: ${t.error ?? "failed"}\n`);
    chunks.push("\n");
  }
  if (dangerous.length) {
    chunks.push("### ⚠️ Dangerous changes\n\n");
    for (const t of dangerous) chunks.push(dangerLine(t, moveRows));
    chunks.push("\n");
  }
  diff.groups.forEach((group, i) => chunks.push(groupBlock(group, i)));
  const footer = (omitted: number) =>
    `\n---\n_${plural(omitted, "more section")} not shown to stay under ${limit.toLocaleString("en-US")} characters: run \`tenancy diff --base ${sides.base.ref} --json\` for the complete diff._\n`;
  let out = head;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] ?? "";
    const rest = chunks.length - i;
    if (out.length + chunk.length + footer(rest).length > limit) return out + footer(rest);
    out += chunk;
  }
  return out;
}

function dangerLine(t: TenantDiff, moveRows: ReadonlyMap<string, MoveRows>): string {
  const items = [...t.dangers, ...t.violations.map((v) => `policy ${v}`)];
  const text =
    items.slice(0, 4).join("; ") + (items.length > 4 ? `; +${items.length - 4} more` : "");
  const rows = t.move ? `; ${rowsText(moveRows.get(t.slug) ?? OFFLINE_ROWS)}` : "";
  return `- ${code(t.slug)} (${t.tier.base ?? "new"} → ${t.tier.head ?? "removed"}): ${text.length > 400 ? `${text.slice(0, 399)}…` : text}${rows}\n`;
}

/** "rows: 1,200 to move (app.tasks 1,000, app.projects 200)" or why they were not counted. */
export function rowsText(rows: MoveRows): string {
  if (!rows.counted) return `rows: not counted (${rows.reason})`;
  const tables = rows.tables
    .slice(0, 6)
    .map((t) => `${t.table} ${t.rows.toLocaleString("en-US")}`)
    .join(", ");
  const more = rows.tables.length > 6 ? `, +${rows.tables.length - 6} more tables` : "";
  return `rows: ${rows.total.toLocaleString("en-US")} to move from ${rows.source.mode} (${tables || "no tenant tables"}${more})`;
}

/** Complete JSON: every affected tenant with its materialised changes, every group in full. */
export function diffJson(
  diff: FleetDiff,
  sides: DiffSides,
  moveRows: ReadonlyMap<string, MoveRows> = new Map(),
) {
  return {
    base: sides.base,
    head: sides.head,
    target: sides.target,
    summary: {
      tenants: diff.totalTenants,
      affected: diff.tenants.filter((t) => t.status !== "error").length,
      dangerous: diff.tenants.filter((t) => t.dangers.length || t.violations.length).length,
      errors: diff.tenants.filter((t) => t.status === "error").length,
      groups: diff.groups.length,
    },
    groups: diff.groups.map((g, i) => ({
      id: i + 1,
      dangerous: g.dangerous,
      headline: groupHeadline(g),
      tenants: g.tenants,
      dangers: readable(g.dangers),
      violations: readable(g.violations),
      resources: readable(g.resources),
    })),
    tenants: diff.tenants.map((t) => ({
      slug: t.slug,
      status: t.status,
      group: t.group + 1 || null,
      tier: t.tier,
      ...(t.error ? { error: t.error } : {}),
      dangers: t.dangers,
      violations: t.violations,
      resources: t.resources,
      ...(t.move ? { move: { ...t.move, rows: moveRows.get(t.slug) ?? OFFLINE_ROWS } } : {}),
    })),
  };
}
