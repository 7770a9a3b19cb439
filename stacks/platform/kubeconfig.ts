/** A kubeconfig for an EKS cluster using `aws eks get-token`: no credential inside. */
export interface ClusterEndpoint {
  readonly clusterName: string;
  readonly region: string;
  readonly endpoint: string;
  /** Base64 certificate authority data. */
  readonly certificateAuthority: string;
}

export function kubeconfigFor(cluster: ClusterEndpoint): string {
  const name = cluster.clusterName;
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: {
          server: cluster.endpoint,
          "certificate-authority-data": cluster.certificateAuthority,
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              name,
              "--region",
              cluster.region,
              "--output",
              "json",
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}
