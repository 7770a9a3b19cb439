/**
 * `tenancy preview [--tenant slug]... [--markdown] [--parallel 4]`: per-tenant preview of the
 * catalog's tenant stacks on the local target with the real engine — creates, updates (with
 * the changed properties), replaces, deletes — as JSON or as a pull-request comment.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatDiagnostic, loadCatalog, resolveCatalog } from "../catalog/index.ts";
import { localDatabases, localKubernetes, STATE_DIR } from "../control-plane/localDefaults.ts";
import { engineSettings } from "../control-plane/runner/engine.ts";
import { previewMarkdown } from "../control-plane/runner/previewSummary.ts";
import { previewTenants, stackTenants } from "../control-plane/runner/previewTenants.ts";
import { localStackConfig } from "../control-plane/runner/stackConfig.ts";
import { repositoryPolicyPacks } from "../control-plane/runner/policyPack.ts";
import { TenantStackRunner } from "../control-plane/runner/tenantStacks.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import type { CliIo } from "./io.ts";

export async function previewCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      tenant: { type: "string", multiple: true },
      markdown: { type: "boolean", default: false },
      parallel: { type: "string", default: "4" },
    },
  });
  const loaded = await loadCatalog(values.catalog);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.stderr(formatDiagnostic(d) + "\n");
    return 1;
  }
  let tenants = stackTenants(resolveCatalog(loaded.catalog));
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
  const databases = await localDatabases();
  // The same cluster settings as `serve`, or the preview would show the compute layer going.
  const kube = await localKubernetes();
  if (kube.note) io.stderr(`${kube.note}\n`);
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
    const previews = await previewTenants(runner, tenants, Number(values.parallel));
    io.stdout(
      values.markdown
        ? previewMarkdown(previews)
        : JSON.stringify({ target: "local", tenants: previews }, null, 2) + "\n",
    );
    return previews.some((p) => p.error) ? 1 : 0;
  } finally {
    await kube.close();
    await databases.embedded?.stop();
  }
}
