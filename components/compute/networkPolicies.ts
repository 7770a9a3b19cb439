/**
 * NetworkPolicy specs of an isolated namespace: deny everything, then allow exactly the
 * same namespace, the ingress controller, DNS, and explicitly listed egress.
 */

/** Selects every pod and allows nothing, in both directions. */
export function defaultDenySpec() {
  return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

/** Pods of the namespace may talk to each other. */
export function sameNamespaceSpec() {
  return {
    podSelector: {},
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [{ podSelector: {} }] }],
    egress: [{ to: [{ podSelector: {} }] }],
  };
}

/** The ingress controller's namespace may reach the namespace's pods. */
export function ingressControllerSpec(ingressNamespace: string) {
  return {
    podSelector: {},
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ingressNamespace } },
          },
        ],
      },
    ],
  };
}

/** DNS lookups to the cluster DNS in kube-system, nothing else there. */
export function dnsEgressSpec() {
  return {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
    ],
  };
}

export interface EgressRule {
  /** Destination CIDR (e.g. the VPC, for the database and VPC endpoints). */
  readonly cidr: string;
  readonly ports: readonly number[];
}

/** TCP egress to a CIDR on given ports. */
export function cidrEgressSpec(rule: EgressRule) {
  return {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [
      {
        to: [{ ipBlock: { cidr: rule.cidr } }],
        ports: rule.ports.map((port) => ({ protocol: "TCP", port })),
      },
    ],
  };
}
