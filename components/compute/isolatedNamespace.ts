/**
 * `tenancy:compute:IsolatedNamespace` — a namespace that is closed by default: restricted pod
 * security, a ResourceQuota and LimitRange from the quotas, a default-deny NetworkPolicy with
 * explicit allows, a service account bound to an IAM role (IRSA), and a Role/RoleBinding for
 * the namespace's deployers. Tenant namespaces and the platform's pool namespace use it.
 */
import type * as K8s from "@pulumi/kubernetes";
import { kubernetesSdk } from "../kubernetesSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import {
  cidrEgressSpec,
  defaultDenySpec,
  dnsEgressSpec,
  ingressControllerSpec,
  sameNamespaceSpec,
} from "./networkPolicies.ts";
import { DECLARED_OWNERSHIP } from "./declaredOwnership.ts";
import { minCpu, minMemory } from "./quantities.ts";

export interface NamespaceQuotas {
  /** CPU of the whole namespace (requests and limits), e.g. `"2"`. */
  readonly cpu: string;
  /** Memory of the whole namespace, e.g. `"4Gi"`. */
  readonly memory: string;
  /**
   * Pods of the namespace.
   * @default 50
   */
  readonly pods?: number;
}

export interface IsolatedNamespaceArgs {
  /** Kubernetes name of the namespace. */
  readonly namespace: string;
  /** Quotas of the namespace (ResourceQuota and LimitRange derive from them). */
  readonly quotas: NamespaceQuotas;
  /**
   * Namespace of the ingress controller allowed to reach the pods.
   * @default "ingress-nginx"
   */
  readonly ingressNamespace?: pulumi.Input<string>;
  /** The workloads' service account and the IAM role it assumes (IRSA), if any. */
  readonly serviceAccount: { readonly name: string; readonly roleArn?: pulumi.Input<string> };
  /** Group (from the cluster's authenticator) allowed to deploy into the namespace. */
  readonly deployerGroup: string;
  /**
   * A ServiceAccount of the namespace that is also bound to the deployer Role (for clusters
   * without an authenticator that maps groups, such as the local one). @default none
   */
  readonly deployerServiceAccount?: string;
  /**
   * Egress beyond the namespace and DNS, e.g. the VPC on 443/5432.
   * @default []
   */
  readonly allowedEgress?: readonly {
    readonly cidr: pulumi.Input<string>;
    readonly ports: readonly number[];
  }[];
  /**
   * Pin the namespace's pods to dedicated nodes: default node selector and toleration
   * (enforced where the PodNodeSelector / PodTolerationRestriction admission plugins run).
   */
  readonly nodeIsolation?: { readonly key: string; readonly value: string };
  /** Extra labels of the namespace object. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

/** ResourceQuota `hard` from the quotas. No load balancers or node ports: nothing public. */
export function quotaHard(quotas: NamespaceQuotas): Record<string, string> {
  return {
    "requests.cpu": quotas.cpu,
    "limits.cpu": quotas.cpu,
    "requests.memory": quotas.memory,
    "limits.memory": quotas.memory,
    pods: String(quotas.pods ?? 50),
    "services.loadbalancers": "0",
    "services.nodeports": "0",
  };
}

/** LimitRange: containers default to small requests/limits, and none may exceed the quota. */
export function limitRangeSpec(quotas: NamespaceQuotas) {
  return {
    limits: [
      {
        type: "Container",
        default: { cpu: minCpu(quotas.cpu, "500m"), memory: minMemory(quotas.memory, "512Mi") },
        defaultRequest: {
          cpu: minCpu(quotas.cpu, "100m"),
          memory: minMemory(quotas.memory, "128Mi"),
        },
        max: { cpu: quotas.cpu, memory: quotas.memory },
      },
    ],
  };
}

/** Annotations pinning pods to nodes labelled and tainted `key=value`. */
export function nodeIsolationAnnotations(isolation: { key: string; value: string }) {
  return {
    "scheduler.alpha.kubernetes.io/node-selector": `${isolation.key}=${isolation.value}`,
    "scheduler.alpha.kubernetes.io/defaultTolerations": JSON.stringify([
      { key: isolation.key, operator: "Equal", value: isolation.value, effect: "NoSchedule" },
    ]),
  };
}

/** What the namespace's deployers may do: workloads and config, not RBAC or quotas. */
export const DEPLOYER_RULES = [
  {
    apiGroups: ["", "apps", "batch", "autoscaling", "policy"],
    resources: [
      "pods",
      "pods/log",
      "services",
      "configmaps",
      "secrets",
      "persistentvolumeclaims",
      "deployments",
      "statefulsets",
      "replicasets",
      "jobs",
      "cronjobs",
      "horizontalpodautoscalers",
      "poddisruptionbudgets",
    ],
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
  },
  {
    apiGroups: ["networking.k8s.io"],
    resources: ["ingresses"],
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
  },
];

export class IsolatedNamespace extends pulumi.ComponentResource {
  public readonly namespaceName: pulumi.Output<string>;
  public readonly serviceAccountName: pulumi.Output<string>;

