/**
 * The control plane as the CLI runs it: embedded (or DATABASE_URL) PostgreSQL, the local
 * target, the Pulumi engine when one is available. Shared by serve, worker and reconcile.
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { formatDiagnostic, loadCatalog, loadPricingFile, type Catalog } from "../catalog/index.ts";
import { startControlPlane, type ControlPlane } from "../control-plane/controlPlane.ts";
import { operatorToken } from "../control-plane/operatorToken.ts";
import {
  localDatabases,
  localKubernetes,
  STATE_DIR,
  type LocalDatabases,
} from "../control-plane/localDefaults.ts";
import {
  engineBuildLockHeld,
  engineSettings,
  pulumiRoot,
  PROJECT_DIR,
  type EngineSettings,
} from "../control-plane/runner/engine.ts";
import { lazyStackRunner } from "../control-plane/runner/lazyRunner.ts";
import { repositoryPolicyPacks } from "../control-plane/runner/policyPack.ts";
import { localStackConfig, type LocalTargetSettings } from "../control-plane/runner/stackConfig.ts";
import type { DesiredStateCheck } from "../control-plane/service/reconcile.ts";
import { leaveStopSignalsToCaller } from "../db/embeddedPostgres.ts";
import { serviceDesiredState } from "../fleet/serviceDesiredState.ts";
import type { CliIo } from "./io.ts";

export interface LocalControlPlane {
  readonly plane: ControlPlane;
  readonly catalog: Catalog;
  readonly token: string;
  /** How to find the operator token; the token itself only on the start that created it. */
  readonly tokenNotice: string;
  /** Whether catalog tenants' stacks are at their desired state (for reconcile). */
  readonly desiredState: DesiredStateCheck;
  close(): Promise<void>;
}

export async function openLocalControlPlane(
  io: CliIo,
  options: {
    catalogDir: string;
    http: boolean;
    concurrency: number;
    insecureOpen?: boolean;
    /** The operator's price table (cost estimates); a bad one is reported, not fatal. */
    pricingFile?: string;
    /** Pause after each copy batch of a tenant move (multiple of its duration). */
    moveCopyPace?: number;
  },
): Promise<LocalControlPlane | undefined> {
  const loaded = await loadCatalog(options.catalogDir);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.stderr(formatDiagnostic(d) + "\n");
    io.stderr(`catalog ${options.catalogDir} is invalid\n`);
    return undefined;
  }
  if (options.pricingFile) {
    const pricing = await loadPricingFile(options.pricingFile);
    if (pricing.kind === "invalid") {
      for (const d of pricing.diagnostics) io.stderr(formatDiagnostic(d) + "\n");
      io.stderr(`price table ${pricing.file} is invalid: cost estimates answer pricing-invalid\n`);
    }
  }
  const databases: LocalDatabases = await localDatabases();
  if (databases.note) io.stderr(`${databases.note}\n`);
  const { token, notice: tokenNotice } = await operatorToken(join(STATE_DIR, "state"));
  const engine = { stateDir: join(STATE_DIR, "state") };
  let building = false;
  if (!pulumiRoot()) {
    io.stderr(
      "note: no Pulumi engine yet; building it in the background (scripts/pulumi/ensure-pulumi.sh, " +
        `log in ${join(STATE_DIR, "engine-build.log")}); bridge and silo operations wait for it\n`,
    );
    building = startEngineBuild(join(STATE_DIR, "engine-build.log"), () => (building = false));
  }
  const kube = await localKubernetes();
  if (kube.note)
    io.stderr(`${kube.note}
`);
  const target: LocalTargetSettings = {
    adminUrl: databases.sharedUrl,
    ...(kube.cluster ? { kubeconfig: kube.cluster.kubeconfig } : {}),
  };
  // The desired-state records `tenancy up` keeps: the runner records each stack it deploys.
  let settings: Promise<EngineSettings> | undefined;
  const desiredState = serviceDesiredState({
    engine: () =>
      (settings ??= engineSettings(engine).catch((error: unknown) => {
        settings = undefined; // no engine yet: look again next time
        throw error;
      })),
    local: target,
  });
  // Operations wait while our build runs, or while another process holds the build lock.
  const runner = desiredState.recording(
    lazyStackRunner(
      engine,
      localStackConfig(target),
      // Every update runs under the tenant isolation policy pack, as `tenancy up` and `preview`.
      {
        buildInProgress: () => building || engineBuildLockHeld(),
        policyPacks: repositoryPolicyPacks,
      },
    ),
  );
  const { tiers } = loaded.catalog;
  const plane = await startControlPlane({
    controlDatabaseUrl: databases.controlUrl,
    sharedDatabaseUrl: databases.sharedUrl,
    tiers: () => tiers,
    ...(options.pricingFile ? { pricingFile: options.pricingFile } : {}),
    auth: options.insecureOpen ? { insecureOpen: true } : { operatorToken: token },
    runner,
    concurrency: options.concurrency,
    http: options.http,
    ...(options.moveCopyPace === undefined ? {} : { moveCopyPace: options.moveCopyPace }),
    ...(kube.cluster
      ? {
          usage: {
            kube: {
              server: kube.cluster.server,
              caCert: kube.cluster.caCert,
              token: kube.cluster.adminToken,
            },
          },
        }
      : {}),
  });
  return {
    plane,
    catalog: loaded.catalog,
    token,
    tokenNotice,
    desiredState: desiredState.check,
    async close() {
      await plane.stop();
      await kube.close();
      await databases.embedded?.stop();
    },
  };
}

/**
 * Builds the engine in a detached background process; returns true when it started.
 * `ended` is called when the build exits (a failed build leaves operations failing with
 * the engine-missing reason instead of waiting forever).
 */
function startEngineBuild(logFile: string, ended: () => void): boolean {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, "a");
  const child = spawn("bash", [join(PROJECT_DIR, "scripts", "pulumi", "ensure-pulumi.sh")], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  child.on("error", ended);
  child.on("exit", ended);
  child.unref();
  return child.pid !== undefined;
}

/**
 * Resolves when the process is asked to stop (SIGINT, SIGTERM). The caller then stops in
 * order, the embedded PostgreSQL last: it no longer stops at the signal by itself.
 */
export function untilSignal(): Promise<void> {
  leaveStopSignalsToCaller();
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}
