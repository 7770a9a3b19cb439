/**
 * Fleet review and rollout at 5,000 generated tenants, in a temporary git repository with a
 * copy of this project's code and the example catalog:
 *   - `tenancy diff` of a one-tenant change, of a tiers.yaml change touching a whole tier, and
 *     of a component change touching every tenant (wall time and peak RSS of the largest
 *     process, measured by /usr/bin/time around the CLI);
 *   - a no-op `tenancy up --all`: catalog load, hashes and desired-state checks of every stack
 *     tenant, no engine. The backend's state files and records are written by this script
 *     (deploying 5,000 real stacks first would take days here); the engine path itself is
 *     covered by test/fleet/up.test.ts.
 *
 *   node --import tsx bench/fleet.ts [tenants=5000]
 */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { loadCatalog, resolveCatalog } from "../catalog/index.ts";
import { runUp, type UpContext } from "../cli/upCommand.ts";
import { desiredStateHasher } from "../fleet/desiredStateHasher.ts";
import { engineSettings } from "../control-plane/runner/engine.ts";
import { stackTenants } from "../control-plane/runner/previewTenants.ts";
import { stackNameOf } from "../contract/index.ts";
import { DesiredStateStore } from "../fleet/desiredState.ts";
import { createTestRepo, generatedSlug, PROJECT_ROOT } from "../test/fleet/gitRepo.ts";

const count = Number(process.argv[2] ?? 5000);
const repo = createTestRepo(count);
const base = repo.git("rev-parse", "HEAD").trim();

function timedDiff(label: string, baseRef: string, headRef: string): void {
  const result = spawnSync(
    "/usr/bin/time",
    [
      "-f",
      "%e %M",
      process.execPath,
      join(PROJECT_ROOT, "bin/tenancy.js"),
      "diff",
      "--base",
      baseRef,
      "--head",
      headRef,
      "--markdown",
      "--json-out",
      join(repo.dir, "diff.json"),
    ],
    { cwd: repo.dir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const [seconds, kb] = (result.stderr.trim().split("\n").at(-1) ?? "").split(" ");
  const summary = /\*\*([\d,]+) tenants? affected\*\* of ([\d,]+) · ([\d,]+) groups?/.exec(
    result.stdout,
  );
  console.log(
    `${label}: ${seconds} s, peak RSS ${Math.round(Number(kb) / 1024)} MB (largest process), markdown ${result.stdout.length} chars, ${summary ? `${summary[1]} affected of ${summary[2]} in ${summary[3]} group(s)` : result.stdout.slice(0, 200)}`,
  );
}

// 1. One tenant's quota.
repo.write(
  `tenants/${generatedSlug(2)}.yaml`,
  repo.read(`tenants/${generatedSlug(2)}.yaml`) + 'quotas:\n  cpu: "3"\n',
);
const oneTenant = repo.commit("one tenant");
timedDiff("one-tenant change", base, oneTenant);

// 2. A tier's quota in tiers.yaml.
repo.write("tenants/tiers.yaml", repo.read("tenants/tiers.yaml").replace('cpu: "2"', 'cpu: "3"'));
const tier = repo.commit("pro tier cpu");
timedDiff("tiers.yaml change (pro tier)", oneTenant, tier);

// 3. A component change: one more label on every Kubernetes object.
const tagging = "components/tagging.ts";
repo.write(
  tagging,
  repo
    .read(tagging)
    .replace("  return labels;\n}", '  labels["tenancy.io/schema"] = "2";\n  return labels;\n}'),
);
const component = repo.commit("component: schema label");
timedDiff("component change (every tenant)", tier, component);

// 4. No-op `up --all`.
const stateDir = await mkdtemp(join(tmpdir(), "tenancy-bench-up-"));
// The rollout's program is the generated repository's code, not this checkout's: files that
// change here while the bench runs (another branch landing, a test writing under stacks/)
// must not change the hashes between seeding and the run.
const engine = {
  ...(await engineSettings({
    stateDir,
    env: {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${join(stateDir, "backend")}`,
      PULUMI_CONFIG_PASSPHRASE: "bench",
    },
  })),
  projectDir: repo.dir,
};
// No control-plane database: a stack that is not unchanged would need its tenant lock, and
// fails loudly here instead of with the pool's ECONNREFUSED.
const noDatabase = "postgres://bench:bench@127.0.0.1:1/bench";
const controlPool = new pg.Pool({ connectionString: noDatabase });
controlPool.connect = () =>
  Promise.reject(
    new Error("bench: a stack was not unchanged, so the rollout asked for its tenant lock"),
  );
const context: UpContext = { engine, local: { adminUrl: noDatabase }, controlPool };
const seedStart = Date.now();
{
  const loaded = await loadCatalog(join(repo.dir, "tenants"));
  if (!loaded.ok) throw new Error("generated catalog invalid");
  const seeded = stackTenants(resolveCatalog(loaded.catalog));
  const hashOf = await desiredStateHasher(context, seeded);
  const store = DesiredStateStore.forBackend(engine.backendUrl);
  const stacks = join(stateDir, "backend", ".pulumi", "stacks", "tenancy");
  await mkdir(stacks, { recursive: true });
  for (const tenant of seeded) {
    await writeFile(
      join(stacks, `${stackNameOf(tenant.slug)}.json`),
      JSON.stringify({ version: 3, checkpoint: {} }),
    );
    await store.record(stackNameOf(tenant.slug), hashOf(tenant));
  }
}
console.log(`(seeded backend records in ${((Date.now() - seedStart) / 1000).toFixed(1)} s)`);
const upStart = Date.now();
const loaded = await loadCatalog(join(repo.dir, "tenants"));
if (!loaded.ok) throw new Error("generated catalog invalid");
const tenants = stackTenants(resolveCatalog(loaded.catalog));
let deploys = 0;
const report = await runUp(
  tenants,
  context,
  {
    waves: [1, 10, 100],
    parallel: 4,
    onBusy: "skip",
    busyTimeoutMs: 0,
    json: true,
    onDeploy: () => deploys++,
  },
  { stdout: () => undefined, stderr: (s) => process.stderr.write(s) },
);
console.log(
  `no-op up --all: ${((Date.now() - upStart) / 1000).toFixed(2)} s for ${tenants.length} stack tenants of ${count + 7}: ${report.unchanged.length} unchanged, ${deploys} engine runs`,
);
await context.controlPool.end();
repo.remove();
