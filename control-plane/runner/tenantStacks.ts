/**
 * Per-tenant stacks (`tenant-<slug>`) through the Automation API: up, preview with
 * structured per-resource diffs, refresh, destroy + removal. One update per stack at a time
 * in this process (KeyedMutex); across processes the engine's lock refuses the second
 * update, which is retried with backoff before it surfaces as a retryable error.
 */
import type { ConfigMap, EngineEvent, OutputMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import type { ResolvedTenant } from "../../catalog/index.ts";
import type { EngineSettings } from "./engine.ts";
import { StackOperationError, toStackError } from "./errors.ts";
import { KeyedMutex } from "./keyedMutex.ts";
import { PreviewCollector, type TenantPreview } from "./previewSummary.ts";
import { parseRoutingRecord, type RoutingRecord } from "./routing.ts";
import { stackWorkspace } from "./workspace.ts";

export function stackNameOf(slug: string): string {
  return `tenant-${slug}`;
}

export interface RunObserver {
  /** Every engine event, as it happens. */
  onEvent?: (event: EngineEvent) => void;
  /** Human-readable progress lines of the engine. */
  onOutput?: (line: string) => void;
}

export interface TenantStackRunnerOptions {
  readonly engine: EngineSettings;
  /** Stack configuration for a tenant (its spec, target, connection secrets). */
  readonly configFor: (tenant: ResolvedTenant) => ConfigMap;
  /** Attempts on ConcurrentUpdate before giving up. @default 5 */
  readonly lockRetries?: number;
  /** First backoff delay in ms, doubled per attempt. @default 500 */
  readonly lockBackoffMs?: number;
}

export interface UpResult {
  readonly routing: RoutingRecord;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly changes: Readonly<Record<string, number>>;
}

export class TenantStackRunner {
  private readonly mutex = new KeyedMutex();

  constructor(private readonly options: TenantStackRunnerOptions) {}

  /** Creates or selects the tenant's stack, sets its config and deploys it. */
  async up(tenant: ResolvedTenant, observer: RunObserver = {}): Promise<UpResult> {
    return this.withStack(tenant, async (stack) => {
      const result = await stack.up({
        onEvent: observer.onEvent,
        onOutput: lines(observer.onOutput),
      });
      const outputs = outputValues(result.outputs);
      return {
        outputs,
        routing: parseRoutingRecord(outputs),
        changes: result.summary.resourceChanges ?? {},
      };
    });
  }

  /** What `up` would change for this tenant, per resource. Never modifies anything. */
  async preview(tenant: ResolvedTenant, observer: RunObserver = {}): Promise<TenantPreview> {
    const stackName = stackNameOf(tenant.slug);
    return this.withStack(tenant, async (stack) => {
      const collector = new PreviewCollector();
      await stack.preview({
        diff: true,
        onEvent: (event) => {
          collector.onEvent(event);
          observer.onEvent?.(event);
        },
        onOutput: lines(observer.onOutput),
      });
      return collector.summary(tenant.slug, stackName);
    });
  }

  async refresh(tenant: ResolvedTenant, observer: RunObserver = {}): Promise<void> {
    await this.withStack(tenant, async (stack) => {
      await stack.refresh({ onEvent: observer.onEvent, onOutput: lines(observer.onOutput) });
    });
  }

  /** Destroys every resource of the tenant's stack, then removes the stack. Idempotent. */
  async destroy(slug: string, observer: RunObserver = {}): Promise<void> {
    const stackName = stackNameOf(slug);
    await this.serialized(stackName, async () => {
      const stack = await this.existing(stackName);
      if (!stack) return; // already gone
      await stack.destroy({ onEvent: observer.onEvent, onOutput: lines(observer.onOutput) });
      await stack.workspace.removeStack(stackName);
    });
  }

  /** Clears a lock left by a crashed process (the caller knows no update is running). */
  async cancelStaleLock(slug: string): Promise<void> {
    const stackName = stackNameOf(slug);
    const stack = await this.existing(stackName);
    try {
      await stack?.cancel();
    } catch (error) {
      const mapped = toStackError(stackName, error);
      // `cancel` on a stack without a pending update fails; that is the state we want.
      if (!/no update|not currently|there is no/i.test(mapped.reason)) throw mapped;
    }
  }

  /** Stack outputs as a routing record, without deploying. */
  async routing(slug: string): Promise<RoutingRecord> {
    const stackName = stackNameOf(slug);
    const stack = await this.existing(stackName);
    if (!stack) throw new StackOperationError("not-found", stackName, "stack does not exist");
    try {
      return parseRoutingRecord(outputValues(await stack.outputs()));
    } catch (error) {
      throw toStackError(stackName, error);
    }
  }

  /** The existing stack, or undefined when it does not exist. */
  private async existing(stackName: string): Promise<Stack | undefined> {
    try {
      return await LocalWorkspace.selectStack(
        await this.workspaceArgs(stackName),
        this.workspaceOptions(),
      );
    } catch (error) {
      const mapped = toStackError(stackName, error);
      if (mapped.kind === "not-found") return undefined;
      throw mapped;
    }
  }

  private async withStack<T>(
    tenant: ResolvedTenant,
    work: (stack: Stack) => Promise<T>,
  ): Promise<T> {
    const stackName = stackNameOf(tenant.slug);
    return this.serialized(stackName, async () => {
      const stack = await LocalWorkspace.createOrSelectStack(
        await this.workspaceArgs(stackName),
        this.workspaceOptions(),
      );
      await stack.setAllConfig(this.options.configFor(tenant));
      return work(stack);
    });
  }

  /** In-process serialization plus retries of cross-process lock conflicts. */
  private async serialized<T>(stackName: string, work: () => Promise<T>): Promise<T> {
    const retries = this.options.lockRetries ?? 5;
    const backoff = this.options.lockBackoffMs ?? 500;
    return this.mutex.run(stackName, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await work();
        } catch (error) {
          const mapped = toStackError(stackName, error);
          if (!mapped.retryable || attempt >= retries) throw mapped;
          await new Promise((done) => setTimeout(done, backoff * 2 ** attempt));
        }
      }
    });
  }

  private async workspaceArgs(stackName: string) {
    const { stateDir, projectDir } = this.options.engine;
    return { stackName, workDir: await stackWorkspace(stateDir, projectDir, stackName) };
  }

  private workspaceOptions() {
    return { pulumiCommand: this.options.engine.command, envVars: { ...this.options.engine.env } };
  }
}

function outputValues(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value as unknown]));
}

function lines(callback?: (line: string) => void): ((out: string) => void) | undefined {
  if (!callback) return undefined;
  return (out) => {
    for (const line of out.split("\n")) if (line.trim()) callback(line);
  };
}

export { StackOperationError };
