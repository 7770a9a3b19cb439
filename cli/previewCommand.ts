/**
 * `tenancy preview [--changed [--base <ref>]] [--tenant slug]... [--markdown] [--parallel 4]`:
 * per-tenant preview of the catalog's tenant stacks on the local target with the real engine
 * — creates, updates (with the changed properties), replaces, deletes — grouped like
 * `tenancy diff` (identical previews form one group, failures and dangerous changes first,
 * markdown under 60,000 characters), as JSON or as a pull-request comment. `--changed`
 * previews only the tenants `tenancy diff` finds affected since `--base` (default `HEAD`:
 * the working tree's uncommitted changes), planned offline first; every other stack is left
 * alone.
 */
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  formatDiagnostic,
  loadCatalog,
  resolveCatalog,
  type ResolvedTenant,
} from "../catalog/index.ts";
import { localDatabases, localKubernetes, STATE_DIR } from "../control-plane/localDefaults.ts";
import { engineSettings } from "../control-plane/runner/engine.ts";
import { previewTenants, stackTenants } from "../control-plane/runner/previewTenants.ts";
import { repositoryPolicyPacks } from "../control-plane/runner/policyPack.ts";
import { localStackConfig } from "../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../control-plane/runner/tenantStacks.ts";
import { affectedTenants, type AffectedResult } from "../fleet/affected.ts";
import { GitInputError, repoRoot, resolveCommit } from "../fleet/gitCheckout.ts";
import {
  groupPreviews,
  previewGroupsJson,
  previewGroupsMarkdown,
  type PreviewScope,
} from "../fleet/previewGroups.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import { UsageError, type CliIo } from "./io.ts";

/** The stacks a `--changed` preview runs: affected (or failing to plan) stack tenants. */
export function changedStackTenants(
  resolved: readonly ResolvedTenant[],
  affected: Pick<AffectedResult, "slugs" | "errors">,
): { tenants: ResolvedTenant[]; withoutStack: string[] } {
  const failing = new Set(affected.errors.map((e) => e.slice(0, e.indexOf(":"))));
  const selected = (slug: string) => affected.slugs.has(slug) || failing.has(slug);
  const tenants = stackTenants(resolved).filter((t) => selected(t.slug));
  const withStack = new Set(tenants.map((t) => t.slug));
  const withoutStack = [...affected.slugs, ...failing].filter((slug) => !withStack.has(slug));
  return { tenants, withoutStack: [...new Set(withoutStack)].sort() };
}

/** The engine side of a preview: a runner for the local target, and how to let it go. */
export interface PreviewRunner {
  readonly runner: Pick<TenantStackRunner, "preview">;
  close(): Promise<void>;
}

export interface PreviewCommandOptions {
  /** Where the command runs (the repository); @default process.cwd() */
  readonly cwd?: string;
  /** @default the local databases and cluster of `serve`, and the engine */
  readonly openRunner?: (io: CliIo) => Promise<PreviewRunner>;
}

/** The runner of `serve`'s local target: its databases, its cluster when it runs. */
async function openLocalRunner(io: CliIo): Promise<PreviewRunner> {
  const databases = await localDatabases();
  // The same cluster settings as `serve`, or the preview would show the compute layer going.
  const kube = await localKubernetes();
  if (kube.note) io.stderr(`${kube.note}\n`);
  const close = async () => {
    await kube.close();
    await databases.embedded?.stop();
  };
  try {
    const engine = await engineSettings({ stateDir: join(STATE_DIR, "state") });
    const runner = new TenantStackRunner({
      engine,
      configFor: localStackConfig({
        adminUrl: databases.sharedUrl,
        ...(kube.cluster ? { kubeconfig: kube.cluster.kubeconfig } : {}),
      }),
      // What `up` would refuse, preview refuses too.
      policyPacks: await repositoryPolicyPacks(),
    });
    return { runner, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function previewCommand(
  argv: readonly string[],
  io: CliIo,
  options: PreviewCommandOptions = {},
): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      tenant: { type: "string", multiple: true },
      markdown: { type: "boolean", default: false },
      parallel: { type: "string", default: "4" },
      changed: { type: "boolean", default: false },
      base: { type: "string" },
    },
  });
  if (values.base && !values.changed) throw new UsageError("--base goes with --changed");
  if (values.changed && values.tenant?.length)
    throw new UsageError("choose one of --changed and --tenant");
  const parallel = Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new UsageError("--parallel must be a positive integer");
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadCatalog(resolve(cwd, values.catalog));
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.stderr(formatDiagnostic(d) + "\n");
    return 1;
  }
  const resolved = resolveCatalog(loaded.catalog);
  let tenants = stackTenants(resolved);
  const scope: { -readonly [K in keyof PreviewScope]: PreviewScope[K] } = {
    catalogTenants: resolved.length,
    withoutStack: [],
  };
  if (values.changed) {
    const base = values.base ?? "HEAD";
    try {
      const root = await repoRoot(cwd);
      const commit = await resolveCommit(root, base);
      const affected = await affectedTenants(
        root,
        base,
        relative(root, resolve(cwd, values.catalog)),
        "local",
      );
      if (!affected.ok) {
        for (const d of affected.diagnostics) io.stderr(d + "\n");
        io.stderr("tenancy preview: a catalog is invalid; nothing was previewed\n");
        return 1;
      }
      for (const e of affected.errors) io.stderr(`program fails offline for ${e}\n`);
      const selection = changedStackTenants(resolved, affected);
      tenants = selection.tenants;
      scope.withoutStack = selection.withoutStack;
      scope.base = { ref: base, commit };
    } catch (error) {
      if (error instanceof GitInputError) {
        io.stderr(`tenancy preview: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
  }
  if (values.tenant?.length) {
    const wanted = new Set(values.tenant);
    const unknown = values.tenant.filter((slug) => !tenants.some((t) => t.slug === slug));
    if (unknown.length) {
      io.stderr(
        `no tenant stack for: ${unknown.join(", ")} (unknown, fully pooled or offboarding)\n`,
      );
      return 1;
    }
    tenants = tenants.filter((t) => wanted.has(t.slug));
  }
  if (tenants.length === 0) {
    // Nothing to run: no database, cluster or engine is started.
    const report = groupPreviews([], new Map());
    io.stdout(render(values.markdown, report, scope));
    return 0;
  }
  const opened = await (options.openRunner ?? openLocalRunner)(io);
  try {
    const previews = await previewTenants(opened.runner, tenants, parallel);
    const report = groupPreviews(previews, new Map(tenants.map((t) => [t.slug, t.name])));
    io.stdout(render(values.markdown, report, scope));
    return report.failed.length ? 1 : 0;
  } finally {
    await opened.close();
  }
}

function render(
  markdown: boolean,
  report: ReturnType<typeof groupPreviews>,
  scope: PreviewScope,
): string {
  return markdown
    ? previewGroupsMarkdown(report, scope)
    : JSON.stringify(previewGroupsJson(report, scope), null, 2) + "\n";
}
