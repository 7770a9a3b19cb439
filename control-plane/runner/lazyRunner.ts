/**
 * A stack runner that finds the engine when first needed — and again on later calls while it
 * is missing — so the service can start at once while the engine is still being built. It
 * tells the executor whether the engine is ready, being built (operations wait for it), or
 * missing with no build under way (operations fail with a reason saying what to do).
 */
import type { ConfigMap } from "@pulumi/pulumi/automation/index.js";
import { stackNameOf, type ResolvedTenant } from "../../contract/index.ts";
import {
  engineBuildLockHeld,
  engineSettings,
  EngineUnavailableError,
  pulumiRoot,
  type EngineAvailability,
  type EngineOptions,
} from "./engine.ts";
import type { DriftReport } from "./driftReport.ts";
import { StackOperationError } from "./errors.ts";
import { TenantStackRunner, type RunObserver, type UpResult } from "./tenantStacks.ts";

export type StackRunner = Pick<
  TenantStackRunner,
  "up" | "refresh" | "destroy" | "repairInterrupted"
> & {
  /** Absent: the engine is always ready (a runner built from known engine settings). */
  availability?(): EngineAvailability;
};

export interface LazyRunnerOptions {
  /** True while the engine is being built. @default the build lock of ensure-pulumi.sh is held */
  readonly buildInProgress?: () => boolean;
  /**
   * The policy pack directories `up` (and `preview`) run under, resolved with the engine; a
   * mandatory violation fails the operation with the rules' messages. @default none
   */
  readonly policyPacks?: () => Promise<readonly string[]>;
}

/** The reason an operation fails with when there is no engine and none is being built. */
export const ENGINE_MISSING_REASON =
  "engine-missing: no Pulumi engine found and no build is under way; run scripts/pulumi/ensure-pulumi.sh " +
  "(or put pulumi on PATH), then retry the operation (POST /v1/operations/{id}/retry or `tenancy retry`)";

export function lazyStackRunner(
  engine: EngineOptions,
  configFor: (tenant: ResolvedTenant) => ConfigMap,
  options: LazyRunnerOptions = {},
): StackRunner {
  const env = engine.env ?? process.env;
  const buildInProgress = options.buildInProgress ?? (() => engineBuildLockHeld(env));
  const availability = (): EngineAvailability =>
    pulumiRoot(env) ? "ready" : buildInProgress() ? "building" : "missing";
  let runner: Promise<TenantStackRunner> | undefined;
  const get = async (stack: string): Promise<TenantStackRunner> => {
    runner ??= Promise.all([engineSettings(engine), policyPacksOf(options, stack)]).then(
      ([settings, policyPacks]) =>
        new TenantStackRunner({ engine: settings, configFor, policyPacks }),
    );
    try {
      return await runner;
    } catch (error) {
      runner = undefined; // look again next time
      if (error instanceof EngineUnavailableError) {
        if (buildInProgress()) {
          throw new StackOperationError("retryable", stack, "the Pulumi engine is being built");
        }
        throw new StackOperationError("failed", stack, ENGINE_MISSING_REASON);
      }
      throw error;
    }
  };
  return {
    availability,
    async up(tenant: ResolvedTenant, observer?: RunObserver): Promise<UpResult> {
      return (await get(stackNameOf(tenant.slug))).up(tenant, observer);
    },
    async refresh(tenant: ResolvedTenant, observer?: RunObserver): Promise<DriftReport> {
      return (await get(stackNameOf(tenant.slug))).refresh(tenant, observer);
    },
    async destroy(slug: string, observer?: RunObserver): Promise<void> {
      return (await get(stackNameOf(slug))).destroy(slug, observer);
    },
    async repairInterrupted(slug: string): Promise<void> {
      return (await get(stackNameOf(slug))).repairInterrupted(slug);
    },
  };
}

async function policyPacksOf(
  options: LazyRunnerOptions,
  stack: string,
): Promise<readonly string[]> {
  try {
    return (await options.policyPacks?.()) ?? [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new StackOperationError(
      "failed",
      stack,
      `the policy pack could not be built: ${message}`,
    );
  }
}
