/**
 * Runs a Pulumi program under the SDK's mock runtime (`pulumi.runtime.setMocks`), in process,
 * without the CLI or any plugin, and reports every resource it declares: type, name, parent
 * (captured by a stack transformation — the mocks never see the parent) and the inputs the
 * provider would receive (after every transformation, e.g. tags).
 *
 * The mock runtime is process-global: runs are serialized here, one program at a time.
 */
import * as pulumi from "@pulumi/pulumi";
import { plannedInvoke, plannedResource, type PlannedStateOptions } from "./plannedState.ts";

export interface DeclaredResource {
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource; null for resources directly under the stack. */
  readonly parent: string | null;
}

export interface CollectedResource extends DeclaredResource {
  readonly parentType: string | null;
  /** Inputs as the provider would receive them (resolved, transformations applied, secrets unwrapped). */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Top-level input keys whose value is (or contains) a secret. */
  readonly secretInputs: readonly string[];
  readonly id: string;
  /**
   * The resource's URN as the engine forms it (see {@link urnOf}), when the run was asked for
   * them ({@link MockRunOptions.urns}).
   */
  readonly urn?: string;
}

export interface InvokeCall {
  readonly token: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

export interface MockRunOptions extends PlannedStateOptions {
  readonly project?: string;
  readonly stack: string;
  /**
   * Skip capturing stack traces while the program runs (the SDK captures one per promise and
   * per resource, which dominates planning time). @default true
   */
  readonly fast?: boolean;
  /** Report every resource's URN, as the engine forms it. @default false */
  readonly urns?: boolean;
}

export interface MockRunResult {
  /** In declaration order. */
  readonly resources: readonly CollectedResource[];
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly invokes: readonly InvokeCall[];
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `program` as the body of stack `options.stack` under mocks. */
export function runUnderMocks(
  program: () => Promise<Record<string, unknown> | void>,
  options: MockRunOptions,
): Promise<MockRunResult> {
  const run = queue.then(() => runExclusive(program, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runExclusive(
  program: () => Promise<Record<string, unknown> | void>,
  options: MockRunOptions,
): Promise<MockRunResult> {
  const declared: {
    type: string;
    name: string;
    parent: pulumi.Resource | undefined;
    resource: pulumi.Resource;
  }[] = [];
  const identities = new WeakMap<pulumi.Resource, { type: string; name: string }>();
  const registered = new Map<
    string,
    { id: string; inputs: Record<string, unknown>; secretInputs: string[] }
  >();
  const invokes: InvokeCall[] = [];
  const stackTraceLimit = Error.stackTraceLimit;
  const sourceMaps = sourceMapsEnabled();
  if (options.fast ?? true) {
    Error.stackTraceLimit = 0;
    process.setSourceMapsEnabled(false);
  }
  try {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          const result = plannedResource(args, options);
          const secretInputs = Object.entries(args.inputs as Record<string, unknown>)
            .filter(([, value]) => containsSecret(value))
            .map(([key]) => key);
          registered.set(`${args.type}::${args.name}`, {
            id: result.id,
            inputs: unwrapSecrets(args.inputs) as Record<string, unknown>,
            secretInputs,
          });
          return result;
        },
        call: (args) => {
          invokes.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
          return plannedInvoke(args, options);
        },
      },
      options.project ?? "tenancy",
      options.stack,
      false,
    );
    let outputs: Record<string, unknown> | undefined;
    // A failing program is caught inside the stack's init: rethrown from there, the SDK would
    // leave rejected promises behind that surface later as unhandled rejections.
    let failure: { error: unknown } | undefined;
    try {
      outputs = await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation(({ resource, type, name, opts }) => {
          identities.set(resource, { type, name });
          declared.push({ type, name, parent: opts.parent, resource });
          return undefined;
        });
        try {
          return (await program()) ?? {};
        } catch (error) {
          failure = { error };
          return {};
        }
      });
    } finally {
      await pulumi.runtime.disconnect();
    }
    if (failure) throw failure.error;
    const qualifiedTypes = new Map<pulumi.Resource, string>();
    const qualifiedType = (resource: pulumi.Resource, type: string, parent?: pulumi.Resource) => {
      const parentType = parent ? qualifiedTypes.get(parent) : undefined;
      const qualified = parentType === undefined ? type : `${parentType}$${type}`;
      qualifiedTypes.set(resource, qualified);
      return qualified;
    };
    const project = options.project ?? "tenancy";
    const resources = declared.map(({ type, name, parent, resource }) => {
      const parentIdentity = parent ? identities.get(parent) : undefined;
      const registration = registered.get(`${type}::${name}`);
      return {
        type,
        name,
        parent: parentIdentity?.name ?? null,
        parentType: parentIdentity?.type ?? null,
        inputs: registration?.inputs ?? {},
        secretInputs: registration?.secretInputs ?? [],
        id: registration?.id ?? "",
        ...(options.urns
          ? { urn: urnOf(options.stack, project, qualifiedType(resource, type, parent), name) }
          : {}),
      };
    });
    return { resources, outputs: outputs ?? {}, invokes };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    process.setSourceMapsEnabled(sourceMaps);
  }
}

function sourceMapsEnabled(): boolean {
  return (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled ?? false;
}

// How the SDK's RPC layer marks a secret value.
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

function containsSecret(value: unknown): boolean {
  if (isSecretValue(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Deterministic order for listings: by name, then type. */
export function compareDeclared(a: DeclaredResource, b: DeclaredResource): number {
  return a.name < b.name
    ? -1
    : a.name > b.name
      ? 1
      : a.type < b.type
        ? -1
        : a.type > b.type
          ? 1
          : 0;
}

/**
 * A resource's URN as the engine forms it: `urn:pulumi:<stack>::<project>::<type>::<name>`,
 * where `<type>` is prefixed by the parent's qualified type and `$` unless the parent is the
 * stack itself. (The SDK's mock monitor prefixes only the immediate parent's type and keeps
 * the stack's, so its URNs differ from the engine's for nested resources; the engine's are
 * the ones that identify resources in a stack's state.)
 */
export function urnOf(stack: string, project: string, qualifiedType: string, name: string): string {
  return `urn:pulumi:${stack}::${project}::${qualifiedType}::${name}`;
}
