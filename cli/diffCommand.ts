/**
 * `tenancy diff --base <ref> [--head <ref>] [--markdown|--json] [--target aws|local]`: what a
 * change does to every tenant, offline (no engine, no database, no credentials). The base (and
 * a `--head` ref) are checked out into temporary worktrees, so catalog and code both come from
 * the commit; without `--head` the working tree is the head. `--json-out file` also writes the
 * complete JSON while printing markdown (one planning run for a PR comment and its artifact).
 * `--rows-from <postgres url>` (the control database) counts, read-only, the rows each tier
 * move would copy; without it those rows are reported as not counted.
 */
import { writeFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { diffFleet } from "../fleet/fleetDiff.ts";
import { diffJson, diffMarkdown, MARKDOWN_LIMIT, type DiffSides } from "../fleet/diffReport.ts";
import { countMoveRows, type MoveRows } from "../fleet/moveRowCount.ts";
import {
  GitInputError,
  repoRoot,
  resolveCommit,
  uncommittedChanges,
} from "../fleet/gitCheckout.ts";
import { planBothSides } from "../fleet/planSides.ts";
import type { PlanWorkerResult } from "../fleet/planWorker.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import { UsageError, type CliIo } from "./io.ts";
import { TARGETS } from "../contract/index.ts";

export interface DiffCommandOptions {
  /** Where the command runs (the repository); @default process.cwd() */
  readonly cwd?: string;
}

export async function diffCommand(
  argv: readonly string[],
  io: CliIo,
  options: DiffCommandOptions = {},
): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      base: { type: "string" },
      head: { type: "string" },
      markdown: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      target: { type: "string", default: "aws" },
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      exact: { type: "boolean", default: false },
      "json-out": { type: "string" },
      "rows-from": { type: "string" },
    },
  });
  if (!values.base) throw new UsageError("diff needs --base <git-ref> (e.g. --base origin/main)");
  if (values.markdown && values.json) throw new UsageError("choose one of --markdown and --json");
  if (!(TARGETS as readonly string[]).includes(values.target)) {
    throw new UsageError(`--target must be one of ${TARGETS.join(", ")}`);
  }
  const cwd = options.cwd ?? process.cwd();
  try {
    const root = await repoRoot(cwd);
    const catalogDir = relative(root, resolve(cwd, values.catalog));
    const baseCommit = await resolveCommit(root, values.base);
    const headCommit = values.head ? await resolveCommit(root, values.head) : null;
    if (!values.head) {
      const dirty = await uncommittedChanges(root);
      if (dirty.length) {
        io.stderr(
          `tenancy diff: the head is the working tree, with ${dirty.length} uncommitted change${dirty.length > 1 ? "s" : ""}: ${dirty
            .slice(0, 10)
            .map((l) => l.slice(3))
            .join(", ")}${dirty.length > 10 ? ", …" : ""}\n`,
        );
      }
    }
    const sides = await planBothSides({
      root,
      baseCommit,
      headCommit,
      catalogDir,
      target: values.target,
      exact: values.exact,
      // The local target as `serve` and `up` deploy it when its cluster runs.
      localCluster: values.target === "local",
    });
    const basePlan = sides.base.plan;
    const headPlan = sides.head.plan;
    if (!headPlan.ok) {
      reportInvalid(io, `head (${values.head ?? "working tree"})`, headPlan, sides.head.dir);
      return 1;
    }
    if (!basePlan.ok) {
      reportInvalid(io, `base (${values.base})`, basePlan, sides.base.dir);
      return 1;
    }
    const diff = diffFleet(basePlan, headPlan);
    // Offline unless asked: only --rows-from reads a database (read-only) for tier moves.
    const moveRows = values["rows-from"]
      ? await countMoveRows(
          values["rows-from"],
          diff.tenants.filter((t) => t.move).map((t) => t.slug),
        )
      : new Map<string, MoveRows>();
    const described: DiffSides = {
      base: { ref: values.base, commit: baseCommit },
      head: { ref: values.head ?? null, commit: headCommit },
      target: values.target,
    };
    const json =
      values.json || values["json-out"]
        ? JSON.stringify(diffJson(diff, described, moveRows), null, 2) + "\n"
        : "";
    if (values["json-out"]) await writeFile(resolve(cwd, values["json-out"]), json);
    io.stdout(values.json ? json : diffMarkdown(diff, described, MARKDOWN_LIMIT, moveRows));
    return 0;
  } catch (error) {
    if (error instanceof GitInputError) {
      io.stderr(`tenancy diff: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function reportInvalid(io: CliIo, side: string, plan: PlanWorkerResult, dir: string): void {
  if (plan.ok) return;
  for (const line of plan.diagnostics) io.stderr(`${line.replaceAll(`${dir}/`, "")}\n`);
  io.stderr(
    `tenancy diff: the ${side} catalog is invalid (${plan.diagnostics.length} error${plan.diagnostics.length === 1 ? "" : "s"}); nothing was diffed\n`,
  );
}
