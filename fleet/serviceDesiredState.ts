/**
 * The desired-state records as the control-plane service keeps them: the same hash
 * (./desiredStateHasher.ts) and the same records (./desiredState.ts) as `tenancy up`, so a
 * stack the service deployed is skipped by `tenancy up`, and the reverse.
 *
 * - `recording(runner)`: the service's stack runner, recording the tenant's hash after each
 *   successful `up`. Every stack update of the service (signup, update, move, retry) deploys
 *   through the runner, so this is the one place the service records. The hash is computed
 *   from the program on disk while the engine runs (it plans the tenant under the mock runtime,
 *   seconds); if that fails the update still succeeds, says so in its log, and the next
 *   reconcile updates the stack again.
 * - A refresh that finds no drift carries a fresh record over to the refreshed state.
 * - `check`: reconcile's question, which stacks are not at their desired state and why.
 *   Without a record (a stack deployed before records existed, a fresh state directory) there
 *   is nothing that proves the deployed program equal to this one: the stack is updated (the
 *   engine decides what changes, usually nothing) and that update records it.
 */
import type { ResolvedTenant } from "../catalog/index.ts";
import { stackNameOf } from "../contract/index.ts";
import type { EngineSettings } from "../control-plane/runner/engine.ts";
import type { StackRunner } from "../control-plane/runner/lazyRunner.ts";
import type { LocalTargetSettings } from "../control-plane/runner/stackConfig.ts";
import type { DesiredStateCheck } from "../control-plane/service/reconcile.ts";
import { DesiredStateStore, type DesiredStateStatus } from "./desiredState.ts";
import { desiredStateHasher } from "./desiredStateHasher.ts";

export interface ServiceDesiredStateOptions {
  /** The engine the service deploys with; rejects while there is none (being built). */
  readonly engine: () => Promise<EngineSettings>;
  /** The local target settings the service's runner deploys the stacks with. */
  readonly local: LocalTargetSettings;
}

export interface ServiceDesiredState {
  readonly check: DesiredStateCheck;
  recording(runner: StackRunner): StackRunner;
}

/** Why a stack whose record has this status is updated by reconcile. */
export const OUTDATED_REASONS: Readonly<Record<Exclude<DesiredStateStatus, "current">, string>> = {
  absent:
    "no desired-state record for its stack (deployed before records were kept, or a fresh state directory): updating records it",
  different:
    "its desired state changed since its last update (program, provider code, stack config, engine or SDK versions)",
  stale:
    "its stack's state changed since its desired state was recorded (a refresh, or an update outside the control plane)",
};

export function serviceDesiredState(options: ServiceDesiredStateOptions): ServiceDesiredState {
  const records = async () => {
    const engine = await options.engine();
    return { engine, store: DesiredStateStore.forBackend(engine.backendUrl) };
  };
  return {
    check: {
      async outdated(tenants: readonly ResolvedTenant[]) {
        let found: Awaited<ReturnType<typeof records>>;
        try {
          found = await records();
        } catch (error) {
          return { unavailable: `no Pulumi engine to compare with (${messageOf(error)})` };
        }
        const { engine, store } = found;
        if (!store.supported) {
          return {
            unavailable: `backend ${engine.backendUrl} keeps no desired-state records`,
          };
        }
        const hashOf = await desiredStateHasher({ engine, local: options.local }, tenants);
        const outdated = new Map<string, string>();
        for (const tenant of tenants) {
          const status = await store.status(stackNameOf(tenant.slug), hashOf(tenant));
          if (status !== "current") outdated.set(tenant.slug, OUTDATED_REASONS[status]);
        }
        return { outdated };
      },
    },
    recording(runner: StackRunner): StackRunner {
      return {
        ...(runner.availability ? { availability: () => runner.availability!() } : {}),
        async refresh(tenant, observer) {
          // A refresh rewrites the stack's state, which makes its record stale. One that finds
          // no drift leaves the stack as its last update deployed it: a record that was fresh
          // before is carried over to the new state, so the next reconcile does not run the
          // engine for nothing. A refresh that found drift leaves it stale (updated next).
          const stack = stackNameOf(tenant.slug);
          const before = await records()
            .then(async ({ store }) => ({ store, hash: await store.freshHash(stack) }))
            .catch(() => undefined);
          const report = await runner.refresh(tenant, observer);
          if (before?.hash !== undefined && report.drifted.length === 0) {
            await before.store.record(stack, before.hash).catch(() => undefined);
          }
          return report;
        },
        destroy: (slug, observer) => runner.destroy(slug, observer),
        repairInterrupted: (slug) => runner.repairInterrupted(slug),
        async up(tenant, observer) {
          // The program the engine is about to run, hashed while it runs.
          const hashed = records().then(async ({ engine, store }) => {
            const hashOf = await desiredStateHasher({ engine, local: options.local }, [tenant]);
            return { store, hash: hashOf(tenant) };
          });
          hashed.catch(() => undefined); // awaited below only when the update succeeds
          const result = await runner.up(tenant, observer);
          try {
            const { store, hash } = await hashed;
            await store.record(stackNameOf(tenant.slug), hash);
          } catch (error) {
            observer?.onOutput?.(
              `desired state not recorded (the next reconcile updates this stack again): ${messageOf(error)}`,
            );
          }
          return result;
        },
      };
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
