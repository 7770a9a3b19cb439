/**
 * A rollout over many tenant stacks: skip every stack whose desired-state hash is recorded
 * and unchanged (no engine), deploy the rest in waves (`1,10,100` = a canary of 1 %, then up
 * to 10 %, then all) with bounded parallelism, halt on the first failure, and never race the
 * control-plane service: each stack is deployed holding the tenant's advisory lock, the same
 * lock the service holds for a tenant's operation.
 */
import type { ResolvedTenant } from "../catalog/index.ts";
import { stackNameOf } from "../contract/index.ts";

export interface RolloutLock {
  release(): Promise<void>;
}

export interface RolloutDeps {
  /** Deploys one tenant's stack (the engine); throws with the engine's reason on failure. */
  readonly deploy: (tenant: ResolvedTenant) => Promise<unknown>;
  /** Desired-state hash of a tenant's stack. */
  readonly hashOf: (tenant: ResolvedTenant) => string;
  readonly isCurrent: (stack: string, hash: string) => Promise<boolean>;
  readonly record: (stack: string, hash: string) => Promise<void>;
  /** Takes the tenant's lock without waiting; undefined when the service holds it. */
  readonly tryLock: (slug: string) => Promise<RolloutLock | undefined>;
}

export type RolloutEvent =
  | { event: "planned"; slug: string; action: "deploy" | "unchanged" }
  | { event: "wave"; wave: number; percent: number; tenants: string[] }
  | { event: "busy"; slug: string; detail: string }
  | { event: "started"; slug: string; wave: number }
  | {
      event: "finished";
      slug: string;
      result: "succeeded" | "failed" | "skipped-busy";
      seconds: number;
      error?: string;
    }
  | { event: "halted"; reason: string };

export interface RolloutOptions {
  /** Cumulative percentages of the stacks to deploy, ending at 100. @default [100] */
  readonly waves?: readonly number[];
  /** Stacks deployed at the same time. @default 4 */
  readonly parallel?: number;
  /** A tenant whose lock is held: wait (up to busyTimeoutMs) or skip it. @default "wait" */
  readonly onBusy?: "wait" | "skip";
  /** @default 600_000 */
  readonly busyTimeoutMs?: number;
  /** @default 1_000 */
  readonly busyPollMs?: number;
  /** Aborting stops starting stacks; running ones finish. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RolloutEvent) => void;
}

export interface RolloutReport {
  readonly unchanged: string[];
  readonly succeeded: string[];
  readonly failed: { slug: string; error: string }[];
  readonly busy: string[];
  /** Planned but never started (halted or interrupted). */
  readonly notStarted: string[];
  readonly interrupted: boolean;
}

/** Parses `--waves 1,10,100`: increasing percentages in (0, 100], the last one 100. */
export function parseWaves(text: string): number[] {
  const waves = text.split(",").map((part) => Number(part.trim()));
  const valid =
    waves.length > 0 &&
    waves.every(
      (w, i) => Number.isFinite(w) && w > 0 && w <= 100 && (i === 0 || w > (waves[i - 1] ?? 0)),
    ) &&
    waves.at(-1) === 100;
  if (!valid) {
    throw new Error(`--waves "${text}": give increasing percentages ending at 100, e.g. 1,10,100`);
  }
  return waves;
}

/** Splits `items` into waves: wave i ends at ceil(percent_i % of the total), at least one each. */
export function splitWaves<T>(
  items: readonly T[],
  waves: readonly number[],
): { percent: number; items: T[] }[] {
  const out: { percent: number; items: T[] }[] = [];
  let from = 0;
  for (const percent of waves) {
    const to = Math.max(from + 1, Math.ceil((items.length * percent) / 100));
    const slice = items.slice(from, Math.min(to, items.length));
    if (slice.length) out.push({ percent, items: slice });
    from = Math.min(to, items.length);
  }
  return out;
}

