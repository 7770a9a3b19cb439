/**
 * Per-tenant stacks (`tenant-<slug>`) through the Automation API: up, preview with
 * structured per-resource diffs, refresh with a drift report, destroy + removal. One update per stack at a time
 * in this process (KeyedMutex); across processes the engine's lock refuses the second
 * update, which is retried with backoff before it surfaces as a retryable error. With
 * `policyPacks`, `up` and `preview` run under those packs, and a mandatory violation fails
 * them with the rules' messages. An operation is cancelled through `RunObserver.signal`:
 * SIGINT to the engine, SIGKILL after `cancelGraceMs` (./cancellation.ts).
 */
import type {
  ConfigMap,
  EngineEvent,
  OutputMap,
  PolicyEvent,
  Stack,
} from "@pulumi/pulumi/automation/index.js";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import {
  parseRoutingRecord,
  stackNameOf,
  type ResolvedTenant,
  type RoutingRecord,
} from "../../contract/index.ts";
import { cancellable } from "./cancellation.ts";
import { setConfigOnce } from "./configOnce.ts";
import { driftCollector, type DriftReport } from "./driftReport.ts";
import type { EngineSettings } from "./engine.ts";
import { StackOperationError, toStackError, toStackErrorWithPolicies } from "./errors.ts";
import { KeyedMutex } from "./keyedMutex.ts";
import { leanUp } from "./leanUp.ts";
import { PreviewCollector, type TenantPreview } from "./previewSummary.ts";
import { stackWorkspace } from "./workspace.ts";

export interface RunObserver {
  /** Every engine event, as it happens. */
  onEvent?: (event: EngineEvent) => void;
  /** Human-readable progress lines of the engine. */
  onOutput?: (line: string) => void;
  /**
   * Aborting it cancels the operation: the engine gets SIGINT, and SIGKILL if it still runs
   * after the runner's `cancelGraceMs`. The operation then fails with kind `cancelled`.
   */
  signal?: AbortSignal;
}

export interface TenantStackRunnerOptions {
  readonly engine: EngineSettings;
  /** Stack configuration for a tenant (its spec, target, connection secrets). */
  readonly configFor: (tenant: ResolvedTenant) => ConfigMap;
  /** Attempts on ConcurrentUpdate before giving up. @default 5 */
  readonly lockRetries?: number;
  /** First backoff delay in ms, doubled per attempt. @default 500 */
  readonly lockBackoffMs?: number;
  /** Policy pack directories `up` and `preview` run under (e.g. the built `policies/`). */
  readonly policyPacks?: readonly string[];
  /** Time between SIGINT and SIGKILL when an operation is cancelled. @default 30_000 */
  readonly cancelGraceMs?: number;
}

export interface UpResult {
  readonly routing: RoutingRecord;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly changes: Readonly<Record<string, number>>;
}

/** A resource of a stack's state: its URN, type token and parent's URN. */
export interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly parent?: string;
}

export class TenantStackRunner {
  private readonly mutex = new KeyedMutex();

  constructor(private readonly options: TenantStackRunnerOptions) {}

  /** Creates or selects the tenant's stack, sets its config and deploys it. */
  async up(tenant: ResolvedTenant, observer: RunObserver = {}): Promise<UpResult> {
    return this.withStack(tenant, async (stack) => {
      const cli = { command: this.options.engine.command.command, env: this.options.engine.env };
      const result = await this.engine(stack, observer, (opts) =>
        leanUp(stack, { ...opts, ...this.policies() }, cli),
      );
      const outputs = outputValues(result.outputs);
      return {
        outputs,
        routing: routingOutput(stack.name, outputs),
        changes: result.summary.resourceChanges ?? {},
      };
    });
  }

  /** What `up` would change for this tenant, per resource. Never modifies anything. */
  async preview(tenant: ResolvedTenant, observer: RunObserver = {}): Promise<TenantPreview> {
    const stackName = stackNameOf(tenant.slug);
    return this.withStack(tenant, async (stack) => {
      const collector = new PreviewCollector();
      const observed: RunObserver = {
        ...observer,
        onEvent: (event) => {
          collector.onEvent(event);
          observer.onEvent?.(event);
        },
      };
      await this.engine(stack, observed, (opts) =>
        stack.preview({ diff: true, ...opts, ...this.policies() }),
      );
      return collector.summary(tenant.slug, stackName);
    });
  }

  /**
   * Refreshes the tenant's existing stack (its state takes what the providers read) and
   * reports what differed between the recorded state and reality. A tenant that was never
   * deployed has no stack: `not-found`.
   */
  async refresh(tenant: ResolvedTenant, observer: RunObserver = {}): Promise<DriftReport> {
    const stackName = stackNameOf(tenant.slug);
    return this.serialized(stackName, async () => {
      const stack = await this.existing(stackName);
      if (!stack) {
        throw new StackOperationError(
          "not-found",
          stackName,
          "stack does not exist: the tenant has not been deployed",
        );
      }
      await this.setConfig(stack, tenant);
      const drift = driftCollector(stackName);
      const observed: RunObserver = {
        ...observer,
        onEvent: (event) => {
          drift.onEvent(event);
          observer.onEvent?.(event);
        },
      };
      await this.engine(stack, observed, (opts) => stack.refresh(opts));
      return drift.report();
    });
  }

