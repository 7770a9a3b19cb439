/**
 * Vitest global setup: one real PostgreSQL server per test run, and — when the binaries are
 * built (scripts/kube/ensure-kube.sh) — one local Kubernetes cluster on free loopback ports.
 *
 * `DATABASE_URL` (a role allowed to CREATE DATABASE and CREATE ROLE) is used when set;
 * otherwise an embedded server is started in the OS temp dir and removed afterwards.
 * Test files then create their own database on it (see ./postgres.ts). Tests that need the
 * cluster use `describeWithCluster` (./kube.ts), which skips loudly when it is unavailable.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import {
  localClusterUnavailable,
  startLocalCluster,
  stopLocalCluster,
} from "../../control-plane/localCluster.ts";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../db/embeddedPostgres.ts";
import { freePort } from "./ports.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    /** State dir of the local Kubernetes cluster; "" when there is none. */
    kubeStateDir: string;
    /** Why there is no local cluster ("" when there is one). */
    kubeUnavailable: string;
  }
}

let server: EmbeddedServer | undefined;
let dataRoot: string | undefined;
let kubeState: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  await setupCluster(project);
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    project.provide("adminDatabaseUrl", fromEnv);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), "tenancy-test-pg-"));
  // mkdtemp makes the directory 0700; as root the server runs as `postgres`, which must reach it.
  await chmod(dataDir, 0o755);
  dataRoot = dataDir;
  server = await startEmbeddedPostgres({ dataDir: join(dataDir, "data"), fast: true });
  project.provide("adminDatabaseUrl", server.url);
}

async function setupCluster(project: TestProject): Promise<void> {
  const unavailable = localClusterUnavailable();
  if (unavailable) {
    project.provide("kubeStateDir", "");
    project.provide("kubeUnavailable", unavailable);
    return;
  }
  const stateDir = await mkdtemp(join(tmpdir(), "tenancy-test-kube-"));
  kubeState = stateDir;
  try {
    // etcd needs two consecutive ports (client, peer).
    const etcdPort = await freePort({ consecutive: 2 });
    await startLocalCluster({ stateDir, apiPort: await freePort(), etcdPort });
  } catch (error) {
    if (process.env.TENANCY_REQUIRE_KUBE === "1") throw error;
    project.provide("kubeStateDir", "");
    project.provide("kubeUnavailable", error instanceof Error ? error.message : String(error));
    return;
  }
  project.provide("kubeStateDir", stateDir);
  project.provide("kubeUnavailable", "");
}

export async function teardown(): Promise<void> {
  if (kubeState) await stopLocalCluster(kubeState, { purge: true });
  await server?.stop({ removeData: true });
  if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
}
