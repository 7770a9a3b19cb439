/**
 * `tenancy:compute:WorkloadRole` — the IAM role a tenant's workloads act as. Trusted either by
 * one Kubernetes service account through the cluster's OIDC provider (IRSA), or by the
 * tenant's own AWS account (compute `account`). Policies are attached by the other layers.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { tenantIamPath, tenantRoleName } from "../naming.ts";

export type WorkloadTrust =
  | {
      readonly kind: "service-account";
      /** ARN of the cluster's IAM OIDC provider. */
      readonly oidcProviderArn: pulumi.Input<string>;
      /** Issuer URL of the cluster (with or without `https://`). */
      readonly oidcIssuer: pulumi.Input<string>;
      readonly namespace: pulumi.Input<string>;
      readonly serviceAccount: pulumi.Input<string>;
    }
  | {
      readonly kind: "account";
      /** The tenant's AWS account id. */
      readonly accountId: pulumi.Input<string>;
      readonly partition: string;
    };

export interface WorkloadRoleArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** Who may assume the role. */
  readonly trust: WorkloadTrust;
  /**
   * Longest session, seconds.
   * @default 3600
   */
  readonly maxSessionDuration?: number;
}

/** IRSA trust: exactly one service account, audience STS. */
export function serviceAccountTrustPolicy(input: {
  oidcProviderArn: string;
  oidcIssuer: string;
  namespace: string;
  serviceAccount: string;
}) {
  const issuer = input.oidcIssuer.replace(/^https:\/\//, "");
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: input.oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${input.namespace}:${input.serviceAccount}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
}

/** Trust of the tenant's own account (its administrators delegate further). */
export function accountTrustPolicy(input: { accountId: string; partition: string }) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: `arn:${input.partition}:iam::${input.accountId}:root` },
        Action: "sts:AssumeRole",
      },
    ],
  };
}

function trustDocument(trust: WorkloadTrust): pulumi.Output<string> {
  if (trust.kind === "account") {
    return pulumi
      .output(trust.accountId)
      .apply((accountId) =>
        JSON.stringify(accountTrustPolicy({ accountId, partition: trust.partition })),
      );
  }
  return pulumi
    .all([trust.oidcProviderArn, trust.oidcIssuer, trust.namespace, trust.serviceAccount])
    .apply(([oidcProviderArn, oidcIssuer, namespace, serviceAccount]) =>
      JSON.stringify(
        serviceAccountTrustPolicy({ oidcProviderArn, oidcIssuer, namespace, serviceAccount }),
      ),
    );
}

export class WorkloadRole extends pulumi.ComponentResource {
  public readonly roleName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: WorkloadRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:compute:WorkloadRole", name, {}, opts);
    const aws = awsSdk();
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: tenantRoleName(args.slug),
        path: tenantIamPath(args.slug),
        description: `Workloads of tenant ${args.slug}`,
        assumeRolePolicy: trustDocument(args.trust),
        maxSessionDuration: args.maxSessionDuration ?? 3600,
      },
      { parent: this },
    );
    this.roleName = role.name;
    this.roleArn = role.arn;
    this.registerOutputs({ roleName: this.roleName, roleArn: this.roleArn });
  }
}
