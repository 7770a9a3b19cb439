/**
 * The control plane as the CLI runs it: embedded (or DATABASE_URL) PostgreSQL, the local
 * target, the Pulumi engine when one is available. Shared by serve, worker and reconcile.
 */
import { join } from "node:path";
import { formatDiagnostic, loadCatalog, type Catalog } from "../catalog/index.ts";
import { startControlPlane, type ControlPlane } from "../control-plane/controlPlane.ts";
import { keptSecret } from "../control-plane/keptSecret.ts";
import { localDatabases, STATE_DIR, type LocalDatabases } from "../control-plane/localDefaults.ts";
import { engineSettings, EngineUnavailableError } from "../control-plane/runner/engine.ts";
import { localStackConfig } from "../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../control-plane/runner/tenantStacks.ts";
import type { CliIo } from "./io.ts";

export interface LocalControlPlane {
  readonly plane: ControlPlane;
  readonly catalog: Catalog;
  readonly token: string;
  close(): Promise<void>;
}

export async function openLocalControlPlane(
  io: CliIo,
  options: { catalogDir: string; http: boolean; concurrency: number; insecureOpen?: boolean },
): Promise<LocalControlPlane | undefined> {
  const loaded = await loadCatalog(options.catalogDir);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.stderr(formatDiagnostic(d) + "\n");
    io.stderr(`catalog ${options.catalogDir} is invalid\n`);
    return undefined;
  }
  const databases: LocalDatabases = await localDatabases();
  const token =
    process.env.TENANCY_API_TOKEN ?? (await keptSecret(join(STATE_DIR, "state", "api-token")));
  let runner: TenantStackRunner | undefined;
  try {
    const engine = await engineSettings({ stateDir: join(STATE_DIR, "state") });
    runner = new TenantStackRunner({ engine, configFor: localStackConfig(databases.sharedUrl) });
  } catch (error) {
    if (!(error instanceof EngineUnavailableError)) throw error;
    io.stderr(`note: ${error.message}; bridge and silo tenants fail until it is available\n`);
  }
  const { tiers } = loaded.catalog;
  const plane = await startControlPlane({
    controlDatabaseUrl: databases.controlUrl,
    sharedDatabaseUrl: databases.sharedUrl,
    tiers: () => tiers,
    auth: options.insecureOpen ? { insecureOpen: true } : { operatorToken: token },
    ...(runner ? { runner } : {}),
    concurrency: options.concurrency,
    http: options.http,
  });
  return {
    plane,
    catalog: loaded.catalog,
    token,
    async close() {
      await plane.stop();
      await databases.embedded?.stop();
    },
  };
}

/** Resolves when the process is asked to stop. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}
