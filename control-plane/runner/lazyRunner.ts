/**
 * A stack runner that finds the engine when first needed — and again on later calls while it
 * is missing — so the service can start at once while the engine is still being built.
 */
import type { ConfigMap } from "@pulumi/pulumi/automation/index.js";
import type { ResolvedTenant } from "../../catalog/index.ts";
import { engineSettings, EngineUnavailableError, type EngineOptions } from "./engine.ts";
import { StackOperationError } from "./errors.ts";
import { TenantStackRunner, type RunObserver, type UpResult } from "./tenantStacks.ts";

export type StackRunner = Pick<TenantStackRunner, "up" | "destroy" | "cancelStaleLock">;

export function lazyStackRunner(
  engine: EngineOptions,
  configFor: (tenant: ResolvedTenant) => ConfigMap,
): StackRunner {
  let runner: Promise<TenantStackRunner> | undefined;
  const get = async (stack: string): Promise<TenantStackRunner> => {
    runner ??= engineSettings(engine).then(
      (settings) => new TenantStackRunner({ engine: settings, configFor }),
    );
    try {
      return await runner;
    } catch (error) {
      runner = undefined; // look again next time
      if (error instanceof EngineUnavailableError) {
        // Retryable: the engine may still be building (see scripts/pulumi/ensure-pulumi.sh).
        throw new StackOperationError("retryable", stack, error.message);
      }
      throw error;
    }
  };
  return {
    async up(tenant: ResolvedTenant, observer?: RunObserver): Promise<UpResult> {
      return (await get(`tenant-${tenant.slug}`)).up(tenant, observer);
    },
    async destroy(slug: string, observer?: RunObserver): Promise<void> {
      return (await get(`tenant-${slug}`)).destroy(slug, observer);
    },
    async cancelStaleLock(slug: string): Promise<void> {
      return (await get(`tenant-${slug}`)).cancelStaleLock(slug);
    },
  };
}
