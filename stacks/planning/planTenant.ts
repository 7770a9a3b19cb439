/**
 * Offline planning: the resources a tenant's stack declares, computed by running the tenant
 * program under Pulumi's mock runtime with planned platform outputs.
 */
import {
  platformStackFor,
  stackNameOf,
  type ResolvedTenant,
  type Target,
} from "../../contract/index.ts";
import type { InDatabaseProvisioner } from "../../components/database/inDatabaseProvisioner.ts";
import { partitionOf } from "../../components/naming.ts";
import { tenantProgram } from "../tenant/program.ts";
import {
  compareDeclared,
  runUnderMocks,
  type DeclaredResource,
  type MockRunResult,
} from "./mockRuntime.ts";
import { plannedProvisioner } from "./plannedProvisioner.ts";
import { PLANNED_LOCAL_ADMIN_URL, plannedPlatformOutputs } from "./plannedValues.ts";

export interface PlanOptions {
  /** @default {@link plannedProvisioner} (the deployment's resource, without provider code) */
  readonly provisioner?: InDatabaseProvisioner;
  readonly fast?: boolean;
  /** Plan the local target with a Kubernetes cluster (its kubeconfig). @default none */
  readonly localKubeconfig?: string;
  /** Report every resource's URN. @default false */
  readonly urns?: boolean;
}

/** Runs the tenant program under mocks and returns everything it declared. */
export function runTenantUnderMocks(
  tenant: ResolvedTenant,
  target: Target,
  options: PlanOptions = {},
): Promise<MockRunResult> {
  const platformStack = platformStackFor(tenant.region);
  return runUnderMocks(
    () =>
      tenantProgram({
        tenant,
        target,
        provisioner: options.provisioner ?? plannedProvisioner,
        platformStack,
        localAdminUrl: PLANNED_LOCAL_ADMIN_URL,
        ...(options.localKubeconfig === undefined
          ? {}
          : { localKubeconfig: options.localKubeconfig }),
      }),
    {
      stack: stackNameOf(tenant.slug),
      region: tenant.region,
      partition: partitionOf(tenant.region),
      stackOutputs: { [platformStack]: plannedPlatformOutputs(tenant.region) },
      ...(options.fast === undefined ? {} : { fast: options.fast }),
      ...(options.urns ? { urns: true } : {}),
    },
  );
}

/** The resources of a tenant's stack (type, name, parent), sorted by name then type. */
export async function planTenantResources(
  tenant: ResolvedTenant,
  target: Target,
  options: PlanOptions = {},
): Promise<DeclaredResource[]> {
  const { resources } = await runTenantUnderMocks(tenant, target, options);
  return resources.map(({ type, name, parent }) => ({ type, name, parent })).sort(compareDeclared);
}
