/**
 * One API, different drivers: a fully pooled tenant is a registration in the shared
 * database (done in the request path, well under a second); any tenant with a bridge or
 * silo layer has its own Pulumi stack, deployed through the Automation API by a worker.
 */
import {
  databaseRoutingFrom,
  needsStack,
  type ResolvedTenant,
  type RoutingRecord,
} from "../../contract/index.ts";
import type { TenantDatabaseDriver } from "../../db/drivers/types.ts";
import type { EngineAvailability } from "../runner/engine.ts";
import type { DriftReport } from "../runner/driftReport.ts";
import type { StackRunner } from "../runner/lazyRunner.ts";
import type { RunObserver } from "../runner/tenantStacks.ts";

export interface Provisioner {
  /** True when `apply` is a quick registration, fit to run inside the signup request. */
  isInline(tenant: ResolvedTenant): boolean;
  /** Brings the tenant's placement to its resolved spec; returns its routing record. */
  apply(tenant: ResolvedTenant, observer?: RunObserver): Promise<{ routing: RoutingRecord }>;
  /**
   * Refreshes the tenant's stack and reports its drift. A fully pooled tenant has no stack:
   * its registration is read by nothing else, so it is refused before an operation exists.
   */
  refresh(tenant: ResolvedTenant, observer?: RunObserver): Promise<{ drift: DriftReport }>;
  /** Offboards: destroys the tenant's infrastructure, purges its data, returns the proof. */
  remove(tenant: ResolvedTenant, observer?: RunObserver): Promise<{ report: unknown }>;
  /** Whether the tenant's operations can run now: always for registrations, else the engine's. */
  engineAvailability(tenant: ResolvedTenant): EngineAvailability;
  /** Called before retrying an operation a crashed worker left running. */
  recover(tenant: ResolvedTenant): Promise<void>;
}

export interface ProvisionerDeps {
  readonly driver: TenantDatabaseDriver;
  /** Absent when no Pulumi engine is available: stack tenants then fail with that reason. */
  readonly runner?: StackRunner;
}

export function createProvisioner({ driver, runner }: ProvisionerDeps): Provisioner {
  const requireRunner = () => {
    if (!runner)
      throw new Error("no Pulumi engine available for bridge/silo tenants (see scripts/pulumi)");
    return runner;
  };
  const databaseSpec = (tenant: ResolvedTenant) => ({
    slug: tenant.slug,
    mode: tenant.layers.database,
    quotas: {
      dbConnections: tenant.quotas.dbConnections,
      statementTimeoutMs: tenant.quotas.statementTimeoutMs,
    },
  });
  const isInline = (tenant: ResolvedTenant) => !needsStack(tenant);
  return {
    isInline,
    engineAvailability(tenant) {
      if (isInline(tenant)) return "ready";
      if (!runner) return "missing";
      return runner.availability?.() ?? "ready";
    },
    async apply(tenant, observer) {
      if (!needsStack(tenant)) {
        const result = await driver.create(databaseSpec(tenant));
        observer?.onOutput?.(`registered ${tenant.slug} in the shared database`);
        // The same record a tenant stack exports: its database part, nothing else provisioned.
        return { routing: { database: databaseRoutingFrom(result.routing), notProvisioned: [] } };
      }
      const { routing } = await requireRunner().up(tenant, observer);
      return { routing };
    },
    async refresh(tenant, observer) {
      if (isInline(tenant))
        throw new Error(`tenant ${tenant.slug} is fully pooled: it has no stack`);
      return { drift: await requireRunner().refresh(tenant, observer) };
    },
    async remove(tenant, observer) {
      if (needsStack(tenant)) {
        await requireRunner().destroy(tenant.slug, observer);
      }
      const report = await driver.delete({ slug: tenant.slug });
      observer?.onOutput?.(`purged ${tenant.slug}: verified nothing remains`);
      return { report };
    },
    async recover(tenant) {
      if (runner && needsStack(tenant)) {
        await runner.repairInterrupted(tenant.slug);
      }
    },
  };
}