  constructor(name: string, args: IsolatedNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:compute:IsolatedNamespace", name, {}, opts);
    const k8s = kubernetesSdk();
    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: args.namespace,
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            ...args.labels,
          },
          annotations: {
            ...DECLARED_OWNERSHIP,
            ...(args.nodeIsolation ? nodeIsolationAnnotations(args.nodeIsolation) : {}),
          },
        },
      },
      { parent: this },
    );
    // Children name the namespace as a plain string (known at preview, so policies can see it)
    // and depend on the namespace object explicitly.
    const ns = args.namespace;
    const child = { parent: this, dependsOn: [namespace] };
    const meta = (objectName: string) => ({
      name: objectName,
      namespace: ns,
      annotations: DECLARED_OWNERSHIP,
    });
    const quota = new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      { metadata: meta("tenancy-quota"), spec: { hard: quotaHard(args.quotas) } },
      child,
    );
    // The limits derive from the quota: when the API server refuses a quota change, the
    // limits keep their previous values too.
    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      { metadata: meta("tenancy-limits"), spec: limitRangeSpec(args.quotas) },
      { parent: this, dependsOn: [namespace, quota] },
    );
    const policy = (
      suffix: string,
      spec: pulumi.Input<K8s.types.input.networking.v1.NetworkPolicySpec>,
    ) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${suffix}`,
        { metadata: meta(suffix), spec },
        child,
      );
    policy("default-deny", defaultDenySpec());
    policy("allow-same-namespace", sameNamespaceSpec());
    policy(
      "allow-ingress-controller",
      pulumi.output(args.ingressNamespace ?? "ingress-nginx").apply(ingressControllerSpec),
    );
    policy("allow-dns", dnsEgressSpec());
    (args.allowedEgress ?? []).forEach((rule, index) =>
      policy(
        `allow-egress-${index}`,
        pulumi.output(rule.cidr).apply((cidr) => cidrEgressSpec({ cidr, ports: rule.ports })),
      ),
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: {
          ...meta(args.serviceAccount.name),
          ...(args.serviceAccount.roleArn === undefined
            ? {}
            : {
                annotations: {
                  ...DECLARED_OWNERSHIP,
                  "eks.amazonaws.com/role-arn": args.serviceAccount.roleArn,
                },
              }),
        },
        // Workloads get AWS credentials through IRSA; no Kubernetes API token by default.
        automountServiceAccountToken: false,
      },
      child,
    );
    const deployer = args.deployerServiceAccount;
    if (deployer !== undefined) {
      new k8s.core.v1.ServiceAccount(
        `${name}-deployer-sa`,
        { metadata: meta(deployer), automountServiceAccountToken: false },
        child,
      );
    }
    const role = new k8s.rbac.v1.Role(
      `${name}-deployer`,
      { metadata: meta("tenancy-deployer"), rules: DEPLOYER_RULES },
      child,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-deployer`,
      {
        metadata: meta("tenancy-deployer"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [
          { kind: "Group", name: args.deployerGroup, apiGroup: "rbac.authorization.k8s.io" },
          ...(deployer ? [{ kind: "ServiceAccount", name: deployer, namespace: ns }] : []),
        ],
      },
      child,
    );
    this.namespaceName = namespace.metadata.name;
    this.serviceAccountName = serviceAccount.metadata.name;
    this.registerOutputs({ namespaceName: this.namespaceName });
  }
}
