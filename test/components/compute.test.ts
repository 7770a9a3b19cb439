import { describe, expect, it } from "vitest";
import type { ComputeMode } from "../../catalog/index.ts";
import { limitRangeSpec, quotaHard } from "../../components/compute/isolatedNamespace.ts";
import { TenantCompute } from "../../components/compute/tenantCompute.ts";
import { collect, json, ofType, one, PLATFORM, typeCounts } from "./harness.ts";

const QUOTAS = { cpu: "2", memory: "4Gi", requestsPerSecond: 200 };

function compute(mode: ComputeMode, suspended = false) {
  return collect(
    () =>
      new TenantCompute("acme-compute", {
        slug: "acme",
        mode,
        partition: "aws",
        quotas: QUOTAS,
        cluster: {
          name: PLATFORM.clusterName,
          oidcProviderArn: PLATFORM.clusterOidcProviderArn,
          oidcIssuer: PLATFORM.clusterOidcIssuer,
          nodeRoleArn: PLATFORM.nodeRoleArn,
          nodeSubnetIds: PLATFORM.nodeSubnetIds,
          securityGroupId: PLATFORM.clusterSecurityGroupId,
          vpcId: PLATFORM.vpcId,
          vpcCidr: PLATFORM.vpcCidr,
          poolNamespace: PLATFORM.poolNamespace,
          poolServiceAccount: PLATFORM.poolServiceAccount,
          ingressNamespace: PLATFORM.ingressNamespace,
        },
        accounts: { parentId: "ou-root-tenants", emailTemplate: "aws+{slug}@acme.example" },
        suspended,
      }),
  );
}

const ROLE = { "aws:iam/role:Role": 1 };
const NAMESPACE = {
  "kubernetes:core/v1:Namespace": 1,
  "kubernetes:core/v1:ResourceQuota": 1,
  "kubernetes:core/v1:LimitRange": 1,
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": 5,
  "kubernetes:core/v1:ServiceAccount": 1,
  "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
  "aws:ec2/securityGroup:SecurityGroup": 1,
  "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy": 1,
};

