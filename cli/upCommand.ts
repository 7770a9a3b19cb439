/**
 * `tenancy up --all | --changed --base <ref>`: rolls the catalog out to the tenant stacks
 * (local target) in waves, skipping stacks whose desired-state hash is unchanged without
 * starting the engine, halting on the first failure, never racing the control-plane service.
 * JSON lines (`--json`, the default off a terminal) or a progress bar.
 */
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  formatDiagnostic,
  loadCatalog,
  resolveCatalog,
  type ResolvedTenant,
} from "../catalog/index.ts";
import { tryTenantLock } from "../control-plane/jobs/tenantLock.ts";
import { localDatabases, localKubernetes, STATE_DIR } from "../control-plane/localDefaults.ts";
import {
  engineSettings,
  PROJECT_DIR,
  type EngineSettings,
} from "../control-plane/runner/engine.ts";
import { stackTenants } from "../control-plane/runner/previewTenants.ts";
import { repositoryPolicyPacks } from "../control-plane/runner/policyPack.ts";
import { localStackConfig, type LocalTargetSettings } from "../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../control-plane/runner/tenantStacks.ts";
import { affectedTenants } from "../fleet/affected.ts";
import { DesiredStateStore, PROGRAM_PATHS } from "../fleet/desiredState.ts";
import { desiredStateHasher } from "../fleet/desiredStateHasher.ts";
import { GitInputError, repoRoot, uncommittedChanges } from "../fleet/gitCheckout.ts";
import { parseWaves, rollout, type RolloutEvent, type RolloutReport } from "../fleet/rollout.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import { UsageError, type CliIo } from "./io.ts";

export interface UpContext {
  readonly engine: EngineSettings;
  readonly local: LocalTargetSettings;
  /** The control-plane database: its tenant locks keep us from racing the service. */
  readonly controlPool: pg.Pool;
  /** Policy pack directories every update runs under. @default none */
  readonly policyPacks?: readonly string[];
}

export interface UpSettings {
  readonly waves: readonly number[];
  readonly parallel: number;
  readonly onBusy: "wait" | "skip";
  readonly busyTimeoutMs: number;
  readonly json: boolean;
  readonly signal?: AbortSignal;
  /** Counts engine runs (tests). */
  readonly onDeploy?: (slug: string) => void;
}

/** Rolls `tenants` out; writes events and a summary; returns the report. */
export async function runUp(
  tenants: readonly ResolvedTenant[],
  context: UpContext,
  settings: UpSettings,
  io: CliIo,
): Promise<RolloutReport> {
  const runner = new TenantStackRunner({
    engine: context.engine,
    configFor: localStackConfig(context.local),
    ...(context.policyPacks ? { policyPacks: context.policyPacks } : {}),
  });
  const store = DesiredStateStore.forBackend(context.engine.backendUrl);
  const hashOf = await desiredStateHasher(context, tenants);
  if (!store.supported) {
    io.stderr(
      `note: backend ${context.engine.backendUrl} keeps no desired-state records: every stack is deployed\n`,
    );
  }
  const total = tenants.length;
  let done = 0;
  const emit = (event: RolloutEvent) => {
    if (settings.json) {
      io.stdout(JSON.stringify(event) + "\n");
      return;
    }
    if (event.event === "finished" || (event.event === "planned" && event.action === "unchanged"))
      done++;
    if (event.event === "busy") io.stderr(`\n${event.slug}: ${event.detail}\n`);
    if (event.event === "finished" && event.result === "failed")
      io.stderr(`\n${event.slug}: failed: ${event.error ?? ""}\n`);
    if (event.event === "halted") io.stderr(`\nhalted: ${event.reason}\n`);
    io.stdout(`\r${bar(done, total)}`);
  };
  const report = await rollout(
    tenants,
    {
      deploy: async (tenant) => {
        settings.onDeploy?.(tenant.slug);
        return runner.up(tenant);
      },
      hashOf,
      isCurrent: (stack, hash) => store.isCurrent(stack, hash),
      record: (stack, hash) => store.record(stack, hash),
      tryLock: (slug) => tryTenantLock(context.controlPool, slug),
    },
    {
      waves: settings.waves,
      parallel: settings.parallel,
      onBusy: settings.onBusy,
      busyTimeoutMs: settings.busyTimeoutMs,
      ...(settings.signal ? { signal: settings.signal } : {}),
      onEvent: emit,
    },
  );
  const summary = {
    event: "summary",
    tenants: total,
    unchanged: report.unchanged.length,
    succeeded: report.succeeded.length,
    failed: report.failed,
    busy: report.busy,
    notStarted: report.notStarted,
    interrupted: report.interrupted,
  };
  if (settings.json) io.stdout(JSON.stringify(summary) + "\n");
  else {
    io.stdout("\n");
    io.stdout(
      `${total} tenant stacks: ${report.unchanged.length} unchanged (engine not started), ${report.succeeded.length} deployed, ${report.failed.length} failed, ${report.busy.length} skipped (busy), ${report.notStarted.length} not started${report.interrupted ? " (interrupted)" : ""}\n`,
    );
    for (const f of report.failed) io.stdout(`failed: ${f.slug}: ${f.error}\n`);
    if (report.interrupted)
      io.stdout(`done before the interrupt: ${report.succeeded.join(", ") || "none"}\n`);
  }
  return report;
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}