export async function rollout(
  tenants: readonly ResolvedTenant[],
  deps: RolloutDeps,
  options: RolloutOptions = {},
): Promise<RolloutReport> {
  const emit = options.onEvent ?? (() => undefined);
  const report: { -readonly [K in keyof RolloutReport]: RolloutReport[K] } = {
    unchanged: [],
    succeeded: [],
    failed: [],
    busy: [],
    notStarted: [],
    interrupted: false,
  };
  const todo: { tenant: ResolvedTenant; hash: string }[] = [];
  for (const tenant of tenants) {
    const hash = deps.hashOf(tenant);
    if (await deps.isCurrent(stackOf(tenant), hash)) {
      report.unchanged.push(tenant.slug);
      emit({ event: "planned", slug: tenant.slug, action: "unchanged" });
    } else {
      todo.push({ tenant, hash });
      emit({ event: "planned", slug: tenant.slug, action: "deploy" });
    }
  }
  const waves = splitWaves(todo, options.waves ?? [100]);
  let halted = false;
  const stopped = () => halted || options.signal?.aborted === true;
  for (const [index, wave] of waves.entries()) {
    if (stopped()) {
      report.notStarted.push(...wave.items.map((i) => i.tenant.slug));
      continue;
    }
    emit({
      event: "wave",
      wave: index + 1,
      percent: wave.percent,
      tenants: wave.items.map((i) => i.tenant.slug),
    });
    let next = 0;
    const worker = async () => {
      while (next < wave.items.length) {
        const item = wave.items[next++]!;
        if (stopped()) {
          report.notStarted.push(item.tenant.slug);
          continue;
        }
        const outcome = await deployOne(item.tenant, item.hash, index + 1, deps, options, emit);
        if (outcome.result === "succeeded") report.succeeded.push(item.tenant.slug);
        else if (outcome.result === "skipped-busy") report.busy.push(item.tenant.slug);
        else if (outcome.result === "interrupted") report.notStarted.push(item.tenant.slug);
        else {
          report.failed.push({ slug: item.tenant.slug, error: outcome.error ?? "failed" });
          if (!halted) {
            halted = true;
            emit({
              event: "halted",
              reason: `tenant ${item.tenant.slug} failed: ${outcome.error ?? "failed"}`,
            });
          }
        }
      }
    };
    const width = Math.max(1, Math.min(options.parallel ?? 4, wave.items.length));
    await Promise.all(Array.from({ length: width }, worker));
  }
  report.interrupted = options.signal?.aborted === true;
  for (const list of [report.succeeded, report.busy, report.notStarted, report.unchanged])
    list.sort();
  report.failed.sort((a, b) => (a.slug < b.slug ? -1 : 1));
  return report;
}

async function deployOne(
  tenant: ResolvedTenant,
  hash: string,
  wave: number,
  deps: RolloutDeps,
  options: RolloutOptions,
  emit: (event: RolloutEvent) => void,
): Promise<{ result: "succeeded" | "failed" | "skipped-busy" | "interrupted"; error?: string }> {
  const start = Date.now();
  const seconds = () => Math.round((Date.now() - start) / 100) / 10;
  let lock = await deps.tryLock(tenant.slug);
  if (!lock) {
    const wait = options.onBusy !== "skip";
    emit({
      event: "busy",
      slug: tenant.slug,
      detail: wait
        ? "the control plane is running an operation for this tenant; waiting for it"
        : "the control plane is running an operation for this tenant; skipped (--on-busy skip)",
    });
    const deadline = Date.now() + (options.busyTimeoutMs ?? 600_000);
    while (!lock && wait && Date.now() < deadline && !options.signal?.aborted) {
      await new Promise((r) => setTimeout(r, options.busyPollMs ?? 1_000));
      lock = await deps.tryLock(tenant.slug);
    }
    if (!lock) {
      if (options.signal?.aborted) return { result: "interrupted" };
      emit({ event: "finished", slug: tenant.slug, result: "skipped-busy", seconds: seconds() });
      return { result: "skipped-busy" };
    }
  }
  try {
    // Re-check under the lock: the service may have just deployed the same desired state.
    if (await deps.isCurrent(stackOf(tenant), hash)) {
      emit({ event: "finished", slug: tenant.slug, result: "succeeded", seconds: seconds() });
      return { result: "succeeded" };
    }
    emit({ event: "started", slug: tenant.slug, wave });
    await deps.deploy(tenant);
    await deps.record(stackOf(tenant), hash);
    emit({ event: "finished", slug: tenant.slug, result: "succeeded", seconds: seconds() });
    return { result: "succeeded" };
  } catch (error) {
    const reason =
      (error as { reason?: string }).reason ??
      (error instanceof Error ? error.message : String(error));
    emit({
      event: "finished",
      slug: tenant.slug,
      result: "failed",
      seconds: seconds(),
      error: reason,
    });
    return { result: "failed", error: reason };
  } finally {
    await lock.release();
  }
}

function stackOf(tenant: ResolvedTenant): string {
  return stackNameOf(tenant.slug);
}