describe("TenantCompute", () => {
  it.each([
    ["pool", { ...ROLE, "kubernetes:core/v1:ConfigMap": 1 }],
    ["namespace", { ...ROLE, ...NAMESPACE }],
    ["dedicated-nodes", { ...ROLE, ...NAMESPACE, "aws:eks/nodeGroup:NodeGroup": 1 }],
    ["account", { ...ROLE, "aws:organizations/account:Account": 1 }],
  ] as const)("mode %s declares exactly its resources", async (mode, expected) => {
    const { resources } = await compute(mode);
    expect(typeCounts(resources)).toEqual(expected);
  });

  it.each([
    ["pool", PLATFORM.poolNamespace, PLATFORM.poolServiceAccount],
    ["namespace", "tenant-acme", "workload"],
    ["dedicated-nodes", "tenant-acme", "workload"],
  ] as const)(
    "mode %s: the role trusts exactly one service account (%s/%s) through the cluster's OIDC provider",
    async (mode, ns, sa) => {
      const { resources } = await compute(mode);
      const role = one(resources, "aws:iam/role:Role");
      expect(role.inputs).toMatchObject({
        name: "tenancy-acme-workload",
        path: "/tenancy/tenants/acme/",
      });
      const issuer = PLATFORM.clusterOidcIssuer.replace("https://", "");
      expect(json(role.inputs["assumeRolePolicy"])).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: PLATFORM.clusterOidcProviderArn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                [`${issuer}:sub`]: `system:serviceaccount:${ns}:${sa}`,
                [`${issuer}:aud`]: "sts.amazonaws.com",
              },
            },
          },
        ],
      });
    },
  );

  it("pool: only a registration in the shared pool namespace, no namespace of its own", async () => {
    const { resources } = await compute("pool");
    const registration = one(resources, "kubernetes:core/v1:ConfigMap");
    expect(registration.inputs["metadata"]).toMatchObject({
      name: "tenant-acme",
      namespace: PLATFORM.poolNamespace,
    });
    expect(ofType(resources, "kubernetes:core/v1:Namespace")).toEqual([]);
  });

  it("namespace: quota and limits come from the tenant's quotas; nothing public", async () => {
    const { resources } = await compute("namespace");
    expect(one(resources, "kubernetes:core/v1:Namespace").inputs["metadata"]).toMatchObject({
      name: "tenant-acme",
      labels: { "pod-security.kubernetes.io/enforce": "restricted", "tenancy.io/tenant": "acme" },
    });
    expect(one(resources, "kubernetes:core/v1:ResourceQuota").inputs).toMatchObject({
      metadata: { namespace: "tenant-acme" },
      spec: {
        hard: {
          "requests.cpu": "2",
          "limits.cpu": "2",
          "requests.memory": "4Gi",
          "limits.memory": "4Gi",
          pods: "50",
          "services.loadbalancers": "0",
          "services.nodeports": "0",
        },
      },
    });
    expect(one(resources, "kubernetes:core/v1:LimitRange").inputs["spec"]).toEqual(
      limitRangeSpec({ cpu: "2", memory: "4Gi" }),
    );
    expect(limitRangeSpec({ cpu: "250m", memory: "256Mi" }).limits[0]).toEqual({
      type: "Container",
      default: { cpu: "250m", memory: "256Mi" },
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      max: { cpu: "250m", memory: "256Mi" },
    });
    expect(quotaHard({ cpu: "8", memory: "16Gi", pods: 10 }).pods).toBe("10");
  });

  it("namespace: default deny both ways, then same namespace, ingress controller, DNS and the VPC", async () => {
    const { resources } = await compute("namespace");
    const policies = Object.fromEntries(
      ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((p) => {
        const metadata = p.inputs["metadata"] as { name: string; namespace: string };
        expect(metadata.namespace).toBe("tenant-acme");
        return [metadata.name, p.inputs["spec"]];
      }),
    );
    expect(policies).toEqual({
      "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      "allow-same-namespace": {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      },
      "allow-ingress-controller": {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" },
                },
              },
            ],
          },
        ],
      },
      "allow-dns": {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": "kube-system" },
                },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
      "allow-egress-0": {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: PLATFORM.vpcCidr } }],
            ports: [
              { protocol: "TCP", port: 443 },
              { protocol: "TCP", port: 5432 },
            ],
          },
        ],
      },
    });
  });

  it("namespace: IRSA service account without an API token; deployers bound to a namespaced Role", async () => {
    const { resources } = await compute("namespace");
    expect(one(resources, "kubernetes:core/v1:ServiceAccount").inputs).toMatchObject({
      metadata: {
        name: "workload",
        namespace: "tenant-acme",
        annotations: {
          "eks.amazonaws.com/role-arn":
            "arn:aws:iam::000000000000:role/tenancy/tenants/acme/tenancy-acme-workload",
        },
      },
      automountServiceAccountToken: false,
    });
    expect(
      one(resources, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").inputs,
    ).toMatchObject({
      metadata: { namespace: "tenant-acme" },
      roleRef: { kind: "Role", name: "tenancy-deployer" },
      subjects: [{ kind: "Group", name: "tenancy:tenant:acme:deployers" }],
    });
  });

  it("dedicated-nodes: a node group tainted and labelled for the tenant; the namespace defaults to it", async () => {
    const { resources } = await compute("dedicated-nodes");
    expect(one(resources, "aws:eks/nodeGroup:NodeGroup").inputs).toMatchObject({
      clusterName: PLATFORM.clusterName,
      nodeGroupName: "tenancy-acme",
      nodeRoleArn: PLATFORM.nodeRoleArn,
      labels: { "tenancy.io/tenant": "acme" },
      taints: [{ key: "tenancy.io/tenant", value: "acme", effect: "NO_SCHEDULE" }],
    });
    const annotations = (
      one(resources, "kubernetes:core/v1:Namespace").inputs["metadata"] as {
        annotations: Record<string, string>;
      }
    ).annotations;
    expect(annotations["scheduler.alpha.kubernetes.io/node-selector"]).toBe(
      "tenancy.io/tenant=acme",
    );
    expect(
      JSON.parse(annotations["scheduler.alpha.kubernetes.io/defaultTolerations"] ?? ""),
    ).toEqual([
      { key: "tenancy.io/tenant", operator: "Equal", value: "acme", effect: "NoSchedule" },
    ]);
  });

  it("namespace: the pods' security group reaches only the VPC, and pods are bound to it", async () => {
    const { resources } = await compute("namespace");
    const group = one(resources, "aws:ec2/securityGroup:SecurityGroup");
    const egress = group.inputs["egress"] as { cidrBlocks: string[] }[];
    expect(egress.flatMap((rule) => rule.cidrBlocks)).toEqual(Array(4).fill(PLATFORM.vpcCidr));
    expect(
      one(resources, "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy").inputs,
    ).toMatchObject({
      metadata: { namespace: "tenant-acme" },
      spec: {
        podSelector: {},
        securityGroups: { groupIds: [group.id, PLATFORM.clusterSecurityGroupId] },
      },
    });
  });

  it("account: an organization account with a deployment role, never closed by a destroy; the role trusts it", async () => {
    const { resources } = await compute("account");
    const account = one(resources, "aws:organizations/account:Account");
    expect(account.inputs).toMatchObject({
      name: "tenancy-acme",
      email: "aws+acme@acme.example",
      parentId: "ou-root-tenants",
      roleName: "TenancyDeployment",
      iamUserAccessToBilling: "DENY",
      closeOnDeletion: false,
    });
    expect(json(one(resources, "aws:iam/role:Role").inputs["assumeRolePolicy"])).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${account.id}:root` },
          Action: "sts:AssumeRole",
        },
      ],
    });
  });

  it("a suspended tenant keeps its resources but runs nothing: no pods, nodes at zero, pool refuses it", async () => {
    const nodes = await compute("dedicated-nodes", true);
    expect(typeCounts(nodes.resources)).toEqual(
      typeCounts((await compute("dedicated-nodes")).resources),
    );
    expect(one(nodes.resources, "kubernetes:core/v1:ResourceQuota").inputs).toMatchObject({
      spec: { hard: { pods: "0" } },
    });
    expect(one(nodes.resources, "aws:eks/nodeGroup:NodeGroup").inputs["scalingConfig"]).toEqual({
      minSize: 0,
      desiredSize: 0,
      maxSize: 1,
    });
    const pool = await compute("pool", true);
    expect(one(pool.resources, "kubernetes:core/v1:ConfigMap").inputs["data"]).toMatchObject({
      tenant: "acme",
      suspended: "true",
    });
    expect(
      one((await compute("pool")).resources, "kubernetes:core/v1:ConfigMap").inputs["data"],
    ).toMatchObject({ suspended: "false" });
  });
});