  /** Destroys every resource of the tenant's stack, then removes the stack. Idempotent. */
  async destroy(slug: string, observer: RunObserver = {}): Promise<void> {
    const stackName = stackNameOf(slug);
    await this.serialized(stackName, async () => {
      const stack = await this.existing(stackName);
      if (!stack) return; // already gone
      await this.engine(stack, observer, (opts) => stack.destroy(opts));
      await stack.workspace.removeStack(stackName);
    });
  }

  /**
   * Repairs what an interrupted update left (the caller knows no update is running): clears
   * the stale lock of a crashed or killed engine, then, when the state still records operations
   * that were in flight (a create whose outcome the engine never heard), refreshes the stack
   * dropping them, so the next update starts from what really exists.
   */
  async repairInterrupted(slug: string): Promise<void> {
    const stackName = stackNameOf(slug);
    const stack = await this.existing(stackName);
    if (!stack) return;
    try {
      await stack.cancel();
    } catch (error) {
      const mapped = toStackError(stackName, error);
      // `cancel` on a stack without a pending update fails; that is the state we want.
      if (!/no update|not currently|there is no/i.test(mapped.reason)) throw mapped;
    }
    try {
      const { deployment } = (await stack.exportStack()) as {
        deployment?: { pending_operations?: unknown[] };
      };
      if ((deployment?.pending_operations ?? []).length === 0) return;
      await this.serialized(stackName, () => stack.refresh({ clearPendingCreates: true }));
    } catch (error) {
      throw toStackError(stackName, error);
    }
  }

  /** Stack outputs as a routing record, without deploying. */
  async routing(slug: string): Promise<RoutingRecord> {
    const stackName = stackNameOf(slug);
    const stack = await this.existing(stackName);
    if (!stack) throw new StackOperationError("not-found", stackName, "stack does not exist");
    try {
      return routingOutput(stackName, outputValues(await stack.outputs()));
    } catch (error) {
      throw toStackError(stackName, error);
    }
  }

  /**
   * The resources recorded in the stack's state, as `pulumi stack export` lists them (the stack
   * itself and providers included): what the engine actually created.
   */
  async stateResources(slug: string): Promise<StateResource[]> {
    const stackName = stackNameOf(slug);
    const stack = await this.existing(stackName);
    if (!stack) throw new StackOperationError("not-found", stackName, "stack does not exist");
    try {
      const exported: { deployment?: { resources?: StateResource[] } } = await stack.exportStack();
      const resources = exported.deployment?.resources;
      return (resources ?? []).map(({ urn, type, parent }) => ({
        urn,
        type,
        ...(parent ? { parent } : {}),
      }));
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
      await this.setConfig(stack, tenant);
      return work(stack);
    });
  }

  /** The tenant's stack config, set only when it changed (./configOnce.ts). */
  private async setConfig(stack: Stack, tenant: ResolvedTenant): Promise<void> {
    const passphrase = this.options.engine.env.PULUMI_CONFIG_PASSPHRASE;
    await setConfigOnce(stack, this.options.configFor(tenant), passphrase);
  }

  /**
   * One engine command with the observer's callbacks and signal: cancellable (SIGINT, grace,
   * SIGKILL), and failing with the policy packs' messages when a mandatory rule was broken.
   */
  private async engine<T>(
    stack: Stack,
    observer: RunObserver,
    command: (opts: {
      onEvent: (event: EngineEvent) => void;
      onOutput?: (out: string) => void;
      signal?: AbortSignal;
    }) => Promise<T>,
  ): Promise<T> {
    const policyEvents: PolicyEvent[] = [];
    const onEvent = (event: EngineEvent) => {
      if (event.policyEvent) policyEvents.push(event.policyEvent);
      observer.onEvent?.(event);
    };
    const onOutput = lines(observer.onOutput);
    const cli = { command: this.options.engine.command.command, workDir: stack.workspace.workDir };
    try {
      return await cancellable(observer.signal, cli, this.options.cancelGraceMs ?? 30_000, () =>
        command({
          onEvent,
          ...(onOutput ? { onOutput } : {}),
          ...(observer.signal ? { signal: observer.signal } : {}),
        }),
      );
    } catch (error) {
      throw toStackErrorWithPolicies(stack.name, error, policyEvents);
    }
  }

  private policies(): { policyPacks?: string[] } {
    const packs = this.options.policyPacks ?? [];
    return packs.length > 0 ? { policyPacks: [...packs] } : {};
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

/** The stack's `routing` output, checked against the contract. */
function routingOutput(
  stackName: string,
  outputs: Readonly<Record<string, unknown>>,
): RoutingRecord {
  return parseRoutingRecord(outputs.routing, `routing output of stack ${stackName}`);
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
