/**
 * Vitest global setup: one real PostgreSQL server per test run, and — when the binaries are
 * built (scripts/kube/ensure-kube.sh) — the place and ports of one local Kubernetes cluster,
 * started by the first test that needs it.
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
import { localClusterUnavailable, stopLocalCluster } from "../../control-plane/localCluster.ts";
import { policyPackFresh } from "../../control-plane/runner/policyPack.ts";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../db/embeddedPostgres.ts";
import { keepExitCodeThroughExitHooks } from "../../db/exitCode.ts";
import { buildPolicyPack } from "../../scripts/build-policy-pack.ts";
import { reapOrphanedTestServers, TEST_SERVER_DIR_PREFIX } from "./orphanedServers.ts";
import { freePort } from "./ports.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    /** State dir of the local Kubernetes cluster; "" when there is none. */
    kubeStateDir: string;
    /** Why there is no local cluster ("" when there is one). */
    kubeUnavailable: string;
    kubeApiPort: number;
    kubeEtcdPort: number;
  }
}

let server: EmbeddedServer | undefined;
let dataRoot: string | undefined;
let kubeState: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  keepExitCodeThroughExitHooks();
  // Engine runs of the service go under the policy pack: compile it once here, before the test
  // files run in parallel, rather than in whichever files happen to need it first.
  if (!(await policyPackFresh())) await buildPolicyPack();
  await setupCluster(project);
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    project.provide("adminDatabaseUrl", fromEnv);
    return;
  }
  const reaped = await reapOrphanedTestServers(tmpdir());
  if (reaped.length) console.warn(`stopped ${reaped.length} test server(s) of killed runs`);
  const dataDir = await mkdtemp(join(tmpdir(), TEST_SERVER_DIR_PREFIX));
  // mkdtemp makes the directory 0700; as root the server runs as `postgres`, which must reach it.
  await chmod(dataDir, 0o755);
  dataRoot = dataDir;
  server = await startEmbeddedPostgres({ dataDir: join(dataDir, "data"), fast: true });
  project.provide("adminDatabaseUrl", server.url);
}

/**
 * The cluster is started lazily, by the first test that needs it (./kube.ts): a run of other
 * tests pays nothing. Here we only pick its state dir and ports, and stop it at the end.
 */
async function setupCluster(project: TestProject): Promise<void> {
  const unavailable = localClusterUnavailable();
  if (unavailable) {
    if (process.env.TENANCY_REQUIRE_KUBE === "1") {
      throw new Error(`TENANCY_REQUIRE_KUBE=1 but no local Kubernetes cluster: ${unavailable}`);
    }
    project.provide("kubeStateDir", "");
    project.provide("kubeUnavailable", unavailable);
    return;
  }
  const stateDir = await mkdtemp(join(tmpdir(), "tenancy-test-kube-"));
  kubeState = stateDir;
  project.provide("kubeStateDir", stateDir);
  project.provide("kubeApiPort", await freePort());
  // etcd needs two consecutive ports (client, peer).
  project.provide("kubeEtcdPort", await freePort({ consecutive: 2 }));
  project.provide("kubeUnavailable", "");
}

export async function teardown(): Promise<void> {
  if (kubeState) await stopLocalCluster(kubeState, { purge: true }); // no-op if never started
  await server?.stop({ removeData: true });
  if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
}
