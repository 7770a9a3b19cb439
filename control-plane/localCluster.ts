/**
 * The local Kubernetes cluster (etcd + kube-apiserver + kube-controller-manager on loopback),
 * started and stopped through scripts/kube/start-cluster.sh and stop-cluster.sh. The binaries
 * come from scripts/kube/ensure-kube.sh's cache; without them the cluster is "unavailable"
 * (with the reason) and the compute layer of the local target is reported as not provisioned.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PROJECT_DIR } from "./runner/engine.ts";

const run = promisify(execFile);
const SCRIPTS = join(PROJECT_DIR, "scripts", "kube");

export interface LocalCluster {
  readonly stateDir: string;
  /** Path of the admin kubeconfig. */
  readonly kubeconfigPath: string;
  /** Contents of the admin kubeconfig (a secret: it holds the admin token). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** PEM of the API server's certificate (self-signed), for clients to trust. */
  readonly caCert: string;
  /** Bearer token of the admin (system:masters). */
  readonly adminToken: string;
  /** True when the cluster was already running (started by another process). */
  readonly reused: boolean;
}

export interface LocalClusterOptions {
  /** Where etcd data, keys, logs and the kubeconfig live. */
  readonly stateDir: string;
  /** @default 16443 */
  readonly apiPort?: number;
  /** etcd client port; the peer port is the next one. @default 12379 */
  readonly etcdPort?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** The provider version ensure-kube.sh builds; npm `@pulumi/kubernetes` must be the same. */
export const KUBERNETES_PROVIDER_VERSION = "4.25.0";

/** The installed npm `@pulumi/kubernetes` version (it asks the engine for that plugin). */
function kubernetesSdkVersion(): string | undefined {
  try {
    const manifest = join(PROJECT_DIR, "node_modules", "@pulumi", "kubernetes", "package.json");
    return (JSON.parse(readFileSync(manifest, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Where ensure-kube.sh puts the binaries. */
export function kubeBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TENANCY_KUBE_BIN) return env.TENANCY_KUBE_BIN;
  const cache =
    env.TENANCY_KUBE_CACHE ??
    join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tenancy", "kube");
  return join(cache, "bin");
}

/** Why no local cluster can be started here, or undefined when one can. */
export function localClusterUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const bin = kubeBinDir(env);
  const missing = [
    "kube-apiserver",
    "kube-controller-manager",
    "pulumi-resource-kubernetes",
  ].filter((name) => !existsSync(join(bin, name)));
  if (missing.length > 0) {
    return `${missing.join(", ")} not built in ${bin}: run scripts/kube/ensure-kube.sh (~25 min the first time)`;
  }
  const etcd = (env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, "etcd")));
  if (!etcd) return "etcd is not installed: apt-get install etcd-server";
  const sdk = kubernetesSdkVersion();
  if (sdk !== KUBERNETES_PROVIDER_VERSION) {
    return `npm @pulumi/kubernetes is ${sdk ?? "not installed"} but the local provider is ${KUBERNETES_PROVIDER_VERSION}: run npm ci`;
  }
  return undefined;
}

/** Starts the cluster (or reuses the one running from `stateDir`) and reads its credentials. */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const env = {
    ...(options.env ?? process.env),
    ...(options.apiPort === undefined ? {} : { TENANCY_KUBE_API_PORT: String(options.apiPort) }),
    ...(options.etcdPort === undefined ? {} : { TENANCY_KUBE_ETCD_PORT: String(options.etcdPort) }),
  };
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await run("bash", [join(SCRIPTS, "start-cluster.sh"), options.stateDir], {
      env,
      timeout: 120_000,
    }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    const reason = stderr.trim().split("\n").filter(Boolean).pop() ?? String(error);
    throw new Error(`starting the local Kubernetes cluster failed: ${reason}`);
  }
  const kubeconfigPath = stdout.trim();
  return readLocalCluster(options.stateDir, kubeconfigPath, /reusing the cluster/.test(stderr));
}

export async function readLocalCluster(
  stateDir: string,
  kubeconfigPath = join(stateDir, "kubeconfig"),
  reused = true,
): Promise<LocalCluster> {
  const [kubeconfig, caCert, adminToken, port] = await Promise.all([
    readFile(kubeconfigPath, "utf8"),
    readFile(join(stateDir, "pki", "server.crt"), "utf8"),
    readFile(join(stateDir, "admin-token"), "utf8"),
    readFile(join(stateDir, "api-port"), "utf8"),
  ]);
  return {
    stateDir,
    kubeconfigPath,
    kubeconfig,
    caCert,
    adminToken: adminToken.trim(),
    server: `https://127.0.0.1:${port.trim()}`,
    reused,
  };
}

export async function stopLocalCluster(
  stateDir: string,
  options: { readonly purge?: boolean } = {},
): Promise<void> {
  await run("bash", [
    join(SCRIPTS, "stop-cluster.sh"),
    ...(options.purge ? ["--purge"] : []),
    stateDir,
  ]);
}
