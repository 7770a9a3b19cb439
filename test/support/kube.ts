/**
 * The local Kubernetes cluster for tests (started by ./globalSetup.ts). `describeWithCluster`
 * needs the cluster and the Pulumi engine: without either, the tests are skipped with one loud
 * line saying why — unless TENANCY_REQUIRE_KUBE=1 (set by CI), which makes them fail.
 * `kubeClient` talks to the API server over HTTPS with a bearer token: the admin's, or a
 * ServiceAccount's obtained through the TokenRequest API.
 */
import { request } from "node:https";
import { describe, inject, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../../control-plane/localCluster.ts";
import { engineRoot } from "./engine.ts";

const required = process.env.TENANCY_REQUIRE_KUBE === "1";

/**
 * The cluster of this test run, started on first use (start-cluster.sh serializes concurrent
 * starts and reuses a running cluster); stopped by the global teardown. Call it in hooks.
 */
export function testCluster(): Promise<LocalCluster> {
  const stateDir = inject("kubeStateDir");
  if (!stateDir) throw new Error(`no local Kubernetes cluster: ${inject("kubeUnavailable")}`);
  return startLocalCluster({
    stateDir,
    apiPort: inject("kubeApiPort"),
    etcdPort: inject("kubeEtcdPort"),
  });
}

/** `engine: false` for tests that talk to the API server only. */
export function describeWithCluster(
  name: string,
  body: () => void,
  needs: { engine?: boolean } = {},
): void {
  const reason = !inject("kubeStateDir")
    ? `no local Kubernetes cluster: ${inject("kubeUnavailable")}`
    : (needs.engine ?? true) && !engineRoot
      ? "no Pulumi engine: run scripts/pulumi/ensure-pulumi.sh"
      : undefined;
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  if (required) {
    describe(name, () => {
      it("needs the local Kubernetes cluster and the engine (TENANCY_REQUIRE_KUBE=1)", () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED "${name}": ${reason} ***\n`);
  describe.skip(name, body);
}

/** The parts of API responses (objects, lists, Status) the tests read. */
export interface KubeBody {
  readonly message?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec?: {
    readonly hard?: Readonly<Record<string, string>>;
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly unknown[];
    readonly podSelector?: unknown;
    readonly policyTypes?: readonly string[];
  };
  readonly status?: {
    readonly hard?: Readonly<Record<string, string>>;
    readonly phase?: string;
    readonly token?: string;
  };
  readonly subjects?: readonly unknown[];
  readonly data?: Readonly<Record<string, string>>;
  readonly items?: readonly KubeBody[];
}

export interface KubeResponse {
  readonly status: number;
  readonly body: KubeBody;
}

export interface KubeClient {
  call(method: string, path: string, body?: unknown): Promise<KubeResponse>;
  get(path: string): Promise<KubeResponse>;
  create(path: string, body: unknown): Promise<KubeResponse>;
}

export function kubeClient(cluster: LocalCluster, token = cluster.adminToken): KubeClient {
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<KubeResponse>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${cluster.server}${path}`,
        {
          method,
          ca: cluster.caCert,
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/json",
            ...(payload === undefined ? {} : { "content-type": "application/json" }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: KubeBody;
            try {
              parsed = JSON.parse(text) as KubeBody;
            } catch {
              parsed = { message: text }; // not JSON (e.g. /readyz)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  return {
    call,
    get: (path) => call("GET", path),
    create: (path, body) => call("POST", path, body),
  };
}

/** A short-lived token of a ServiceAccount (TokenRequest API, as the admin). */
export async function serviceAccountToken(
  cluster: LocalCluster,
  namespace: string,
  name: string,
): Promise<string> {
  const response = await kubeClient(cluster).create(
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    },
  );
  if (response.status !== 201) {
    throw new Error(
      `TokenRequest for ${namespace}/${name}: HTTP ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
  const token = response.body.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name}: no token in the response`);
  return token;
}

/** A pod that passes Pod Security `restricted`, with the given resources; `patch` alters it. */
export function restrictedPod(
  name: string,
  resources: { cpu: string; memory: string },
  patch: (pod: RestrictedPod) => void = () => undefined,
): RestrictedPod {
  const pod: RestrictedPod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "app",
          image: "registry.example/app:1",
          resources: { requests: resources, limits: resources },
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    },
  };
  patch(pod);
  return pod;
}

export interface RestrictedPod {
  apiVersion: "v1";
  kind: "Pod";
  metadata: { name: string };
  spec: {
    securityContext: Record<string, unknown>;
    containers: {
      name: string;
      image: string;
      resources: object;
      securityContext: Record<string, unknown>;
    }[];
    volumes?: object[];
    hostNetwork?: boolean;
  };
}
