/**
 * The tenant stack program (`tenant-<slug>`), as a function of explicit inputs so that the
 * Pulumi engine (via ./config.ts) and the offline planner (mock runtime) run the same code.
 */
import { awsSdk } from "../../components/awsSdk.ts";
import { kubernetesSdk } from "../../components/kubernetesSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { platformStackFor, type ResolvedTenant, type Target } from "../../contract/index.ts";
import type { InDatabaseProvisioner } from "../../components/database/inDatabaseProvisioner.ts";
import { hasOwnRole } from "../../components/database/tenantDatabase.ts";
import { parsePlatformOutputs } from "../../components/platform/platformOutputs.ts";
import { taggingTransformation } from "../../components/tagging.ts";
import { Tenant } from "../../components/tenant/tenant.ts";

export interface TenantProgramInputs {
  readonly tenant: ResolvedTenant;
  readonly target: Target;
  readonly provisioner: InDatabaseProvisioner;
  /** Platform stack of the tenant's region (StackReference name); `aws` only. */
  readonly platformStack?: string;
  /** Superuser URL of the local server (secret); `local` only. */
  readonly localAdminUrl?: pulumi.Input<string>;
  /** Kubeconfig of the local Kubernetes cluster (secret); `local` only, optional. */
  readonly localKubeconfig?: pulumi.Input<string>;
}

/** Name of the local cluster's provider resource in a tenant stack. */
export const LOCAL_CLUSTER_PROVIDER = "local-cluster";

export async function tenantProgram(inputs: TenantProgramInputs): Promise<Record<string, unknown>> {
  const { tenant, target } = inputs;
  pulumi.runtime.registerStackTransformation(taggingTransformation(tenant.tags));
  let tenantResource: Tenant;
  if (target === "local") {
    // Server-side apply: an object someone else changed out of band is a conflict, not a
    // silent overwrite. No scheduler or kubelet runs locally, so nothing waits for pods.
    const localCluster =
      inputs.localKubeconfig === undefined
        ? undefined
        : new (kubernetesSdk().Provider)(LOCAL_CLUSTER_PROVIDER, {
            kubeconfig: inputs.localKubeconfig,
            enableServerSideApply: true,
          });
    tenantResource = new Tenant(tenant.slug, {
      tenant,
      target,
      provisioner: inputs.provisioner,
      ...(inputs.localAdminUrl === undefined ? {} : { localAdminUrl: inputs.localAdminUrl }),
      ...(localCluster === undefined ? {} : { localCluster }),
    });
  } else {
    const stackName = inputs.platformStack ?? platformStackFor(tenant.region);
    const reference = new pulumi.StackReference(stackName);
    const platform = reference.outputs.apply((outputs) => parsePlatformOutputs(outputs, stackName));
    const aws = awsSdk();
    const awsProvider = new aws.Provider(`aws-${tenant.region}`, { region: tenant.region });
    const cluster = new (kubernetesSdk().Provider)(`cluster-${tenant.region}`, {
      kubeconfig: platform.kubeconfig,
      enableServerSideApply: true,
      deleteUnreachable: false,
    });
    tenantResource = new Tenant(
      tenant.slug,
      { tenant, target, provisioner: inputs.provisioner, platform },
      { providers: [awsProvider, cluster] },
    );
  }
  return {
    slug: tenant.slug,
    target,
    routing: tenantResource.routing,
    notProvisioned: tenantResource.notProvisioned,
    ...(tenantResource.computeNodes === undefined ? {} : { nodes: tenantResource.computeNodes }),
    // Only tenants with a login role of their own have a password; pooled ones use the app role.
    ...(hasOwnRole(tenant.layers.database)
      ? { databasePassword: pulumi.secret(tenantResource.databasePassword) }
      : {}),
  };
}
