/**
 * `tenancy:compute:PoolRegistration` — a pooled tenant in the shared pool namespace: a
 * labelled ConfigMap the pooled workloads read (quotas, the role to assume for the tenant).
 * No namespace, quota or nodes of its own.
 */
import { kubernetesSdk } from "../kubernetesSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { DECLARED_OWNERSHIP } from "./declaredOwnership.ts";

export interface PoolRegistrationArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** The platform's pool namespace. */
  readonly poolNamespace: pulumi.Input<string>;
  /** Quotas the pooled workloads enforce for the tenant (from the catalog). */
  readonly quotas: {
    readonly cpu: string;
    readonly memory: string;
    readonly requestsPerSecond: number;
  };
  /** Role the pool's broker assumes on the tenant's behalf (none on the local target). */
  readonly roleArn?: pulumi.Input<string>;
  /** Pooled workloads refuse a suspended tenant's requests. @default false */
  readonly suspended?: boolean;
}

export class PoolRegistration extends pulumi.ComponentResource {
  public readonly configMapName: pulumi.Output<string>;

  constructor(name: string, args: PoolRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:compute:PoolRegistration", name, {}, opts);
    const k8s = kubernetesSdk();
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-registration`,
      {
        metadata: {
          name: `tenant-${args.slug}`,
          namespace: args.poolNamespace,
          annotations: DECLARED_OWNERSHIP,
        },
        data: {
          tenant: args.slug,
          ...(args.roleArn === undefined ? {} : { roleArn: args.roleArn }),
          quotas: JSON.stringify(args.quotas),
          suspended: String(args.suspended ?? false),
        },
      },
      { parent: this },
    );
    this.configMapName = configMap.metadata.name;
    this.registerOutputs({ configMapName: this.configMapName });
  }
}
