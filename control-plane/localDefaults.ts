/**
 * The embedded default: with no configuration, an embedded PostgreSQL server with a
 * persistent data directory under `.tenancy/`, a generated operator token kept beside it
 * (0600), and a local Pulumi file backend. Everything can be overridden by environment:
 * DATABASE_URL (a superuser URL of your own server), TENANCY_API_TOKEN, PULUMI_BACKEND_URL.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import pg from "pg";
import { stopOrphanedServer } from "../db/embeddedOwner.ts";
import { startEmbeddedPostgres, type EmbeddedServer } from "../db/embeddedPostgres.ts";
import { keptSecret } from "./keptSecret.ts";
import {
  localClusterUnavailable,
  startLocalCluster,
  stopLocalCluster,
  type LocalCluster,
} from "./localCluster.ts";
import { PROJECT_DIR } from "./runner/engine.ts";

export const STATE_DIR = resolve(process.env.TENANCY_STATE_DIR ?? join(PROJECT_DIR, ".tenancy"));

export interface LocalDatabases {
  readonly controlUrl: string;
  readonly sharedUrl: string;
  readonly embedded?: EmbeddedServer;
  /** One line when an embedded server left running by a killed process was stopped. */
  readonly note?: string;
}

/** Starts (or reuses) the server and makes sure the control and shared databases exist. */
export async function localDatabases(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalDatabases> {
  let serverUrl = env.DATABASE_URL;
  let embedded: EmbeddedServer | undefined;
  let note: string | undefined;
  if (!serverUrl) {
    const dir = join(STATE_DIR, "postgres");
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const password = await keptSecret(join(STATE_DIR, "postgres-password"));
    const port = Number(env.TENANCY_PG_PORT ?? 54329);
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    // A server whose owner was killed is not "another tenancy process": stop it, start ours.
    const orphan = await stopOrphanedServer(join(dir, "data"));
    if (orphan?.serverPid !== undefined) {
      note = `note: stopped the embedded PostgreSQL left running by process ${orphan.ownerPid}, which is gone (server pid ${orphan.serverPid})`;
    }
    if (await reachable(url)) {
      serverUrl = url; // another tenancy process (e.g. `npm start`) runs the embedded server
    } else {
      embedded = await startEmbeddedPostgres({ dataDir: join(dir, "data"), port, password });
      serverUrl = embedded.url;
    }
  }
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (const name of ["tenancy_control", "tenancy_shared"]) {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        name,
      ]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${name}`); // fixed names, not input
    }
  } finally {
    await admin.end();
  }
  const at = (database: string) => {
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    return url.toString();
  };
  return {
    controlUrl: at("tenancy_control"),
    sharedUrl: at("tenancy_shared"),
    ...(embedded ? { embedded } : {}),
    ...(note ? { note } : {}),
  };
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface LocalKubernetes {
  /** The running cluster; undefined when none could be started (see `note`). */
  readonly cluster?: LocalCluster;
  /** One line saying why there is no cluster and what that means. */
  readonly note?: string;
  /** Stops the cluster if this process started it. */
  close(): Promise<void>;
}

/**
 * The local Kubernetes cluster of the embedded default (state in `.tenancy/kube`): started
 * when the binaries are built, reused when another tenancy process runs it. Without it the
 * compute layer of local tenants is reported as not provisioned.
 */
export async function localKubernetes(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalKubernetes> {
  const degraded = (reason: string): LocalKubernetes => ({
    note: `note: no local Kubernetes cluster (${reason}); the compute layer of local tenants is reported as not provisioned`,
    close: async () => undefined,
  });
  if (env.TENANCY_SKIP_KUBE === "1") return degraded("TENANCY_SKIP_KUBE=1");
  const unavailable = localClusterUnavailable(env);
  if (unavailable) return degraded(unavailable);
  try {
    const cluster = await startLocalCluster({ stateDir: join(STATE_DIR, "kube"), env });
    return {
      cluster,
      close: async () => {
        if (!cluster.reused) await stopLocalCluster(cluster.stateDir);
      },
    };
  } catch (error) {
    return degraded(error instanceof Error ? error.message : String(error));
  }
}