export async function upCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      all: { type: "boolean", default: false },
      changed: { type: "boolean", default: false },
      base: { type: "string" },
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      waves: { type: "string", default: "100" },
      parallel: { type: "string", default: "4" },
      "on-busy": { type: "string", default: "wait" },
      "busy-timeout": { type: "string", default: "600" },
      "allow-dirty": { type: "boolean", default: false },
      json: { type: "boolean", default: !io.isTty },
    },
  });
  if (values.all === values.changed)
    throw new UsageError("up needs exactly one of --all and --changed --base <ref>");
  if (values.changed && !values.base) throw new UsageError("up --changed needs --base <git-ref>");
  if (values["on-busy"] !== "wait" && values["on-busy"] !== "skip")
    throw new UsageError("--on-busy must be wait or skip");
  let waves: number[];
  try {
    waves = parseWaves(values.waves);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const parallel = Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new UsageError("--parallel must be a positive integer");

  const cwd = process.cwd();
  try {
    const root = await repoRoot(cwd);
    const catalogRel = relative(root, resolve(cwd, values.catalog));
    if (!values["allow-dirty"]) {
      const dirty = await uncommittedChanges(root, [catalogRel, ...PROGRAM_PATHS]);
      if (dirty.length) {
        io.stderr(
          `tenancy up: refusing to deploy uncommitted changes (${dirty.map((l) => l.slice(3)).join(", ")}); commit them or pass --allow-dirty\n`,
        );
        return 1;
      }
    }
    const loaded = await loadCatalog(values.catalog);
    if (!loaded.ok) {
      for (const d of loaded.diagnostics) io.stderr(formatDiagnostic(d) + "\n");
      io.stderr(`tenancy up: catalog ${values.catalog} is invalid; nothing was deployed\n`);
      return 1;
    }
    let tenants = stackTenants(resolveCatalog(loaded.catalog));
    if (values.changed && values.base) {
      const affected = await affectedTenants(root, values.base, catalogRel, "local");
      if (!affected.ok) {
        for (const d of affected.diagnostics) io.stderr(d + "\n");
        io.stderr("tenancy up: a catalog is invalid; nothing was deployed\n");
        return 1;
      }
      for (const e of affected.errors) io.stderr(`program fails for ${e}\n`);
      tenants = tenants.filter(
        (t) =>
          affected.slugs.has(t.slug) || affected.errors.some((e) => e.startsWith(`${t.slug}:`)),
      );
    }
    const databases = await localDatabases();
    // The same cluster as `serve` and `preview`: without it a rollout would delete the compute
    // layer of every namespace tenant the service deployed.
    const kube = await localKubernetes();
    if (kube.note) io.stderr(`${kube.note}\n`);
    const controlPool = new pg.Pool({ connectionString: databases.controlUrl, max: parallel + 2 });
    controlPool.on("error", () => undefined);
    const controller = new AbortController();
    const onSignal = () => {
      io.stderr(
        "\ninterrupted: letting running stacks finish, starting no more (Ctrl-C again to force)\n",
      );
      controller.abort();
      process.once("SIGINT", () => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    try {
      const engine = await engineSettings({ stateDir: join(STATE_DIR, "state") });
      const report = await runUp(
        tenants,
        {
          engine,
          local: {
            adminUrl: databases.sharedUrl,
            ...(kube.cluster ? { kubeconfig: kube.cluster.kubeconfig } : {}),
          },
          controlPool,
          // The tenant isolation rules, as the service's updates run under them.
          policyPacks: await repositoryPolicyPacks(),
        },
        {
          waves,
          parallel,
          onBusy: values["on-busy"],
          busyTimeoutMs: Number(values["busy-timeout"]) * 1000,
          json: values.json,
          signal: controller.signal,
        },
        io,
      );
      if (report.interrupted) return 130;
      return report.failed.length || (values["on-busy"] === "wait" && report.busy.length) ? 1 : 0;
    } finally {
      process.off("SIGINT", onSignal);
      await controlPool.end();
      await kube.close();
      await databases.embedded?.stop();
    }
  } catch (error) {
    if (error instanceof GitInputError) {
      io.stderr(`tenancy up: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export { PROJECT_DIR };
